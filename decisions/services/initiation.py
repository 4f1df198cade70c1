"""Proposal, applicability, listing, initiation and drafting (第三条、第十条至第十三条; T1–T6)."""

from django.db import transaction
from django.utils import timezone

from decisions import audit, lifecycle, profiles
from decisions.models import Decision, Organisation, Role, Stage, StageStatus
from decisions.permissions import require_organ_role
from decisions.rules import Context, refuse, require
from decisions.rules import initiation as rules
from decisions.services.common import action, attach, close_stage, create_stage, open_stage, record_event, take_step
from decisions.signals import announce_change

PROPOSAL_FIELDS = ("problem", "reasons_and_basis", "preliminary_plan", "necessity", "feasibility")
# T1: leader, NPC/CPPCC and citizen proposals are registered by the government office; a
# department or lower government registers its own; a citizen may submit in writing.
REGISTRARS = {
    Decision.SourceType.LEADER: [Role.GOV_OFFICE],
    Decision.SourceType.NPC_CPPCC: [Role.GOV_OFFICE],
    Decision.SourceType.CITIZEN: [Role.GOV_OFFICE, Role.PUBLIC],
    Decision.SourceType.DEPARTMENT: [Role.UNDERTAKING_LEAD, Role.GOV_OFFICE],
    Decision.SourceType.LOWER_GOVERNMENT: [Role.UNDERTAKING_LEAD, Role.GOV_OFFICE],
    Decision.SourceType.CATALOGUE_COMPILATION: [Role.GOV_OFFICE],
}


def _next_reference(organ, year):
    Organisation.objects.select_for_update().get(pk=organ.pk)  # serialise numbering per organ
    count = Decision.objects.filter(organ=organ, reference__startswith=f"{organ.code}-{year}-").count()
    return f"{organ.code}-{year}-{count + 1:04d}"


def register_proposal(
    actor,
    organ,
    *,
    title,
    source_type,
    proposer_type="",
    proposer_name="",
    category="",
    documents=(),
    **proposal_fields,
):
    """T1: register a proposal (决策建议) in PROPOSED, pinned to the organ's current rule profile."""
    if source_type not in Decision.SourceType.values:
        refuse("PROPOSAL_SOURCE_INVALID", "第十条", "建议来源不正确", f"Unknown proposal source {source_type!r}")
    if not str(title or "").strip():
        refuse("PROPOSAL_TITLE_MISSING", "第十条", "须填写决策事项名称", "A title is required")
    unknown = set(proposal_fields) - set(PROPOSAL_FIELDS)
    if unknown:
        raise TypeError(f"unknown proposal fields: {sorted(unknown)}")
    with transaction.atomic():
        role = require_organ_role(actor, organ, REGISTRARS[source_type])
        profile = profiles.current(organ.profile_code)
        now = timezone.now()
        decision = Decision.objects.create(
            reference=_next_reference(organ, timezone.localdate(now).year),
            organ=organ,
            title=title.strip(),
            profile=profile,
            category=category,
            source_type=source_type,
            proposer_type=proposer_type or source_type,
            proposer_name=proposer_name,
            created_at=now,
            created_by=actor if getattr(actor, "pk", None) else None,
            **proposal_fields,
        )
        ctx = Context(decision=decision, actor=actor if getattr(actor, "pk", None) else None, role=role, now=now)
        require(rules.T1, ctx)
        audit.append(
            actor=ctx.actor,
            role=role,
            action="decision:register",
            obj=decision,
            decision=decision,
            payload={
                "step": "T1",
                "to": decision.state,
                "title": decision.title,
                "source": source_type,
                "profile": str(profile),
                "organ": organ.code,
            },
        )
        record = create_stage(ctx, Stage.INITIATION)
        attach(ctx, record, documents)
        announce_change(decision.pk)
    return decision


def declare_not_applicable(actor, decision, *, reason, explanation=""):
    """T2: record that the matter is outside the Decree (第三条第二款)."""
    with action(actor, decision, "T2", reason=reason) as ctx:
        take_step(ctx, "T2", payload={"reason": reason, "explanation": explanation})
        d = ctx.decision
        d.applicability_reason = reason
        d.closing_reason = explanation
        d.save(update_fields=["applicability_reason", "closing_reason"])
        return d


def decline(actor, decision, *, reason, documents=()):
    """T2a: record the organ's decision not to start (不予启动)."""
    with action(actor, decision, "T2a", reason=reason) as ctx:
        attach(ctx, ctx.decision.current_record(Stage.INITIATION), documents)
        take_step(ctx, "T2a", payload={"reason": reason})
        ctx.decision.closing_reason = reason
        ctx.decision.save(update_fields=["closing_reason"])
        return ctx.decision


def list_in_catalogue(decision, listing, actor=None):
    """T3 (system): a published catalogue or adjustment lists the decision. Called by catalog services."""
    with action(actor, decision, "T3", listing=listing) as ctx:
        take_step(ctx, "T3", payload={"listing": str(listing), "listing_type": listing._meta.label})
        return ctx.decision


def _apply_units(ctx, lead_unit, co_units, lead_unit_change_reason):
    d = ctx.decision
    d.lead_unit = lead_unit
    d.lead_unit_change_reason = lead_unit_change_reason or ""
    d.save(update_fields=["lead_unit", "lead_unit_change_reason"])
    d.co_units.set(co_units or [])
    record_event(
        ctx,
        "decision:units",
        d,
        {
            "lead_unit": lead_unit.pk,
            "co_units": [u.pk for u in co_units or []],
            "reason": lead_unit_change_reason or "",
        },
    )


def _initiate(actor, decision, tid, *, lead_unit, co_units, lead_unit_change_reason, documents):
    with action(actor, decision, tid, lead_unit=lead_unit, lead_unit_change_reason=lead_unit_change_reason) as ctx:
        record = ctx.decision.current_record(Stage.INITIATION)
        attach(ctx, record, documents)
        take_step(ctx, tid, payload={"lead_unit": getattr(lead_unit, "pk", None)})
        _apply_units(ctx, lead_unit, co_units, lead_unit_change_reason)
        close_stage(ctx, record, StageStatus.DONE, subject="决策启动")
        create_stage(ctx, Stage.DRAFTING)
        return ctx.decision


def initiate(actor, decision, *, lead_unit, co_units=(), lead_unit_change_reason="", documents=()):
    """T4: the organ decides to start a listed decision and names the undertaking units (第十一条)."""
    return _initiate(
        actor,
        decision,
        "T4",
        lead_unit=lead_unit,
        co_units=co_units,
        lead_unit_change_reason=lead_unit_change_reason,
        documents=documents,
    )


def start_without_catalogue(actor, decision, *, lead_unit, co_units=(), lead_unit_change_reason="", documents=()):
    """T3b: start a decision where the profile does not require the catalogue."""
    return _initiate(
        actor,
        decision,
        "T3b",
        lead_unit=lead_unit,
        co_units=co_units,
        lead_unit_change_reason=lead_unit_change_reason,
        documents=documents,
    )


def start_drafting(actor, decision):
    """T5: the lead unit starts drafting (第十二条)."""
    with action(actor, decision, "T5") as ctx:
        take_step(ctx, "T5")
        open_stage(ctx, ctx.decision.current_record(Stage.DRAFTING))
        return ctx.decision


def upload_drafting_documents(actor, decision, documents):
    """Add research, mapping, consultation and explanation records to the open drafting stage."""
    with action(actor, decision, roles=[Role.UNDERTAKING_LEAD, Role.UNDERTAKING_CO]) as ctx:
        return attach(ctx, ctx.decision.current_record(Stage.DRAFTING), documents)


QUESTIONNAIRE_FIELDS = (
    *rules.TRIGGER_QUESTIONS,
    "major_interest_readjustment",
    "hearing_law_instrument",
    "hearing_law_article",
    "confidential_basis",
    "exploratory_reform",
    "exploratory_statement",
    "requires_npc_report",
)


def open_consultation(actor, decision, *, answers, documents=()):
    """T6: the first draft is ready; answer the trigger questionnaire and open PP, HEARING, EX and RA."""
    unknown = set(answers) - set(QUESTIONNAIRE_FIELDS)
    if unknown:
        raise TypeError(f"unknown questionnaire fields: {sorted(unknown)}")
    with action(actor, decision, "T6") as ctx:
        d = ctx.decision
        attach(ctx, d.current_record(Stage.DRAFTING), documents)
        for name, value in answers.items():
            setattr(d, name, value)
        d.save(update_fields=list(answers))
        take_step(ctx, "T6", payload={"answers": answers})
        close_stage(ctx, d.current_record(Stage.DRAFTING), StageStatus.DONE, subject="决策草案拟订")
        # In a re-run after T27 the new records supersede the first run's (kept, read-only).
        for stage in (Stage.PP, Stage.HEARING, Stage.EX, Stage.RA):
            create_stage(ctx, stage, supersedes=d.current_record(stage))
        return d


__all__ = [
    "register_proposal",
    "declare_not_applicable",
    "decline",
    "list_in_catalogue",
    "initiate",
    "start_without_catalogue",
    "start_drafting",
    "upload_drafting_documents",
    "open_consultation",
    "complete_proposal_fields",
]


def complete_proposal_fields(actor, decision, **fields):
    """Fill the 第十条(二) fields of a proposal before it starts (P25: catalogue-compilation decisions)."""
    unknown = set(fields) - set(PROPOSAL_FIELDS)
    if unknown:
        raise TypeError(f"unknown proposal fields: {sorted(unknown)}")
    with action(actor, decision, roles=[Role.GOV_OFFICE, Role.UNDERTAKING_LEAD]) as ctx:
        d = ctx.decision
        if d.state not in (lifecycle.PROPOSED, lifecycle.LISTED):
            refuse(
                "STATE_PREREQUISITE_MISSING",
                "第十条",
                "决策已启动，建议内容不再修改",
                "The proposal cannot change once the decision has started",
            )
        for name, value in fields.items():
            setattr(d, name, value)
        d.save(update_fields=list(fields))
        record_event(ctx, "decision:proposal_fields", d, fields)
        return d
