"""The catalogue office's pages (viewflow frontend application): thin views over catalog.services.

Every change goes through a service, which gates the role, checks the B9 rules and audits;
a refusal is shown beside the form with its code, message and article. Reading is decided by
catalog.access (jurisdiction). Nothing here decides what the law allows.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from viewflow.urls import Application

from catalog import access, dashboard, forms, imports, lifecycle, services, versions, workbook
from catalog.actions import ADJUSTMENT_ACTIONS, CATALOGUE_ACTIONS, offered
from catalog.actions import as_upload as _upload
from catalog.charts import coverage_chart, government_chart, phase_chart
from catalog.models import AnnualCatalogue, CatalogueAdjustment, CatalogueEntry, CatalogueImport, CatalogueState
from decisions.models import Decision, DecisionState, Organisation, Role
from decisions.rules import ProcedureRefused, active_language, in_language, source_language
from decisions.services import initiation

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- helpers ---------------------------------------------------------------------------------------


def _readable(request, pk):
    catalogue = get_object_or_404(AnnualCatalogue.objects.select_related("organ", "profile"), pk=pk)
    if not access.can_read(request.user, catalogue):
        raise PermissionDenied(gettext("无权查看该目录 (not your jurisdiction)"))
    return catalogue


def _refusal(form, refused):
    """Show every failed rule of a refusal on the form: code, message, article."""
    for failure in refused.failures:
        detail = in_language(f"：{failure.detail}", f": {failure.detail}") if failure.detail else ""
        form.add_error(
            None,
            gettext("%(message)s%(detail)s（%(article)s；%(code)s）")
            % {"message": failure.text, "detail": detail, "article": failure.rule.citation, "code": failure.code},
        )


def _download(data, filename, content_type):
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}"
    return response


def _quote(name):
    from urllib.parse import quote

    return quote(name)


STATE_PATH = [
    CatalogueState.COLLECTING,
    CatalogueState.COMPILED,
    CatalogueState.VETTED,
    CatalogueState.GOV_APPROVED,
    CatalogueState.PARTY_CONSENTED,
    CatalogueState.PUBLISHED,
    CatalogueState.YEAR_END_REPORTED,
    CatalogueState.CLOSED,
]


def _state_path(catalogue):
    """The B9 states as a stepper: done, current, to come (VETTED only when the profile asks for vetting)."""
    vetting = catalogue.profile.params.get("catalogue_vetting_required", False)
    states = [s for s in STATE_PATH if vetting or s != CatalogueState.VETTED or catalogue.state == s]
    index = states.index(catalogue.state) if catalogue.state in states else 0
    return [
        {"label": s.label, "status": "done" if i < index else "current" if i == index else "todo"}
        for i, s in enumerate(states)
    ]


# -- catalogues ------------------------------------------------------------------------------------


@login_required
def catalogue_list(request):
    """The catalogues the user may read, newest year first, with what is late in each."""
    catalogues = (
        access.visible_catalogues(request.user)
        .select_related("organ")
        .annotate(
            entry_count=Count("entries", filter=Q(entries__valid_to__isnull=True), distinct=True),
            open_adjustments=Count(
                "adjustments", filter=Q(adjustments__state__in=lifecycle.OPEN_ADJUSTMENT), distinct=True
            ),
        )
        .order_by("-year", "organ__level", "organ__name")
    )
    return render(
        request,
        "catalog/list.html",
        {"catalogues": catalogues, "may_open": access.offices_of(request.user).exists()},
    )


@login_required
def catalogue_open(request):
    """– → COLLECTING: open a catalogue with its call for proposals (征集通知)."""
    organs = access.offices_of(request.user)
    if not organs.exists():
        raise PermissionDenied(gettext("只有政府办公室可以开启年度目录 (GOV_OFFICE only)"))
    form = forms.OpenCatalogueForm(
        request.POST or None, request.FILES or None, organs=organs, initial={"year": timezone.localdate().year + 1}
    )
    if request.method == "POST" and form.is_valid():
        try:
            with source_language():
                catalogue = services.open_catalogue(
                    request.user,
                    form.cleaned_data["organ"],
                    form.cleaned_data["year"],
                    call_for_proposals=_upload(form, "call_for_proposals"),
                    title=form.cleaned_data["title"],
                )
        except ProcedureRefused as refused:
            _refusal(form, refused)
        else:
            messages.success(request, gettext("已开启%(title)s，开始征集决策事项建议。") % {"title": catalogue.title})
            return redirect("catalog:detail", pk=catalogue.pk)
    return render(
        request, "catalog/form.html", {"form": form, "heading": gettext("开启年度目录征集"), "multipart": True}
    )


@login_required
def catalogue_detail(request, pk):
    catalogue = _readable(request, pk)
    roles = access.acting_roles(request.user, catalogue.organ)
    entries = list(
        catalogue.current_entries()
        .select_related("lead_unit", "decision")
        .prefetch_related("co_units")
        .order_by("seq_no")
    )
    adjustments = list(catalogue.adjustments.select_related("proposed_by").order_by("-id"))
    documents = list(catalogue.documents.filter(adjustment__isnull=True).select_related("document").order_by("id"))
    may_dispose = catalogue.state == CatalogueState.PUBLISHED and Role.GOV_OFFICE in roles
    context = {
        "catalogue": catalogue,
        "state_path": _state_path(catalogue),
        "actions": offered(CATALOGUE_ACTIONS, catalogue, roles),
        "entries": entries,
        "adjustments": adjustments,
        "documents": documents,
        "versions": versions.versions(catalogue) if catalogue.version else [],
        "collecting": catalogue.state == CatalogueState.COLLECTING,
        "is_office": Role.GOV_OFFICE in roles,
        "may_propose_adjustment": catalogue.state == CatalogueState.PUBLISHED
        and bool(roles & {Role.GOV_OFFICE, Role.UNDERTAKING_LEAD}),
        "may_dispose": may_dispose,
        # P21: only an entry still in progress gets a year-end disposition (carry over, or remove).
        "in_progress": {
            row.seq_no
            for row in (dashboard.catalogue_progress(catalogue).entries if may_dispose else ())
            if row.year_end_status == CatalogueEntry.YearEndStatus.IN_PROGRESS
        },
        "imports": catalogue.imports.order_by("-id")[:5] if Role.GOV_OFFICE in roles else [],
    }
    return render(request, "catalog/detail.html", context)


def _act(request, obj, catalogue, actions, name, redirect_to):
    action = actions.get(name)
    if action is None:
        raise PermissionDenied(gettext("未知的操作"))
    step = lifecycle.STEPS[action.step]
    multipart = any(isinstance(f, forms.forms.FileField) for f in action.form.base_fields.values())
    form = action.form(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            with source_language():
                action.run(request.user, obj, form)
        except ProcedureRefused as refused:
            _refusal(form, refused)
        else:
            messages.success(request, gettext("已办理：%(action)s") % {"action": gettext(step.zh)})
            return redirect_to
    context = {
        "form": form,
        "heading": gettext(step.zh),
        "subject": obj,
        "catalogue": catalogue,
        "basis": step.article,
        "multipart": multipart,
        "danger": action.danger,
    }
    return render(request, "catalog/form.html", context)


@login_required
def catalogue_act(request, pk, name):
    catalogue = _readable(request, pk)
    return _act(request, catalogue, catalogue, CATALOGUE_ACTIONS, name, redirect("catalog:detail", pk=pk))


# -- entries while collecting ------------------------------------------------------------------------


@login_required
def entry_add(request, pk):
    catalogue = _readable(request, pk)
    form = forms.EntryForm(request.POST or None, organ=catalogue.organ)
    if request.method == "POST" and form.is_valid():
        try:
            with source_language():
                entry = services.add_entry(request.user, catalogue, **form.entry_values())
        except ProcedureRefused as refused:
            _refusal(form, refused)
        else:
            messages.success(
                request, gettext("已增加第%(seq_no)s项：%(name)s") % {"seq_no": entry.seq_no, "name": entry.name}
            )
            return redirect("catalog:detail", pk=pk)
    return render(
        request, "catalog/form.html", {"form": form, "heading": gettext("增加目录事项"), "catalogue": catalogue}
    )


def _draft_entry(request, pk, entry_pk):
    catalogue = _readable(request, pk)
    entry = get_object_or_404(CatalogueEntry, pk=entry_pk, catalogue=catalogue)
    return catalogue, entry


@login_required
def entry_edit(request, pk, entry_pk):
    catalogue, entry = _draft_entry(request, pk, entry_pk)
    form = forms.EntryForm(request.POST or None, organ=catalogue.organ, initial=forms.EntryForm.initial_from(entry))
    if request.method == "POST" and form.is_valid():
        try:
            with source_language():
                services.update_entry(request.user, entry, **form.entry_values())
        except ProcedureRefused as refused:
            _refusal(form, refused)
        else:
            messages.success(request, gettext("已修改第%(seq_no)s项") % {"seq_no": entry.seq_no})
            return redirect("catalog:detail", pk=pk)
    heading = gettext("修改第%(seq_no)s项") % {"seq_no": entry.seq_no}
    return render(request, "catalog/form.html", {"form": form, "heading": heading, "catalogue": catalogue})


@login_required
@require_POST
def entry_remove(request, pk, entry_pk):
    catalogue, entry = _draft_entry(request, pk, entry_pk)
    try:
        with source_language():
            services.remove_entry(request.user, entry)
    except ProcedureRefused as refused:
        messages.error(request, refused.message(active_language()))
    else:
        messages.success(
            request, gettext("已删除第%(seq_no)s项：%(name)s") % {"seq_no": entry.seq_no, "name": entry.name}
        )
    return redirect("catalog:detail", pk=catalogue.pk)


@login_required
def entry_disposition(request, pk, entry_pk):
    """Mark an in-progress entry CARRY_OVER or REMOVE_PENDING before the year-end report (P21)."""
    catalogue, entry = _draft_entry(request, pk, entry_pk)
    form = forms.DispositionForm(request.POST or None, initial={"disposition": entry.year_end_disposition})
    if request.method == "POST" and form.is_valid():
        try:
            with source_language():
                services.set_year_end_disposition(request.user, catalogue, entry, form.cleaned_data["disposition"])
        except ProcedureRefused as refused:
            _refusal(form, refused)
        else:
            messages.success(request, gettext("已确定第%(seq_no)s项的年终处理方式") % {"seq_no": entry.seq_no})
            return redirect("catalog:detail", pk=pk)
    heading = gettext("年终处理：%(name)s") % {"name": entry.name}
    return render(
        request, "catalog/form.html", {"form": form, "heading": heading, "catalogue": catalogue, "basis": "P21"}
    )


# -- adjustments -----------------------------------------------------------------------------------


@login_required
def adjustment_propose(request, pk):
    catalogue = _readable(request, pk)
    form = forms.AdjustmentForm(request.POST or None, request.FILES or None, catalogue=catalogue)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        entry = form.entries.get(form.cleaned_data["entry"] or "")
        document = _upload(form)
        try:
            with source_language():
                adjustment = services.propose_adjustment(
                    request.user,
                    catalogue,
                    kind=kind,
                    reason=form.cleaned_data["reason"],
                    entry=entry,
                    data=form.adjustment_data(),
                    documents=[document] if document else (),
                )
        except ProcedureRefused as refused:
            _refusal(form, refused)
        else:
            messages.success(request, gettext("已提出目录调整，待政府办公室审核"))
            return redirect("catalog:adjustment", pk=adjustment.pk)
    return render(
        request,
        "catalog/form.html",
        {"form": form, "heading": gettext("提出目录调整"), "catalogue": catalogue, "multipart": True, "basis": "P20"},
    )


def _adjustment(request, pk):
    adjustment = get_object_or_404(
        CatalogueAdjustment.objects.select_related("catalogue__organ", "decision", "proposed_by"), pk=pk
    )
    if not access.can_read(request.user, adjustment.catalogue):
        raise PermissionDenied(gettext("无权查看该目录调整 (not your jurisdiction)"))
    return adjustment


@login_required
def adjustment_detail(request, pk):
    adjustment = _adjustment(request, pk)
    catalogue = adjustment.catalogue
    roles = access.acting_roles(request.user, catalogue.organ)
    context = {
        "adjustment": adjustment,
        "catalogue": catalogue,
        "actions": offered(ADJUSTMENT_ACTIONS, adjustment, roles),
        "documents": adjustment.documents.select_related("document").order_by("id"),
        "changes": versions.changes(catalogue, adjustment.published_version) if adjustment.published_version else None,
        "proposed": None if adjustment.published_version else versions.proposed_changes(adjustment),
    }
    return render(request, "catalog/adjustment.html", context)


@login_required
def adjustment_act(request, pk, name):
    adjustment = _adjustment(request, pk)
    return _act(
        request, adjustment, adjustment.catalogue, ADJUSTMENT_ACTIONS, name, redirect("catalog:adjustment", pk=pk)
    )


# -- Excel in, Excel out ---------------------------------------------------------------------------


@login_required
def template_download(request):
    with source_language():  # the published layout, in Chinese: the import reads it back
        data = workbook.template()
    return _download(data, "年度重大行政决策事项目录-导入模板.xlsx", XLSX)


@login_required
def catalogue_export(request, pk):
    catalogue = _readable(request, pk)
    version = request.GET.get("version")
    with source_language():
        data = workbook.export(catalogue, int(version) if version and version.isdigit() else None)
    suffix = f"-第{version}版" if version and version.isdigit() else ""
    return _download(data, f"{catalogue.title}{suffix}.xlsx", XLSX)


@login_required
def catalogue_import(request, pk):
    """Upload a workbook: it is checked row by row and shown as a preview; nothing is written yet."""
    catalogue = _readable(request, pk)
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["workbook"]
        try:
            with source_language():
                job = imports.preview_upload(request.user, catalogue, uploaded.name, uploaded.read())
        except ProcedureRefused as refused:
            _refusal(form, refused)
        else:
            return redirect("catalog:import", pk=pk, import_pk=job.pk)
    return render(
        request,
        "catalog/form.html",
        {
            "form": form,
            "heading": gettext("从 Excel 导入目录事项"),
            "catalogue": catalogue,
            "multipart": True,
            "template_link": True,
        },
    )


def _import_job(request, pk, import_pk):
    catalogue = _readable(request, pk)
    job = get_object_or_404(CatalogueImport, pk=import_pk, catalogue=catalogue)
    if Role.GOV_OFFICE not in access.acting_roles(request.user, catalogue.organ):
        raise PermissionDenied(gettext("只有本级政府办公室可以导入目录 (GOV_OFFICE of the organ only)"))
    return catalogue, job


@login_required
def import_detail(request, pk, import_pk):
    catalogue, job = _import_job(request, pk, import_pk)
    if request.method == "POST":
        try:
            with source_language():
                imports.confirm(request.user, job)
        except ProcedureRefused as refused:
            messages.error(request, refused.message(active_language()))
        return redirect("catalog:import", pk=pk, import_pk=import_pk)
    rows = imports.preview_rows(job)
    return render(request, "catalog/import.html", {"catalogue": catalogue, "job": job, "rows": rows})


@login_required
def import_progress(request, pk, import_pk):
    _catalogue, job = _import_job(request, pk, import_pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "done": job.done,
            "total": job.total,
            "error": "；".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in job.errors or [])
            if job.status == CatalogueImport.Status.FAILED
            else "",
        }
    )


# -- proposals (决策建议, 第十条) ---------------------------------------------------------------------


def _proposal_organs(user):
    """The governments whose proposals the user handles (office) or submits (a unit of the government)."""
    ids = access.readable_organ_ids(user)
    return Organisation.objects.filter(pk__in=ids, kind=Organisation.Kind.GOVERNMENT).order_by("level", "name")


@login_required
def proposal_list(request):
    """Registered proposals not yet in a catalogue, per government, with the office's two ways on:
    the applicability check (不适用, 第三条第二款) or into the draft catalogue."""
    organs = list(_proposal_organs(request.user))
    pending = (
        Decision.objects.filter(organ__in=organs, state=DecisionState.PROPOSED, catalogue_entries__isnull=True)
        .select_related("organ")
        .order_by("organ__name", "reference")
    )
    decided = (
        Decision.objects.filter(organ__in=organs, state=DecisionState.NOT_APPLICABLE)
        .select_related("organ")
        .order_by("-id")[:20]
    )
    offices = {o.pk for o in access.offices_of(request.user)}
    return render(
        request,
        "catalog/proposals.html",
        {"pending": pending, "not_applicable": decided, "offices": offices, "organs": organs},
    )


@login_required
def proposal_new(request):
    organs = list(_proposal_organs(request.user))
    organ_id = request.GET.get("organ") or request.POST.get("organ")
    organ = next((o for o in organs if str(o.pk) == str(organ_id)), organs[0] if organs else None)
    if organ is None:
        raise PermissionDenied(gettext("您不在任何政府或部门任职，不能登记决策建议"))
    form = forms.ProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with source_language():
                decision = initiation.register_proposal(
                    request.user,
                    organ,
                    title=data["title"],
                    source_type=data["source_type"],
                    proposer_name=data["proposer_name"],
                    category=data["category"],
                    **form.proposal_values(),
                )
        except ProcedureRefused as refused:
            _refusal(form, refused)
        else:
            messages.success(request, gettext("已登记决策建议 %(reference)s") % {"reference": decision.reference})
            return redirect("catalog:proposals")
    heading = gettext("登记决策建议：%(organ)s") % {"organ": organ.name}
    return render(
        request,
        "catalog/form.html",
        {"form": form, "heading": heading, "basis": "第十条", "organs": organs, "organ": organ},
    )


def _proposal(request, reference):
    decision = get_object_or_404(Decision.objects.select_related("organ"), reference=reference)
    if decision.organ_id not in access.readable_organ_ids(request.user):
        raise PermissionDenied(gettext("无权办理该建议 (not your jurisdiction)"))
    return decision


@login_required
def proposal_not_applicable(request, reference):
    """T2: the office records that the matter is outside the Decree (第三条第二款), with its reason."""
    decision = _proposal(request, reference)
    form = forms.NotApplicableForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with source_language():
                initiation.declare_not_applicable(
                    request.user,
                    decision,
                    reason=form.cleaned_data["reason"],
                    explanation=form.cleaned_data["explanation"],
                )
        except ProcedureRefused as refused:
            _refusal(form, refused)
        else:
            messages.success(
                request, gettext("%(reference)s 已认定为不适用本条例的事项") % {"reference": decision.reference}
            )
            return redirect("catalog:proposals")
    heading = gettext("适用性审查：%(title)s") % {"title": decision.title}
    return render(
        request, "catalog/form.html", {"form": form, "heading": heading, "basis": "第三条第二款", "danger": True}
    )


@login_required
def proposal_to_catalogue(request, reference):
    """Move a proposal into a catalogue being collected (its entry links the decision)."""
    decision = _proposal(request, reference)
    catalogues = AnnualCatalogue.objects.filter(organ=decision.organ, state=CatalogueState.COLLECTING)
    initial = {"name": decision.title, "category": decision.category, "catalogue": catalogues.first()}
    form = forms.ListProposalForm(request.POST or None, organ=decision.organ, catalogues=catalogues, initial=initial)
    if request.method == "POST" and form.is_valid():
        catalogue = form.cleaned_data["catalogue"]
        try:
            with source_language():
                entry = services.add_entry(request.user, catalogue, decision=decision, **form.entry_values())
        except ProcedureRefused as refused:
            _refusal(form, refused)
        else:
            messages.success(
                request,
                gettext("已列入%(catalogue)s第%(seq_no)s项") % {"catalogue": catalogue.title, "seq_no": entry.seq_no},
            )
            return redirect("catalog:detail", pk=catalogue.pk)
    heading = gettext("列入目录草案：%(title)s") % {"title": decision.title}
    return render(request, "catalog/form.html", {"form": form, "heading": heading, "basis": "第三条第三款"})


# -- dashboards ------------------------------------------------------------------------------------


@login_required
def catalogue_dashboard(request, pk):
    catalogue = _readable(request, pk)
    progress = dashboard.catalogue_progress(catalogue)
    return render(
        request,
        "catalog/dashboard.html",
        {
            "catalogue": catalogue,
            "progress": progress,
            "chart": phase_chart(progress.phases),
            "coverage_chart": coverage_chart(progress.coverage),
        },
    )


@login_required
def government_dashboard(request, code, year):
    organ = get_object_or_404(Organisation, code=code, kind=Organisation.Kind.GOVERNMENT)
    if organ.pk not in access.readable_organ_ids(request.user):
        raise PermissionDenied(gettext("无权查看该政府的目录进度 (not your jurisdiction)"))
    progress = dashboard.government_progress(organ, year)
    return render(
        request,
        "catalog/government.html",
        {
            "organ": organ,
            "year": year,
            "progress": progress,
            "chart": government_chart(progress.rows),
            "phase_chart": phase_chart(progress.phases),
            "coverage_chart": coverage_chart(progress.coverage),
        },
    )


@login_required
def dashboard_index(request):
    """The user's governments for this year (and the years that have catalogues)."""
    ids = access.readable_organ_ids(request.user)
    organs = Organisation.objects.filter(pk__in=ids, kind=Organisation.Kind.GOVERNMENT).order_by("level", "name")
    years = sorted(
        set(AnnualCatalogue.objects.filter(organ_id__in=ids).values_list("year", flat=True)), reverse=True
    ) or [timezone.localdate().year]
    year = int(request.GET.get("year") or years[0])
    return render(request, "catalog/dashboards.html", {"organs": organs, "years": years, "year": year})


class CatalogueApp(Application):
    """年度重大行政决策事项目录: compile, consent, publish, adjust, import/export, and what is late."""

    title = _("年度决策事项目录")
    icon = "library_books"
    app_name = "catalog"
    menu_template_name = "catalog/menu.html"
    menu_links = [
        ("catalog:index", "library_books", _("年度目录")),
        ("catalog:proposals", "inbox", _("决策建议")),
        ("catalog:dashboards", "insights", _("进度看板")),
    ]

    urlpatterns = [
        path("", catalogue_list, name="index"),
        path("new/", catalogue_open, name="open"),
        path("template.xlsx", template_download, name="template"),
        path("proposals/", proposal_list, name="proposals"),
        path("proposals/new/", proposal_new, name="proposal_new"),
        path("proposals/<str:reference>/not-applicable/", proposal_not_applicable, name="proposal_not_applicable"),
        path("proposals/<str:reference>/to-catalogue/", proposal_to_catalogue, name="proposal_to_catalogue"),
        path("dashboards/", dashboard_index, name="dashboards"),
        path("dashboards/<slug:code>/<int:year>/", government_dashboard, name="government_dashboard"),
        path("<int:pk>/", catalogue_detail, name="detail"),
        path("<int:pk>/act/<slug:name>/", catalogue_act, name="act"),
        path("<int:pk>/dashboard/", catalogue_dashboard, name="dashboard"),
        path("<int:pk>/entries/new/", entry_add, name="entry_add"),
        path("<int:pk>/entries/<int:entry_pk>/edit/", entry_edit, name="entry_edit"),
        path("<int:pk>/entries/<int:entry_pk>/remove/", entry_remove, name="entry_remove"),
        path("<int:pk>/entries/<int:entry_pk>/disposition/", entry_disposition, name="entry_disposition"),
        path("<int:pk>/export.xlsx", catalogue_export, name="export"),
        path("<int:pk>/import/", catalogue_import, name="import_upload"),
        path("<int:pk>/import/<int:import_pk>/", import_detail, name="import"),
        path("<int:pk>/import/<int:import_pk>/progress/", import_progress, name="import_progress"),
        path("<int:pk>/adjustments/new/", adjustment_propose, name="adjustment_propose"),
        path("adjustments/<int:pk>/", adjustment_detail, name="adjustment"),
        path("adjustments/<int:pk>/act/<slug:name>/", adjustment_act, name="adjustment_act"),
    ]
