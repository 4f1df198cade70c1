"""Who has work on a decision now: the tasks the flow keeps open (routing people, never deciding legality).

The principal work is the role of each step that carries the decision forward from where it stands
(decisions.progress: the offered next steps, FORWARD), as the lifecycle defines them. Some parts are done
by others while the principal waits, and are their tasks too: the legal advisers while the legality
opinion lacks their opinion (第二十八条), experts while the panel lacks their opinions (第十九条), the risk assessor while the assessment is open (第二十二条),
the hearing organiser while a hearing is open (第十六条), the party liaison after the decision
(第三十一条), the executing unit while the decision is in force (第三十四条), the evaluator during
post-evaluation (第三十六条). A task goes to the organisation holding that place (decisions.permissions
.task_anchor); its deadline comes from decisions.deadlines.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_noop

from decisions import deadlines, lifecycle, progress
from decisions.models import ExpertMember, LegalityReview, RiskAssessment, Role, Stage, StageStatus, Waiver
from decisions.permissions import task_anchor
from decisions.rules import consultation as consultation_rules

# Decisions with nothing left to route: their process ends.
FINISHED = (lifecycle.ARCHIVED, lifecycle.NOT_APPLICABLE, lifecycle.DECLINED)
FORWARD_STEPS = frozenset(tid for tids in progress.FORWARD.values() for tid in tids)
# Archiving during implementation waits for its closure: the archivist has work only once it can be taken.
ONLY_WHEN_READY = frozenset({"T30a"})
# Labels are kept in Chinese in the task's data; the inbox translates them (workflows/templatetags/task_text.py).
WAIVER_APPROVAL = gettext_noop("批准%(stage)s依法免予")


@dataclass(frozen=True)
class Work:
    """One role's part of a decision now: who (role at an organisation), what, by when."""

    role: str
    anchor_id: int
    anchor_name: str
    label: str
    due: object = None  # decisions.deadlines.Due

    @property
    def role_label(self):
        return str(Role(self.role).label)


def _principal(decision, steps):
    work = {}
    # An open sub-stage's own closing comes before sending the whole for review.
    for step in sorted(steps, key=lambda s: not s.stage):
        if step.tid not in FORWARD_STEPS or (step.tid in ONLY_WHEN_READY and not step.ready):
            continue
        for role in step.roles:
            work.setdefault(role, []).append(step.label)
    return work


def _contributors(decision, steps):
    work = {}
    state = decision.state
    opinion = next((s for s in steps if s.tid == "T14"), None)
    if opinion is not None and "LEGAL_ADVISER_OPINION_MISSING" in {c.code for c in opinion.blockers}:
        work[Role.LEGAL_ADVISER] = [gettext_noop("出具法律意见(法律顾问、公职律师)")]
    if state == lifecycle.CONSULTATION:
        ra = decision.current_record(Stage.RA)
        open_ra = ra is not None and ra.status == StageStatus.IN_PROGRESS and ra.frozen_at is None
        if open_ra and not RiskAssessment.objects.filter(stage_record=ra).exists():
            work[Role.RISK_ASSESSOR] = [gettext_noop("出具风险评估报告")]
        ex = decision.current_record(Stage.EX)
        open_ex = ex is not None and ex.status == StageStatus.IN_PROGRESS and ex.frozen_at is None
        if open_ex and ExpertMember.objects.filter(stage_record=ex, opinion__isnull=True).exists():
            work[Role.EXPERT] = [gettext_noop("出具专家论证意见(署名；专业机构盖章)")]
        hearing = decision.current_record(Stage.HEARING)
        if hearing is not None and hearing.status == StageStatus.IN_PROGRESS and hearing.frozen_at is None:
            work[Role.HEARING_ORG] = [gettext_noop("组织听证会")]
    if state == lifecycle.CONSULTATION:
        # A waiver recorded and not yet approved waits for the role B6 names (P12).
        for waiver in Waiver.objects.filter(
            stage_record__decision=decision, stage_record__superseded_by__isnull=True, approved_at__isnull=True
        ).select_related("stage_record"):
            approver = consultation_rules.WAIVER_APPROVER.get(waiver.reason_code)
            if approver:
                label = WAIVER_APPROVAL % {"stage": waiver.stage_record.get_stage_display()}
                work.setdefault(approver, []).append(label)
    if state == lifecycle.REVISING:
        # A revised draft waits for the reviewer's judgement: substantive change or not (第二十七、二十八条).
        draft = decision.current_draft
        reviewed = (
            LegalityReview.objects.filter(decision=decision).exclude(draft_version=None).order_by("-round").first()
        )
        newer = draft is not None and (reviewed is None or draft.number > reviewed.draft_version.number)
        if newer and draft.substantive_change is None:
            work.setdefault(Role.LEGAL_REVIEWER, []).append(gettext_noop("判断修改后的草案是否属于实质性修改"))
    if state == lifecycle.DECIDED:
        report = decision.current_record(Stage.PARTY_REPORT)
        if report is None or not report.is_closed:
            work[Role.PARTY_LIAISON] = [gettext_noop("向党委请示报告并记录答复")]
    if state in (lifecycle.IMPLEMENTING, lifecycle.SUSPENDED) and decision.executor_id:
        work[Role.EXECUTOR] = [gettext_noop("报送执行情况")]
    if state == lifecycle.POST_EVALUATION:
        work[Role.POST_EVALUATOR] = [gettext_noop("开展决策后评估并提交报告")]
    return work


def work_for(decision):
    """Return {role: Work} for every role with a part of the decision to do now (empty once it is finished)."""
    if decision.state in FINISHED:
        return {}
    steps = progress.next_steps(decision)
    found = {}
    for source in (_principal(decision, steps), _contributors(decision, steps)):
        for role, labels in source.items():
            anchor = task_anchor(role, decision)
            if anchor is None:
                continue
            label = "；".join(dict.fromkeys([*(found[role].label.split("；") if role in found else []), *labels]))
            found[role] = Work(role, anchor.pk, anchor.name, label, deadlines.due_for(decision, role))
    return found


__all__ = ["FINISHED", "Work", "work_for"]
