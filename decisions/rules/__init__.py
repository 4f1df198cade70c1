"""Each guard once: a stable code, the article it rests on, a Chinese and an English
message, and a check without side effects (procedure.md P7, B10a).

The lifecycle, the future "why can't I advance?" panel, the API and the dossier's
guard table all read these objects. Area modules hold the rules of each part of
the procedure; this module holds the machinery.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone, translation

DECREE = "《重大行政决策程序暂行条例》"
SPEC = "juece 程序规则(procedure.md)"


def active_language():
    """Return "en" when English is the active language, otherwise "zh" (Chinese is the source language)."""
    return "en" if (translation.get_language() or "").startswith("en") else "zh"


def in_language(zh, en):
    """Return the message of the active language: `en` in English, `zh` otherwise."""
    return en if active_language() == "en" else zh


def source_language():
    """Return a context in which text is made in Chinese, whatever language the page is shown in.

    The record (titles, sign-off subjects, audit payloads, documents, spreadsheets) is kept in the
    source language; views run the services and make files inside it and translate only what they show.
    """
    return translation.override(settings.LANGUAGE_CODE)


@dataclass(frozen=True)
class Rule:
    """One guard clause: holds when `check(ctx)` is true."""

    name: str
    code: str
    article: str
    zh: str
    en: str
    check: Callable[["Context"], bool] = field(compare=False)
    warning: bool = False  # a warning is reported but never blocks

    @property
    def text(self):
        """The message in the active language (pages); records and documents keep `zh`."""
        return in_language(self.zh, self.en)

    @property
    def citation(self):
        if self.article.startswith(("《", "P", "B")):
            return self.article
        return f"{DECREE}{self.article}"

    def holds(self, ctx):
        return bool(self.check(ctx))


@dataclass(frozen=True)
class Failure:
    rule: Rule
    detail: str = ""

    @property
    def code(self):
        return self.rule.code

    @property
    def text(self):
        """The rule's message in the active language."""
        return self.rule.text

    def as_dict(self):
        return {
            "rule": self.rule.name,
            "code": self.rule.code,
            "article": self.rule.citation,
            "zh": self.rule.zh,
            "en": self.rule.en,
            "detail": self.detail,
        }


class ProcedureRefused(Exception):
    """A refused step, carrying every failed rule; nothing was changed."""

    def __init__(self, failures):
        self.failures = list(failures)
        assert self.failures, "a refusal names at least one rule"
        first = self.failures[0]
        super().__init__(f"{first.code}: {first.rule.zh}({first.rule.citation})")

    @property
    def code(self):
        return self.failures[0].code

    @property
    def codes(self):
        return [f.code for f in self.failures]

    def message(self, language="zh"):
        lines = []
        for failure in self.failures:
            text = failure.rule.zh if language.startswith("zh") else failure.rule.en
            if failure.detail:
                text = f"{text}:{failure.detail}"
            lines.append(f"[{failure.code}] {text}({failure.rule.citation})")
        return "\n".join(lines)


@dataclass
class Context:
    """What a rule may look at: the decision, the acting user and role, and the action's input."""

    decision: Any = None
    actor: Any = None
    role: str = ""
    params: dict = field(default_factory=dict)
    now: datetime = field(default_factory=timezone.now)
    target: Any = None  # the object an action is about (a stage record, a catalogue …)
    # Every rule evaluated in this action, in order, with its result: the dossier's guard table (B8).
    evaluated: list = field(default_factory=list)

    def __getattr__(self, name):
        # Action input reads as attributes: ctx.meeting, ctx.reason …
        params = self.__dict__.get("params", {})
        if name in params:
            return params[name]
        raise AttributeError(name)

    def get(self, name, default=None):
        return self.params.get(name, default)

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)

    @property
    def profile(self):
        return self.decision.profile


def evaluate(rules, ctx):
    """Return the failures of `rules` against `ctx`, in order; warnings are left out."""
    return [Failure(rule) for rule in rules if not rule.warning and not _holds(rule, ctx)]


def warnings(rules, ctx):
    """Return the warning rules that do not hold."""
    return [Failure(rule) for rule in rules if rule.warning and not _holds(rule, ctx)]


def _holds(rule, ctx):
    held = rule.holds(ctx)
    if isinstance(ctx, Context):
        ctx.evaluated.append((rule, held))
    return held


def require(rules, ctx):
    """Raise ProcedureRefused naming every failed rule, or return the warnings."""
    failures = evaluate(rules, ctx)
    if failures:
        raise ProcedureRefused(failures)
    return warnings(rules, ctx)


def refuse(code, article, zh, en, detail=""):
    """Raise a refusal for a rule that is not a guard clause of a transition (input checks)."""
    rule = Rule(name=code, code=code, article=article, zh=zh, en=en, check=lambda ctx: False)
    raise ProcedureRefused([Failure(rule, detail)])


def rule(code, article, zh, en, *, name=None, warning=False):
    """Decorate a check function as a Rule named after it."""

    def wrap(check):
        return Rule(name=name or check.__name__, code=code, article=article, zh=zh, en=en, check=check, warning=warning)

    return wrap


# B10a: every refusal of the procedure carries one of these codes (P7).
PROCEDURE_CODES = frozenset(
    [
        "PROPOSAL_FIELDS_MISSING",
        "APPLICABILITY_REASON_INVALID",
        "MATTER_NOT_APPLICABLE",
        "LEAD_UNIT_MISSING",
        "CATALOGUE_LISTING_REQUIRED",
        "CATALOGUE_ALREADY_OPEN",
        "CATALOGUE_ENTRY_INVALID",
        "DECISION_CATEGORY_MISSING",
        "CATALOGUE_PARTY_CONSENT_MISSING",
        "CATALOGUE_ADJUSTMENT_OPEN",
        "CATALOGUE_CLOSED",
        "CATALOGUE_REMOVE_AFTER_DECISION",
        "CONSULTATION_ORDER",
        "TRIGGER_QUESTIONNAIRE_INCOMPLETE",
        "COMMENT_NOTICE_INCOMPLETE",
        "COMMENT_PERIOD_TOO_SHORT_NO_REASON",
        "COMMENT_PERIOD_OPEN",
        "SPECIFIC_GROUP_CONSULTATION_MISSING",
        "HEARING_REQUIRED",
        "HEARING_MATERIALS_LATE",
        "HEARING_RECORD_UNSIGNED",
        "EXPERT_CONFLICT_OF_INTEREST",
        "EXPERT_OPINION_UNSIGNED",
        "RISK_REPORT_INCOMPLETE",
        "PRIOR_ASSESSMENT_REFERENCE_MISSING",
        "OTHER_LAW_CITATION_MISSING",
        "WAIVER_BASIS_MISSING",
        "WAIVER_APPROVER_INVALID",
        "STAGE_CANNOT_BE_SKIPPED",
        "STAGE_REQUIRED_BY_CATALOGUE",
        "REASON_REQUIRED",
        "PRIOR_STAGES_INCOMPLETE",
        "PROCEDURE_STATEMENT_MISSING",
        "FAIR_COMPETITION_REVIEW_MISSING",
        "LEGALITY_REVIEW_REPLACED_BY_COMMENT",
        "LEGAL_ADVISER_OPINION_MISSING",
        "LEGALITY_OPINION_INCOMPLETE",
        "EXPLORATORY_NOT_FLAGGED",
        "LEGALITY_UNLAWFUL",
        "LEGALITY_OPINION_STALE",
        "MODIFICATION_NOT_CONFIRMED",
        "RISK_ASSESSMENT_STALE",
        "LEGALITY_REVIEW_MISSING",
        "LEGALITY_REVIEW_TIME_INSUFFICIENT",
        "MEETING_PACKAGE_INCOMPLETE",
        "RISK_NOT_CONTROLLABLE",
        "RISK_MITIGATION_PLAN_MISSING",
        "MEETING_TYPE_NOT_ALLOWED",
        "QUORUM_NOT_MET",
        "MEMBER_STATEMENT_MISSING",
        "CHIEF_NOT_LAST",
        "CHIEF_REASON_MISSING",
        "PARTY_REPORT_MISSING",
        "PARTY_REPLY_MISSING",
        "PARTY_REPLY_NOT_AGREED",
        "NPC_REPORT_MISSING",
        "PUBLICATION_CHANNELS_MISSING",
        "SUSPENSION_NOT_ALLOWED",
        "ADJUSTMENT_REQUIRES_PROCEDURE",
        "POST_EVALUATOR_NOT_INDEPENDENT",
        "COUNIT_HANDOVER_OPEN",
        "DOSSIER_ITEM_MISSING",
        "DOCUMENT_IMMUTABLE",
        "PROFILE_NOT_CONFIGURED",
        "STATE_PREREQUISITE_MISSING",
        "DECISION_CLOSED",
    ]
)
