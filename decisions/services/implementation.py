"""Execution, suspension, post-evaluation, adjustment, stop, withdrawal and archiving
(第三十三条至第三十七条; T23–T30a, P16, P18, P22, B7, B10).

Stage records of this area: IMPL (opened at T23, signed off by GOV_OFFICE when implementation
ends), PE (one per evaluation, signed off by the POST_EVALUATOR when the report is submitted),
ADJ (one per adjustment, abandonment or stop, signed off by GOV_OFFICE) and ARC (the archive's
own record, signed off by the ARCHIVIST at T30/T30a). Co-units (协办单位) work on the drafting
and consultation stages, not on these, so closing IMPL, PE, ADJ or ARC creates no hand-over task.
"""

import hashlib
from dataclasses import replace

from decisions import audit, lifecycle, seals
from decisions.models import (
    AgendaItem,
    CollectiveOutcome,
    DecisionAdjustment,
    DocumentType,
    HandoverTask,
    ImplementationClosure,
    LegalityReview,
    MeetingStatement,
    Position,
    PostEvaluation,
    Role,
    RoleAssignment,
    Stage,
    StageStatus,
    StopDecision,
    Suspension,
)
from decisions.permissions import NotPermitted, roles_for
from decisions.queries import archive_index
from decisions.rules import Context, Failure, ProcedureRefused, Rule, refuse, require
from decisions.rules import implementation as rules
from decisions.rules import meeting as meeting_rules
from decisions.services.common import (
    action,
    attach,
    close_stage,
    create_handover_tasks,
    create_stage,
    freeze_stage,
    record_event,
    sign_off,
    stage_manifest,
    store_upload,
    take_step,
)
from decisions.services.documents import new_draft_version

# Stages whose records no co-unit works on (see the module docstring); INITIATION as in common.
NO_HANDOVER_STAGES = (Stage.INITIATION, Stage.IMPL, Stage.PE, Stage.ADJ, Stage.ARC)


# -- stage records of this area --------------------------------------------------------------------


def _draft_no(version):
    return version.number if version is not None else None


def _start(ctx, record, version):
    """Move a record PENDING → IN_PROGRESS, pinned to `version` (the text in force, or the adjusted draft)."""
    record.open(version, ctx.now)
    record.save()
    record_event(ctx, "stage:open", record, {"stage": record.stage, "draft": _draft_no(version)})
    return record


def _close(ctx, record, *, outcome, subject, version=None, extra=None):
    """Complete a record of this area and sign it off (P8); a record closed from PENDING is pinned
    to `version`, else the text in force, else the current draft. These stages get no hand-over tasks."""
    version = version or ctx.decision.in_force_version or ctx.decision.current_draft
    return close_stage(ctx, record, StageStatus.DONE, outcome=outcome, subject=subject, version=version, extra=extra)


def _frozen_manifest(record):
    return {**stage_manifest(record), "frozen_at": record.frozen_at, "frozen_reason": record.frozen_reason}


def _freeze(ctx, records, reason):
    """Freeze records that end unfinished (T27b, T28, T29, T29b, implementation closure).

    An open legality round is closed as withdrawn. Each record that left PENDING gets its frozen
    dossier hashed now (the ARCHIVIST signs it off at T30) and, for the co-units, a hand-over task (P18).
    """
    for record in records:
        freeze_stage(ctx, record, reason)
        if record.stage == Stage.LR:
            for review in LegalityReview.objects.filter(
                decision=ctx.decision, subject=LegalityReview.Subject.DRAFT, outcome="", closed_without_opinion=""
            ):
                review.closed_without_opinion = reason
                review.save(update_fields=["closed_without_opinion"])
                record_event(ctx, "legality:closed_without_opinion", review, {"round": review.round, "reason": reason})
        if record.status != StageStatus.PENDING:
            manifest = audit.normalise(_frozen_manifest(record))
            digest = hashlib.sha256(audit.canonical(manifest).encode()).hexdigest()
            record_event(ctx, "dossier:frozen", record, {"stage": record.stage, "sha256": digest, "mark": reason})
            if record.stage not in NO_HANDOVER_STAGES:
                create_handover_tasks(ctx, record)


def _sign_frozen(ctx):
    """T30: the ARCHIVIST signs off each frozen record that left PENDING and has no sign-off yet."""
    frozen = (
        ctx.decision.stage_records.filter(frozen_at__isnull=False).exclude(status=StageStatus.PENDING).order_by("id")
    )
    for record in frozen:
        if not record.signoffs.exists():
            sign_off(
                ctx,
                record,
                f"{record.get_stage_display()}(冻结：{record.frozen_reason})",
                manifest=_frozen_manifest(record),
            )


def _adjustment_document(documents, doc_type):
    return next((d for d in documents if d.doc_type == doc_type), None)


# -- records on a closed decision -------------------------------------------------------------------


def _archive_record(ctx):
    """Return the decision's ARC record, creating and opening it on first use."""
    record = ctx.decision.current_record(Stage.ARC)
    if record is None:
        record = create_stage(ctx, Stage.ARC)
        _start(ctx, record, ctx.decision.in_force_version or ctx.decision.current_draft)
    return record


def _store_archival(ctx, record, upload):
    """Store an archive record (归档目录, 移交记录), also on a closed decision (P7 (3))."""
    return store_upload(ctx, upload, record=record, archival=True)


# -- T23 execution ----------------------------------------------------------------------------------


def start_implementation(actor, decision, *, executor, report_every_months, first_report_due, documents=()):
    """T23: name the executing unit and the reporting schedule; open the implementation record (第三十四条)."""
    params = {"executor": executor, "report_every_months": report_every_months, "first_report_due": first_report_due}
    with action(actor, decision, "T23", **params) as ctx:
        d = ctx.decision
        previous = d.current_record(Stage.IMPL)
        record = create_stage(ctx, Stage.IMPL, supersedes=previous)
        attach(ctx, record, documents)
        ctx.target = record
        take_step(
            ctx,
            "T23",
            executor,
            report_every_months,
            first_report_due,
            payload={
                "executor": getattr(executor, "pk", None),
                "report_every_months": report_every_months,
                "first_report_due": first_report_due,
                "version": _draft_no(d.in_force_version),
            },
        )
        if previous is not None and not previous.is_closed:
            # The adjusted decision replaced the text this record executed (P16).
            _close(ctx, previous, outcome="SUPERSEDED", subject="决策执行(已由调整后的决策取代)")
        _start(ctx, record, d.in_force_version)
        return d


def record_execution_report(actor, decision, upload, *, period=""):
    """Put an execution report (执行情况报告, 第三十四条) on the implementation record; also while suspended,
    under evaluation or during an adjustment's re-run (P16)."""
    with action(actor, decision, roles=[Role.EXECUTOR]) as ctx:
        require(rules.EXECUTION_REPORT, ctx)
        record = ctx.decision.current_record(Stage.IMPL)
        document = store_upload(ctx, replace(upload, doc_type=DocumentType.EXECUTION_REPORT), record=record)
        record_event(ctx, "execution:report", document, {"period": period, "stage_record": record.pk})
        return document


def record_issue(actor, decision, upload, *, situation, description=""):
    """Report a 第三十五条 situation found in execution (problem, major change, force majeure)."""
    with action(actor, decision, roles=[Role.EXECUTOR, Role.GOV_OFFICE], situation=situation) as ctx:
        require(rules.ISSUE_REPORT, ctx)
        record = ctx.decision.current_record(Stage.IMPL)
        document = store_upload(ctx, replace(upload, doc_type=DocumentType.ISSUE_REPORT), record=record)
        record_event(
            ctx,
            "execution:issue",
            document,
            {"situation": situation, "description": description, "stage_record": record.pk},
        )
        return document


# -- T24 suspend, T25 resume ---------------------------------------------------------------------------


def _flag_only(decision):
    # B7: in POST_EVALUATION or a post-T27 re-run state, T24/T25 only set or clear the flag.
    return decision.state == lifecycle.POST_EVALUATION or (
        decision.state in lifecycle.RERUN_STATES and rules.in_force(decision)
    )


def suspend(actor, decision, *, situation, urgent, reason="", documents=()):
    """T24: the chief's urgent suspension of execution (中止执行, 第三十七条)."""
    with action(actor, decision, "T24", situation=situation, urgent=urgent, reason=reason) as ctx:
        d = ctx.decision
        record = d.current_record(Stage.IMPL)
        attached = attach(ctx, record, documents) if record is not None and not record.is_closed else []
        payload = {"situation": situation, "urgent": urgent, "reason": reason}
        if _flag_only(d):
            require(rules.T24, ctx)
            d.set_suspended_flag(True)
            d.save(update_fields=["suspended"])
            record_event(ctx, "suspension:flag", d, {"step": "T24", "state": d.state, "suspended": True, **payload})
        else:
            take_step(ctx, "T24", payload=payload)
        suspension = Suspension.objects.create(
            decision=d,
            situation=situation,
            urgent=urgent,
            reason=reason,
            by=ctx.actor,
            at=ctx.now,
            in_force_version=d.in_force_version,
            document=_adjustment_document(attached, DocumentType.SUSPENSION_DECISION),
        )
        record_event(ctx, "suspension:start", suspension, {**payload, "version": _draft_no(d.in_force_version)})
        return d


def _end_suspension(ctx, ended_by, reason):
    suspension = rules.open_suspension(ctx.decision)
    if suspension is not None:
        suspension.ended_at, suspension.ended_by, suspension.end_reason = ctx.now, ended_by, reason
        suspension.save(update_fields=["ended_at", "ended_by", "end_reason"])
        record_event(ctx, "suspension:end", suspension, {"ended_by": ended_by, "reason": reason})


def resume(actor, decision, *, reason):
    """T25: the chief resumes execution of the unchanged decision (第三十七条)."""
    with action(actor, decision, "T25", reason=reason) as ctx:
        d = ctx.decision
        if d.state != lifecycle.SUSPENDED and d.suspended:
            require(rules.T25, ctx)
            d.set_suspended_flag(False)
            d.save(update_fields=["suspended"])
            record_event(
                ctx, "suspension:flag", d, {"step": "T25", "state": d.state, "suspended": False, "reason": reason}
            )
        else:
            take_step(ctx, "T25", payload={"reason": reason})
        _end_suspension(ctx, "RESUME", reason)
        return d


# -- T26 post-evaluation ------------------------------------------------------------------------------


def start_post_evaluation(
    actor,
    decision,
    *,
    trigger,
    evaluator,
    commissioned=False,
    plan_public_participation=False,
    plan_npc_cppcc_participation=False,
    documents=(),
):
    """T26: start a post-evaluation (决策后评估, 第三十六条) with an independent evaluator and a participatory plan."""
    params = {
        "trigger": trigger,
        "evaluator": evaluator,
        "commissioned": commissioned,
        "plan_public_participation": plan_public_participation,
        "plan_npc_cppcc_participation": plan_npc_cppcc_participation,
    }
    with action(actor, decision, "T26", **params) as ctx:
        d = ctx.decision
        record = create_stage(ctx, Stage.PE, supersedes=d.current_record(Stage.PE))
        attach(ctx, record, documents)
        ctx.target = record
        check = rules.independence_check(d, evaluator, commissioned) if rules.evaluator_named.holds(ctx) else {}
        take_step(
            ctx,
            "T26",
            payload={
                "trigger": trigger,
                "evaluator": getattr(evaluator, "pk", None),
                "commissioned": commissioned,
                "independence": check,
            },
        )
        _start(ctx, record, d.in_force_version)
        evaluation = PostEvaluation.objects.create(
            decision=d,
            trigger=trigger,
            evaluator=evaluator,
            commissioned=commissioned,
            independence_check=check,
            plan_public_participation=plan_public_participation,
            plan_npc_cppcc_participation=plan_npc_cppcc_participation,
            stage_record=record,
            started_at=ctx.now,
        )
        record_event(ctx, "post_evaluation:start", evaluation, {"stage_record": record.pk})
        return d


def submit_post_evaluation_report(actor, decision, *, documents):
    """The evaluator submits its report and participation records; it signs off the PE record (B8)."""
    with action(actor, decision, roles=[Role.POST_EVALUATOR]) as ctx:
        d = ctx.decision
        evaluation = rules.open_post_evaluation(d)
        record = evaluation.stage_record if evaluation is not None else None
        if d.state != lifecycle.POST_EVALUATION or record is None or record.is_closed:
            refuse(
                "STATE_PREREQUISITE_MISSING",
                "第三十六条",
                "没有进行中的决策后评估，不能提交评估报告",
                "No post-evaluation is under way",
            )
        if not RoleAssignment.objects.filter(
            user=actor, role=Role.POST_EVALUATOR, organisation=evaluation.evaluator
        ).exists():
            raise NotPermitted(
                [
                    Failure(
                        Rule(
                            name="ROLE_NOT_PERMITTED",
                            code="ROLE_NOT_PERMITTED",
                            article="B1; 第三十六条",
                            zh="只有受托或确定的决策后评估单位可以提交评估报告",
                            en="Only the designated post-evaluator may submit the report",
                            check=lambda c: False,
                        )
                    )
                ]
            )
        attach(ctx, record, documents)
        ctx.target = record
        require(rules.PE_REPORT, ctx)
        _close(ctx, record, outcome="REPORTED", subject="决策后评估报告")
        return d


def close_post_evaluation(actor, decision, *, conclusion):
    """T26a: the organ records its conclusion and implementation goes on unchanged (第三十六条)."""
    with action(actor, decision, "T26a", conclusion=conclusion) as ctx:
        take_step(ctx, "T26a", payload={"conclusion": conclusion})
        evaluation = rules.open_post_evaluation(ctx.decision)
        evaluation.conclusion, evaluation.closed_at = conclusion, ctx.now
        evaluation.save(update_fields=["conclusion", "closed_at"])
        record_event(ctx, "post_evaluation:close", evaluation, {"conclusion": conclusion})
        return ctx.decision


def _end_post_evaluation(ctx, conclusion, freeze_reason):
    evaluation = rules.open_post_evaluation(ctx.decision)
    if evaluation is None:
        return
    evaluation.conclusion = evaluation.conclusion or conclusion
    evaluation.closed_at = ctx.now
    evaluation.save(update_fields=["conclusion", "closed_at"])
    record_event(ctx, "post_evaluation:close", evaluation, {"conclusion": evaluation.conclusion})
    record = evaluation.stage_record
    if record is not None and not record.is_closed:
        _freeze(ctx, [record], freeze_reason)


# -- T27 adjust, T27b abandon ------------------------------------------------------------------------


def adjust(actor, decision, *, reason, draft, change_summary="", documents=()):
    """T27: the organ decides a major adjustment (重大调整, 第三十七条): a new draft re-runs the procedure.

    The decision goes through ADJUSTING back to DRAFTING with a new drafting record; T6 then opens
    PP, HEARING, EX and RA again and LR and CD follow. The text in force, the suspension flag and
    the catalogue entry are kept (P16).
    """
    with action(actor, decision, "T27", reason=reason, draft=draft) as ctx:
        d = ctx.decision
        source = d.state
        record = create_stage(ctx, Stage.ADJ)
        attached = attach(ctx, record, documents)
        ctx.target = record
        take_step(ctx, "T27", payload={"reason": reason, "in_force": _draft_no(d.in_force_version)})
        version = new_draft_version(ctx, draft, change_summary or reason)
        adjustment = DecisionAdjustment.objects.create(
            decision=d,
            reason=reason,
            new_draft_version=version,
            recorded_by=ctx.actor,
            at=ctx.now,
            document=_adjustment_document(attached, DocumentType.ADJUSTMENT_DECISION),
        )
        record_event(ctx, "adjustment:start", adjustment, {"reason": reason, "draft": version.number})
        _close(ctx, record, outcome="ADJUSTMENT", subject="决策重大调整决定", version=version)
        if source == lifecycle.POST_EVALUATION:
            _end_post_evaluation(ctx, f"决定重大调整：{reason}", "决定重大调整时冻结")
        take_step(ctx, "T27-redraft", payload={"draft": version.number})
        drafting = create_stage(ctx, Stage.DRAFTING, supersedes=d.current_record(Stage.DRAFTING))
        _start(ctx, drafting, version)
        return d


def abandon_adjustment(actor, decision, *, reason, documents=()):
    """T27b: the organ abandons the adjustment; the decision in force goes on unchanged (第三十七条)."""
    with action(actor, decision, "T27b", reason=reason) as ctx:
        d = ctx.decision
        record = create_stage(ctx, Stage.ADJ)
        attach(ctx, record, documents)
        ctx.target = record
        take_step(ctx, "T27b", payload={"reason": reason})
        _freeze(ctx, rules.open_records(d, rules.RERUN_STAGES), "放弃调整时冻结")
        adjustment = rules.open_adjustment(d)
        if adjustment is not None:
            adjustment.closed_as, adjustment.closed_at, adjustment.close_reason = "ABANDONED", ctx.now, reason
            adjustment.save(update_fields=["closed_as", "closed_at", "close_reason"])
            record_event(ctx, "adjustment:close", adjustment, {"closed_as": "ABANDONED", "reason": reason})
        _close(ctx, record, outcome="ABANDONED", subject="放弃调整决定", version=d.in_force_version)
        return d


# -- T28 stop: its legality review, its meeting, the stop -------------------------------------------------


def _stop_record(ctx):
    """Return the ADJ record of the stop under way, opening one for a new stop."""
    record = rules.open_stop_record(ctx.decision)
    if record is None:
        record = create_stage(ctx, Stage.ADJ)
        _start(ctx, record, ctx.decision.in_force_version)
        record_event(ctx, "stop:prepare", record, {"stage_record": record.pk})
    return record


def add_stop_review_document(actor, decision, upload):
    """Add a record to the stop's legality review (the legal adviser's opinion, 第二十八条)."""
    with action(actor, decision, roles=[Role.LEGAL_ADVISER, Role.LEGAL_REVIEWER]) as ctx:
        require([rules.decision_in_force], ctx)
        record = _stop_record(ctx)
        return store_upload(ctx, upload, record=record)


def record_stop_legality_opinion(
    actor, decision, *, outcome, authority, procedure, content, legal_risk_statement="", documents=()
):
    """Issue the legality opinion on stopping execution (T28 (a); T14's guards apply)."""
    params = {
        "outcome": outcome,
        "authority": authority,
        "procedure": procedure,
        "content": content,
        "legal_risk_statement": legal_risk_statement,
    }
    with action(actor, decision, roles=[Role.LEGAL_REVIEWER], **params) as ctx:
        d = ctx.decision
        record = _stop_record(ctx)
        attach(ctx, record, documents)
        ctx.target = record
        require(rules.STOP_REVIEW, ctx)
        review = seals.create(
            LegalityReview,
            decision=d,
            round=LegalityReview.objects.filter(decision=d, subject=LegalityReview.Subject.STOP).count() + 1,
            subject=LegalityReview.Subject.STOP,
            draft_version=d.in_force_version,
            reviewer_dept=d.organ.legality_review_dept,
            submitted_on=ctx.today,
            complete_on=ctx.today,
            outcome=outcome,
            authority=authority,
            procedure=procedure,
            content=content,
            legal_risk_statement=legal_risk_statement,
            issued_at=ctx.now,
            issued_by=ctx.actor,
        )
        record_event(ctx, "stop:legality_opinion", review, {**params, "stage_record": record.pk})
        return review


def record_stop_meeting_outcome(actor, decision, *, meeting, outcome, statements, chief_reason="", documents=()):
    """Record the 常务会议/全体会议 discussion of the stop (T28 (b)); T19's meeting-type and T20's meeting-record
    guards apply.

    `meeting` is one of the organ's meetings (decisions.services.meeting.create_meeting). `statements`
    are in speaking order: dicts with `member`, `position` and `text`; whether a speaker is the chief
    is read from the roles they hold for the decision. A REJECT ends the stop under way: its record
    is closed and signed off.
    """
    with action(
        actor, decision, roles=[Role.GOV_OFFICE], outcome=outcome, chief_reason=chief_reason, meeting=meeting
    ) as ctx:
        d = ctx.decision
        if meeting is None or meeting.organ_id != d.organ_id:
            refuse(
                "MEETING_ORGAN_MISMATCH",
                "第三十条",
                "停止执行须经本决策机关的会议讨论",
                "The meeting must be one of the decision organ's own meetings",
            )
        record = rules.open_stop_record(d)
        if record is not None:
            attach(ctx, record, documents)
        item = AgendaItem.objects.create(meeting=meeting, decision=d, subject=LegalityReview.Subject.STOP)
        for seq, statement in enumerate(statements, start=1):
            member = statement["member"]
            MeetingStatement.objects.create(
                agenda_item=item,
                member=member,
                seq=seq,
                position=statement["position"],
                text=statement.get("text", ""),
                is_chief=Role.CHIEF in roles_for(member, d),
            )
        ctx.params["agenda_item"] = item
        require(rules.STOP_MEETING, ctx)
        result = seals.create(
            CollectiveOutcome,
            agenda_item=item,
            outcome=outcome,
            chief_reason=chief_reason,
            recorded_by=ctx.actor,
            recorded_at=ctx.now,
            chief_differs_from_majority=meeting_rules.chief_differs_from_majority(item, outcome),
        )
        record_event(
            ctx,
            "stop:meeting_outcome",
            result,
            {
                "meeting": meeting.pk,
                "agenda_item": item.pk,
                "outcome": outcome,
                "chief_reason": chief_reason,
                "chief_differs_from_majority": result.chief_differs_from_majority,
                "statements": [
                    {"seq": s.seq, "member": s.member_id, "position": s.position, "text": s.text, "chief": s.is_chief}
                    for s in item.statements.order_by("seq")
                ],
            },
        )
        if outcome == Position.REJECT:
            _close(ctx, record, outcome="STOP_NOT_APPROVED", subject="停止执行未获会议同意")
        return result


def abandon_stop(actor, decision, *, reason):
    """End a stop under way without stopping (the organ does not pursue it); its record is frozen."""
    with action(actor, decision, roles=[Role.GOV_OFFICE], reason=reason) as ctx:
        require([rules.ending_reason_given], ctx)
        record = rules.open_stop_record(ctx.decision)
        if record is None:
            refuse("STATE_PREREQUISITE_MISSING", "第三十七条", "没有进行中的停止执行程序", "No stop is under way")
        _freeze(ctx, [record], f"停止执行程序终止：{reason}"[:200])
        return ctx.decision


def stop(actor, decision, *, reason, documents=()):
    """T28: stop execution through the legal procedure (第三十七条): a LAWFUL opinion and a meeting's APPROVE."""
    with action(actor, decision, "T28", reason=reason) as ctx:
        d = ctx.decision
        record = _stop_record(ctx)
        attached = attach(ctx, record, documents)
        ctx.target = record
        review, approval = rules.stop_review(d), rules.stop_outcome(d)
        cancelled_due = d.first_report_due
        take_step(
            ctx,
            "T28",
            payload={
                "reason": reason,
                "legality_review": getattr(review, "pk", None),
                "collective_outcome": getattr(approval, "pk", None),
                "cancelled_report_due": cancelled_due,
            },
        )
        decision_row = StopDecision.objects.create(
            decision=d,
            reason=reason,
            legality_review=review,
            collective_outcome=approval,
            recorded_by=ctx.actor,
            at=ctx.now,
            document=_adjustment_document(attached, DocumentType.STOP_DECISION),
        )
        record_event(ctx, "stop:decision", decision_row, {"reason": reason})
        _close(ctx, record, outcome="STOPPED", subject="停止执行决定")
        _end_suspension(ctx, "STOP", reason)
        adjustment = rules.open_adjustment(d)
        if adjustment is not None:
            adjustment.closed_as, adjustment.closed_at, adjustment.close_reason = (
                "ABANDONED",
                ctx.now,
                f"停止执行：{reason}",
            )
            adjustment.save(update_fields=["closed_as", "closed_at", "close_reason"])
            record_event(ctx, "adjustment:close", adjustment, {"closed_as": "ABANDONED", "reason": reason})
        _end_post_evaluation(ctx, f"停止执行：{reason}", "停止执行时冻结")
        implementation = d.current_record(Stage.IMPL)
        if implementation is not None and not implementation.is_closed:
            _close(ctx, implementation, outcome="STOPPED", subject="决策执行(停止执行)")
        _freeze(ctx, rules.open_records(d, exclude=(Stage.ARC,)), "停止执行时冻结")
        # B5 T28: the execution-report due dates are cancelled.
        d.first_report_due = None
        d.save(update_fields=["first_report_due"])
        return d


# -- T29 withdraw, T29b end without a catalogue ---------------------------------------------------------


def withdrawal_failures(decision, source=None):
    """Return what would refuse T29 now (an empty list: the decision may be withdrawn); for the catalogue's REMOVE.

    Without `source` the removal itself is not checked: the catalogue asks before it publishes.
    """
    failures = lifecycle.check(
        decision, "T29", Context(decision=decision, role=lifecycle.SYSTEM, params={"source": source})
    )
    return [f for f in failures if source is not None or f.rule.name != "removal_published"]


def withdraw(decision, *, source, actor=None):
    """T29 (system): the published REMOVE adjustment, or the year-end report for a REMOVE_PENDING entry,
    withdraws the decision; every open record is frozen (第三条第三款, P20, P21).

    Called by the catalog app with `source` the adjustment or catalogue that removes the entry.
    """
    if source is None:
        raise ValueError("T29 is taken on a published REMOVE adjustment or year-end report: pass it as `source`")
    with action(actor, decision, "T29", source=source) as ctx:
        d = ctx.decision
        take_step(
            ctx,
            "T29",
            payload={
                "source": str(source),
                "source_type": source._meta.label if hasattr(source, "_meta") else type(source).__name__,
                "source_id": getattr(source, "pk", None),
            },
        )
        _freeze(ctx, rules.open_records(d, exclude=(Stage.ARC,)), "撤回时冻结(frozen at withdrawal)")
        d.closing_reason = f"目录调整撤出：{source}"
        d.save(update_fields=["closing_reason"])
        return d


def end_without_catalogue(actor, decision, *, reason):
    """T29b: the organ ends the procedure of a decision started without a catalogue (第十条; P19)."""
    with action(actor, decision, "T29b", reason=reason) as ctx:
        d = ctx.decision
        take_step(ctx, "T29b", payload={"reason": reason})
        _freeze(ctx, rules.open_records(d, exclude=(Stage.ARC,)), "终止决策程序时冻结")
        d.closing_reason = reason
        d.save(update_fields=["closing_reason"])
        return d


# -- T30 archive, T30a archive after implementation, hand-over tasks -------------------------------------


def close_handover_task(actor, task, upload):
    """Receive a co-unit's hand-over record and close its task (P18); also on a closed decision (P7 (3))."""
    with action(actor, task.decision, roles=[Role.ARCHIVIST], allow_closed=True, upload=upload) as ctx:
        task = HandoverTask.objects.select_for_update().get(pk=task.pk)
        if task.closed_at is not None:
            refuse("DOCUMENT_IMMUTABLE", "第三十三条; P18", "该移交任务已办结", "The hand-over task is already closed")
        require(rules.HANDOVER, ctx)
        record = _archive_record(ctx)
        document = _store_archival(ctx, record, upload)
        task.closed_by, task.closed_at, task.document = ctx.actor, ctx.now, document
        task.save(update_fields=["closed_by", "closed_at", "document"])
        record_event(
            ctx,
            "handover:close",
            task,
            {"unit": task.unit_id, "stage_record": task.stage_record_id, "document": document.pk},
        )
        return task


def record_implementation_closure(actor, decision, *, reason, documents=()):
    """Record the end of implementation (执行终结, P16) and sign off the implementation record."""
    with action(actor, decision, roles=[Role.GOV_OFFICE], reason=reason) as ctx:
        d = ctx.decision
        record = d.current_record(Stage.IMPL)
        attached = attach(ctx, record, documents) if record is not None and not record.is_closed else []
        ctx.target = record
        require(rules.CLOSURE, ctx)
        closure = ImplementationClosure.objects.create(
            decision=d,
            reason=reason,
            recorded_by=ctx.actor,
            at=ctx.now,
            document=_adjustment_document(attached, DocumentType.IMPLEMENTATION_CLOSURE),
        )
        record_event(ctx, "implementation:closure", closure, {"reason": reason})
        _close(ctx, record, outcome=reason, subject="决策执行终结")
        _freeze(ctx, rules.open_records(d, exclude=(Stage.ARC,)), "执行终结时冻结")
        return closure


def _archive(actor, decision, tid, documents):
    with action(actor, decision, tid) as ctx:
        d = ctx.decision
        if d.state in (lifecycle.NOT_APPLICABLE, lifecycle.DECLINED):
            # P22: no decision procedure ran; these records stay read-only and are not archived.
            raise ProcedureRefused([Failure(lifecycle.DECISION_CLOSED, d.get_state_display())])
        record = _archive_record(ctx)
        if not record.is_closed:
            for upload in documents:
                _store_archival(ctx, record, upload)
        ctx.target = record
        take_step(ctx, tid, payload={"stage_records": d.stage_records.count()})
        _sign_frozen(ctx)
        # The archivist's sign-off hashes the archive index (归档目录) with the record (P8, B8 item 13).
        _close(ctx, record, outcome="ARCHIVED", subject="归档", extra=lambda: {"archive_index": archive_index(d)})
        return d


def archive(actor, decision, *, documents=()):
    """T30: close the dossier of a rejected, withdrawn or stopped decision (第三十三条)."""
    return _archive(actor, decision, "T30", documents)


def archive_after_implementation(actor, decision, *, documents=()):
    """T30a: archive a decision whose implementation was closed; the text is no longer in force (P16)."""
    return _archive(actor, decision, "T30a", documents)


__all__ = [
    "archive_index",
    "start_implementation",
    "record_execution_report",
    "record_issue",
    "suspend",
    "resume",
    "start_post_evaluation",
    "submit_post_evaluation_report",
    "close_post_evaluation",
    "adjust",
    "abandon_adjustment",
    "add_stop_review_document",
    "record_stop_legality_opinion",
    "record_stop_meeting_outcome",
    "abandon_stop",
    "stop",
    "withdrawal_failures",
    "withdraw",
    "end_without_catalogue",
    "close_handover_task",
    "record_implementation_closure",
    "archive",
    "archive_after_implementation",
]
