"""Pages for dossiers and auditor exports: thin views over reports.dossiers and reports.exports."""

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from catalog import access
from catalog.models import AnnualCatalogue
from decisions.models import Decision, RoleAssignment
from decisions.permissions import NotPermitted, require_organ_role, require_role, role_counts_for, roles_for
from decisions.queries import READERS
from decisions.rules import in_language, source_language
from reports import bundle, dossiers, exports, publication, yearend
from reports.models import BundleExport, Dossier

DOSSIER_READERS = dossiers.readers()


def _gate(user, decision, roles=DOSSIER_READERS):
    try:
        return require_role(user, decision, roles)
    except NotPermitted as refused:
        raise PermissionDenied(in_language(str(refused), refused.message("en"))) from refused


@login_required
def decision_dossiers(request, reference):
    """The dossiers of one decision: each stage's versions and status, the archive dossier, export."""
    decision = get_object_or_404(Decision.objects.select_related("organ", "lead_unit"), reference=reference)
    _gate(request.user, decision)
    every = list(Dossier.objects.filter(decision=decision).order_by("-version"))
    by_record = {}
    for dossier in every:
        by_record.setdefault(dossier.stage_record_id, []).append(dossier)
    rows = [
        {"record": record, "versions": by_record.get(record.pk, [])}
        for record in decision.stage_records.order_by("id")  # the archive index's order
    ]
    statuses = [d.status for d in every]
    context = {
        "decision": decision,
        "rows": rows,
        "archive_versions": [d for d in every if d.kind == Dossier.Kind.ARCHIVE],
        "waiting": statuses.count(Dossier.Status.PENDING) + statuses.count(Dossier.Status.RENDERING),
        "total": len(every),
        "rendered": statuses.count(Dossier.Status.DONE),
        "may_export": _holds(request.user, decision, READERS),
    }
    return render(request, "reports/web/decision_dossiers.html", context)


def _holds(user, decision, roles):
    return bool(roles_for(user, decision) & set(roles))


@login_required
def dossier_file(request, pk):
    """Serve one stored dossier PDF to someone who may read the decision; the download is audited."""
    dossier = get_object_or_404(Dossier.objects.select_related("decision"), pk=pk, status=Dossier.Status.DONE)
    _gate(request.user, dossier.decision)
    handle = dossiers.open_for_reading(request.user, dossier)
    return FileResponse(handle, content_type="application/pdf", filename=dossier.filename)


@login_required
@require_POST
def export_decision(request, reference):
    decision = get_object_or_404(Decision, reference=reference)
    try:
        with source_language():
            export = exports.request_export(request.user, decision=decision)
    except NotPermitted as refused:
        raise PermissionDenied(in_language(str(refused), refused.message("en"))) from refused
    return redirect("reports:export", pk=export.pk)


@login_required
@require_POST
def export_catalogue(request, pk):
    catalogue = get_object_or_404(AnnualCatalogue, pk=pk)
    try:
        with source_language():
            export = exports.request_export(request.user, catalogue=catalogue)
    except NotPermitted as refused:
        raise PermissionDenied(in_language(str(refused), refused.message("en"))) from refused
    return redirect("reports:export", pk=export.pk)


@login_required
def export_index(request):
    """The user's exports, and the catalogues they may export whole."""
    catalogues = []
    for catalogue in AnnualCatalogue.objects.select_related("organ").order_by("-year", "organ__name"):
        try:
            require_organ_role(request.user, catalogue.organ, bundle.CATALOGUE_ROLES)
        except NotPermitted:
            continue
        catalogues.append(catalogue)
    # The user's assignments once, not once per decision.
    assignments = [
        a
        for a in RoleAssignment.objects.filter(user=request.user).select_related("organisation")
        if a.role in DOSSIER_READERS
    ]
    decisions = Decision.objects.select_related("organ").order_by("-id")[:500]
    readable = [d for d in decisions if any(role_counts_for(a, d) for a in assignments)]
    mine = BundleExport.objects.filter(requested_by=request.user).select_related("decision", "catalogue")[:50]
    context = {"catalogues": catalogues, "exports": mine, "decisions": readable}
    return render(request, "reports/web/exports.html", context)


def _own_export(request, pk):
    export = get_object_or_404(BundleExport.objects.select_related("decision", "catalogue"), pk=pk)
    if export.requested_by_id != request.user.pk:
        raise PermissionDenied(gettext("只能查看本人发起的导出 (only your own exports)"))
    return export


@login_required
def export_detail(request, pk):
    return render(request, "reports/web/export.html", {"export": _own_export(request, pk)})


@login_required
def export_progress(request, pk):
    export = _own_export(request, pk)
    return JsonResponse(
        {
            "status": export.status,
            "status_label": export.get_status_display(),
            "done": export.done,
            "total": export.total,
            "percent": export.percent,
            "label": export.label,
            "error": export.error,
            "sha256": export.sha256,
        }
    )


@login_required
def export_file(request, pk):
    export = _own_export(request, pk)
    if export.status != BundleExport.Status.DONE:
        raise PermissionDenied(gettext("导出尚未完成 (the export is not finished)"))
    return FileResponse(
        export.file.open("rb"), content_type="application/zip", filename=export.file.name.split("/")[-1]
    )


# -- catalogue documents ---------------------------------------------------------------------------


def _notice_response(catalogue, version):
    notice = publication.latest_notice(catalogue, version)
    if notice is None:
        raise Http404("该版本的目录公布文件尚未生成 (the notice of this version is not rendered yet)")
    filename = f"{catalogue.title}-第{version}版.pdf"
    return FileResponse(notice.file.open("rb"), content_type="application/pdf", filename=filename)


def public_notice(request, pk, version):
    """The published catalogue's official notice (no login): only versions that were published."""
    catalogue = get_object_or_404(AnnualCatalogue, pk=pk)
    if not catalogue.is_published() or not 1 <= version <= catalogue.version:
        raise Http404("not published")
    return _notice_response(catalogue, version)


@login_required
def catalogue_notice(request, pk, version):
    catalogue = get_object_or_404(AnnualCatalogue, pk=pk)
    if not access.can_read(request.user, catalogue):
        raise PermissionDenied(gettext("无权查看该目录 (not your jurisdiction)"))
    return _notice_response(catalogue, version)


@login_required
def year_end_report(request, pk):
    """The year-end completion report generated from the dashboard (B9), for the office to sign and publish."""
    catalogue = get_object_or_404(AnnualCatalogue.objects.select_related("organ"), pk=pk)
    if not access.can_read(request.user, catalogue):
        raise PermissionDenied(gettext("无权查看该目录 (not your jurisdiction)"))
    with source_language():  # an official document: Chinese whatever the page's language
        data = yearend.year_end_report_pdf(catalogue)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(catalogue.title + '-年度完成情况报告.pdf')}"
    return response
