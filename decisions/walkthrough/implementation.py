"""Take a published decision through execution, and any decision to its end: suspension,
post-evaluation, adjustment, stop, archive (T23–T30a)."""

from django.utils import timezone

from decisions import lifecycle
from decisions.models import DocumentType, HandoverTask, ImplementationClosure, Meeting, Position
from decisions.rules.implementation import add_months
from decisions.services import implementation, meeting
from decisions.walkthrough import doc


def implement(cast, decision, report_every_months=6):
    """T23: the office names the lead unit as executor, reporting every six months."""
    return implementation.start_implementation(
        cast["GOV_OFFICE"],
        decision,
        executor=cast.lead_unit,
        report_every_months=report_every_months,
        first_report_due=add_months(timezone.localdate(), report_every_months),
        documents=[doc(DocumentType.EXECUTOR_DESIGNATION)],
    )


def suspend(cast, decision, situation="PROBLEM"):
    """T24: the chief suspends execution urgently after a 第三十五条 report."""
    return implementation.suspend(
        cast["CHIEF"],
        decision,
        situation=situation,
        urgent=True,
        reason="执行中发现重大问题，情况紧急",
        documents=[doc(DocumentType.SUSPENSION_DECISION, signed=True)],
    )


def resume(cast, decision):
    """T25: the chief resumes execution of the unchanged decision."""
    return implementation.resume(cast["CHIEF"], decision, reason="问题已妥善处理")


def post_evaluate(cast, decision, conclude=True):
    """T26, the evaluator's report and (with `conclude`) T26a: an independent post-evaluation."""
    decision = implementation.start_post_evaluation(
        cast["GOV_OFFICE"],
        decision,
        trigger="3",
        evaluator=cast["POST_EVALUATOR"].role_assignments.get(role="POST_EVALUATOR").organisation,
        commissioned=False,
        plan_public_participation=True,
        plan_npc_cppcc_participation=True,
        documents=[doc(DocumentType.PE_START_DECISION), doc(DocumentType.PE_PLAN)],
    )
    decision = implementation.submit_post_evaluation_report(
        cast["POST_EVALUATOR"],
        decision,
        documents=[doc(DocumentType.PE_REPORT, signed=True), doc(DocumentType.PE_PARTICIPATION)],
    )
    if conclude:
        decision = implementation.close_post_evaluation(
            cast["GOV_OFFICE"], decision, conclusion="决策效果良好，继续执行"
        )
    return decision


def adjust(cast, decision, reason="后评估报告建议作出重大调整"):
    """T27: the organ decides a major adjustment; the decision is back in DRAFTING with draft v(n+1)."""
    return implementation.adjust(
        cast["GOV_OFFICE"],
        decision,
        reason=reason,
        draft=doc(DocumentType.DRAFT, "adjusted"),
        change_summary="重大调整",
        documents=[doc(DocumentType.ADJUSTMENT_DECISION, signed=True)],
    )


def abandon_adjustment(cast, decision):
    """T27b: the organ abandons the adjustment; the decision in force goes on."""
    return implementation.abandon_adjustment(
        cast["GOV_OFFICE"],
        decision,
        reason="调整方案不再必要",
        documents=[doc(DocumentType.ADJUSTMENT_DECISION)],
    )


def stop_meeting_statements(cast, position=Position.APPROVE):
    """Return the statements of every member present, the chief last (第三十条)."""
    return [{"member": m, "position": position, "text": "同意停止执行"} for m in cast.extra["members"]] + [
        {"member": cast["CHIEF"], "position": position, "text": "决定停止执行"}
    ]


def stop_meeting(cast, meeting_type=Meeting.Type.EXECUTIVE, present=None):
    """Return a new meeting of the organ with the chief and every member present."""
    members = [cast["CHIEF"], *cast.extra["members"]] if present is None else list(present)
    return meeting.create_meeting(
        cast["GOV_OFFICE"],
        cast.organ,
        meeting_type=meeting_type,
        title="常务会议",
        date=timezone.localdate(),
        members_present=members,
    )


def stop(cast, decision):
    """T28: a LAWFUL legality opinion on the stop, an executive meeting's APPROVE, then the stop."""
    implementation.add_stop_review_document(cast["LEGAL_ADVISER"], decision, doc(DocumentType.LEGAL_ADVISER_OPINION))
    implementation.record_stop_legality_opinion(
        cast["LEGAL_REVIEWER"],
        decision,
        outcome="LAWFUL",
        authority="属于本机关职权",
        procedure="停止执行程序合法",
        content="停止执行不违反法律法规",
        documents=[doc(DocumentType.LEGALITY_OPINION, sealed=True)],
    )
    implementation.record_stop_meeting_outcome(
        cast["GOV_OFFICE"],
        decision,
        meeting=stop_meeting(cast),
        outcome=Position.APPROVE,
        statements=stop_meeting_statements(cast),
        documents=[doc(DocumentType.MINUTES)],
    )
    return implementation.stop(
        cast["GOV_OFFICE"],
        decision,
        reason="客观情况发生重大变化，决策目标已无法实现",
        documents=[doc(DocumentType.STOP_DECISION, signed=True, sealed=True)],
    )


def close_handovers(cast, decision):
    """Receive every open co-unit hand-over (P18)."""
    for task in HandoverTask.objects.filter(decision=decision, closed_at__isnull=True).order_by("id"):
        implementation.close_handover_task(cast["ARCHIVIST"], task, doc(DocumentType.HANDOVER_RECORD))
    return decision


def archive(cast, decision, closure_reason="COMPLETED"):
    """T30 (or, for a decision being implemented, the closure and T30a), hand-overs received first."""
    decision.refresh_from_db()
    if (
        decision.state == lifecycle.IMPLEMENTING
        and not ImplementationClosure.objects.filter(decision=decision).exists()
    ):
        implementation.record_implementation_closure(
            cast["GOV_OFFICE"], decision, reason=closure_reason, documents=[doc(DocumentType.IMPLEMENTATION_CLOSURE)]
        )
    close_handovers(cast, decision)
    step = (
        implementation.archive_after_implementation
        if decision.state == lifecycle.IMPLEMENTING
        else implementation.archive
    )
    return step(cast["ARCHIVIST"], decision, documents=[doc(DocumentType.ARCHIVE_INDEX)])
