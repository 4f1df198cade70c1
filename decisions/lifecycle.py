"""The procedure as a state machine: every transition of procedure.md B5, nothing else.

Each step names its row (T1 … T30a), who may take it, the rules that guard it and
the article it rests on. `perform()` is the only way a state changes: it refuses a
closed decision, evaluates the step's rules in table order, refuses an undefined
move with the first unclosed stage, and only then lets django-fsm move the state.
Services call it inside their transaction, after the role gate.
"""

import importlib
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_noop
from django_fsm import RETURN_VALUE, transition

from decisions.rules import Context, Failure, ProcedureRefused, Rule, evaluate

# States spelled once here as plain strings: models.py builds its choices from the same names.
PROPOSED = "PROPOSED"
DECLINED = "DECLINED"
LISTED = "LISTED"
INITIATED = "INITIATED"
DRAFTING = "DRAFTING"
CONSULTATION = "CONSULTATION"
LEGAL_REVIEW_SUBMITTED = "LEGAL_REVIEW_SUBMITTED"
LEGAL_REVIEW_RETURNED = "LEGAL_REVIEW_RETURNED"
LEGAL_REVIEW_IN_PROGRESS = "LEGAL_REVIEW_IN_PROGRESS"
LEGAL_REVIEW_DONE = "LEGAL_REVIEW_DONE"
REVISING = "REVISING"
READY_FOR_MEETING = "READY_FOR_MEETING"
SCHEDULED = "SCHEDULED"
DECIDED = "DECIDED"
DEFERRED = "DEFERRED"
REJECTED = "REJECTED"
PUBLISHED = "PUBLISHED"
ISSUED_NOT_PUBLIC = "ISSUED_NOT_PUBLIC"
IMPLEMENTING = "IMPLEMENTING"
SUSPENDED = "SUSPENDED"
POST_EVALUATION = "POST_EVALUATION"
ADJUSTING = "ADJUSTING"
STOPPED = "STOPPED"
WITHDRAWN = "WITHDRAWN"
NOT_APPLICABLE = "NOT_APPLICABLE"
ARCHIVED = "ARCHIVED"

# P7 (3): on these, every action but archiving is refused with DECISION_CLOSED.
CLOSED_STATES = (WITHDRAWN, REJECTED, STOPPED, ARCHIVED, NOT_APPLICABLE, DECLINED)
# B4 row 19: "a post-T27 re-run state" is any of these while in_force_version is set.
RERUN_STATES = (
    DRAFTING,
    CONSULTATION,
    LEGAL_REVIEW_SUBMITTED,
    LEGAL_REVIEW_RETURNED,
    LEGAL_REVIEW_IN_PROGRESS,
    LEGAL_REVIEW_DONE,
    REVISING,
    READY_FOR_MEETING,
    SCHEDULED,
    DECIDED,
    DEFERRED,
)
# T29: states from which a catalogue removal (or T29b) withdraws the decision.
WITHDRAWABLE_STATES = (
    LISTED,
    INITIATED,
    DRAFTING,
    CONSULTATION,
    LEGAL_REVIEW_SUBMITTED,
    LEGAL_REVIEW_RETURNED,
    LEGAL_REVIEW_IN_PROGRESS,
    LEGAL_REVIEW_DONE,
    REVISING,
    READY_FOR_MEETING,
    DEFERRED,
)
IN_FORCE_STATES = (IMPLEMENTING, SUSPENDED, POST_EVALUATION)

# P7 (2): the order in which the first stage not yet closed is named.
STAGE_ORDER = ("INITIATION", "DRAFTING", "PP", "HEARING", "EX", "RA", "LR", "CD", "PARTY_REPORT", "PUB", "IMPL")

SYSTEM = "SYSTEM"  # the actor of steps the system takes (T3, T15, T29)


@dataclass(frozen=True)
class Step:
    """A row of the B5 table."""

    tid: str
    method: str
    sources: tuple
    roles: tuple
    rules: str  # "module.NAME" under decisions.rules, resolved lazily (rules import models)
    article: str
    zh: str

    def rule_list(self):
        if not self.rules:
            return []
        module_name, attr = self.rules.rsplit(".", 1)
        return getattr(importlib.import_module(f"decisions.rules.{module_name}"), attr)


STEPS: dict[str, Step] = {}


def step(tid, *, source, target, roles, rules, article, zh):
    """Declare a B5 row: django-fsm enforces the source, `perform()` the rest."""
    sources = tuple(source) if isinstance(source, (list, tuple)) else (source,)

    def wrap(func):
        STEPS[tid] = Step(tid, func.__name__, sources, tuple(roles), rules, article, zh)
        return transition(field="state", source=list(sources), target=target, custom={"tid": tid})(func)

    return wrap


class DecisionLifecycle:
    """Transitions of the Decision model (mixed into decisions.models.Decision)."""

    @step(
        "T2",
        source=PROPOSED,
        target=NOT_APPLICABLE,
        roles=["GOV_OFFICE"],
        rules="initiation.T2",
        article="第三条第二款",
        zh=gettext_noop("适用性审查：不适用本条例"),
    )
    def declare_not_applicable(self):
        pass

    @step(
        "T2a",
        source=PROPOSED,
        target=DECLINED,
        roles=["GOV_OFFICE"],
        rules="initiation.T2A",
        article="第十条",
        zh=gettext_noop("决策机关决定不予启动"),
    )
    def decline(self):
        pass

    @step(
        "T3",
        source=PROPOSED,
        target=LISTED,
        roles=[SYSTEM],
        rules="initiation.T3",
        article="第三条第三款",
        zh=gettext_noop("列入已公布的决策事项目录"),
    )
    def list_in_catalogue(self):
        pass

    @step(
        "T3b",
        source=PROPOSED,
        target=INITIATED,
        roles=["GOV_OFFICE"],
        rules="initiation.T3B",
        article="第十条、第十一条",
        zh=gettext_noop("不经目录启动决策"),
    )
    def start_without_catalogue(self):
        pass

    @step(
        "T4",
        source=LISTED,
        target=INITIATED,
        roles=["GOV_OFFICE"],
        rules="initiation.T4",
        article="第十条、第十一条",
        zh=gettext_noop("决策启动，确定承办单位"),
    )
    def initiate(self):
        pass

    @step(
        "T5",
        source=INITIATED,
        target=DRAFTING,
        roles=["UNDERTAKING_LEAD"],
        rules="initiation.T5",
        article="第十二条",
        zh=gettext_noop("开始拟订决策草案"),
    )
    def start_drafting(self):
        pass

    @step(
        "T6",
        source=DRAFTING,
        target=CONSULTATION,
        roles=["UNDERTAKING_LEAD"],
        rules="initiation.T6",
        article="第十二条、第十三条",
        zh=gettext_noop("决策草案形成，进入公众参与、专家论证、风险评估"),
    )
    def open_consultation(self):
        pass

    @step(
        "T10",
        source=CONSULTATION,
        target=LEGAL_REVIEW_SUBMITTED,
        roles=["UNDERTAKING_LEAD"],
        rules="legality.T10",
        article="第二十五条、第二十六条",
        zh=gettext_noop("送请合法性审查"),
    )
    def submit_for_legality_review(self):
        pass

    @step(
        "T11",
        source=LEGAL_REVIEW_SUBMITTED,
        target=LEGAL_REVIEW_RETURNED,
        roles=["LEGAL_REVIEWER"],
        rules="legality.T11",
        article="第二十六条",
        zh=gettext_noop("退回或要求补充材料"),
    )
    def return_submission(self):
        pass

    @step(
        "T12",
        source=LEGAL_REVIEW_RETURNED,
        target=LEGAL_REVIEW_SUBMITTED,
        roles=["UNDERTAKING_LEAD"],
        rules="legality.T12",
        article="第二十六条",
        zh=gettext_noop("补充材料后重新报送"),
    )
    def resubmit(self):
        pass

    @step(
        "T13",
        source=LEGAL_REVIEW_SUBMITTED,
        target=LEGAL_REVIEW_IN_PROGRESS,
        roles=["LEGAL_REVIEWER"],
        rules="legality.T13",
        article="第二十六条",
        zh=gettext_noop("材料齐全，受理审查"),
    )
    def accept_submission(self):
        pass

    @step(
        "T13a",
        source=LEGAL_REVIEW_IN_PROGRESS,
        target=LEGAL_REVIEW_RETURNED,
        roles=["LEGAL_REVIEWER"],
        rules="legality.T13A",
        article="第二十六条",
        zh=gettext_noop("审查中要求补充材料"),
    )
    def request_supplement(self):
        pass

    @step(
        "T14",
        source=LEGAL_REVIEW_IN_PROGRESS,
        target=LEGAL_REVIEW_DONE,
        roles=["LEGAL_REVIEWER"],
        rules="legality.T14",
        article="第二十五条、第二十七条、第二十八条",
        zh=gettext_noop("出具合法性审查意见"),
    )
    def issue_legality_opinion(self):
        pass

    @step(
        "T15",
        source=LEGAL_REVIEW_DONE,
        target=REVISING,
        roles=[SYSTEM],
        rules="legality.T15",
        article="第二十五条、第二十八条",
        zh=gettext_noop("根据审查意见修改"),
    )
    def begin_revision(self):
        pass

    @step(
        "T16",
        source=REVISING,
        target=LEGAL_REVIEW_SUBMITTED,
        roles=["UNDERTAKING_LEAD"],
        rules="legality.T16",
        article="第二十五条",
        zh=gettext_noop("修改后重新送审(新一轮)"),
    )
    def resubmit_new_round(self):
        pass

    @step(
        "T16a",
        source=[REVISING, LEGAL_REVIEW_RETURNED],
        target=CONSULTATION,
        roles=["UNDERTAKING_LEAD"],
        rules="legality.T16A",
        article="第十八条、第二十七条、第二十八条",
        zh=gettext_noop("重新履行相关程序"),
    )
    def rerun_procedures(self):
        pass

    @step(
        "T17",
        source=REVISING,
        target=READY_FOR_MEETING,
        roles=["UNDERTAKING_LEAD"],
        rules="legality.T17",
        article="第二十八条、第二十九条",
        zh=gettext_noop("修改经确认，提请审议"),
    )
    def confirm_modifications(self):
        pass

    @step(
        "T18",
        source=LEGAL_REVIEW_DONE,
        target=READY_FOR_MEETING,
        roles=["UNDERTAKING_LEAD"],
        rules="legality.T18",
        article="第二十五条、第二十九条",
        zh=gettext_noop("提请审议"),
    )
    def proceed_to_meeting(self):
        pass

    @step(
        "T19",
        source=READY_FOR_MEETING,
        target=SCHEDULED,
        roles=["GOV_OFFICE"],
        rules="meeting.T19",
        article="第二十四条、第二十六条、第三十条",
        zh=gettext_noop("列入会议议题"),
    )
    def schedule_for_meeting(self):
        pass

    @step(
        "T19a",
        source=SCHEDULED,
        target=READY_FOR_MEETING,
        roles=["GOV_OFFICE"],
        rules="meeting.T19A",
        article="第三十条",
        zh=gettext_noop("撤出会议议题"),
    )
    def unschedule(self):
        pass

    @step(
        "T20",
        source=SCHEDULED,
        target=RETURN_VALUE(DECIDED, REJECTED, DEFERRED, REVISING, READY_FOR_MEETING, IMPLEMENTING, SUSPENDED),
        roles=["GOV_OFFICE"],
        rules="meeting.T20",
        article="第二十四条、第三十条",
        zh=gettext_noop("集体讨论决定"),
    )
    def record_meeting_outcome(self, next_state):
        return next_state

    @step(
        "T20a",
        source=DEFERRED,
        target=READY_FOR_MEETING,
        roles=["GOV_OFFICE"],
        rules="meeting.T20A",
        article="第二十九条",
        zh=gettext_noop("暂缓后重新提请审议"),
    )
    def bring_back_after_deferral(self):
        pass

    @step(
        "T20b",
        source=[LEGAL_REVIEW_DONE, READY_FOR_MEETING, DEFERRED],
        target=REVISING,
        roles=["GOV_OFFICE"],
        rules="meeting.T20B",
        article="第二十四条、第二十八条",
        zh=gettext_noop("撤回修改或重新评估"),
    )
    def pull_back_for_revision(self):
        pass

    @step(
        "T21",
        source=DECIDED,
        target=PUBLISHED,
        roles=["GOV_OFFICE"],
        rules="publication.T21",
        article="第三十一条、第三十二条",
        zh=gettext_noop("决策公布"),
    )
    def publish(self, version):
        self.in_force_version = version

    @step(
        "T21a",
        source=DECIDED,
        target=REVISING,
        roles=["GOV_OFFICE"],
        rules="publication.T21A",
        article="第三十一条",
        zh=gettext_noop("党委不同意，退回修改"),
    )
    def return_after_party_reply(self):
        pass

    @step(
        "T22",
        source=DECIDED,
        target=ISSUED_NOT_PUBLIC,
        roles=["GOV_OFFICE"],
        rules="publication.T22",
        article="第八条、第三十一条、第三十二条",
        zh=gettext_noop("依法不予公开，印发执行"),
    )
    def issue_not_public(self, version):
        self.in_force_version = version

    @step(
        "T23",
        source=[PUBLISHED, ISSUED_NOT_PUBLIC],
        target=IMPLEMENTING,
        roles=["GOV_OFFICE"],
        rules="implementation.T23",
        article="第三十四条",
        zh=gettext_noop("确定执行单位，组织执行"),
    )
    def start_implementation(self, executor, report_every_months, first_report_due):
        self.executor = executor
        self.report_every_months = report_every_months
        self.first_report_due = first_report_due

    @step(
        "T24",
        source=IMPLEMENTING,
        target=SUSPENDED,
        roles=["CHIEF"],
        rules="implementation.T24",
        article="第三十五条、第三十七条",
        zh=gettext_noop("中止执行"),
    )
    def suspend(self):
        self.suspended = True

    @step(
        "T25",
        source=SUSPENDED,
        target=IMPLEMENTING,
        roles=["CHIEF"],
        rules="implementation.T25",
        article="第三十七条",
        zh=gettext_noop("恢复执行"),
    )
    def resume(self):
        self.suspended = False

    @step(
        "T26",
        source=IMPLEMENTING,
        target=POST_EVALUATION,
        roles=["GOV_OFFICE"],
        rules="implementation.T26",
        article="第三十六条",
        zh=gettext_noop("启动决策后评估"),
    )
    def start_post_evaluation(self):
        pass

    @step(
        "T26a",
        source=POST_EVALUATION,
        target=RETURN_VALUE(IMPLEMENTING, SUSPENDED),
        roles=["GOV_OFFICE"],
        rules="implementation.T26A",
        article="第三十六条",
        zh=gettext_noop("后评估结束，不作调整"),
    )
    def close_post_evaluation(self):
        return SUSPENDED if self.suspended else IMPLEMENTING

    @step(
        "T27",
        source=list(IN_FORCE_STATES),
        target=ADJUSTING,
        roles=["GOV_OFFICE"],
        rules="implementation.T27",
        article="第三十六条、第三十七条",
        zh=gettext_noop("决定重大调整"),
    )
    def begin_adjustment(self):
        pass

    @step(
        "T27-redraft",
        source=ADJUSTING,
        target=DRAFTING,
        roles=["GOV_OFFICE"],
        rules="",
        article="第三十七条",
        zh=gettext_noop("调整后重新拟订草案"),
    )
    def redraft_for_adjustment(self):
        pass

    @step(
        "T27b",
        source=list(RERUN_STATES),
        target=RETURN_VALUE(IMPLEMENTING, SUSPENDED),
        roles=["GOV_OFFICE"],
        rules="implementation.T27B",
        article="第三十七条",
        zh=gettext_noop("放弃调整，原决策继续执行"),
    )
    def abandon_adjustment(self):
        return SUSPENDED if self.suspended else IMPLEMENTING

    @step(
        "T28",
        source=list(IN_FORCE_STATES) + list(RERUN_STATES),
        target=STOPPED,
        roles=["GOV_OFFICE"],
        rules="implementation.T28",
        article="第三十七条",
        zh=gettext_noop("依法定程序停止执行"),
    )
    def stop(self):
        self.in_force_version = None
        self.suspended = False

    @step(
        "T29",
        source=list(WITHDRAWABLE_STATES),
        target=WITHDRAWN,
        roles=[SYSTEM],
        rules="implementation.T29",
        article="第三条第三款",
        zh=gettext_noop("目录调整撤出，决策撤回"),
    )
    def withdraw(self):
        pass

    @step(
        "T29b",
        source=list(WITHDRAWABLE_STATES),
        target=WITHDRAWN,
        roles=["GOV_OFFICE"],
        rules="implementation.T29B",
        article="第十条",
        zh=gettext_noop("终止决策程序(未实行目录管理)"),
    )
    def end_without_catalogue(self):
        pass

    @step(
        "T30",
        source=[REJECTED, WITHDRAWN, STOPPED],
        target=ARCHIVED,
        roles=["ARCHIVIST"],
        rules="implementation.T30",
        article="第三十三条",
        zh=gettext_noop("归档"),
    )
    def archive(self):
        pass

    @step(
        "T30a",
        source=IMPLEMENTING,
        target=ARCHIVED,
        roles=["ARCHIVIST"],
        rules="implementation.T30A",
        article="第三十三条、第三十四条",
        zh=gettext_noop("执行终结，归档"),
    )
    def archive_after_implementation(self):
        self.in_force_version = None

    # Flag-only changes that the table allows without a state change (T24/T25 in re-run states).
    def set_suspended_flag(self, value):
        self.suspended = value


# Sub-stage statuses of a StageRecord (B4 row 4, B6, B10).
PENDING = "PENDING"
IN_PROGRESS = "IN_PROGRESS"
DONE = "DONE"
NOT_TRIGGERED = "NOT_TRIGGERED"
WAIVED = "WAIVED"


class StageRecordLifecycle:
    """Status moves of a stage record; reopening creates a superseding record instead (T6c)."""

    @transition(field="status", source=PENDING, target=IN_PROGRESS)
    def open(self, draft_version, at):
        self.draft_version = draft_version
        self.started_at = at

    @transition(field="status", source=IN_PROGRESS, target=DONE)
    def complete(self, at, outcome=""):
        self.completed_at = at
        self.outcome = outcome

    @transition(field="status", source=[PENDING, IN_PROGRESS], target=NOT_TRIGGERED)
    def close_not_triggered(self, reason_code, reason_text, at, draft_version):
        self.reason_code = reason_code
        self.reason_text = reason_text
        self.completed_at = at
        self.draft_version = self.draft_version or draft_version

    @transition(field="status", source=[PENDING, IN_PROGRESS], target=WAIVED)
    def waive(self, reason_code, reason_text, at, draft_version):
        self.reason_code = reason_code
        self.reason_text = reason_text
        self.completed_at = at
        self.draft_version = self.draft_version or draft_version

    def freeze(self, reason, at):
        """Make an unfinished record read-only (T16a, T19a, T27b, T28, T29): it keeps its status."""
        self.frozen_at = at
        self.frozen_reason = reason


# -- performing a step -------------------------------------------------------------------------

DECISION_CLOSED = Rule(
    name="DECISION_CLOSED",
    code="DECISION_CLOSED",
    article="P7",
    zh="该决策已终结(撤回、不同意、停止执行、归档、不适用或不予启动)，不得再办理其他事项",
    en="The decision is closed (withdrawn, rejected, stopped, archived, not applicable or declined); "
    "no further action is allowed",
    check=lambda ctx: False,
)


def _prerequisite_rule(stage_label):
    # The label is a stage's (lazily translated) name: each message names it in its own language.
    with translation.override("zh-hans"):
        zh_label = str(stage_label)
    with translation.override("en"):
        en_label = str(stage_label)
    return Rule(
        name="STATE_PREREQUISITE_MISSING",
        code="STATE_PREREQUISITE_MISSING",
        article="P7",
        zh=f"当前状态不能办理此事项：前置环节“{zh_label}”尚未完成",
        en=f"This step is not possible in the current state: the earlier stage {en_label} is not closed",
        check=lambda ctx: False,
    )


def first_open_stage(decision):
    """Return the first stage, in P7's order, whose live record is not closed (or does not exist)."""
    from decisions.models import CLOSED_STAGE_STATUSES, Stage

    closed = {
        record.stage
        for record in decision.stage_records.filter(superseded_by__isnull=True)
        if record.status in CLOSED_STAGE_STATUSES
    }
    for stage in STAGE_ORDER:
        if stage not in closed:
            return stage, Stage(stage).label
    return None, ""


def closed_refusal(decision, tid):
    """Return the DECISION_CLOSED failure when `tid` is tried on a closed decision, else None."""
    archiving = tid == "T30" and decision.state in STEPS["T30"].sources
    if decision.state in CLOSED_STATES and not archiving:
        return Failure(DECISION_CLOSED, decision.get_state_display())
    return None


def check(decision, tid, ctx):
    """Return the failures that would refuse step `tid` now (an empty list: it may be taken)."""
    step_ = STEPS[tid]
    closed = closed_refusal(decision, tid)
    if closed:
        return [closed]
    failures = evaluate(step_.rule_list(), ctx)
    if decision.state not in step_.sources:
        if failures:
            return failures
        from decisions.models import DecisionState

        stage, label = first_open_stage(decision)
        return [Failure(_prerequisite_rule(label or DecisionState(decision.state).label), stage or decision.state)]
    return failures


def perform(decision, tid, ctx: Context, *args, **kwargs):
    """Take step `tid` on a decision already locked by the caller, or raise ProcedureRefused."""
    failures = check(decision, tid, ctx)
    if failures:
        raise ProcedureRefused(failures)
    source = decision.state
    result = getattr(decision, STEPS[tid].method)(*args, **kwargs)
    decision.save()
    return source, decision.state, result


def steps_from(state):
    """Return the ids of the steps defined from `state` (the UI asks which to offer)."""
    return [tid for tid, s in STEPS.items() if state in s.sources]
