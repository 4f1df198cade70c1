"""Rules of the annual catalogue and its adjustments (第三条; procedure.md B9, P19–P21, P24–P25).

Each guard of the B9 tables once, in table order, with its B10a code. The context's
`target` is the catalogue (or, for an adjustment's later steps, the adjustment); the
action's input is in `ctx.params`. A check that can name what is wrong returns
`Findings`, which catalog.lifecycle prints as the failure's detail.
"""

from datetime import date, datetime, time

from catalog import entries as entry_fields
from catalog.lifecycle import OPEN_ADJUSTMENT, Findings
from catalog.models import (
    AdjustmentState,
    AnnualCatalogue,
    CatalogueAdjustment,
    CatalogueDocument,
    CatalogueEntry,
    CatalogueState,
)
from decisions import lifecycle as decision_lifecycle
from decisions.calendar import SHANGHAI, localdate
from decisions.models import AuditEvent, DecisionState
from decisions.rules import rule
from decisions.rules.facts import filled
from decisions.rules.implementation import decided_record_exists

Kind = CatalogueAdjustment.Kind
YearEndStatus = CatalogueEntry.YearEndStatus
NOT_STARTABLE = (DecisionState.NOT_APPLICABLE, DecisionState.DECLINED)


# -- facts ---------------------------------------------------------------------------------------


def has_decided_record(decision):
    """Return True if the decision was ever DECIDED (P20): the T29 guard's own test."""
    return decision.state == DecisionState.DECIDED or decided_record_exists(decision)


def archived_from(decision):
    """Return the state an ARCHIVED decision was archived from, as its audit trail records it."""
    event = (
        AuditEvent.objects.filter(
            decision_id_ref=decision.pk, action__startswith="transition:", payload__to=DecisionState.ARCHIVED
        )
        .order_by("-seq")
        .first()
    )
    return event.payload.get("from") if event else None


def year_end_status(decision):
    """Return an entry's year-end status derived from its decision (B9 PUBLISHED → YEAR_END_REPORTED)."""
    if decision is None:
        return YearEndStatus.IN_PROGRESS
    if has_decided_record(decision):
        return YearEndStatus.DECIDED
    state = archived_from(decision) if decision.state == DecisionState.ARCHIVED else decision.state
    if state == DecisionState.REJECTED:
        return YearEndStatus.REJECTED
    if state in decision_lifecycle.CLOSED_STATES:
        # WITHDRAWN (T29/T29b); a matter closed without a procedure counts with them.
        return YearEndStatus.WITHDRAWN
    return YearEndStatus.IN_PROGRESS


def removable(decision):
    """Return True if T29's guard lets the decision be withdrawn: no DECIDED record, not SCHEDULED (P20)."""
    return decision.state in decision_lifecycle.WITHDRAWABLE_STATES and not has_decided_record(decision)


def is_carried_over(decision, catalogue):
    """Return True if the decision has an entry in an earlier year's catalogue of the same organ (P21)."""
    return CatalogueEntry.objects.filter(
        decision=decision, catalogue__organ_id=catalogue.organ_id, catalogue__year__lt=catalogue.year
    ).exists()


def link_problem(decision, catalogue):
    """Return why `decision` cannot be linked to an entry of `catalogue`, or "" (B9, P21)."""
    if decision.organ_id != catalogue.organ_id:
        return "关联的决策事项不属于本决策机关"
    if decision.state in NOT_STARTABLE or decision.applicability_reason:
        return ""  # refused on its own as MATTER_NOT_APPLICABLE
    if decision.state == DecisionState.PROPOSED:
        return ""
    if decision.state not in decision_lifecycle.CLOSED_STATES and is_carried_over(decision, catalogue):
        return ""  # a carry-over keeps its state and is not listed a second time
    return f"关联的决策事项处于“{decision.get_state_display()}”，既不是待列入的建议，也不是上一年度结转事项"


def not_applicable(decision):
    return decision is not None and (decision.state in NOT_STARTABLE or bool(decision.applicability_reason))


def year_end(year):
    """Return 24:00 on 31 December of `year` in Asia/Shanghai, as an aware timestamp (P21)."""
    return datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=SHANGHAI)


def accepts_adjustments(catalogue, now):
    """Return True if the catalogue is PUBLISHED and the Shanghai date is on or before 31 December of its year."""
    return catalogue.state == CatalogueState.PUBLISHED and localdate(now) <= date(catalogue.year, 12, 31)


def profile_param(catalogue, name, default=None):
    return catalogue.profile.params.get(name, default)


def missing_carry_overs(catalogue):
    """Return the previous year's CARRY_OVER decisions, still open, that have no entry in `catalogue` (P21)."""
    linked = {e.decision_id for e in catalogue.current_entries() if e.decision_id}
    previous = AnnualCatalogue.objects.filter(organ_id=catalogue.organ_id, year=catalogue.year - 1)
    missing = []
    for earlier in previous:
        for entry in earlier.current_entries().select_related("decision"):
            decision = entry.decision
            if (
                entry.year_end_disposition == CatalogueEntry.YearEndDisposition.CARRY_OVER
                and decision is not None
                and decision.pk not in linked
                and decision.state not in decision_lifecycle.CLOSED_STATES
            ):
                missing.append(decision)
    return missing


def withdrawal_source_valid(source, decision):
    """Return True if `source` may withdraw `decision` by T29: a PUBLISHED REMOVE adjustment of its entry, or a
    catalogue whose year-end report is published with the decision's entry REMOVE_PENDING (B5 T29, P21)."""
    if isinstance(source, CatalogueAdjustment):
        return (
            source.state == AdjustmentState.PUBLISHED
            and source.kind == Kind.REMOVE
            and source.decision_id == decision.pk
        )
    if isinstance(source, AnnualCatalogue):
        return source.state in (CatalogueState.YEAR_END_REPORTED, CatalogueState.CLOSED) and (
            source.entries_at()
            .filter(decision_id=decision.pk, year_end_disposition=CatalogueEntry.YearEndDisposition.REMOVE_PENDING)
            .exists()
        )
    return False


def planned_submission_overdue(catalogue, today):
    """Return the entries whose planned submission period ended before `today` while their decision is still
    short of the meeting (B9 "Planned vs actual"; DEFER does not pause it, withdrawal stops it, B2a).

    A warning to the lead unit and GOV_OFFICE, not a legal deadline (第三十八条 "久拖不决" makes it relevant).
    """
    overdue = []
    for entry in catalogue.entries_at().select_related("decision").order_by("seq_no"):
        decision = entry.decision
        if entry.planned_submission_to is None or decision is None or today <= entry.planned_submission_to:
            continue
        if decision.state in decision_lifecycle.CLOSED_STATES or decision.state == DecisionState.SCHEDULED:
            continue
        if has_decided_record(decision):
            continue
        overdue.append(entry)
    return overdue


def _uploaded(name):
    """Return a check: the action carries the upload `name`."""

    def check(ctx):
        return ctx.get(name) is not None

    return check


def _given(name):
    def check(ctx):
        return filled(ctx.get(name))

    return check


def _dated(name):
    """Return a check: the action's date `name` is given and not later than today (Asia/Shanghai)."""

    def check(ctx):
        value = ctx.get(name)
        return isinstance(value, date) and value <= ctx.today

    return check


# -- opening ---------------------------------------------------------------------------------------


@rule(
    "CATALOGUE_ALREADY_OPEN",
    "P2; B9",
    "本机关该年度已有未关闭的决策事项目录，不能再新建",
    "This organ already has a catalogue for that year that is not closed",
)
def no_open_catalogue(ctx):
    return (
        not AnnualCatalogue.objects.filter(organ=ctx.get("organ"), year=ctx.get("year"))
        .exclude(state=CatalogueState.CLOSED)
        .exists()
    )


call_for_proposals_attached = rule(
    "DOSSIER_ITEM_MISSING",
    "B8; B9",
    "须上传决策事项征集通知",
    "The call for proposals (征集通知) must be attached",
    name="call_for_proposals_attached",
)(_uploaded("call_for_proposals"))

OPEN = [no_open_catalogue, call_for_proposals_attached]


# -- compiling -------------------------------------------------------------------------------------


def _draft_entries(ctx):
    return list(ctx.target.draft_entries().select_related("decision", "lead_unit").order_by("seq_no"))


@rule("CATALOGUE_ENTRY_INVALID", "第三条第一款; B9", "目录至少须有一个事项", "The catalogue needs at least one entry")
def has_entries(ctx):
    return ctx.target.draft_entries().exists()


@rule(
    "CATALOGUE_ENTRY_INVALID",
    "第三条第一款; B9",
    "目录事项须写明名称、承办单位、事项类别(第三条第一款第(一)至(五)项)、计划时间和履行程序要求",
    "Each entry needs a name, lead unit, category 3(一)–(五), planned period and required procedures",
)
def entries_complete(ctx):
    found = []
    for entry in _draft_entries(ctx):
        lacks = entry_fields.problems(entry_fields.of_entry(entry), linked=entry.decision_id is not None)
        if entry.decision_id:
            link = link_problem(entry.decision, ctx.target)
            if link:
                lacks.append(link)
        if lacks:
            found.append(f"{entry_fields.label(entry_fields.of_entry(entry), entry.seq_no)}：{'、'.join(lacks)}")
    return Findings(found)


@rule(
    "MATTER_NOT_APPLICABLE",
    "第三条第二款",
    "不适用本条例或决策机关决定不予启动的事项，不能列入决策事项目录",
    "A matter outside the Decree, or one the organ declined, cannot be listed in the catalogue",
)
def entries_applicable(ctx):
    return Findings(
        f"{entry_fields.label({'name': e.name}, e.seq_no)}({e.decision.reference})"
        for e in _draft_entries(ctx)
        if not_applicable(e.decision)
    )


@rule(
    "CATALOGUE_ENTRY_INVALID",
    "B9",
    "同一决策事项在目录中只能列一项",
    "A decision appears only once in a catalogue",
)
def no_decision_twice(ctx):
    seen, twice = {}, []
    for entry in _draft_entries(ctx):
        if entry.decision_id is None:
            continue
        if entry.decision_id in seen:
            twice.append(f"{entry.decision.reference}(第{seen[entry.decision_id]}项与第{entry.seq_no}项)")
        else:
            seen[entry.decision_id] = entry.seq_no
    return Findings(twice)


compiled_list_attached = rule(
    "DOSSIER_ITEM_MISSING",
    "B8",
    "须上传汇总形成的目录清单",
    "The compiled list must be attached",
    name="compiled_list_attached",
)(_uploaded("compiled_list"))


@rule(
    "CATALOGUE_CARRY_OVER_MISSING",
    "P21",
    "上一年度结转的决策事项未列入本年度目录",
    "A decision carried over from last year has no entry in this catalogue",
    warning=True,
)
def carry_overs_listed(ctx):
    return Findings(f"{d.reference} {d.title}" for d in missing_carry_overs(ctx.target))


COMPILE = [
    has_entries,
    entries_complete,
    entries_applicable,
    no_decision_twice,
    compiled_list_attached,
    carry_overs_listed,
]


# -- vetting, approval, return ----------------------------------------------------------------------

vetting_opinion_attached = rule(
    "DOSSIER_ITEM_MISSING",
    "B8; B9",
    "须上传对目录草案的审核意见",
    "The vetting opinion must be attached",
    name="vetting_opinion_attached",
)(_uploaded("opinion"))

VET = [vetting_opinion_attached]

government_approval_attached = rule(
    "DOSSIER_ITEM_MISSING",
    "第三条第三款; B8",
    "须上传政府常务会议纪要或政府审定文件",
    "The minutes of the executive meeting (or the government's approval) must be attached",
    name="government_approval_attached",
)(_uploaded("approval"))


@rule(
    "DOSSIER_ITEM_MISSING",
    "B2 catalogue_vetting_required; B9",
    "本地规则要求目录草案先经审核，须先记录审核意见",
    "This profile requires the compiled catalogue to be vetted first",
)
def vetted_if_required(ctx):
    return ctx.target.state != CatalogueState.COMPILED or not profile_param(ctx.target, "catalogue_vetting_required")


APPROVE = [government_approval_attached, vetted_if_required]

return_reason_given = rule(
    "REASON_REQUIRED",
    "B9",
    "须说明退回理由(审核或政府审定未通过)",
    "A reason for the return is required",
    name="return_reason_given",
)(_given("reason"))

RETURN = [return_reason_given]


# -- party consent ---------------------------------------------------------------------------------

consent_document_attached = rule(
    "CATALOGUE_PARTY_CONSENT_MISSING",
    "第三条第三款",
    "须上传同级党委同意的文件",
    "The party committee's consent document must be attached",
    name="consent_document_attached",
)(_uploaded("consent"))

consent_dated = rule(
    "CATALOGUE_PARTY_CONSENT_MISSING",
    "第三条第三款",
    "须写明党委同意的日期(不得晚于今日)",
    "The date of the consent is required (not in the future)",
    name="consent_dated",
)(_dated("issued_on"))

consent_issuer_named = rule(
    "CATALOGUE_PARTY_CONSENT_MISSING",
    "第三条第三款",
    "须写明作出同意的党委(出具机关)",
    "The issuing party committee is required",
    name="consent_issuer_named",
)(_given("issued_by"))

CONSENT = [consent_document_attached, consent_dated, consent_issuer_named]

non_consent_reason_given = rule(
    "REASON_REQUIRED",
    "第三条第三款",
    "须记录党委不同意的意见或要求修改的内容",
    "The party committee's objection or requested changes are required",
    name="non_consent_reason_given",
)(_given("reason"))

NON_CONSENT = [non_consent_reason_given]


# -- publication -----------------------------------------------------------------------------------

notice_number_given = rule(
    "DOSSIER_ITEM_MISSING",
    "第三条第三款; B9",
    "须填写公布通知文号",
    "The publication notice number is required",
    name="notice_number_given",
)(_given("notice_number"))

notice_dated = rule(
    "DOSSIER_ITEM_MISSING",
    "第三条第三款; B9",
    "须填写公布日期(不得晚于今日)",
    "The publication date is required (not in the future)",
    name="notice_dated",
)(_dated("notice_date"))

notice_url_given = rule(
    "DOSSIER_ITEM_MISSING",
    "第三条第三款; B9",
    "须填写公布网址",
    "The URL of the publication is required",
    name="notice_url_given",
)(_given("notice_url"))

notice_attached = rule(
    "DOSSIER_ITEM_MISSING", "B8", "须上传公布通知", "The publication notice must be attached", name="notice_attached"
)(_uploaded("notice"))


def _consent_before(documents, notice_date):
    consents = list(documents)
    if not consents:
        return False
    if isinstance(notice_date, date):
        # 第三条第三款 "经同级党委同意后向社会公布": the consent predates the publication.
        return any(c.issued_on is None or c.issued_on <= notice_date for c in consents)
    return True


@rule(
    "CATALOGUE_PARTY_CONSENT_MISSING",
    "第三条第三款",
    "决策事项目录须经同级党委同意后向社会公布：尚无党委同意记录(或同意晚于公布日期)",
    "The catalogue is published only after the party committee's consent, and none is on record before the "
    "publication date",
)
def catalogue_consent_recorded(ctx):
    catalogue = ctx.target
    if not profile_param(catalogue, "catalogue_requires_party_consent", True):
        return True
    if catalogue.state != CatalogueState.PARTY_CONSENTED:
        return False
    return _consent_before(catalogue.documents_of(CatalogueDocument.Kind.PARTY_CONSENT), ctx.get("notice_date"))


@rule(
    "MATTER_NOT_APPLICABLE",
    "第三条第二款",
    "目录中有事项已被确认不适用本条例或决定不予启动，不能公布",
    "An entry's matter has since been found outside the Decree or declined; the catalogue cannot be published",
)
def linked_matters_still_applicable(ctx):
    return Findings(
        f"{entry_fields.label({'name': e.name}, e.seq_no)}({e.decision.reference})"
        for e in _draft_entries(ctx)
        if not_applicable(e.decision)
    )


PUBLISH = [
    notice_number_given,
    notice_dated,
    notice_url_given,
    notice_attached,
    catalogue_consent_recorded,
    linked_matters_still_applicable,
]


# -- year end --------------------------------------------------------------------------------------


@rule(
    "CATALOGUE_ADJUSTMENT_OPEN",
    "P20; P21",
    "目录尚有未办结的调整，不能作年度完成情况报告",
    "An adjustment of the catalogue is still open",
)
def no_open_adjustment(ctx):
    return Findings(
        f"{a.get_kind_display()}：{a.reason[:40]}" for a in ctx.target.adjustments.filter(state__in=OPEN_ADJUSTMENT)
    )


@rule(
    "CATALOGUE_ENTRY_INVALID",
    "P21; B9",
    "办理中的事项须注明年终处理方式(结转下一年度或拟撤出)",
    "Each entry still in progress needs a year-end disposition (CARRY_OVER or REMOVE_PENDING)",
)
def in_progress_entries_disposed(ctx):
    found = []
    for entry in ctx.target.current_entries().select_related("decision").order_by("seq_no"):
        if year_end_status(entry.decision) == YearEndStatus.IN_PROGRESS and entry.year_end_disposition not in (
            CatalogueEntry.YearEndDisposition.values
        ):
            found.append(entry_fields.label({"name": entry.name}, entry.seq_no))
    return Findings(found)


completion_report_attached = rule(
    "DOSSIER_ITEM_MISSING",
    "P21; B8",
    "须上传年度完成情况报告",
    "The year-end completion report must be attached",
    name="completion_report_attached",
)(_uploaded("report"))

completion_report_published = rule(
    "DOSSIER_ITEM_MISSING",
    "P21; B9",
    "须填写年度完成情况报告的公布日期(不得晚于今日)",
    "The publication date of the completion report is required (not in the future)",
    name="completion_report_published",
)(_dated("published_on"))

YEAR_END = [no_open_adjustment, in_progress_entries_disposed, completion_report_attached, completion_report_published]


# -- adjustments: proposal --------------------------------------------------------------------------


@rule(
    "REASON_REQUIRED",
    "B9; P20",
    "须写明调整类别(新增、撤出或调整)",
    "The kind of adjustment (ADD, REMOVE, MODIFY) is required",
)
def adjustment_kind_valid(ctx):
    return ctx.get("kind") in Kind.values


@rule("REASON_REQUIRED", "B9; P20", "须说明调整理由", "A reason for the adjustment is required")
def adjustment_reason_given(ctx):
    return filled(ctx.get("reason"))


@rule(
    "REASON_REQUIRED",
    "B9; P20",
    "须指明所调整的目录事项(撤出、调整)或新的事项内容(新增、调整)",
    "The entry concerned (REMOVE, MODIFY) or the new entry data (ADD, MODIFY) is required",
)
def adjustment_subject_given(ctx):
    kind = ctx.get("kind")
    if kind in (Kind.REMOVE, Kind.MODIFY) and ctx.get("entry") is None:
        return False
    return not (kind in (Kind.ADD, Kind.MODIFY) and not ctx.get("data"))


def _open_adjustments(catalogue):
    return CatalogueAdjustment.objects.filter(catalogue=catalogue, state__in=OPEN_ADJUSTMENT)


@rule(
    "CATALOGUE_ADJUSTMENT_OPEN",
    "P20",
    "该目录事项已有一项未办结的调整，同一事项同时只能有一项调整",
    "That entry already has an open adjustment; at most one is open per entry",
)
def one_open_adjustment_per_entry(ctx):
    entry, decision = ctx.get("entry"), ctx.get("decision")
    open_ = _open_adjustments(ctx.target)
    if entry is not None and open_.filter(entry_key=entry.key).exists():
        return False
    return not (decision is not None and open_.filter(decision=decision).exists())


@rule(
    "CATALOGUE_CLOSED",
    "P21",
    "目录未公布、已作年度报告或已过当年12月31日，不再接受调整",
    "The catalogue is not published, or its year ended on 31 December: no adjustment is accepted",
)
def catalogue_accepts_adjustments(ctx):
    return accepts_adjustments(ctx.target, ctx.now)


@rule(
    "MATTER_NOT_APPLICABLE",
    "第三条第二款",
    "不适用本条例或决定不予启动的事项，不能增列入目录",
    "A matter outside the Decree, or one the organ declined, cannot be added to the catalogue",
)
def added_matter_applicable(ctx):
    return ctx.get("kind") != Kind.ADD or not not_applicable(ctx.get("decision"))


@rule(
    "CATALOGUE_REMOVE_AFTER_DECISION",
    "P20; B5 T29",
    "决策事项已作出决定(或已列入会议议题)，不能从目录中撤出",
    "The decision has been decided (or is on a meeting agenda): its entry cannot be removed",
)
def removal_before_decision(ctx):
    if ctx.get("kind") != Kind.REMOVE:
        return True
    decision = ctx.get("decision")
    return decision is None or removable(decision)


@rule(
    "CATALOGUE_ENTRY_INVALID",
    "第三条第一款; B9",
    "调整后的目录事项须写明名称、承办单位、事项类别、计划时间和履行程序要求，且同一决策事项只能列一项",
    "The adjusted entry needs a name, lead unit, category, planned period and required procedures, and a decision "
    "appears only once",
)
def adjusted_entry_valid(ctx):
    kind, catalogue = ctx.get("kind"), ctx.target
    if kind not in (Kind.ADD, Kind.MODIFY):
        return True
    entry, decision = ctx.get("entry"), ctx.get("decision")
    values = entry_fields.of_entry(entry) if kind == Kind.MODIFY and entry is not None else {}
    values.update(entry_fields.to_model_values(ctx.get("data") or {}))
    found = entry_fields.problems(values, linked=decision is not None)
    if kind == Kind.ADD and decision is not None:
        link = link_problem(decision, catalogue)
        if link:
            found.append(link)
        if catalogue.entries_at().filter(decision=decision).exists():
            found.append(f"{decision.reference} 已列入本目录")
    return Findings(found)


PROPOSE = [
    adjustment_kind_valid,
    adjustment_reason_given,
    adjustment_subject_given,
    one_open_adjustment_per_entry,
    catalogue_accepts_adjustments,
    added_matter_applicable,
    removal_before_decision,
    adjusted_entry_valid,
]


# -- adjustments: review to publication -------------------------------------------------------------


@rule(
    "CATALOGUE_CLOSED",
    "P21",
    "目录已过当年12月31日(或已不在公布状态)，未办结的调整已失效",
    "The catalogue's year has ended (or it is no longer published): open adjustments have lapsed",
)
def adjustment_still_accepted(ctx):
    return accepts_adjustments(ctx.target.catalogue, ctx.now)


review_record_attached = rule(
    "DOSSIER_ITEM_MISSING",
    "B9",
    "须上传调整审核记录",
    "The review record of the adjustment must be attached",
    name="review_record_attached",
)(_uploaded("review"))

ADJ_REVIEW = [adjustment_still_accepted, review_record_attached]

adjustment_approval_attached = rule(
    "DOSSIER_ITEM_MISSING",
    "B9",
    "须上传政府同意调整的文件(会议纪要或批复)",
    "The government's approval of the adjustment must be attached",
    name="adjustment_approval_attached",
)(_uploaded("approval"))

ADJ_APPROVE = [adjustment_still_accepted, adjustment_approval_attached]

ADJ_CONSENT = [adjustment_still_accepted, consent_document_attached, consent_dated, consent_issuer_named]


@rule(
    "CATALOGUE_REMOVE_AFTER_DECISION",
    "P20; B5 T29",
    "决策事项已作出决定(或已列入会议议题)，撤出目录的调整不能公布",
    "The decision has been decided (or is on a meeting agenda): the removal cannot be published",
)
def removal_still_before_decision(ctx):
    adjustment = ctx.target
    if adjustment.kind != Kind.REMOVE or adjustment.decision is None:
        return True
    return removable(adjustment.decision)


@rule(
    "CATALOGUE_PARTY_CONSENT_MISSING",
    "第三条第三款; P3",
    "目录调整须经同级党委同意后公布：尚无党委同意记录(或同意晚于公布日期)",
    "The adjustment is published only after the party committee's consent, and none is on record before the "
    "publication date",
)
def adjustment_consent_recorded(ctx):
    adjustment = ctx.target
    if not profile_param(adjustment.catalogue, "catalogue_adjustment_requires_party_consent", True):
        return True
    if adjustment.state != AdjustmentState.PARTY_CONSENTED:
        return False
    return _consent_before(adjustment.documents_of(CatalogueDocument.Kind.PARTY_CONSENT), ctx.get("notice_date"))


@rule(
    "MATTER_NOT_APPLICABLE",
    "第三条第二款",
    "增列的事项已被确认不适用本条例或决定不予启动，调整不能公布",
    "The matter to be added has since been found outside the Decree or declined",
)
def added_matter_still_applicable(ctx):
    adjustment = ctx.target
    return adjustment.kind != Kind.ADD or not not_applicable(adjustment.decision)


ADJ_PUBLISH = [
    removal_still_before_decision,
    adjustment_still_accepted,
    notice_number_given,
    notice_dated,
    notice_url_given,
    notice_attached,
    adjustment_consent_recorded,
    added_matter_still_applicable,
]

rejection_reason_given = rule(
    "REASON_REQUIRED",
    "B9",
    "须说明调整未通过的理由",
    "A reason for rejecting the adjustment is required",
    name="rejection_reason_given",
)(_given("reason"))

ADJ_REJECT = [rejection_reason_given]
