"""The catalogue's own state machine (procedure.md B9) and that of its adjustments (P20).

Only these methods move `AnnualCatalogue.state`, `CatalogueAdjustment.state`, the
catalogue's version and an entry row's validity. Each step names who may take it,
the rules that guard it and its basis, as decisions/lifecycle.py does for B5;
`perform()` evaluates the rules in table order, refuses a move the table does not
define from the current state, and only then lets django-fsm move the state.
catalog/services.py gates the role first and audits the move.
"""

import importlib
from dataclasses import dataclass

from django.utils.translation import gettext_noop
from django_fsm import transition

from decisions.rules import Failure, ProcedureRefused, Rule

COLLECTING = "COLLECTING"
COMPILED = "COMPILED"
VETTED = "VETTED"
GOV_APPROVED = "GOV_APPROVED"
PARTY_CONSENTED = "PARTY_CONSENTED"
PUBLISHED = "PUBLISHED"
YEAR_END_REPORTED = "YEAR_END_REPORTED"
CLOSED = "CLOSED"

PROPOSED = "PROPOSED"
REVIEWED = "REVIEWED"
REJECTED = "REJECTED"

OPEN_ADJUSTMENT = (PROPOSED, REVIEWED, GOV_APPROVED, PARTY_CONSENTED)

SYSTEM = "SYSTEM"  # the actor of the year-end close and of lapsing adjustments (P21)


@dataclass(frozen=True)
class Step:
    """A row of the B9 tables."""

    key: str
    method: str
    sources: tuple
    roles: tuple
    rules: str  # attribute of catalog.rules, resolved lazily (rules import models)
    article: str
    zh: str

    def rule_list(self):
        if not self.rules:
            return []
        return getattr(importlib.import_module("catalog.rules"), self.rules)


STEPS: dict[str, Step] = {}


def step(key, *, source, target, roles, rules, article, zh):
    """Declare a B9 row: django-fsm enforces the source, `perform()` the rest."""
    sources = tuple(source) if isinstance(source, (list, tuple)) else (source,)

    def wrap(func):
        STEPS[key] = Step(key, func.__name__, sources, tuple(roles), rules, article, zh)
        return transition(field="state", source=list(sources), target=target, custom={"step": key})(func)

    return wrap


class CatalogueLifecycle:
    """Transitions of AnnualCatalogue (B9)."""

    @step(
        "catalogue.compile",
        source=COLLECTING,
        target=COMPILED,
        roles=["GOV_OFFICE"],
        rules="COMPILE",
        article="第三条第一款、第三条第三款",
        zh=gettext_noop("汇总形成目录草案"),
    )
    def compile(self):
        pass

    @step(
        "catalogue.vet",
        source=COMPILED,
        target=VETTED,
        roles=["LEGAL_REVIEWER"],
        rules="VET",
        article="B9",
        zh=gettext_noop("审核目录草案"),
    )
    def vet(self):
        pass

    @step(
        "catalogue.approve",
        source=[COMPILED, VETTED],
        target=GOV_APPROVED,
        roles=["GOV_OFFICE"],
        rules="APPROVE",
        article="第三条第三款",
        zh=gettext_noop("政府审定目录"),
    )
    def approve_by_government(self):
        pass

    @step(
        "catalogue.return",
        source=[COMPILED, VETTED],
        target=COLLECTING,
        roles=["GOV_OFFICE"],
        rules="RETURN",
        article="B9",
        zh=gettext_noop("退回重新征集汇总"),
    )
    def return_to_collecting(self, reason):
        self.return_reason = reason

    @step(
        "catalogue.consent",
        source=GOV_APPROVED,
        target=PARTY_CONSENTED,
        roles=["PARTY_LIAISON"],
        rules="CONSENT",
        article="第三条第三款",
        zh=gettext_noop("记录同级党委同意"),
    )
    def record_party_consent(self):
        pass

    @step(
        "catalogue.non_consent",
        source=GOV_APPROVED,
        target=COMPILED,
        roles=["PARTY_LIAISON"],
        rules="NON_CONSENT",
        article="第三条第三款",
        zh=gettext_noop("记录党委不同意或要求修改"),
    )
    def record_party_non_consent(self, reason):
        self.return_reason = reason

    # GOV_APPROVED is a source only for a profile without `catalogue_requires_party_consent`;
    # otherwise the PUBLISH rules refuse it with CATALOGUE_PARTY_CONSENT_MISSING (scenario 2).
    @step(
        "catalogue.publish",
        source=[GOV_APPROVED, PARTY_CONSENTED],
        target=PUBLISHED,
        roles=["GOV_OFFICE"],
        rules="PUBLISH",
        article="第三条第三款",
        zh=gettext_noop("公布目录"),
    )
    def publish(self, at, notice_number, notice_date, notice_url):
        self.version = 1
        self.published_at = at
        self.notice_number = notice_number
        self.notice_date = notice_date
        self.notice_url = notice_url

    @step(
        "catalogue.year_end",
        source=PUBLISHED,
        target=YEAR_END_REPORTED,
        roles=["GOV_OFFICE"],
        rules="YEAR_END",
        article="P21",
        zh=gettext_noop("公布年度完成情况"),
    )
    def report_year_end(self, at):
        self.year_end_reported_at = at

    @step(
        "catalogue.close",
        source=YEAR_END_REPORTED,
        target=CLOSED,
        roles=[SYSTEM],
        rules="",
        article="P21",
        zh=gettext_noop("目录年度终结"),
    )
    def close(self, at):
        self.closed_at = at

    def bump_version(self):
        """An adjustment's publication makes catalogue version n+1 (B9)."""
        self.version += 1
        return self.version


class AdjustmentLifecycle:
    """Transitions of CatalogueAdjustment (B9, P20)."""

    @step(
        "adjustment.review",
        source=PROPOSED,
        target=REVIEWED,
        roles=["GOV_OFFICE"],
        rules="ADJ_REVIEW",
        article="B9",
        zh=gettext_noop("审核目录调整"),
    )
    def review(self):
        pass

    @step(
        "adjustment.approve",
        source=REVIEWED,
        target=GOV_APPROVED,
        roles=["GOV_OFFICE"],
        rules="ADJ_APPROVE",
        article="第三条第三款",
        zh=gettext_noop("政府同意目录调整"),
    )
    def approve_by_government(self):
        pass

    @step(
        "adjustment.consent",
        source=GOV_APPROVED,
        target=PARTY_CONSENTED,
        roles=["PARTY_LIAISON"],
        rules="ADJ_CONSENT",
        article="第三条第三款; P3",
        zh=gettext_noop("记录党委同意目录调整"),
    )
    def record_party_consent(self):
        pass

    @step(
        "adjustment.publish",
        source=[GOV_APPROVED, PARTY_CONSENTED],
        target=PUBLISHED,
        roles=["GOV_OFFICE"],
        rules="ADJ_PUBLISH",
        article="第三条第三款",
        zh=gettext_noop("公布目录调整"),
    )
    def publish(self, at, version, notice_number, notice_date, notice_url):
        self.published_at = at
        self.published_version = version
        self.notice_number = notice_number
        self.notice_date = notice_date
        self.notice_url = notice_url

    @step(
        "adjustment.reject",
        source=list(OPEN_ADJUSTMENT),
        target=REJECTED,
        roles=["GOV_OFFICE", "PARTY_LIAISON", SYSTEM],
        rules="ADJ_REJECT",
        article="B9",
        zh=gettext_noop("目录调整未通过"),
    )
    def reject(self, reason):
        self.rejection_reason = reason


class EntryLifecycle:
    """Changes to an entry row's validity and year-end record; a published row is otherwise never edited."""

    def retire(self, version):
        """End the row's validity before catalogue version `version` (the row stays in history)."""
        self.valid_to = version

    def set_year_end_disposition(self, disposition):
        self.year_end_disposition = disposition

    def record_year_end(self, status, disposition):
        """Snapshot the year-end status derived from the decision (P21)."""
        self.year_end_status = status
        self.year_end_disposition = disposition


# -- performing a step -------------------------------------------------------------------------


def _not_from_here(obj, step_):
    state_label = obj.get_state_display()
    labels = dict(type(obj)._meta.get_field("state").flatchoices)
    allowed = "、".join(str(labels.get(s, s)) for s in step_.sources)
    rule = Rule(
        name="STATE_PREREQUISITE_MISSING",
        code="STATE_PREREQUISITE_MISSING",
        article="P7; B9",
        zh=f"当前状态“{state_label}”不能办理“{step_.zh}”(须处于：{allowed})",
        en=f"“{step_.key}” is not possible in state {obj.state} (needs one of: {', '.join(step_.sources)})",
        check=lambda ctx: False,
    )
    return Failure(rule, obj.state)


def evaluate(rules, ctx):
    """Return the failures of `rules`, in order, each with the findings its check reported."""
    failures = []
    for rule in rules:
        if rule.warning:
            continue
        result = rule.check(ctx)
        if not result:
            failures.append(Failure(rule, str(result) if isinstance(result, Findings) else ""))
    return failures


def warnings(rules, ctx):
    """Return the warning rules that do not hold, with their findings."""
    out = []
    for rule in rules:
        if rule.warning:
            result = rule.check(ctx)
            if not result:
                out.append(Failure(rule, str(result) if isinstance(result, Findings) else ""))
    return out


class Findings:
    """What a check found wrong: false when anything was found, and printable as the failure's detail."""

    def __init__(self, items=()):
        self.items = list(items)

    def __bool__(self):
        return not self.items

    def __str__(self):
        return "；".join(self.items)


def check(obj, key, ctx):
    """Return the failures that would refuse step `key` on `obj` now (empty: it may be taken)."""
    step_ = STEPS[key]
    failures = evaluate(step_.rule_list(), ctx)
    if obj.state not in step_.sources and not failures:
        return [_not_from_here(obj, step_)]
    return failures


def steps_from(obj):
    """Return the keys of the steps the table defines from `obj`'s state (the UI asks which to offer)."""
    prefix = "adjustment." if type(obj).__name__ == "CatalogueAdjustment" else "catalogue."
    return [key for key, s in STEPS.items() if key.startswith(prefix) and obj.state in s.sources]


def perform(obj, key, ctx, *args, **kwargs):
    """Take step `key` on a catalogue or adjustment already locked by the caller, or raise ProcedureRefused."""
    failures = check(obj, key, ctx)
    if failures:
        raise ProcedureRefused(failures)
    source = obj.state
    getattr(obj, STEPS[key].method)(*args, **kwargs)
    obj.save()
    return source, obj.state
