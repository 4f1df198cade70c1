"""Progress of the annual catalogue (年度重大行政决策事项目录) and of a government's decisions: read-only.

Two entry points, each a constant number of SQL queries whatever the number of entries,
each returning plain frozen dataclasses that a page, a chart or the year-end report reads:

* `catalogue_progress(catalogue, today=None) -> CatalogueProgress`: one catalogue's current
  entries (the current published version; before publication the entries being compiled),
  counted by pipeline phase (`PHASES`), one `EntryRow` each, the overdue list (`Alert`s),
  year-end statuses, the adjustments of the year and the organ's catalogue coverage.
* `government_progress(organ, year, today=None) -> GovernmentProgress`: one `GovernmentRow`
  per government, the organ first and then every descendant government (a city rolls up its
  counties; a county never includes its city), with totals. Counted in the database, filtered
  by organ ids, so the cost grows with the size of one government, not of the province.

Definitions (procedure.md B4, B9, B2a, P4):

* Phase: `PHASES` groups every B4 state into one phase people recognise; an entry whose
  decision is not created yet (before compilation) counts under 建议/列入目录.
* Overdue list, three kinds of `Alert`, each a warning and none a legal deadline:
  - PLANNED_PERIOD (B9 "Planned vs actual"): from the first day after `planned_submission_to`
    (today as a date in Asia/Shanghai) while the decision has not reached SCHEDULED: it is
    not SCHEDULED now, has no DECIDED record, and is not in a closed state (withdrawn, rejected,
    stopped, archived, not applicable, declined). DEFERRED stays overdue (DEFER does not pause
    it, B2a). Published catalogues only, as catalog.rules.planned_submission_overdue.
  - COMMENT_PERIOD (第十五条, P13): the decision is in CONSULTATION, its live PP record is
    IN_PROGRESS, and the last deadline of its published comment notices is within
    `comment_warn_days` calendar days from today (comments are accepted until 24:00 of the
    deadline) or has passed (the period is over; the opinion summary and the stage's closure
    are due).
  - LEGALITY_REVIEW (第二十六条, B2, P4): the decision is LEGAL_REVIEW_IN_PROGRESS and its round
    has complete materials (`LegalityReview.complete_on`): the working days strictly after
    `complete_on` up to and including today, counted on the holiday calendar of
    decisions/calendar.py, are within `review_warn_working_days` of the profile's
    `legality_review_min_working_days` or have reached it. That number is the least review
    time the office must leave the reviewer ("一般不少于"), not a deadline: reaching it means the
    opinion may now be asked for and a meeting planned. A count touching a year whose holiday
    notice is not loaded is marked provisional.
* Year-end status (B9): decided / rejected / withdrawn / in progress, as
  catalog.rules.year_end_status derives it; once the year-end report is published, the status
  recorded on the entry then.
* Coverage (湖州: every major decision goes through the catalogue, target 100%): see `Coverage`.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from catalog.models import (
    AdjustmentState,
    AnnualCatalogue,
    CatalogueAdjustment,
    CatalogueEntry,
    CatalogueState,
)
from catalog.periods import format_period
from decisions import calendar
from decisions import lifecycle as decision_lifecycle
from decisions.models import (
    AuditEvent,
    CollectiveOutcome,
    CommentPeriod,
    DecisionState,
    LegalityReview,
    Organisation,
    Position,
    Stage,
    StageStatus,
)
from decisions.rules import in_language

S = DecisionState
YearEndStatus = CatalogueEntry.YearEndStatus
Disposition = CatalogueEntry.YearEndDisposition

# The B4 states grouped into the phases of the pipeline, in pipeline order; every state once.
PHASES = (
    ("PROPOSAL", _("建议/列入目录"), (S.PROPOSED, S.LISTED)),
    ("DRAFTING", _("启动与起草"), (S.INITIATED, S.DRAFTING)),
    ("CONSULTATION", _("公众参与·专家论证·风险评估"), (S.CONSULTATION,)),
    (
        "LEGALITY",
        _("合法性审查"),
        (
            S.LEGAL_REVIEW_SUBMITTED,
            S.LEGAL_REVIEW_RETURNED,
            S.LEGAL_REVIEW_IN_PROGRESS,
            S.LEGAL_REVIEW_DONE,
            # 根据意见修改 (第二十八条) follows the opinion; a meeting's MODIFY also lands here.
            S.REVISING,
        ),
    ),
    ("MEETING", _("提请审议/列入会议"), (S.READY_FOR_MEETING, S.SCHEDULED)),
    (
        "DECIDED",
        _("已决定(含公布、执行、后评估)"),
        (
            S.DECIDED,
            S.PUBLISHED,
            S.ISSUED_NOT_PUBLIC,
            S.IMPLEMENTING,
            S.SUSPENDED,
            S.POST_EVALUATION,
            S.ADJUSTING,
            # Stopped through T28: it was decided and executed before the stop.
            S.STOPPED,
        ),
    ),
    ("DEFERRED", pgettext_lazy("decision state", "暂缓"), (S.DEFERRED,)),
    ("REJECTED", pgettext_lazy("decision state", "不同意"), (S.REJECTED,)),
    ("WITHDRAWN", pgettext_lazy("decision state", "撤出"), (S.WITHDRAWN,)),
    ("ARCHIVED", pgettext_lazy("decision state", "归档"), (S.ARCHIVED,)),
    ("NOT_STARTED", _("不予启动/不适用"), (S.DECLINED, S.NOT_APPLICABLE)),
)
PHASE_LABELS = {code: label for code, label, _states in PHASES}
PHASE_OF_STATE = {state: code for code, _label, states in PHASES for state in states}
NO_DECISION_PHASE = "PROPOSAL"

COMMENT_WARN_DAYS = 5
REVIEW_WARN_WORKING_DAYS = 2
PUBLISHED_STATES = (CatalogueState.PUBLISHED, CatalogueState.YEAR_END_REPORTED, CatalogueState.CLOSED)
REPORTED_STATES = (CatalogueState.YEAR_END_REPORTED, CatalogueState.CLOSED)
# Not overdue by the planned period: on the agenda, or ended (B9 "Planned vs actual", B2a).
PLANNED_PERIOD_STOPPED = (S.SCHEDULED, S.DECIDED, *decision_lifecycle.CLOSED_STATES)


class AlertKind:
    PLANNED_PERIOD = "PLANNED_PERIOD"
    COMMENT_PERIOD = "COMMENT_PERIOD"
    LEGALITY_REVIEW = "LEGALITY_REVIEW"

    LABELS = {
        PLANNED_PERIOD: _("超过计划提请审议时间"),
        COMMENT_PERIOD: _("公开征求意见期限"),
        LEGALITY_REVIEW: _("合法性审查时间"),
    }


def phase_of(state):
    """Return the phase code of a decision state; None (no decision yet) is 建议/列入目录."""
    return NO_DECISION_PHASE if state is None else PHASE_OF_STATE[state]


def shanghai_today():
    return calendar.localdate(timezone.now())


# -- the dataclasses ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseCount:
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class Alert:
    """One item of the overdue list: a clock run out (`passed`) or close to it."""

    kind: str
    passed: bool
    text: str
    seq_no: int | None = None
    entry_name: str = ""
    decision_id: int | None = None
    decision_reference: str = ""
    due: date | None = None  # the last day of the planned period or of the comment period
    days: int | None = None  # days overdue, days left, or working days counted (LEGALITY_REVIEW)
    provisional: bool = False  # a working-day count on a year whose holiday notice is not loaded (P4)

    @property
    def kind_label(self):
        return AlertKind.LABELS[self.kind]


@dataclass(frozen=True)
class EntryRow:
    """One current entry of the catalogue with its decision's progress."""

    key: str
    seq_no: int
    name: str
    lead_unit: str
    decision_lead_unit: str  # P18: shown when the decision's lead unit differs from the entry's
    decision_id: int | None
    decision_reference: str
    state: str
    state_label: str
    phase: str
    phase_label: str
    planned_period: str
    year_end_status: str
    year_end_status_label: str
    year_end_disposition: str
    year_end_disposition_label: str
    alerts: tuple = ()

    @property
    def overdue(self):
        return bool(self.alerts)

    @property
    def overdue_reason(self):
        return in_language("；", "; ").join(a.text for a in self.alerts)


@dataclass(frozen=True)
class StatusCount:
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class AdjustmentRow:
    """One adjustment of the catalogue in the year (目录调整, P20)."""

    kind: str
    kind_label: str
    state: str
    state_label: str
    entry_name: str
    decision_reference: str
    reason: str
    proposed_on: date
    published_on: date | None
    notice_number: str
    version: int | None


@dataclass(frozen=True)
class DecisionRef:
    id: int
    reference: str
    title: str
    organ: str
    decided_on: date


@dataclass(frozen=True)
class Coverage:
    """Catalogue coverage of the decisions an organ made in a year (target 100%).

    Counted: the organ's decisions with a collective outcome APPROVE on the draft (the DECIDED
    record, 第三十条) at a meeting whose date (`Meeting.date`, a calendar date) falls in `year`;
    `decided_on` is the earliest such date in the year. A decision approved again in the year,
    or whose approval was later superseded by the party committee's reply, counts once.
    Through the catalogue: the decision is linked to an entry row that was part of a published
    version of a catalogue (any year's, so a carried-over decision counts). `outside` lists the
    decided ones that are not: they are the findings.
    """

    year: int
    decided: int
    through_catalogue: int
    outside: tuple = ()
    target_percent: int = 100

    @property
    def percent(self):
        """Return the share in percent, rounded to one decimal; None when nothing was decided."""
        if not self.decided:
            return None
        return round(100 * self.through_catalogue / self.decided, 1)


@dataclass(frozen=True)
class CatalogueProgress:
    catalogue_id: int
    title: str
    organ_id: int
    organ: str
    year: int
    state: str
    state_label: str
    version: int
    published: bool
    today: date
    entries: tuple
    phases: tuple
    overdue: tuple
    year_end: tuple
    dispositions: tuple
    adjustments: tuple
    removed: int  # entries taken out by a published REMOVE adjustment (they are no longer current)
    coverage: Coverage

    @property
    def total(self):
        return len(self.entries)


@dataclass(frozen=True)
class GovernmentRow:
    """One government's catalogue for the year, counted in the database."""

    organ_id: int
    organ: str
    level: str
    level_label: str
    catalogue_id: int | None
    catalogue_title: str
    catalogue_state: str
    catalogue_state_label: str
    entries: int
    phases: tuple
    overdue: int  # PLANNED_PERIOD alerts; the clocks are per catalogue (catalogue_progress)
    coverage: Coverage


@dataclass(frozen=True)
class GovernmentProgress:
    organ_id: int
    organ: str
    year: int
    today: date
    rows: tuple  # the organ first, then its descendant governments by level and name
    entries: int
    phases: tuple
    overdue: int
    coverage: Coverage
    catalogue_ids: tuple = field(default=())


# -- facts in bulk -----------------------------------------------------------------------------------


def _decided_ids(decision_ids):
    """Return the decisions with a DECIDED record, as catalog.rules.has_decided_record tests one (2 queries)."""
    if not decision_ids:
        return set()
    moved = AuditEvent.objects.filter(
        decision_id_ref__in=decision_ids, action__startswith="transition:", payload__to=S.DECIDED
    ).values_list("decision_id_ref", flat=True)
    approved = CollectiveOutcome.objects.filter(
        agenda_item__decision_id__in=decision_ids,
        agenda_item__subject=LegalityReview.Subject.DRAFT,
        outcome=Position.APPROVE,
    ).values_list("agenda_item__decision_id", flat=True)
    return set(moved) | set(approved)


def _archived_from(decision_ids):
    """Return {decision id: state it was archived from}, as catalog.rules.archived_from reads one (1 query)."""
    if not decision_ids:
        return {}
    found = {}
    events = AuditEvent.objects.filter(
        decision_id_ref__in=decision_ids, action__startswith="transition:", payload__to=S.ARCHIVED
    ).order_by("seq")
    for decision_id, payload in events.values_list("decision_id_ref", "payload"):
        found[decision_id] = payload.get("from")  # the last move into ARCHIVED wins
    return found


def _year_end_status(decision, decided, archived_from):
    """catalog.rules.year_end_status on facts fetched in bulk (tests check that the two agree)."""
    if decision is None:
        return YearEndStatus.IN_PROGRESS
    if decision.state == S.DECIDED or decision.pk in decided:
        return YearEndStatus.DECIDED
    state = archived_from.get(decision.pk) if decision.state == S.ARCHIVED else decision.state
    if state == S.REJECTED:
        return YearEndStatus.REJECTED
    if state in decision_lifecycle.CLOSED_STATES:
        return YearEndStatus.WITHDRAWN
    return YearEndStatus.IN_PROGRESS


def _comment_deadlines(decision_ids):
    """Return {decision id: last published deadline} of each open PP record (1 query)."""
    rows = (
        CommentPeriod.objects.filter(
            stage_record__decision_id__in=decision_ids,
            stage_record__decision__state=S.CONSULTATION,
            stage_record__stage=Stage.PP,
            stage_record__status=StageStatus.IN_PROGRESS,
            stage_record__superseded_by__isnull=True,
            stage_record__frozen_at__isnull=True,
            published_at__isnull=False,
        )
        .values_list("stage_record__decision_id", "deadline_date")
        .order_by()
    )
    last = {}
    for decision_id, deadline in rows:
        last[decision_id] = max(deadline, last.get(decision_id, deadline))
    return last


def _running_reviews(decision_ids):
    """Return {decision id: complete_on} of each legality round under review with complete materials (1 query)."""
    rows = (
        LegalityReview.objects.filter(
            decision_id__in=decision_ids,
            decision__state=S.LEGAL_REVIEW_IN_PROGRESS,
            subject=LegalityReview.Subject.DRAFT,
            complete_on__isnull=False,
            outcome="",
        )
        .order_by("decision_id", "round")
        .values_list("decision_id", "complete_on")
    )
    return dict(rows)  # the latest round wins


def _working_days_through(starts, today):
    """Return {key: calendar.Count} of working days strictly after each start, through `today` (2 queries).

    The same count as calendar.working_days_between(start, today + 1 day), with the holiday
    calendar read once for all the starts instead of once per start.
    """
    if not starts:
        return {}
    first = min(starts.values()) + timedelta(days=1)
    # calendar.py's own helpers, so that the day rule (调休, weekday fallback) is the one of P4.
    exceptions = calendar._exceptions(first, today) if first <= today else {}
    unloaded = set(calendar._unloaded_years(first, today)) if first <= today else set()
    counts = {}
    for key, start in starts.items():
        day, n, years = start + timedelta(days=1), 0, set()
        while day <= today:
            years.add(day.year)
            n += calendar._is_working(day, exceptions)
            day += timedelta(days=1)
        counts[key] = calendar.Count(n, tuple(sorted(years & unloaded)))
    return counts


# -- catalogue progress ------------------------------------------------------------------------------


def _day(d):
    return in_language(f"{d.year}年{d.month}月{d.day}日", date_format(d, "DATE_FORMAT"))


def planned_period_text(entry):
    """Return the planned submission period as published, or written from its dates as the catalogue writes it."""
    if entry.planned_submission_text:
        return entry.planned_submission_text
    if entry.planned_submission_from or entry.planned_submission_to:
        return format_period(entry.planned_submission_from, entry.planned_submission_to)
    return entry.planned_completion or ""


def _planned_alert(entry, decision, decided, today):
    end = entry.planned_submission_to
    if end is None or decision is None or today <= end:
        return None
    if decision.state in PLANNED_PERIOD_STOPPED or decision.pk in decided:
        return None
    late = (today - end).days
    return Alert(
        kind=AlertKind.PLANNED_PERIOD,
        passed=True,
        text=gettext("计划提请审议时间（%(period)s，至%(end)s）已过%(late)s天，尚未列入会议（现为“%(state)s”）")
        % {"period": planned_period_text(entry), "end": _day(end), "late": late, "state": decision.get_state_display()},
        due=end,
        days=late,
    )


def _comment_alert(deadline, today, warn_days):
    left = (deadline - today).days
    if left > warn_days:
        return None
    if left < 0:
        text = gettext("公开征求意见已于%(date)s截止，公众参与环节尚未办结（意见汇总和采纳情况说明）") % {
            "date": _day(deadline)
        }
    elif left == 0:
        text = gettext("公开征求意见今日（%(date)s）24时截止") % {"date": _day(deadline)}
    else:
        text = gettext("公开征求意见将于%(date)s截止，还剩%(left)s天") % {"date": _day(deadline), "left": left}
    return Alert(kind=AlertKind.COMMENT_PERIOD, passed=left < 0, text=text, due=deadline, days=left)


def _review_alert(count, complete_on, minimum, warn):
    if count.days < minimum - warn:
        return None
    reached = count.days >= minimum
    if reached:
        text = gettext(
            "合法性审查自材料齐全（%(date)s）起已满%(days)s个工作日，"
            "已达到第二十六条“一般不少于%(minimum)s个工作日”的审查时间，尚未出具审查意见"
        )
    else:
        text = gettext(
            "合法性审查自材料齐全（%(date)s）起已满%(days)s个工作日，"
            "接近第二十六条“一般不少于%(minimum)s个工作日”的审查时间，尚未出具审查意见"
        )
    text %= {"date": _day(complete_on), "days": count.days, "minimum": minimum}
    if count.provisional:
        years = in_language("、", ", ").join(str(y) for y in count.provisional_years)
        text += gettext("（%(years)s年节假日安排尚未载入，按周一至周五暂计）") % {"years": years}
    return Alert(
        kind=AlertKind.LEGALITY_REVIEW,
        passed=reached,
        text=text,
        days=count.days,
        provisional=count.provisional,
    )


def _with_entry(alert, entry, decision):
    return replace(
        alert,
        seq_no=entry.seq_no,
        entry_name=entry.name,
        decision_id=getattr(decision, "pk", None),
        decision_reference=getattr(decision, "reference", ""),
    )


def _phase_counts(counter):
    return tuple(PhaseCount(code, label, counter.get(code, 0)) for code, label, _states in PHASES)


def _adjustment_rows(catalogue):
    """Return the catalogue's adjustments in order, each with the name of the entry it concerns (2 queries)."""
    adjustments = list(catalogue.adjustments.select_related("decision").order_by("id"))
    keys = {a.entry_key for a in adjustments if a.entry_key}
    names = {}
    rows = CatalogueEntry.objects.filter(catalogue_id=catalogue.pk, key__in=keys).order_by("valid_from", "id")
    for key, name in rows.values_list("key", "name") if keys else ():
        names[key] = name  # the newest row's name
    return tuple(
        AdjustmentRow(
            kind=a.kind,
            kind_label=str(a.get_kind_display()),
            state=a.state,
            state_label=str(a.get_state_display()),
            entry_name=names.get(a.entry_key) or a.new_entry_data.get("name", ""),
            decision_reference=a.decision.reference if a.decision_id else "",
            reason=a.reason,
            proposed_on=calendar.localdate(a.proposed_at),
            published_on=a.notice_date or (calendar.localdate(a.published_at) if a.published_at else None),
            notice_number=a.notice_number,
            version=a.published_version,
        )
        for a in adjustments
    )


def catalogue_progress(
    catalogue, today=None, *, comment_warn_days=COMMENT_WARN_DAYS, review_warn_working_days=REVIEW_WARN_WORKING_DAYS
):
    """Return the progress of `catalogue`'s current entries on `today` (default: today in Asia/Shanghai).

    Read-only; a constant number of queries. See the module docstring for the definitions.
    """
    today = today or shanghai_today()
    catalogue = AnnualCatalogue.objects.select_related("organ", "profile").get(pk=catalogue.pk)
    published = catalogue.state in PUBLISHED_STATES
    reported = catalogue.state in REPORTED_STATES
    entries = list(
        catalogue.current_entries().select_related("decision", "decision__lead_unit", "lead_unit").order_by("seq_no")
    )
    decision_ids = [e.decision_id for e in entries if e.decision_id]
    decided = _decided_ids(decision_ids)
    archived = [e.decision_id for e in entries if e.decision_id and e.decision.state == S.ARCHIVED]
    archived_from = _archived_from(archived)
    deadlines = _comment_deadlines(decision_ids) if decision_ids else {}
    reviews = _running_reviews(decision_ids) if decision_ids else {}
    review_counts = _working_days_through(reviews, today)
    minimum = catalogue.profile.params.get("legality_review_min_working_days", 7)

    rows, overdue, phases, statuses, dispositions = [], [], Counter(), Counter(), Counter()
    for entry in entries:
        decision = entry.decision
        alerts = []
        if published:
            alerts.append(_planned_alert(entry, decision, decided, today))
        if decision is not None and decision.pk in deadlines:
            alerts.append(_comment_alert(deadlines[decision.pk], today, comment_warn_days))
        if decision is not None and decision.pk in review_counts:
            alerts.append(
                _review_alert(review_counts[decision.pk], reviews[decision.pk], minimum, review_warn_working_days)
            )
        alerts = tuple(_with_entry(a, entry, decision) for a in alerts if a is not None)
        overdue.extend(alerts)
        if reported and entry.year_end_status:
            status = entry.year_end_status
        else:
            status = _year_end_status(decision, decided, archived_from)
        disposition = entry.year_end_disposition if status == YearEndStatus.IN_PROGRESS else ""
        phase = phase_of(decision.state if decision else None)
        phases[phase] += 1
        statuses[status] += 1
        if disposition:
            dispositions[disposition] += 1
        lead = entry.lead_unit.name if entry.lead_unit_id else ""
        decision_lead = decision.lead_unit.name if decision is not None and decision.lead_unit_id else ""
        rows.append(
            EntryRow(
                key=str(entry.key),
                seq_no=entry.seq_no,
                name=entry.name,
                lead_unit=lead,
                decision_lead_unit=decision_lead if decision_lead and decision_lead != lead else "",
                decision_id=getattr(decision, "pk", None),
                decision_reference=getattr(decision, "reference", ""),
                state=decision.state if decision else "",
                state_label=str(decision.get_state_display()) if decision else gettext("未关联决策"),
                phase=phase,
                phase_label=PHASE_LABELS[phase],
                planned_period=planned_period_text(entry),
                year_end_status=status,
                year_end_status_label=str(YearEndStatus(status).label),
                year_end_disposition=disposition,
                year_end_disposition_label=str(Disposition(disposition).label) if disposition else "",
                alerts=alerts,
            )
        )
    adjustments = _adjustment_rows(catalogue)
    removed = sum(
        1 for a in adjustments if a.kind == CatalogueAdjustment.Kind.REMOVE and a.state == AdjustmentState.PUBLISHED
    )
    return CatalogueProgress(
        catalogue_id=catalogue.pk,
        title=catalogue.title,
        organ_id=catalogue.organ_id,
        organ=catalogue.organ.name,
        year=catalogue.year,
        state=catalogue.state,
        state_label=str(catalogue.get_state_display()),
        version=catalogue.version,
        published=published,
        today=today,
        entries=tuple(rows),
        phases=_phase_counts(phases),
        overdue=tuple(overdue),
        year_end=tuple(StatusCount(s.value, str(s.label), statuses.get(s.value, 0)) for s in YearEndStatus),
        dispositions=tuple(StatusCount(d.value, str(d.label), dispositions.get(d.value, 0)) for d in Disposition),
        adjustments=adjustments,
        removed=removed,
        coverage=_coverage([catalogue.organ_id], catalogue.year)[catalogue.organ_id],
    )


# -- coverage ----------------------------------------------------------------------------------------


def _coverage(organ_ids, year):
    """Return {organ id: Coverage} for `year` (2 queries); see `Coverage` for what counts."""
    approvals = (
        CollectiveOutcome.objects.filter(
            outcome=Position.APPROVE,
            agenda_item__subject=LegalityReview.Subject.DRAFT,
            agenda_item__decision__organ_id__in=organ_ids,
            agenda_item__meeting__date__year=year,
        )
        .order_by("agenda_item__meeting__date", "id")
        .values_list(
            "agenda_item__decision_id",
            "agenda_item__decision__reference",
            "agenda_item__decision__title",
            "agenda_item__decision__organ_id",
            "agenda_item__decision__organ__name",
            "agenda_item__meeting__date",
        )
    )
    decided = {}
    for decision_id, reference, title, organ_id, organ, day in approvals:
        decided.setdefault(decision_id, (organ_id, DecisionRef(decision_id, reference, title, organ, day)))
    listed = set()
    if decided:
        listed = set(
            CatalogueEntry.objects.filter(
                decision_id__in=list(decided),
                catalogue__state__in=PUBLISHED_STATES,
                valid_from__lte=F("catalogue__version"),
            ).values_list("decision_id", flat=True)
        )
    by_organ = defaultdict(list)
    for decision_id, (organ_id, ref) in decided.items():
        by_organ[organ_id].append((decision_id in listed, ref))
    return {
        organ_id: Coverage(
            year=year,
            decided=len(by_organ[organ_id]),
            through_catalogue=sum(1 for through, _ref in by_organ[organ_id] if through),
            outside=tuple(
                sorted((ref for through, ref in by_organ[organ_id] if not through), key=lambda r: (r.decided_on, r.id))
            ),
        )
        for organ_id in organ_ids
    }


def _sum_coverage(year, coverages):
    coverages = list(coverages)
    outside = sorted((ref for c in coverages for ref in c.outside), key=lambda r: (r.decided_on, r.id))
    return Coverage(
        year=year,
        decided=sum(c.decided for c in coverages),
        through_catalogue=sum(c.through_catalogue for c in coverages),
        outside=tuple(outside),
    )


# -- government roll-up ------------------------------------------------------------------------------


def _governments(organ):
    """Return the organ and every descendant government, walking down one level per query."""
    found = [organ]
    frontier, seen = [organ.pk], {organ.pk}
    while frontier:
        children = list(
            Organisation.objects.filter(parent_id__in=frontier).exclude(pk__in=seen).only("name", "kind", "level")
        )
        seen.update(c.pk for c in children)
        found.extend(c for c in children if c.kind == Organisation.Kind.GOVERNMENT)
        frontier = [c.pk for c in children]
    return found


def _catalogue_for_year(catalogues):
    """Return the catalogue not CLOSED (one at most, B9), or the latest."""
    open_ = [c for c in catalogues if c.state != CatalogueState.CLOSED]
    pool = open_ or catalogues
    return max(pool, key=lambda c: (c.created_at, c.pk)) if pool else None


def _current_rows(catalogue_ids):
    """Entry rows of the newest version of each catalogue: the published one, or the compiled rows before it."""
    return CatalogueEntry.objects.filter(catalogue_id__in=catalogue_ids).filter(
        Q(catalogue__version=0, valid_to__isnull=True)
        | Q(catalogue__version__gt=0, valid_from__lte=F("catalogue__version"))
        & (Q(valid_to__isnull=True) | Q(valid_to__gt=F("catalogue__version")))
    )


def government_progress(organ, year, today=None):
    """Return the progress of `organ`'s catalogue for `year` and of each descendant government's.

    Each row: the government's catalogue for the year (the one not CLOSED, or the latest), its
    current entries counted by phase, its PLANNED_PERIOD overdue count and its coverage. The
    totals add the rows up. Read-only; the queries depend on the depth of the organisation tree,
    never on the number of entries, and every one is filtered by the governments' ids.
    """
    today = today or shanghai_today()
    governments = _governments(organ)
    ids = [g.pk for g in governments]
    by_organ = defaultdict(list)
    for catalogue in AnnualCatalogue.objects.filter(organ_id__in=ids, year=year):
        by_organ[catalogue.organ_id].append(catalogue)
    chosen = {organ_id: _catalogue_for_year(items) for organ_id, items in by_organ.items()}
    catalogue_ids = [c.pk for c in chosen.values() if c is not None]

    rows = _current_rows(catalogue_ids)
    phase_counts = defaultdict(Counter)
    for catalogue_id, state, n in (
        rows.values_list("catalogue_id", "decision__state").annotate(n=Count("id")).order_by()
    ):
        phase_counts[catalogue_id][phase_of(state)] += n

    decided_event = AuditEvent.objects.filter(
        decision_id_ref=OuterRef("decision_id"), action__startswith="transition:", payload__to=S.DECIDED
    )
    approval = CollectiveOutcome.objects.filter(
        agenda_item__decision_id=OuterRef("decision_id"),
        agenda_item__subject=LegalityReview.Subject.DRAFT,
        outcome=Position.APPROVE,
    )
    overdue = dict(
        rows.filter(
            catalogue__state__in=PUBLISHED_STATES,
            decision__isnull=False,
            planned_submission_to__lt=today,
        )
        .exclude(decision__state__in=PLANNED_PERIOD_STOPPED)
        .exclude(Exists(decided_event))
        .exclude(Exists(approval))
        .values_list("catalogue_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    coverage = _coverage(ids, year)

    levels = list(Organisation.Level.values)
    ordered = [governments[0]] + sorted(governments[1:], key=lambda g: (levels.index(g.level), g.name))
    result = []
    for government in ordered:
        catalogue = chosen.get(government.pk)
        counts = phase_counts[catalogue.pk] if catalogue else Counter()
        result.append(
            GovernmentRow(
                organ_id=government.pk,
                organ=government.name,
                level=government.level,
                level_label=str(government.get_level_display()),
                catalogue_id=getattr(catalogue, "pk", None),
                catalogue_title=getattr(catalogue, "title", ""),
                catalogue_state=getattr(catalogue, "state", ""),
                catalogue_state_label=str(catalogue.get_state_display()) if catalogue else "",
                entries=sum(counts.values()),
                phases=_phase_counts(counts),
                overdue=overdue.get(catalogue.pk, 0) if catalogue else 0,
                coverage=coverage[government.pk],
            )
        )
    totals = Counter()
    for row in result:
        for phase in row.phases:
            totals[phase.code] += phase.count
    return GovernmentProgress(
        organ_id=organ.pk,
        organ=organ.name,
        year=year,
        today=today,
        rows=tuple(result),
        entries=sum(r.entries for r in result),
        phases=_phase_counts(totals),
        overdue=sum(r.overdue for r in result),
        coverage=_sum_coverage(year, (r.coverage for r in result)),
        catalogue_ids=tuple(catalogue_ids),
    )


__all__ = [
    "PHASES",
    "PHASE_LABELS",
    "AlertKind",
    "phase_of",
    "planned_period_text",
    "catalogue_progress",
    "government_progress",
    "PhaseCount",
    "Alert",
    "EntryRow",
    "StatusCount",
    "AdjustmentRow",
    "DecisionRef",
    "Coverage",
    "CatalogueProgress",
    "GovernmentRow",
    "GovernmentProgress",
]
