"""Where a decision stands and what stops it going on: the decision page's timeline and its
"why can't I advance?" panel (为什么不能办理下一步). Read-only.

Nothing here decides what the law allows. The next steps are the B5 rows defined from the decision's
state (`lifecycle.steps_from`) and, in CONSULTATION, the closing rows of each open sub-stage; each is
judged by its own rule objects (decisions/rules), the same the services enforce, evaluated against the
decision as it is now:

* a rule that looks at the action's input (a reason, a meeting, an upload) cannot be judged before the
  form is filled: it is listed as "to provide" (须在办理时提供), with its article;
* a rule about the record that fails is a blocker (尚不具备的条件): the step would be refused now;
* the service still checks everything again when the step is taken.
"""

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from decisions import lifecycle
from decisions.models import CommentPeriod, Role, Stage, StageStatus
from decisions.rules import Context, Failure, in_language
from decisions.rules import consultation as consultation_rules

# The stages in the order a decision meets them (B8), as the timeline shows them.
TIMELINE = (
    Stage.INITIATION,
    Stage.DRAFTING,
    Stage.PP,
    Stage.HEARING,
    Stage.EX,
    Stage.RA,
    Stage.LR,
    Stage.CD,
    Stage.PARTY_REPORT,
    Stage.PUB,
    Stage.IMPL,
    Stage.PE,
    Stage.ADJ,
    Stage.ARC,
)
# A refusal with one of these codes means the step is not for this decision now (another state, a closed
# decision, a profile without that route): the panel does not offer it.
NOT_OFFERED = ("STATE_PREREQUISITE_MISSING", "DECISION_CLOSED", "CATALOGUE_LISTING_REQUIRED")
# A missing document can always be uploaded with the step itself.
MISSING_MATERIAL = "DOSSIER_ITEM_MISSING"


def supplied(tid):
    """Return the codes a step's own form answers: a missing document, and each of its forms' `supplies`."""
    from decisions import actions

    codes = {MISSING_MATERIAL}
    for form in actions.load().values():
        if form.tid == tid:
            codes |= set(form.supplies)
    return frozenset(codes)


class Status:
    DONE = "done"
    NOT_TRIGGERED = "not_triggered"
    WAIVED = "waived"
    CURRENT = "current"
    BLOCKED = "blocked"
    LATE = "late"
    FROZEN = "frozen"
    TODO = "todo"
    NOT_REACHED = "not_reached"

    LABELS = {
        DONE: _("已完成"),
        NOT_TRIGGERED: _("未触发"),
        WAIVED: _("依法免予"),
        CURRENT: _("办理中"),
        BLOCKED: _("受阻"),
        LATE: _("逾期"),
        FROZEN: _("已冻结"),
        TODO: _("未开始"),
        NOT_REACHED: _("未进行"),
    }


# The closing rows of the consultation sub-stages (B5 T7, T7b, T8, T9): taken on an open record.
# Labels stay in Chinese (task data keeps them); pages translate them when shown.
SUBSTAGE_STEPS = {
    Stage.PP: ("T7", gettext_noop("完成公众参与"), consultation_rules.T7, "第十四条至第十八条"),
    Stage.HEARING: ("T7b", gettext_noop("完成听证"), consultation_rules.T7B, "第十六条、第十七条"),
    Stage.EX: ("T8", gettext_noop("完成专家论证"), consultation_rules.T8, "第十九条、第二十条"),
    Stage.RA: ("T9", gettext_noop("完成风险评估"), consultation_rules.T9, "第二十二条、第二十三条"),
}
SUBSTAGE_ROLES = (Role.UNDERTAKING_LEAD,)
# The steps that carry each stage forward to its close (B5, B8's sign-off table); a stage in progress is shown
# blocked when every one of them open now has a blocker its form cannot remove. Returns and pull-backs
# (T11, T13a, T19a, T20b …) do not count: being able to send something back is no way forward.
FORWARD = {
    Stage.INITIATION: ("T4", "T3b"),
    Stage.DRAFTING: ("T5", "T6"),
    Stage.LR: ("T10", "T12", "T13", "T14", "T16"),
    Stage.CD: ("T17", "T18", "T19", "T20", "T20a"),
    Stage.PUB: ("T21", "T22"),
    Stage.IMPL: ("T23", "T30a"),
    Stage.ARC: ("T30", "T30a"),
    **{stage: (tid,) for stage, (tid, *_rest) in SUBSTAGE_STEPS.items()},
}


@dataclass(frozen=True)
class StageView:
    """One stage on the timeline."""

    stage: str
    label: str
    status: str
    record: object | None  # the live stage record, if any
    rounds: int  # how many records the stage has had (legality rounds, re-runs)
    detail: str = ""
    due: object | None = None  # a date the stage is waiting for (comment deadline …)

    @property
    def status_label(self):
        return Status.LABELS[self.status]


@dataclass(frozen=True)
class Condition:
    """One rule of a next step, judged now: met, not met (a blocker), or to be provided in the form."""

    code: str
    article: str
    zh: str
    en: str
    state: str  # "met" | "blocker" | "input"
    detail: str = ""

    @property
    def text(self):
        """The rule's message in the active language."""
        return in_language(self.zh, self.en)


@dataclass(frozen=True)
class NextStep:
    """A step the procedure defines from where the decision stands, with who may take it and what stops it."""

    tid: str
    label: str
    article: str
    roles: tuple
    yours: bool  # the user holds one of the roles
    conditions: tuple = field(default=())
    stage: str = ""  # for a sub-stage's closing step

    @property
    def blockers(self):
        return [c for c in self.conditions if c.state == "blocker"]

    @property
    def inputs(self):
        return [c for c in self.conditions if c.state == "input"]

    @property
    def hard_blockers(self):
        """Blockers the step's own form cannot remove (not a document it uploads or an input it takes)."""
        answered = supplied(self.tid)
        return [c for c in self.blockers if c.code not in answered]

    @property
    def ready(self):
        return not self.blockers

    @property
    def offered(self):
        return not any(c.code in NOT_OFFERED for c in self.blockers)

    @property
    def role_labels(self):
        return in_language("、", ", ").join(str(Role(r).label) for r in self.roles if r in Role.values)


class _Probe(dict):
    """Action input that is never there: records whether a rule asked for any (then it needs the form)."""

    asked = False

    def __contains__(self, key):
        self.asked = True
        return False

    def get(self, key, default=None):
        self.asked = True
        return default

    def __getitem__(self, key):
        self.asked = True
        raise KeyError(key)


def judge(rules, decision, *, supplied_codes=frozenset(), actor=None, role="", target=None, now=None):
    """Return each rule of `rules` as a Condition judged against the decision as it is now.

    A rule that looks at the action's input and holds without it is met; one that fails without it is
    "input" when the step's form supplies its code (`supplied_codes`), otherwise a blocker: the form
    cannot remove it (the intake checklist at T13, the quorum and statements at T20). A rule that
    cannot be judged without input at all is "input". Warnings never block and are left out.
    """
    conditions = []
    for rule in rules:
        if rule.warning:
            continue
        probe = _Probe()
        ctx = Context(decision=decision, actor=actor, role=role, params=probe, target=target, now=now or timezone.now())
        try:
            held = rule.holds(ctx)
        except (AttributeError, KeyError, TypeError):
            held = None
        if held is None or (probe.asked and not held and rule.code in supplied_codes):
            state = "input"
        else:
            state = "met" if held else "blocker"
        conditions.append(Condition(rule.code, rule.citation, rule.zh, rule.en, state))
    return tuple(conditions)


def _prerequisite(decision, tid):
    """The P7 refusal of a step that is not defined from the current state, or DECISION_CLOSED."""
    failures = lifecycle.check(decision, tid, Context(decision=decision, params=_Probe()))
    return [f for f in failures if f.code in ("DECISION_CLOSED", "STATE_PREREQUISITE_MISSING")]


def _as_condition(failure: Failure):
    rule = failure.rule
    return Condition(rule.code, rule.citation, rule.zh, rule.en, "blocker", failure.detail)


def next_steps(decision, roles=frozenset(), now=None):
    """Return the steps open from the decision's state (and its open sub-stages), each judged now.

    `roles` are the roles the viewing user holds for the decision (decisions.permissions.roles_for).
    Steps only the system takes (T3, T15, T29) are left out: nobody can take them by hand; so are steps
    refused for not being this decision's way on (NOT_OFFERED: no decision in force to adjust, a profile
    that requires the catalogue …).
    """
    found = []
    for tid in lifecycle.steps_from(decision.state):
        step = lifecycle.STEPS[tid]
        if step.roles == (lifecycle.SYSTEM,):
            continue
        closed = _prerequisite(decision, tid)
        conditions = tuple(_as_condition(f) for f in closed) or judge(
            step.rule_list(), decision, supplied_codes=supplied(tid), now=now
        )
        found.append(NextStep(tid, step.zh, step.article, step.roles, bool(set(step.roles) & set(roles)), conditions))
    if decision.state == lifecycle.CONSULTATION:
        for stage, (tid, label, rules, article) in SUBSTAGE_STEPS.items():
            record = decision.current_record(stage)
            if record is None or record.status != StageStatus.IN_PROGRESS or record.frozen_at is not None:
                continue
            found.append(
                NextStep(
                    tid,
                    label,
                    article,
                    SUBSTAGE_ROLES,
                    bool(set(SUBSTAGE_ROLES) & set(roles)),
                    judge(rules, decision, supplied_codes=supplied(tid), target=record, now=now),
                    stage=stage,
                )
            )
    return [step for step in found if step.offered]


def conditions_for(decision, action):
    """Return what the rules say now about a page action (decisions.actions): its step's conditions.

    For an action that takes a B5 row, the row's rules (or the P7 refusal naming the first open stage,
    or DECISION_CLOSED); for a sub-stage's closing row, that row's rules on the live record; for a
    record-keeping action, nothing (its service checks its own input).
    """
    answered = frozenset({MISSING_MATERIAL, *action.supplies})
    if action.tid in lifecycle.STEPS:
        closed = _prerequisite(decision, action.tid)
        if closed:
            return tuple(_as_condition(f) for f in closed)
        return judge(lifecycle.STEPS[action.tid].rule_list(), decision, supplied_codes=answered)
    for stage, (tid, _label, rules, _article) in SUBSTAGE_STEPS.items():
        if action.tid == tid:
            return judge(rules, decision, supplied_codes=answered, target=decision.current_record(stage))
    return ()


def _comment_deadline(record):
    periods = [p for p in CommentPeriod.objects.filter(stage_record=record) if p.published_at is not None]
    return max((p.deadline_date for p in periods), default=None)


def _stage_status(decision, stage, record, today):
    """The timeline status of one stage, and what it waits for."""
    if record is None:
        if decision.state in lifecycle.CLOSED_STATES and stage != Stage.ARC:
            return Status.NOT_REACHED, "", None
        return Status.TODO, "", None
    if record.frozen_at is not None:
        return Status.FROZEN, record.frozen_reason, None
    if record.status == StageStatus.DONE:
        return Status.DONE, record.outcome, None
    if record.status == StageStatus.NOT_TRIGGERED:
        return Status.NOT_TRIGGERED, record.reason_text, None
    if record.status == StageStatus.WAIVED:
        return Status.WAIVED, record.reason_text, None
    if record.status == StageStatus.PENDING:
        return Status.TODO, "", None
    if stage == Stage.PP:
        deadline = _comment_deadline(record)
        if deadline is not None and deadline < today:
            text = gettext("征求意见已于%(date)s截止，待汇总意见、完成公众参与") % {"date": f"{deadline:%Y-%m-%d}"}
            return Status.LATE, text, deadline
        if deadline is not None:
            return Status.CURRENT, gettext("征求意见截止日 %(date)s") % {"date": f"{deadline:%Y-%m-%d}"}, deadline
    return Status.CURRENT, "", None


def timeline(decision, steps=None, today=None):
    """Return one StageView per stage in TIMELINE order.

    A stage in progress shows as blocked when every next step open from it has a blocker (`steps`:
    the result of next_steps(), if already computed), and as late when its clock has run out.
    """
    today = today or timezone.localdate()
    counts = {}
    for stage in decision.stage_records.values_list("stage", flat=True):
        counts[stage] = counts.get(stage, 0) + 1
    records = {}
    for record in decision.stage_records.filter(superseded_by__isnull=True).order_by("id"):
        records[record.stage] = record  # the last live record of the stage
    views = []
    for stage in TIMELINE:
        record = records.get(stage)
        status, detail, due = _stage_status(decision, stage, record, today)
        if status == Status.CURRENT and due is None and steps is not None:
            forward = FORWARD.get(stage, ())
            mine = [s for s in steps if s.tid in forward and s.stage in ("", stage)]
            if mine and all(s.hard_blockers for s in mine):
                status = Status.BLOCKED
                detail = in_language("；", "; ").join(dict.fromkeys(b.text for s in mine for b in s.hard_blockers))
        views.append(StageView(stage, str(Stage(stage).label), status, record, counts.get(stage, 0), detail, due))
    return views


__all__ = ["Condition", "NextStep", "StageView", "Status", "conditions_for", "judge", "next_steps", "timeline"]
