"""Legality review (合法性审查, 第二十五条至第二十八条; T10–T18): submission, intake, opinion, revision.

Each round is one LR stage record and one `LegalityReview` row, pinned to the draft it reviews.
The clock (P4, B2) starts at the receipt date of the submission the LEGAL_REVIEWER accepts as
complete (T13); a return (T11, T13a) stops it and the next accepted receipt date restarts it.
"""

from datetime import date

from decisions import calendar, lifecycle, seals
from decisions.models import LegalityReview, Role, Stage, StageStatus
from decisions.rules import Context, refuse
from decisions.rules import legality as rules
from decisions.rules.facts import filled
from decisions.services.common import (
    action,
    attach,
    close_stage,
    create_stage,
    freeze_stage,
    open_stage,
    record_event,
    store_document,
    take_step,
)
from decisions.services.consultation import procedure_statement
from decisions.services.documents import new_draft_version

Outcome = LegalityReview.Outcome
latest_opinion = rules.latest_opinion
revising_entry = rules.revising_entry

# B2a, P14: the opinion may be marked stale by its author only before the APPROVE (T20) of the current run.
STALE_MARKABLE_STATES = (
    lifecycle.LEGAL_REVIEW_DONE,
    lifecycle.REVISING,
    lifecycle.READY_FOR_MEETING,
    lifecycle.SCHEDULED,
    lifecycle.DEFERRED,
)
FROZEN_WITHOUT_OPINION = "重新履行程序，本轮审查未出具意见即结束(T16a)"


def _today(ctx):
    return calendar.localdate(ctx.now)


def _date(ctx, value, *, not_before=None, what="收件日期", what_en="receipt date"):
    """Return `value` (default: today in Asia/Shanghai), refused if in the future or before `not_before`."""
    day = value or _today(ctx)
    if not isinstance(day, date):
        raise TypeError(f"{what_en} must be a date")
    if day > _today(ctx):
        refuse("RECEIPT_DATE_INVALID", "P4", f"{what}不能晚于今天", f"The {what_en} cannot be in the future")
    if not_before is not None and day < not_before:
        refuse(
            "RECEIPT_DATE_INVALID",
            "P4",
            f"{what}不能早于{not_before.isoformat()}",
            f"The {what_en} cannot be before {not_before.isoformat()}",
        )
    return day


def _draft_no(version):
    return version.number if version is not None else None


# -- T10 / T16: a submission opens a round --------------------------------------------------------


def _open_round(ctx, tid, documents, received_on, reviewer, exploratory_reform, exploratory_statement):
    d = ctx.decision
    day = _date(ctx, received_on)
    ctx.params.update(
        uploads=list(documents),
        new_round=True,
        reviewer=reviewer if reviewer is not None else d.organ.legality_review_dept,
        exploratory_reform=exploratory_reform,
        exploratory_statement=exploratory_statement,
    )
    previous = rules.round_record(d)
    number = rules.next_round(d)
    take_step(ctx, tid, payload={"round": number, "received_on": day, "draft": _draft_no(d.current_draft)})
    # P17: the undertaking unit flags an exploratory reform at submission, with its statement.
    changed = []
    if exploratory_reform is not None and bool(exploratory_reform) != d.exploratory_reform:
        d.exploratory_reform = bool(exploratory_reform)
        changed.append("exploratory_reform")
    if exploratory_statement is not None and exploratory_statement != d.exploratory_statement:
        d.exploratory_statement = exploratory_statement
        changed.append("exploratory_statement")
    if changed:
        d.save(update_fields=changed)
        record_event(
            ctx,
            "decision:exploratory",
            d,
            {"exploratory_reform": d.exploratory_reform, "statement": d.exploratory_statement},
        )
    record = create_stage(ctx, Stage.LR, round=number, supersedes=previous)
    open_stage(ctx, record)
    review = LegalityReview.objects.create(
        decision=d,
        stage_record=record,
        round=number,
        draft_version=d.current_draft,
        reviewer_dept=d.organ.legality_review_dept,
        submitted_on=day,
    )
    # 第二十六条: what the procedure-performance statement had to state at submission (status, reason or
    # waiver and draft pin of PP, HEARING, EX and RA), kept for the reviewer's 第二十七条(二) check.
    record_event(
        ctx,
        "legality:submit",
        review,
        {
            "round": number,
            "received_on": day,
            "draft": _draft_no(review.draft_version),
            "procedure_statement": procedure_statement(d),
        },
    )
    attach(ctx, record, documents)
    return d


def submit_for_legality_review(
    actor,
    decision,
    *,
    documents=(),
    received_on=None,
    reviewer=None,
    exploratory_reform=None,
    exploratory_statement=None,
):
    """T10: send the draft for legality review (送请合法性审查) and open a new round.

    `received_on` is the reviewer's receipt date (default: today in Asia/Shanghai); `reviewer` is
    the department the draft is sent to (default: the organ's legality-review department).
    """
    with action(actor, decision, "T10") as ctx:
        return _open_round(ctx, "T10", documents, received_on, reviewer, exploratory_reform, exploratory_statement)


def resubmit_new_round(
    actor,
    decision,
    *,
    documents=(),
    received_on=None,
    reviewer=None,
    exploratory_reform=None,
    exploratory_statement=None,
):
    """T16: send the revised draft for a new round of review (修改后重新送审)."""
    with action(actor, decision, "T16") as ctx:
        return _open_round(ctx, "T16", documents, received_on, reviewer, exploratory_reform, exploratory_statement)


# -- T11 / T13a: return; T12: resubmit; T13: accept ---------------------------------------------


def _return(ctx, tid, reason, documents, returned_on):
    review = rules.current_review(ctx.decision)
    take_step(ctx, tid, payload={"round": getattr(review, "round", None), "reason": reason})
    day = _date(ctx, returned_on, not_before=review.submitted_on, what="退回日期", what_en="return date")
    review.returned_on = day
    review.return_reason = reason
    review.complete_on = None  # 第二十六条; P4: the clock stops and restarts from the next accepted receipt date
    review.save(update_fields=["returned_on", "return_reason", "complete_on"])
    record_event(
        ctx, "legality:return", review, {"round": review.round, "step": tid, "returned_on": day, "reason": reason}
    )
    attach(ctx, review.stage_record, documents)
    return ctx.decision


def return_submission(actor, decision, *, reason, documents=(), returned_on=None):
    """T11: return the submission or ask for supplements, listing the missing items (第二十六条)."""
    with action(actor, decision, "T11", reason=reason) as ctx:
        return _return(ctx, "T11", reason, documents, returned_on)


def request_supplement(actor, decision, *, reason, documents=(), returned_on=None):
    """T13a: ask for supplements during the review; the clock stops (第二十六条)."""
    with action(actor, decision, "T13a", reason=reason) as ctx:
        return _return(ctx, "T13a", reason, documents, returned_on)


def resubmit(actor, decision, *, documents=(), received_on=None):
    """T12: supply the missing items; the new receipt date replaces the earlier one (same round)."""
    with action(actor, decision, "T12", uploads=list(documents)) as ctx:
        d = ctx.decision
        review = rules.current_review(d)
        take_step(ctx, "T12", payload={"round": getattr(review, "round", None)})
        day = _date(ctx, received_on, not_before=review.returned_on)
        record = review.stage_record
        attach(ctx, record, documents)
        # B10: a record's draft is fixed only at closure; the resubmission is of the current draft.
        record.draft_version = d.current_draft
        record.save(update_fields=["draft_version"])
        review.submitted_on = day
        review.complete_on = None
        review.draft_version = d.current_draft
        review.save(update_fields=["submitted_on", "complete_on", "draft_version"])
        record_event(
            ctx,
            "legality:resubmit",
            review,
            {"round": review.round, "received_on": day, "draft": _draft_no(review.draft_version)},
        )
        return d


def accept_submission(actor, decision):
    """T13: accept the materials as complete; the clock starts at their receipt date (第二十六条; B2)."""
    with action(actor, decision, "T13") as ctx:
        review = rules.current_review(ctx.decision)
        take_step(
            ctx,
            "T13",
            payload={"round": getattr(review, "round", None), "complete_on": getattr(review, "submitted_on", None)},
        )
        review.complete_on = review.submitted_on
        review.save(update_fields=["complete_on"])
        record_event(ctx, "legality:accept", review, {"round": review.round, "complete_on": review.complete_on})
        return ctx.decision


# -- T14 (+ T15): the opinion ----------------------------------------------------------------------


def issue_legality_opinion(
    actor,
    decision,
    *,
    outcome,
    authority,
    procedure,
    content,
    legal_risk_statement="",
    clear_exploratory_reform=False,
    documents=(),
):
    """T14: issue the legality opinion (合法性审查意见) and sign off the round; T15 follows for
    UNLAWFUL and LAWFUL_WITH_MODIFICATIONS in the same transaction.

    The reviewer may clear the exploratory-reform flag here (P17).
    """
    params = {
        "outcome": outcome,
        "authority": authority,
        "procedure": procedure,
        "content": content,
        "legal_risk_statement": legal_risk_statement,
        "clear_exploratory_reform": clear_exploratory_reform,
        "uploads": list(documents),
    }
    with action(actor, decision, "T14", **params) as ctx:
        d = ctx.decision
        review = rules.current_review(d)
        take_step(ctx, "T14", payload={"round": getattr(review, "round", None), "outcome": outcome})
        record = review.stage_record
        attach(ctx, record, documents)
        if clear_exploratory_reform and d.exploratory_reform:
            d.exploratory_reform = False
            d.save(update_fields=["exploratory_reform"])
            record_event(ctx, "decision:exploratory_cleared", d, {"round": review.round})
        review.outcome = outcome
        review.authority = authority
        review.procedure = procedure
        review.content = content
        review.legal_risk_statement = legal_risk_statement or ""
        review.issued_at = ctx.now
        review.issued_by = ctx.actor
        seals.seal(review)  # the opinion is final now: sealed with the round it closes
        review.save(
            update_fields=[
                "outcome",
                "authority",
                "procedure",
                "content",
                "legal_risk_statement",
                "issued_at",
                "issued_by",
                *seals.SEAL_FIELDS,
            ]
        )
        record_event(
            ctx,
            "legality:opinion",
            review,
            {"round": review.round, "outcome": outcome, "draft": _draft_no(review.draft_version)},
        )
        close_stage(
            ctx,
            record,
            StageStatus.DONE,
            outcome=outcome,
            subject=f"合法性审查意见(第{review.round}轮)：{Outcome(outcome).label}",
        )
        if outcome in rules.REVISING_OUTCOMES:
            system = Context(decision=d, actor=None, role=lifecycle.SYSTEM, now=ctx.now)
            take_step(system, "T15", payload={"round": review.round, "outcome": outcome})
        return d


# -- the reviewer's judgements on a revised draft and on its own opinion --------------------------


def record_draft_assessment(
    actor, decision, *, substantive_change, reason, implements_opinion=None, touches_article_27=False, version=None
):
    """Record on a revised DraftVersion whether it is a substantive change and implements the opinion.

    A change touching any 第二十七条 item (authority, procedure, content legality) is substantive;
    otherwise the LEGAL_REVIEWER decides, with a reason (T16, T17).
    """
    if not isinstance(substantive_change, bool):
        raise TypeError("substantive_change must be True or False")
    with action(actor, decision, roles=[Role.LEGAL_REVIEWER]) as ctx:
        d = ctx.decision
        if d.state != lifecycle.REVISING:
            refuse(
                "STATE_PREREQUISITE_MISSING",
                "P7",
                f"决策处于“{d.get_state_display()}”状态，只有根据意见修改期间才能对新版草案作出判断",
                "A revised draft is assessed only while the decision is REVISING",
            )
        opinion = rules.latest_opinion(d)
        if opinion is None:
            refuse("LEGALITY_REVIEW_MISSING", "第二十五条", "尚无合法性审查意见", "There is no legality opinion yet")
        version = version or d.current_draft
        if (
            version is None
            or version.decision_id != d.pk
            or version.number <= (opinion.draft_version.number if opinion.draft_version_id else 0)
        ):
            refuse(
                "DOSSIER_ITEM_MISSING",
                "第二十八条",
                "须对审查意见出具后形成的新版草案作出判断",
                "Only a draft version made after the opinion can be assessed",
            )
        if not filled(reason):
            refuse("REASON_REQUIRED", "第二十七条", "须说明判断理由", "A reason for the assessment is required")
        if touches_article_27 and not substantive_change:
            refuse(
                "LEGALITY_OPINION_STALE",
                "第二十七条",
                "修改涉及决策权限、程序或内容合法性(第二十七条所列事项)的，应当认定为实质性修改并重新审查",
                "A change touching authority, procedure or content legality (第27条) is substantive",
            )
        version.substantive_change = substantive_change
        version.substantive_change_reason = reason
        version.implements_opinion = implements_opinion
        version.assessed_by = ctx.actor
        version.save(
            update_fields=["substantive_change", "substantive_change_reason", "implements_opinion", "assessed_by"]
        )
        record_event(
            ctx,
            "draft:assessment",
            version,
            {
                "number": version.number,
                "substantive_change": substantive_change,
                "reason": reason,
                "implements_opinion": implements_opinion,
                "touches_article_27": bool(touches_article_27),
                "opinion_round": opinion.round,
            },
        )
        return version


def mark_opinion_stale(actor, decision, *, reason):
    """Mark the latest legality opinion stale, with a reason, before the APPROVE of the current run (B2a)."""
    with action(actor, decision, roles=[Role.LEGAL_REVIEWER]) as ctx:
        d = ctx.decision
        if not filled(reason):
            refuse("REASON_REQUIRED", "P14", "标记审查意见失效须说明理由", "Marking an opinion stale needs a reason")
        opinion = rules.latest_opinion(d)
        if opinion is None:
            refuse("LEGALITY_REVIEW_MISSING", "第二十五条", "尚无合法性审查意见", "There is no legality opinion yet")
        if d.state not in STALE_MARKABLE_STATES:
            refuse(
                "STATE_PREREQUISITE_MISSING",
                "P10; P14",
                "只能在本次集体讨论决定(同意)之前标记审查意见失效",
                "An opinion can be marked stale only before the APPROVE of the current run",
            )
        if opinion.stale_marked_at is not None:
            refuse("LEGALITY_OPINION_STALE", "P14", "该审查意见已被标记失效", "The opinion is already marked stale")
        opinion.stale_reason = reason
        opinion.stale_marked_at = ctx.now
        opinion.stale_marked_by = ctx.actor
        opinion.save(update_fields=["stale_reason", "stale_marked_at", "stale_marked_by"])
        record_event(ctx, "legality:stale", opinion, {"round": opinion.round, "reason": reason})
        return opinion


# -- T16a: re-run procedures ---------------------------------------------------------------------


def _rerun_set(rerun_stages):
    stages = set()
    for name in rerun_stages or ():
        if name not in rules.SUB_STAGES:
            raise ValueError(f"only PP, HEARING, EX and RA can be re-run, not {name!r}")
        stages.add(str(name))
    if Stage.PP in stages:
        stages.add(Stage.HEARING)  # the hearing is part of public participation (B6: reopening PP reopens HEARING)
    return stages


def rerun_procedures(actor, decision, *, rerun_stages, keep_justification="", draft=None, change_summary="", reason=""):
    """T16a: re-run named procedures on a new draft (重新履行相关程序) and go back to CONSULTATION.

    The named PP/HEARING/EX/RA stages get new PENDING records superseding the old ones; the others
    keep their closure with a justification (`keep_justification`: one text for all, or per stage).
    An open review round is closed without an opinion.
    """
    stages = _rerun_set(rerun_stages)
    kept = [s for s in rules.SUB_STAGES if s not in stages]
    if isinstance(keep_justification, dict):
        justification = {str(k): v for k, v in keep_justification.items()}
    else:
        justification = dict.fromkeys(kept, keep_justification)
    params = {"rerun_stages": stages, "keep_justification": justification, "draft": draft}
    with action(actor, decision, "T16a", **params) as ctx:
        d = ctx.decision
        take_step(
            ctx,
            "T16a",
            payload={"rerun": sorted(stages), "kept": {s: justification.get(s) for s in kept}, "reason": reason},
        )
        record = rules.round_record(d)
        if record is not None and not record.is_closed:
            freeze_stage(ctx, record, FROZEN_WITHOUT_OPINION)
            review = LegalityReview.objects.get(stage_record=record)
            review.closed_without_opinion = FROZEN_WITHOUT_OPINION
            review.save(update_fields=["closed_without_opinion"])
            record_event(ctx, "legality:closed_without_opinion", review, {"round": review.round})
        version = new_draft_version(ctx, draft, change_summary or reason)
        version.kept_closures = {s: justification[s] for s in kept}
        version.save(update_fields=["kept_closures"])
        for stage in rules.SUB_STAGES:
            old = d.current_record(stage)
            if stage in stages:
                new = create_stage(ctx, stage, supersedes=old)
                new.reopen_reason = reason or f"重新履行程序(T16a)，新版草案第{version.number}版"
                new.save(update_fields=["reopen_reason"])
            else:
                record_event(
                    ctx,
                    "stage:keep",
                    old,
                    {"stage": stage, "justification": justification[stage], "draft": version.number},
                )
        return d


# -- T17 / T18: to the meeting -------------------------------------------------------------------


def confirm_modifications(actor, decision, *, documents=()):
    """T17: the revised draft, confirmed by the LEGAL_REVIEWER, goes to the meeting (第二十八条、第二十九条)."""
    with action(actor, decision, "T17", uploads=list(documents)) as ctx:
        d = ctx.decision
        path = rules.modification_path(d)
        take_step(ctx, "T17", payload={"clause": path, "draft": _draft_no(d.current_draft)})
        # The round's record is closed: the statement is kept on the decision, beside its drafts (B10).
        for u in documents:
            store_document(ctx, u.doc_type, u.name, u.content, title=u.title, signed=u.signed, sealed=u.sealed)
        return d


def proceed_to_meeting(actor, decision):
    """T18: a LAWFUL (or exploratory, risk disclosed) opinion on the current draft: ready for the meeting."""
    with action(actor, decision, "T18") as ctx:
        opinion = rules.latest_opinion(ctx.decision)
        take_step(
            ctx, "T18", payload={"round": getattr(opinion, "round", None), "outcome": getattr(opinion, "outcome", None)}
        )
        return ctx.decision


# -- read-only helpers for the meeting (T19) and the dossier ------------------------------------


def review_clock(decision, meeting_date):
    """Return (Count, complete_on): working days strictly between the last round's complete-materials
    date and `meeting_date` (第二十六条; P4, B2). Without a complete_on the count is 0."""
    opinion = rules.latest_opinion(decision)
    complete_on = opinion.complete_on if opinion is not None else None
    if complete_on is None:
        return calendar.Count(0), None
    return calendar.working_days_between(complete_on, meeting_date), complete_on


def meeting_package(decision):
    """Return the 第29条 package's contents: documents by item, and the opinion with its legal-risk statement."""
    from decisions.models import Document, DocumentType

    def current(doc_type, *stages):
        records = [r for r in (decision.current_record(s) for s in stages) if r is not None]
        documents = Document.objects.filter(decision=decision, doc_type=doc_type, superseded_by__isnull=True)
        on_stages = documents.filter(stage_record__in=records)
        on_rounds = documents.filter(stage_record__stage=Stage.LR)
        return list(on_stages) + [doc for doc in on_rounds if doc not in on_stages]

    opinion = rules.latest_opinion(decision)
    return {
        "draft": decision.current_draft,
        "draft_explanation": current(DocumentType.DRAFT_EXPLANATION, Stage.DRAFTING),
        "pp_adoption": current(DocumentType.ADOPTION_STATEMENT, Stage.PP),
        "ex_adoption": current(DocumentType.EXPERT_ADOPTION_STATEMENT, Stage.EX),
        "risk_report": current(DocumentType.RISK_REPORT, Stage.RA) + current(DocumentType.PRIOR_ASSESSMENT, Stage.RA),
        "legality_opinion": opinion,
        "legality_opinion_documents": list(
            opinion.stage_record.documents.filter(doc_type=DocumentType.LEGALITY_OPINION, superseded_by__isnull=True)
        )
        if opinion and opinion.stage_record_id
        else [],
        "legal_risk_statement": opinion.legal_risk_statement if opinion else "",
        "fair_competition": list(
            Document.objects.filter(
                decision=decision, doc_type=DocumentType.FAIR_COMPETITION_REVIEW, superseded_by__isnull=True
            )
        ),
    }


__all__ = [
    "submit_for_legality_review",
    "return_submission",
    "resubmit",
    "accept_submission",
    "request_supplement",
    "issue_legality_opinion",
    "record_draft_assessment",
    "mark_opinion_stale",
    "resubmit_new_round",
    "rerun_procedures",
    "confirm_modifications",
    "proceed_to_meeting",
    "latest_opinion",
    "revising_entry",
    "review_clock",
    "meeting_package",
]
