"""The public's API (no login): published decisions with their 采纳情况, open comment notices, and the
online comment. What the public may read is decided in decisions/public.py, for these endpoints and the
public pages alike; a comment goes through the same form and service as the page's."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, permissions, serializers, status, views
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from decisions import public
from decisions.api import errors
from decisions.api.actions import form_serializer
from decisions.models import Decision
from decisions.rules import source_language
from decisions.services import comments


class PublicView:
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"


class PublishedDecisionSerializer(serializers.ModelSerializer):
    organ = serializers.CharField(source="organ.name")
    lead_unit = serializers.CharField(source="lead_unit.name", allow_null=True, default=None)

    class Meta:
        model = Decision
        fields = ["reference", "title", "organ", "lead_unit"]


@extend_schema(tags=["public"], auth=[], responses=errors.responses({200: PublishedDecisionSerializer(many=True)}, 429))
class PublishedDecisionList(PublicView, generics.ListAPIView):
    """Decisions published to the public (not those withheld by law)."""

    serializer_class = PublishedDecisionSerializer
    ordering = ["-id"]
    ordering_fields = ["id", "reference"]
    filterset_fields = []

    def get_queryset(self):
        return public.published_decisions().select_related("organ", "lead_unit")


PUBLIC_DECISION = inline_serializer(
    "PublicDecision",
    {
        "reference": serializers.CharField(),
        "title": serializers.CharField(),
        "organ": serializers.CharField(),
        "lead_unit": serializers.CharField(allow_blank=True),
        "phase": serializers.CharField(),
        "published": serializers.BooleanField(),
        "open_consultations": serializers.ListField(child=serializers.DictField()),
        "catalogue_entry": serializers.DictField(allow_null=True),
        "publications": serializers.ListField(child=serializers.DictField(), required=False),
        "ledger": serializers.DictField(required=False, help_text="采纳情况: counts and rows, names only with consent"),
    },
)


class PublicDecisionDetail(PublicView, views.APIView):
    @extend_schema(tags=["public"], auth=[], responses=errors.responses({200: PUBLIC_DECISION}, 429))
    def get(self, request, reference):
        """A published decision (its publications and 采纳情况), or the open comment notice of one in consultation."""
        decision = get_object_or_404(Decision.objects.select_related("organ", "lead_unit"), reference=reference)
        shown = public.public_decision(decision)
        if shown is None:
            raise NotFound("not public")
        return Response(shown)


class ConsultationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    decision = serializers.CharField(source="stage_record.decision.reference")
    title = serializers.CharField(source="stage_record.decision.title")
    organ = serializers.CharField(source="stage_record.decision.organ.name")
    publish_date = serializers.DateField()
    deadline_date = serializers.DateField()
    how_to_comment = serializers.CharField()


@extend_schema(tags=["public"], auth=[], responses=errors.responses({200: ConsultationSerializer(many=True)}, 429))
class OpenConsultationList(PublicView, generics.ListAPIView):
    """Comment notices open today (公开征求意见): comments may be sent to them."""

    serializer_class = ConsultationSerializer
    filter_backends = []

    def get_queryset(self):
        return public.open_consultations()


RECEIPT = inline_serializer(
    "CommentReceipt",
    {
        "seq": serializers.IntegerField(help_text="the comment's 序号 in the ledger"),
        "receipt": serializers.CharField(help_text="回执编号"),
        "received_on": serializers.DateField(),
    },
)


class OnlineComment(PublicView, views.APIView):
    """Send a comment to an open notice: it lands in the decision's comments ledger (第十八条)."""

    @extend_schema(
        tags=["public"],
        auth=[],
        request=form_serializer("online-comment", public.OnlineCommentForm),
        responses=errors.responses({201: RECEIPT}, 409, 429),
    )
    def post(self, request, pk):
        period = public.public_period(pk)
        form = public.OnlineCommentForm(request.data)
        if not form.is_valid():
            raise errors.InvalidInput(form.errors)
        if form.cleaned_data.get("website"):
            raise errors.InvalidInput(form.errors)  # never reached by people: the honeypot stays empty
        if not public.may_comment_now(request):
            raise Throttled(wait=3600)
        with source_language():
            comment = comments.submit_online_comment(
                period, token=form.cleaned_data["submission"], **form.service_values()
            )
        public.count_comment(request)
        return Response(
            {"seq": comment.seq, "receipt": comments.receipt_code(comment), "received_on": comment.received_on},
            status=status.HTTP_201_CREATED,
        )
