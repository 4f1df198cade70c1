"""API views of annual catalogues (年度重大行政决策事项目录): staff (jurisdiction as the pages) and public.

Staff read what catalog.access lets them read and act through catalog.actions, the very steps of
the pages; the public reads only published versions, as catalog.public does (`published()`).
"""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, permissions, serializers, status, views
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from catalog import access, dashboard, forms, services, versions
from catalog.actions import ADJUSTMENT_ACTIONS, CATALOGUE_ACTIONS, offered
from catalog.entries import ENTRY_FIELDS
from catalog.models import AnnualCatalogue, CatalogueAdjustment, CatalogueEntry, CatalogueState
from catalog.public import published
from decisions import public as decisions_public
from decisions.api import errors
from decisions.api.actions import _field, form_serializer
from decisions.api.serializers import OrganisationSerializer
from decisions.permissions import organ_roles_for
from decisions.rules import source_language

READ = (403, 404)


class CatalogueSerializer(serializers.ModelSerializer):
    organ = OrganisationSerializer(read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = AnnualCatalogue
        fields = [
            "id",
            "organ",
            "year",
            "title",
            "state",
            "state_label",
            "version",
            "published_at",
            "notice_number",
            "notice_date",
            "notice_url",
            "year_end_reported_at",
            "closed_at",
        ]


class VersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    date = serializers.DateField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    notice_number = serializers.CharField(allow_blank=True)
    notice_url = serializers.CharField(allow_blank=True)
    kind = serializers.CharField(allow_blank=True, help_text="ADD | REMOVE | MODIFY ('' for the original list)")
    kind_label = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    entry_count = serializers.IntegerField()


class EntrySerializer(serializers.ModelSerializer):
    lead_unit = OrganisationSerializer(read_only=True, allow_null=True)
    co_units = OrganisationSerializer(many=True, read_only=True)
    decision = serializers.CharField(source="decision.reference", allow_null=True, read_only=True)
    decision_state = serializers.CharField(source="decision.state", allow_null=True, read_only=True)

    class Meta:
        model = CatalogueEntry
        # The B9 entry fields, as catalog.entries lists them, and where the row stands.
        fields = ["id", "key", "seq_no", *ENTRY_FIELDS, "valid_from", "valid_to", "decision", "decision_state"]


# What the office keeps for itself: the row's key, its remarks, the proposal behind it, the internal state.
NOT_PUBLISHED = ("key", "remarks", "valid_to", "decision_state", "proposal_fields", "proposer_type")


class PublicEntrySerializer(EntrySerializer):
    """What a published catalogue says of an entry (A5's columns) and its decision's public progress."""

    phase = serializers.SerializerMethodField(help_text="办理进度 as the public page shows it")
    decision = serializers.SerializerMethodField(
        help_text="决策编号, only once the public may open the decision (published, or its comment notice open)"
    )

    class Meta(EntrySerializer.Meta):
        fields = [
            *(f for f in EntrySerializer.Meta.fields if f not in NOT_PUBLISHED),
            "phase",
        ]

    def get_decision(self, entry) -> str | None:
        # As the public catalogue page (catalog.public.catalogue_page): a decision not yet public stays unnamed.
        return entry.decision.reference if entry.decision_id in self.context.get("readable", ()) else None

    def get_phase(self, entry) -> str:
        return str(dashboard.PHASE_LABELS[dashboard.phase_of(entry.decision.state if entry.decision_id else None)])


class AdjustmentSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    decision = serializers.CharField(source="decision.reference", allow_null=True, read_only=True)

    class Meta:
        model = CatalogueAdjustment
        fields = [
            "id",
            "catalogue",
            "kind",
            "kind_label",
            "entry_key",
            "decision",
            "new_entry_data",
            "reason",
            "state",
            "state_label",
            "proposed_at",
            "rejection_reason",
            "published_at",
            "published_version",
            "notice_number",
            "notice_date",
        ]


class CatalogueFilter(django_filters.FilterSet):
    organ = django_filters.CharFilter(field_name="organ__code", help_text="政府代码 (organisation code)")
    state = django_filters.MultipleChoiceFilter(choices=CatalogueState.choices)

    class Meta:
        model = AnnualCatalogue
        fields = ["year", "organ", "state"]


# -- staff ------------------------------------------------------------------------------------------


def readable_catalogue(request, pk):
    catalogue = get_object_or_404(AnnualCatalogue.objects.select_related("organ", "profile"), pk=pk)
    if not access.can_read(request.user, catalogue):
        raise PermissionDenied("无权查看该目录 (not your jurisdiction)")
    return catalogue


@extend_schema(tags=["catalogues"], responses=errors.responses({200: CatalogueSerializer(many=True)}, 400))
class CatalogueList(generics.ListAPIView):
    """The catalogues of the governments the user may read (own organ; a city office reads its counties)."""

    serializer_class = CatalogueSerializer
    filterset_class = CatalogueFilter
    ordering_fields = ["year", "id"]
    ordering = ["-year", "id"]

    def get_queryset(self):
        return access.visible_catalogues(self.request.user).select_related("organ")


class CatalogueDetail(views.APIView):
    @extend_schema(
        tags=["catalogues"],
        responses=errors.responses(
            {
                200: inline_serializer(
                    "CatalogueDetail",
                    {
                        "catalogue": CatalogueSerializer(),
                        "versions": VersionSerializer(many=True),
                        "actions": serializers.ListField(child=serializers.DictField()),
                    },
                )
            },
            *READ,
        ),
    )
    def get(self, request, pk):
        """One catalogue, its published versions, and the steps the user may take on it now."""
        catalogue = readable_catalogue(request, pk)
        roles = organ_roles_for(request.user, catalogue.organ)
        return Response(
            {
                "catalogue": CatalogueSerializer(catalogue).data,
                "versions": VersionSerializer(versions.versions(catalogue), many=True).data,
                "actions": _described(CATALOGUE_ACTIONS, catalogue, roles),
            }
        )


def _described(actions, obj, roles):
    return [
        {"name": name, "step": action.step, "label": step.zh, "article": step.article, "roles": list(step.roles)}
        for name, action, step in offered(actions, obj, set(roles))
    ]


VERSION = OpenApiParameter("version", int, description="a published version (default: the newest rows)")


class EntryList(generics.ListCreateAPIView):
    """The entries of a catalogue (a published version, or the rows being compiled); POST adds one."""

    serializer_class = EntrySerializer
    ordering = ["seq_no", "id"]
    ordering_fields = ["seq_no"]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def catalogue(self):
        if not hasattr(self, "_catalogue"):
            self._catalogue = readable_catalogue(self.request, self.kwargs["pk"])
        return self._catalogue

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CatalogueEntry.objects.none()
        catalogue = self.catalogue()
        version = self.request.query_params.get("version", "")
        if version:
            if not version.isdigit() or not 1 <= int(version) <= catalogue.version:
                raise NotFound("no such version")
            rows = catalogue.entries_at(int(version))
        else:
            rows = catalogue.current_entries()
        return rows.select_related("lead_unit", "decision").prefetch_related("co_units")

    @extend_schema(
        tags=["catalogues"], parameters=[VERSION], responses=errors.responses({200: EntrySerializer(many=True)}, *READ)
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["catalogues"],
        request=form_serializer("catalogue-entry", forms.EntryForm),
        responses=errors.responses({201: EntrySerializer}, 400, 403, 404, 409),
    )
    def post(self, request, pk):
        """Add an entry to a catalogue being compiled (the page's form and service, catalog.services.add_entry)."""
        catalogue = self.catalogue()
        form = forms.EntryForm(request.data, organ=catalogue.organ)
        if not form.is_valid():
            raise errors.InvalidInput(form.errors)
        with source_language():
            entry = services.add_entry(request.user, catalogue, **form.entry_values())
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["catalogues"], responses=errors.responses({200: AdjustmentSerializer(many=True)}, *READ))
class AdjustmentList(generics.ListAPIView):
    """A catalogue's adjustments (调整), every state."""

    serializer_class = AdjustmentSerializer
    ordering = ["id"]
    ordering_fields = ["id"]
    filterset_fields = ["state", "kind"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CatalogueAdjustment.objects.none()
        catalogue = readable_catalogue(self.request, self.kwargs["pk"])
        return catalogue.adjustments.select_related("decision")


class StepView(views.APIView):
    """Take one B9/P20 step: the page's form and service (catalog.actions).

    A subclass names its `table` of steps and defines `subject(request, pk)` -> (object, its catalogue).
    """

    parser_classes = [MultiPartParser, FormParser, JSONParser]
    table: dict = {}

    def post(self, request, pk, name):
        subject, catalogue = self.subject(request, pk)
        step = self.table.get(name)
        if step is None:
            raise NotFound("no such step")
        form = step.form(request.data, request.FILES)
        if not form.is_valid():
            raise errors.InvalidInput(form.errors)
        with source_language():
            step.run(request.user, subject, form)
        subject.refresh_from_db()
        return Response({"step": name, "state": subject.state, "state_label": subject.get_state_display()})


STEP_RESULT = inline_serializer(
    "StepResult",
    {"step": serializers.CharField(), "state": serializers.CharField(), "state_label": serializers.CharField()},
)


def _step_schema(table, what):
    names = ", ".join(table)
    return extend_schema(
        tags=["catalogues"],
        description=f"{what}: one of {names}. Input as the page's form (multipart with the document).",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(table))],
        request={"multipart/form-data": inline_serializer(f"{what.replace(' ', '')}StepInput", _step_fields(table))},
        responses=errors.responses({200: STEP_RESULT}, 400, 403, 404, 409),
    )


def _step_fields(table):
    fields = {}
    for step in table.values():
        for field_name, field in step.form.base_fields.items():
            described = _field(field)
            described.required = False
            fields.setdefault(field_name, described)
    return fields


class CatalogueStep(StepView):
    table = CATALOGUE_ACTIONS

    def subject(self, request, pk):
        catalogue = readable_catalogue(request, pk)
        return catalogue, catalogue

    @_step_schema(CATALOGUE_ACTIONS, "Catalogue step")
    def post(self, request, pk, name):
        return super().post(request, pk, name)


class AdjustmentStep(StepView):
    table = ADJUSTMENT_ACTIONS

    def subject(self, request, pk):
        adjustment = get_object_or_404(CatalogueAdjustment.objects.select_related("catalogue__organ"), pk=pk)
        readable_catalogue(request, adjustment.catalogue_id)
        return adjustment, adjustment.catalogue

    @_step_schema(ADJUSTMENT_ACTIONS, "Adjustment step")
    def post(self, request, pk, name):
        return super().post(request, pk, name)


# -- public ---------------------------------------------------------------------------------------------


class PublicCatalogueList(generics.ListAPIView):
    """Published catalogues (no login)."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"
    serializer_class = CatalogueSerializer
    filterset_class = CatalogueFilter
    ordering = ["-year", "id"]
    ordering_fields = ["year", "id"]

    def get_queryset(self):
        return published().select_related("organ")

    @extend_schema(
        tags=["public"], auth=[], responses=errors.responses({200: CatalogueSerializer(many=True)}, 400, 429)
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


PUBLIC_VERSION = inline_serializer(
    "PublicCatalogueVersion",
    {
        "catalogue": CatalogueSerializer(),
        "version": serializers.IntegerField(),
        "versions": VersionSerializer(many=True),
        "entries": PublicEntrySerializer(many=True),
    },
)


class PublicCatalogueDetail(views.APIView):
    """A published catalogue at its newest (or a given) version, with its versions (no login)."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"

    @extend_schema(tags=["public"], auth=[], responses=errors.responses({200: PUBLIC_VERSION}, 404, 429))
    def get(self, request, pk, version=None):
        catalogue = get_object_or_404(published().select_related("organ"), pk=pk)
        shown = catalogue.version if version is None else version
        if not 1 <= shown <= catalogue.version:
            raise NotFound("no such version")
        rows = versions.entry_rows(catalogue, shown)
        readable = decisions_public.readable_ids([e.decision_id for e in rows if e.decision_id])
        return Response(
            {
                "catalogue": CatalogueSerializer(catalogue).data,
                "version": shown,
                "versions": VersionSerializer(versions.versions(catalogue), many=True).data,
                "entries": PublicEntrySerializer(rows, many=True, context={"readable": readable}).data,
            }
        )
