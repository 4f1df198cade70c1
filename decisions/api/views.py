"""API views of decisions and their record: lists, one decision, its records, its actions."""

import uuid

import django_filters
from django.core.exceptions import ValidationError
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.forms.utils import ErrorDict, ErrorList
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status, views
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from decisions import actions, personal, progress
from decisions.accounts import admin_roles
from decisions.actions import check_file
from decisions.api import errors
from decisions.api.actions import describe, input_serializer, registry
from decisions.api.common import readable_decision
from decisions.api.serializers import (
    AuditEventSerializer,
    CommentSerializer,
    DecisionDetailSerializer,
    DecisionSerializer,
    DocumentSerializer,
    ErasedSerializer,
    ErasureInput,
    RevealedContactSerializer,
    SignOffSerializer,
    StageRecordSerializer,
)
from decisions.models import (
    AuditEvent,
    Comment,
    Decision,
    DecisionState,
    Document,
    DocumentType,
    HearingParticipant,
    SignOff,
    Stage,
    StageRecord,
)
from decisions.permissions import not_permitted, visible_decisions
from decisions.rules import Failure, ProcedureRefused, Rule, source_language
from decisions.services import documents
from decisions.services.common import Upload

READ = (403, 404)


class DecisionFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=DecisionState.choices)
    organ = django_filters.CharFilter(field_name="organ__code", help_text="政府代码 (organisation code)")
    lead_unit = django_filters.CharFilter(field_name="lead_unit__code", help_text="承办单位代码")
    category = django_filters.ChoiceFilter(choices=Decision.Category.choices)
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")
    q = django_filters.CharFilter(method="search", help_text="words of the title or the reference")

    class Meta:
        model = Decision
        fields = ["state", "organ", "lead_unit", "category"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(reference__icontains=value))


@extend_schema(tags=["decisions"], responses=errors.responses({200: DecisionSerializer(many=True)}, 400))
class DecisionList(generics.ListAPIView):
    """The decisions the user holds a role for (the same as the decision list page)."""

    serializer_class = DecisionSerializer
    filterset_class = DecisionFilter
    ordering_fields = ["created_at", "reference", "title", "state"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return visible_decisions(self.request.user).select_related("organ", "lead_unit")


class DecisionDetail(views.APIView):
    """One decision: its facts, stage records, and the steps open now with what blocks them."""

    @extend_schema(tags=["decisions"], responses=errors.responses({200: DecisionDetailSerializer}, *READ))
    def get(self, request, reference):
        decision, roles = readable_decision(request, reference)
        return Response(detail_json(decision, roles))


def detail_json(decision, roles):
    steps = [
        {
            "tid": s.tid,
            "label": str(s.label),
            "article": s.article,
            "roles": list(s.roles),
            "yours": s.yours,
            "ready": s.ready,
            "stage": s.stage,
            "conditions": [
                {"code": c.code, "article": c.article, "zh": c.zh, "en": c.en, "state": c.state, "detail": c.detail}
                for c in s.conditions
            ],
        }
        for s in progress.next_steps(decision, roles)
    ]
    return DecisionDetailSerializer(decision, context={"roles": roles, "steps": steps}).data


class DecisionPart(generics.ListAPIView):
    """A list belonging to one decision that the user may read (`records()` of `model`)."""

    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no decision
            return self.model.objects.none()
        return self.records()

    def decision(self):
        if not hasattr(self, "_decision"):
            self._decision, self._roles = readable_decision(self.request, self.kwargs["reference"])
        return self._decision


@extend_schema(tags=["records"], responses=errors.responses({200: StageRecordSerializer(many=True)}, *READ))
class StageRecordList(DecisionPart):
    """Every stage record of the decision (re-runs and rounds included), in the order they were opened."""

    model = StageRecord

    serializer_class = StageRecordSerializer
    filterset_fields = ["stage", "status"]
    ordering_fields = ["id"]
    ordering = ["id"]

    def records(self):
        return StageRecord.objects.filter(decision=self.decision()).select_related("draft_version")


class DocumentFilter(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(field_name="stage_record__stage", choices=Stage.choices)
    doc_type = django_filters.ChoiceFilter(choices=DocumentType.choices)
    current = django_filters.BooleanFilter(method="only_current", help_text="only versions not superseded")

    class Meta:
        model = Document
        fields = ["stage", "doc_type"]

    def only_current(self, queryset, name, value):
        replaced = Document.objects.filter(supersedes__isnull=False).values("supersedes")
        return queryset.exclude(pk__in=replaced) if value else queryset.filter(pk__in=replaced)


class UploadInput(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices, help_text="环节 whose live record receives the file")
    doc_type = serializers.ChoiceField(choices=DocumentType.choices)
    title = serializers.CharField(max_length=300)
    file = serializers.FileField()
    signed = serializers.BooleanField(required=False, default=False)
    sealed = serializers.BooleanField(required=False, default=False)

    def validate_file(self, uploaded):
        try:
            check_file(uploaded)  # the pages' check of type and size
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error
        return uploaded


class DocumentList(DecisionPart):
    """The decision's documents with their versions; POST adds one to a stage's live record."""

    model = Document

    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    ordering_fields = ["id", "uploaded_at"]
    ordering = ["id"]
    parser_classes = [MultiPartParser, FormParser]

    def records(self):
        return Document.objects.filter(decision=self.decision()).select_related("stage_record", "uploaded_by")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "reference" in self.kwargs:
            replaced = Document.objects.filter(decision=self.decision(), supersedes__isnull=False)
            context["replaced"] = set(replaced.values_list("supersedes", flat=True))
        return context

    @extend_schema(tags=["records"], responses=errors.responses({200: DocumentSerializer(many=True)}, *READ))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["records"],
        request={"multipart/form-data": UploadInput},
        responses=errors.responses({201: DocumentSerializer}, 400, 403, 404, 409),
    )
    def post(self, request, reference):
        decision = self.decision()
        given = UploadInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        data["file"].seek(0)
        upload = Upload(
            doc_type=data["doc_type"],
            name=data["file"].name,
            content=data["file"].read(),
            title=data["title"],
            signed=data["signed"],
            sealed=data["sealed"],
        )
        with source_language():
            document = documents.upload(request.user, decision, data["stage"], upload)
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["records"],
    responses=errors.responses(
        {200: OpenApiResponse(OpenApiTypes.BINARY, description="the stored file (the reading is audited)")}, *READ
    ),
)
class DocumentFile(views.APIView):
    """Download one document of a decision the user may read; every download is an audit event."""

    def get(self, request, pk):
        document = get_object_or_404(Document.objects.select_related("decision"), pk=pk, decision__isnull=False)
        handle = documents.open_for_reading(request.user, document)  # the role gate, and the audit event
        return FileResponse(handle, as_attachment=True, filename=document.original_name)


@extend_schema(tags=["records"], responses=errors.responses({200: SignOffSerializer(many=True)}, *READ))
class SignOffList(DecisionPart):
    """The decision's sign-offs (签署), each with the SHA-256 of what was signed."""

    model = SignOff

    serializer_class = SignOffSerializer
    ordering_fields = ["id", "at"]
    ordering = ["id"]

    def records(self):
        return SignOff.objects.filter(decision=self.decision()).select_related("user")


@extend_schema(tags=["records"], responses=errors.responses({200: AuditEventSerializer(many=True)}, *READ))
class AuditEventList(DecisionPart):
    """The decision's audit events in chain order, with their MACs (verify with `manage.py verify_audit`)."""

    model = AuditEvent

    serializer_class = AuditEventSerializer
    filterset_fields = ["action"]
    ordering_fields = ["seq"]
    ordering = ["seq"]

    def records(self):
        return AuditEvent.objects.filter(decision_id_ref=self.decision().pk)

    def http_method_not_allowed(self, request, *args, **kwargs):
        # Audit events are never written through the API: 405, and the attempt is itself audited (三员分立).
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            admin_roles.refuse_audit_tamper(request, interface="api", object_id=kwargs.get("reference", ""))
        return super().http_method_not_allowed(request, *args, **kwargs)


@extend_schema(tags=["records"], responses=errors.responses({200: CommentSerializer(many=True)}, *READ))
class CommentList(DecisionPart):
    """The public comments ledger (公众意见台账); contact details masked for every reader (…/reveal/ unmasks one)."""

    model = Comment

    serializer_class = CommentSerializer
    filterset_fields = ["disposition", "channel", "stage_record"]
    ordering_fields = ["seq", "received_on"]
    ordering = ["stage_record_id", "seq"]

    def records(self):
        return Comment.objects.filter(stage_record__decision=self.decision())


class PersonalDataView(views.APIView):
    """One person's data on a decision's comment or hearing participant: revealed or erased through
    decisions.personal (lead unit; a participant's also the hearing organiser), each time audited."""

    model = Comment

    def person(self, request, reference, pk):
        decision, _roles = readable_decision(request, reference)
        if self.model is HearingParticipant:
            records = HearingParticipant.objects.filter(hearing__stage_record__decision=decision)
        else:
            records = Comment.objects.filter(stage_record__decision=decision)
        return get_object_or_404(records, pk=pk)


class RevealContact(PersonalDataView):
    @extend_schema(tags=["records"], request=None, responses=errors.responses({200: RevealedContactSerializer}, *READ))
    def post(self, request, reference, pk):
        """Show one record's phone, e-mail and ID number in full; the unmasking is audited (never the values)."""
        person = self.person(request, reference, pk)
        details = personal.reveal(request.user, person, request=request)
        response = Response(RevealedContactSerializer({"id": person.pk, **details}).data)
        response["Cache-Control"] = "no-store"  # no copy of the values in a cache
        return response


class EraseContact(PersonalDataView):
    @extend_schema(
        tags=["records"], request=ErasureInput, responses=errors.responses({200: ErasedSerializer}, 400, 403, 404, 409)
    )
    def post(self, request, reference, pk):
        """Overwrite one person's name and contact details (删除个人信息); the record itself stays, audited."""
        person = self.person(request, reference, pk)
        given = ErasureInput(data=request.data)
        given.is_valid(raise_exception=True)
        erased = personal.erase(request.user, person, given.validated_data["reason"], request=request)
        name = erased.name if self.model is HearingParticipant else erased.commenter_name
        return Response(ErasedSerializer({"id": erased.pk, "name": name}).data)


ACTION_INFO = type(
    "ActionInfoSerializer",
    (serializers.Serializer,),
    {
        "name": serializers.CharField(),
        "label": serializers.CharField(),
        "tid": serializers.CharField(allow_blank=True),
        "article": serializers.CharField(allow_blank=True),
        "roles": serializers.ListField(child=serializers.CharField()),
        "in_place": serializers.BooleanField(allow_null=True),
        "yours": serializers.BooleanField(),
        "multipart": serializers.BooleanField(),
        "fields": serializers.ListField(child=serializers.DictField()),
    },
)


class ActionList(views.APIView):
    """Every action of the procedure, and whether it is in place now and open to the user."""

    @extend_schema(
        tags=["actions"],
        parameters=[OpenApiParameter("offered", bool, description="only those the user may take now")],
        responses=errors.responses({200: ACTION_INFO(many=True)}, *READ),
    )
    def get(self, request, reference):
        decision, roles = readable_decision(request, reference)
        shown = [describe(form_class, decision, roles) for form_class in registry().values()]
        if request.query_params.get("offered") in ("1", "true", "True"):
            shown = [a for a in shown if a["in_place"] and a["yours"]]
        return Response(shown)


ACTION_RESULT = inline_serializer(
    "ActionResult",
    {
        "action": serializers.CharField(),
        "decision": DecisionDetailSerializer(),
        "result": serializers.ListField(child=serializers.DictField()),
        "warnings": serializers.ListField(child=serializers.DictField()),
    },
)


class DecisionActionView(views.APIView):
    """Take one action of the procedure: the page's form, the same service (see decisions/api/actions.py)."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]
    form_class = None  # set per action in as_action_view()

    def post(self, request, reference):
        decision, roles = readable_decision(request, reference)
        form_class = self.form_class
        if not form_class.may(roles):
            raise not_permitted(form_class.placement.roles)
        form = form_class(request.data, request.FILES, decision=decision, user=request.user)
        if not form.is_valid():
            raise errors.InvalidInput(form.errors)
        key = request.headers.get("Idempotency-Key", "")
        with source_language():
            result = once(request, decision, form_class.name, key, lambda: form.run(request.user))
        decision.refresh_from_db()
        return Response(
            {
                "action": form_class.name,
                "decision": detail_json(decision, roles),
                "result": _result_json(result),
                "warnings": _warnings_json(result),
            }
        )


# A repeated Idempotency-Key: refused like a rule, so that the client reads it as every other refusal.
ALREADY_SUBMITTED = Rule(
    name="ALREADY_SUBMITTED",
    code="ALREADY_SUBMITTED",
    article="B10",
    zh="该请求已经提交过，未重复办理",
    en="This request was already sent; it was not taken twice",
    check=lambda ctx: False,
)


def once(request, decision, name, key, run):
    """Run `run()`; with an Idempotency-Key (a UUID) the same key acts only once (409 ALREADY_SUBMITTED)."""
    if not key:
        return run()
    try:
        token = uuid.UUID(key)
    except ValueError:
        error = ValidationError("须为 UUID (must be a UUID)", code="invalid")
        raise errors.InvalidInput(ErrorDict({"Idempotency-Key": ErrorList([error])})) from None
    try:
        return actions.run_once(request.user, decision, name, token, run)
    except actions.AlreadySubmitted as error:
        raise ProcedureRefused([Failure(ALREADY_SUBMITTED)]) from error


def _result_json(result):
    items = result if isinstance(result, (list, tuple)) else [result]
    shown = []
    for item in items:
        if hasattr(item, "_meta") and getattr(item, "pk", None) is not None:
            shown.append({"type": item._meta.label, "id": item.pk, "text": str(item)})
    return shown


def _warnings_json(result):
    shown = []
    for warning in getattr(result, "warnings", None) or ():
        rule = getattr(warning, "rule", None)
        if rule is not None:
            shown.append({"code": rule.code, "article": rule.citation, "zh": rule.zh, "en": rule.en})
        else:
            shown.append({"code": "", "article": "", "zh": str(warning), "en": str(warning)})
    return shown


def action_views():
    """One view per registered action, each described in the schema with its own fields."""
    made = []
    for name, form_class in registry().items():
        view = type(
            f"{input_serializer(form_class).__name__[:-5]}Action",
            (DecisionActionView,),
            {"form_class": form_class, "__doc__": f"{form_class.label}（{form_class.article or '—'}）"},
        )
        content = "multipart/form-data" if describe(form_class)["multipart"] else "application/json"
        view.post = extend_schema(
            tags=["actions"],
            operation_id=f"action_{name.replace('-', '_')}",
            summary=str(form_class.label),
            description=_describe_roles(form_class),
            request={content: input_serializer(form_class), "multipart/form-data": input_serializer(form_class)},
            parameters=[
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.UUID,
                    OpenApiParameter.HEADER,
                    description="a UUID: the same key acts once (a repeat gets 409 ALREADY_SUBMITTED)",
                )
            ],
            responses=errors.responses({200: ACTION_RESULT}, 400, 403, 404, 409),
        )(_own_post())
        made.append((name, view))
    return made


def _own_post():
    """A post method of its own for each action view, so that each carries its own schema."""

    def post(self, request, reference):
        return DecisionActionView.post(self, request, reference)

    return post


def _describe_roles(form_class):
    from decisions.models import Role

    roles = "、".join(str(Role(r).label) for r in form_class.placement.roles if r in Role.values)
    states = ", ".join(form_class.placement.states) or "—"
    return f"办理身份：{roles}。所在状态：{states}。依据：{form_class.article or '—'}"
