"""The date by which a role's part of a decision is due, and what that date rests on (a task's deadline).

Read-only. Each clock counts as procedure.md says (P4, P13, B2, B2a): calendar days for hearings, the
official working-day calendar for the legality review and publication. None of these is a guard: the
rules of decisions/rules decide what may be done; these dates drive reminders and escalation only.

* the lead unit, the risk assessor and the office before the meeting: the catalogue entry's planned
  submission period (B9 "Planned vs actual"; 拟提交审议时间);
* the hearing organiser: materials delivered `hearing_material_lead_days` before the hearing (第十六条);
* the legality reviewer and the legal advisers: `legality_review_min_working_days` working days after
  the complete-materials date (第二十六条 "一般不少于7个工作日": the review time the office leaves);
* the office and the party liaison after the decision: `publication_warn_working_days` working days
  after the meeting (第三十二条 "及时", P23);
* the executing unit: the next execution report (第三十四条; first report, then every N months).
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext_noop

from decisions import calendar, lifecycle
from decisions.models import AgendaItem, Document, DocumentType, LegalityReview, Role, Stage
from decisions.rules.facts import param

# What a date rests on is kept in Chinese (task data, e-mails); pages translate it when shown, reading the
# numbers back through these forms (workflows/templatetags/task_text.py).
HEARING_BASIS = gettext_noop("听证材料须于听证会%(days)s日前送达(第十六条)")
REVIEW_BASIS = gettext_noop("材料齐全后%(days)s个工作日(第二十六条)")
PUBLICATION_BASIS = gettext_noop("会议后%(days)s个工作日内及时公布(第三十二条)")
BASES = (HEARING_BASIS, REVIEW_BASIS, PUBLICATION_BASIS)


@dataclass(frozen=True)
class Due:
    """A date a role's work is due by, what it rests on, and whether a working-day count was provisional."""

    date: date
    basis: str
    provisional: bool = False


def _planned(decision):
    entry = decision.catalogue_entries.exclude(planned_submission_to=None).order_by("-id").first()
    if entry is None:
        return None
    return Due(entry.planned_submission_to, gettext_noop("目录计划提交审议时间(B9)"))


def _hearing(decision):
    record = decision.current_record(Stage.HEARING)
    hearing = getattr(record, "hearing", None) if record is not None else None
    if hearing is None or hearing.hearing_date is None:
        return None
    lead = param(decision, "hearing_material_lead_days") or 7
    return Due(hearing.hearing_date - timedelta(days=lead), HEARING_BASIS % {"days": lead})


def _review(decision):
    review = (
        LegalityReview.objects.filter(decision=decision, subject=LegalityReview.Subject.DRAFT, outcome="")
        .exclude(complete_on=None)
        .order_by("-round")
        .first()
    )
    if review is None:
        return None
    days = param(decision, "legality_review_min_working_days") or 7
    reached = calendar.add_working_days(review.complete_on, days)
    return Due(reached.date, REVIEW_BASIS % {"days": days}, reached.provisional)


def _publication(decision):
    item = (
        AgendaItem.objects.filter(decision=decision, outcome__outcome="APPROVE")
        .select_related("meeting")
        .order_by("-meeting__date")
        .first()
    )
    if item is None:
        return None
    days = param(decision, "publication_warn_working_days") or 20
    reached = calendar.add_working_days(item.meeting.date, days)
    return Due(reached.date, PUBLICATION_BASIS % {"days": days}, reached.provisional)


def add_months(day, months):
    """Return `day` moved by whole months, on the month's last day when it is shorter (1月31日 + 1 → 2月28日)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def next_report(decision):
    """Return the due date of the next execution report: the first, then every N months after it."""
    if decision.first_report_due is None:
        return None
    record = decision.current_record(Stage.IMPL)
    filed = (
        Document.objects.filter(stage_record=record, doc_type=DocumentType.EXECUTION_REPORT).count() if record else 0
    )
    every = decision.report_every_months or 0
    if filed and not every:
        return None
    return Due(add_months(decision.first_report_due, every * filed), gettext_noop("执行情况报告(第三十四条)"))


def due_for(decision, role):
    """Return the Due of `role`'s part of the decision as it stands now, or None."""
    state = decision.state
    before_meeting = state in (
        lifecycle.INITIATED,
        lifecycle.DRAFTING,
        lifecycle.CONSULTATION,
        lifecycle.LEGAL_REVIEW_RETURNED,
        lifecycle.LEGAL_REVIEW_DONE,
        lifecycle.REVISING,
        lifecycle.READY_FOR_MEETING,
        lifecycle.DEFERRED,
    )
    if role == Role.HEARING_ORG:
        return _hearing(decision)
    if role in (Role.LEGAL_REVIEWER, Role.LEGAL_ADVISER) and state == lifecycle.LEGAL_REVIEW_IN_PROGRESS:
        return _review(decision)
    if role in (Role.GOV_OFFICE, Role.PARTY_LIAISON) and state == lifecycle.DECIDED:
        return _publication(decision)
    if role == Role.EXECUTOR and state in (lifecycle.IMPLEMENTING, lifecycle.SUSPENDED):
        return next_report(decision)
    if role in (Role.UNDERTAKING_LEAD, Role.RISK_ASSESSOR, Role.GOV_OFFICE) and before_meeting:
        return _planned(decision)
    return None


__all__ = ["Due", "add_months", "due_for", "next_report"]
