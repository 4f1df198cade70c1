"""API views of dossiers (案卷) and auditor bundles: the pages' gates and services (reports.dossiers, reports.exports)."""

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status, views
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from catalog.models import AnnualCatalogue
from decisions.api import errors
from decisions.models import Decision
from decisions.permissions import not_permitted, readable_decision
from decisions.rules import source_language
from reports import dossiers, exports
from reports.models import BundleExport, Dossier

READ = (403, 404)
FILE = OpenApiResponse(OpenApiTypes.BINARY, description="the file (PDF or ZIP); the download is audited")


class DossierSerializer(serializers.ModelSerializer):
    stage = serializers.CharField(source="stage_record.stage", allow_null=True, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Dossier
        fields = [
            "id",
            "kind",
            "stage_record",
            "stage",
            "signoff",
            "version",
            "supersedes",
            "status",
            "status_label",
            "reason",
            "requested_at",
            "finished_at",
            "attempts",
            "error",
            "sha256",
            "size",
            "pages",
        ]


@extend_schema(tags=["dossiers"], responses=errors.responses({200: DossierSerializer(many=True)}, *READ))
class DossierList(generics.ListAPIView):
    """A decision's dossiers: every stage's versions and the archive dossier."""

    serializer_class = DossierSerializer
    filterset_fields = ["kind", "status"]
    ordering = ["id"]
    ordering_fields = ["id", "version"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Dossier.objects.none()
        decision, roles = readable_decision(self.request.user, self.kwargs["reference"])
        if not roles & set(dossiers.readers()):
            raise not_permitted(dossiers.readers())
        return Dossier.objects.filter(decision=decision).select_related("stage_record")


@extend_schema(tags=["dossiers"], responses=errors.responses({200: FILE}, *READ))
class DossierFile(views.APIView):
    """Download a finished dossier's PDF (audited as dossier:download)."""

    def get(self, request, pk):
        dossier = get_object_or_404(Dossier.objects.select_related("decision"), pk=pk, status=Dossier.Status.DONE)
        handle = dossiers.open_for_reading(request.user, dossier)  # the role gate, and the audit event
        return FileResponse(handle, content_type="application/pdf", as_attachment=True, filename=dossier.filename)


class ExportSerializer(serializers.ModelSerializer):
    decision = serializers.CharField(source="decision.reference", allow_null=True, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = BundleExport
        fields = [
            "id",
            "decision",
            "catalogue",
            "status",
            "status_label",
            "done",
            "total",
            "percent",
            "label",
            "size",
            "sha256",
            "error",
            "requested_at",
            "finished_at",
        ]


class ExportRequest(serializers.Serializer):
    decision = serializers.CharField(required=False, help_text="决策编号 of the decision to export")
    catalogue = serializers.IntegerField(required=False, help_text="id of the catalogue to export whole")

    def validate(self, data):
        if bool(data.get("decision")) == bool(data.get("catalogue")):
            raise ValidationError("须指定一个决策事项或一个目录 (give exactly one of decision, catalogue)")
        return data


class ExportList(generics.ListAPIView):
    """The user's own auditor exports (BagIt bundles); POST requests one, made on the worker."""

    serializer_class = ExportSerializer
    ordering = ["-id"]
    ordering_fields = ["id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BundleExport.objects.none()
        return BundleExport.objects.filter(requested_by=self.request.user).select_related("decision")

    @extend_schema(tags=["bundles"], responses=errors.responses({200: ExportSerializer(many=True)}))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["bundles"], request=ExportRequest, responses=errors.responses({202: ExportSerializer}, 400, 403, 404)
    )
    def post(self, request):
        given = ExportRequest(data=request.data)
        given.is_valid(raise_exception=True)
        if given.validated_data.get("decision"):
            target = {"decision": get_object_or_404(Decision, reference=given.validated_data["decision"])}
        else:
            target = {"catalogue": get_object_or_404(AnnualCatalogue, pk=given.validated_data["catalogue"])}
        with source_language():
            export = exports.request_export(request.user, **target)
        return Response(ExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)


def own_export(request, pk):
    export = get_object_or_404(BundleExport.objects.select_related("decision"), pk=pk)
    if export.requested_by_id != request.user.pk:
        from rest_framework.exceptions import PermissionDenied

        raise PermissionDenied("只能查看本人发起的导出 (only your own exports)")
    return export


class ExportDetail(views.APIView):
    @extend_schema(tags=["bundles"], responses=errors.responses({200: ExportSerializer}, *READ))
    def get(self, request, pk):
        """One export and its progress."""
        return Response(ExportSerializer(own_export(request, pk)).data)


class ExportFile(views.APIView):
    @extend_schema(tags=["bundles"], responses=errors.responses({200: FILE}, 403, 404, 409))
    def get(self, request, pk):
        """Download a finished bundle (ZIP, BagIt); check it with `verify_bundle`."""
        export = own_export(request, pk)
        if export.status == BundleExport.Status.FAILED:
            body = errors.simple("EXPORT_FAILED", f"导出失败：{export.error}", f"The export failed: {export.error}")
            return Response(body, status=status.HTTP_409_CONFLICT)
        if export.status != BundleExport.Status.DONE:
            return Response(
                errors.simple("EXPORT_NOT_FINISHED", "导出尚未完成", "The export is not finished"),
                status=status.HTTP_409_CONFLICT,
            )
        return FileResponse(
            export.file.open("rb"),
            content_type="application/zip",
            as_attachment=True,
            filename=export.file.name.split("/")[-1],
        )
