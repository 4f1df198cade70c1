"""Execution, suspension, post-evaluation, adjustment and stop (T23–T28; B7; scenarios 53, 54)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from decisions import lifecycle
from decisions.models import (
    AgendaItem,
    AuditEvent,
    CollectiveOutcome,
    DecisionAdjustment,
    Document,
    DocumentType,
    DraftVersion,
    LegalityReview,
    Organisation,
    PostEvaluation,
    Role,
    RoleAssignment,
    SignOff,
    Stage,
    StageRecord,
    StageStatus,
    StopDecision,
    Suspension,
)
from decisions.permissions import NotPermitted
from decisions.queries import decision_record
from decisions.rules import ProcedureRefused
from decisions.rules import implementation as rules
from decisions.services import documents, initiation
from decisions.services import implementation as svc
from decisions.walkthrough import consultation, doc, legality, meeting
from decisions.walkthrough import implementation as walk_impl
from decisions.walkthrough import initiation as walk
from tests.records import record_events

# -- paths through the other areas ---------------------------------------------------------------


def decided(cast, full=False):
    """A decision through consultation, legality review and an APPROVE at the meeting (DECIDED).

    `full`: with an expert review and a risk assessment (by the cast's third party); otherwise
    EX and RA are closed NOT_TRIGGERED, which is quicker.
    """
    decision = walk.draft(cast, walk.initiate(cast, walk.propose(cast)))
    decision = consultation.consult(cast, decision, expert=full, risk=full)
    decision = legality.review(cast, decision)
    decision = legality.to_ready_for_meeting(cast, decision)
    return meeting.decide(cast, decision)


def published(cast, full=False):
    return meeting.publish(cast, decided(cast, full))


def implementing(cast, full=False):
    return walk_impl.implement(cast, published(cast, full))


def redraft(cast, decision):
    """After T27: the drafting records of the re-run and T6 (PP, HEARING, EX, RA open again)."""
    return initiation.open_consultation(
        cast["UNDERTAKING_LEAD"],
        decision,
        answers={},
        documents=[
            doc(DocumentType.RESEARCH_REPORT),
            doc(DocumentType.LAW_POLICY_LIST),
            doc(DocumentType.CONSULTATION_RECORD),
            doc(DocumentType.DRAFT_EXPLANATION),
        ],
    )


def fresh(decision):
    decision.refresh_from_db()
    return decision


def snapshot(decision):
    """What a refused call must leave unchanged."""
    d = fresh(decision)
    return {
        "state": d.state,
        "suspended": d.suspended,
        "in_force": d.in_force_version_id,
        "executor": d.executor_id,
        "records": list(StageRecord.objects.filter(decision=d).values_list("pk", "status", "frozen_at")),
        "documents": Document.objects.filter(decision=d).count(),
        "drafts": DraftVersion.objects.filter(decision=d).count(),
        "signoffs": SignOff.objects.filter(decision=d).count(),
        "suspensions": list(Suspension.objects.filter(decision=d).values_list("pk", "ended_at")),
        "adjustments": list(DecisionAdjustment.objects.filter(decision=d).values_list("pk", "closed_as")),
        "evaluations": list(PostEvaluation.objects.filter(decision=d).values_list("pk", "closed_at")),
        "reviews": LegalityReview.objects.filter(decision=d).count(),
        "agenda": AgendaItem.objects.filter(decision=d).count(),
        "outcomes": CollectiveOutcome.objects.filter(agenda_item__decision=d).count(),
        "stops": StopDecision.objects.filter(decision=d).count(),
        "events": record_events().count(),
    }


def refused(call, *codes):
    """Call, expect a refusal whose codes start with `codes`; return the refusal."""
    with pytest.raises(ProcedureRefused) as caught:
        call()
    assert caught.value.codes[: len(codes)] == list(codes), caught.value.codes
    return caught.value


def user_with_role(org, role, name):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create(username=name)
    RoleAssignment.objects.create(user=user, organisation=org, role=role)
    return user


# -- T23 ---------------------------------------------------------------------------------------------


def test_starting_implementation_names_executor_and_schedule_and_opens_the_implementation_record(open_cast):
    decision = walk_impl.implement(open_cast, published(open_cast))
    assert decision.state == "IMPLEMENTING"
    assert decision.executor == open_cast.lead_unit
    assert decision.report_every_months == 6
    assert decision.first_report_due > timezone.localdate()
    record = decision.current_record(Stage.IMPL)
    assert record.status == StageStatus.IN_PROGRESS
    assert record.draft_version == decision.in_force_version
    assert record.documents.filter(doc_type=DocumentType.EXECUTOR_DESIGNATION).count() == 1
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk, action="transition:T23").exists()


def test_a_decision_issued_without_publication_is_implemented_too(open_cast):
    decision = meeting.issue_not_public(open_cast, decided(open_cast))
    assert decision.state == "ISSUED_NOT_PUBLIC"
    assert walk_impl.implement(open_cast, decision).state == "IMPLEMENTING"


@pytest.mark.parametrize(
    "missing, message",
    [
        ("executor", "执行单位"),
        ("report_every_months", "报告周期"),
        ("first_report_due", "首次"),
        ("documents", "执行单位的文件"),
    ],
)
def test_starting_implementation_without_an_item_is_refused_and_names_it(open_cast, missing, message):
    decision = published(open_cast)
    before = snapshot(decision)
    kwargs = {
        "executor": open_cast.lead_unit,
        "report_every_months": 6,
        "first_report_due": timezone.localdate() + timedelta(days=180),
        "documents": [doc(DocumentType.EXECUTOR_DESIGNATION)],
    }
    kwargs[missing] = [] if missing == "documents" else None
    refusal = refused(
        lambda: svc.start_implementation(open_cast["GOV_OFFICE"], decision, **kwargs), "DOSSIER_ITEM_MISSING"
    )
    assert len(refusal.failures) == 1
    assert message in refusal.failures[0].rule.zh
    assert "第三十四条" in refusal.failures[0].rule.citation
    assert snapshot(decision) == before


def test_implementation_cannot_start_twice(open_cast):
    decision = implementing(open_cast)
    before = snapshot(decision)
    refused(lambda: walk_impl.implement(open_cast, decision), "STATE_PREREQUISITE_MISSING")
    assert snapshot(decision) == before


# -- execution reports and 第35条 issues ------------------------------------------------------------------


def test_the_executor_reports_while_implementing_suspended_and_under_evaluation(open_cast):
    decision = implementing(open_cast)
    executor = open_cast["EXECUTOR"]
    svc.record_execution_report(executor, decision, doc(DocumentType.EXECUTION_REPORT, "H1"), period="上半年")
    walk_impl.suspend(open_cast, decision)
    svc.record_execution_report(executor, decision, doc(DocumentType.EXECUTION_REPORT, "H2"))
    walk_impl.resume(open_cast, decision)
    walk_impl.post_evaluate(open_cast, decision, conclude=False)
    svc.record_execution_report(executor, decision, doc(DocumentType.EXECUTION_REPORT, "H3"))
    record = fresh(decision).current_record(Stage.IMPL)
    assert record.documents.filter(doc_type=DocumentType.EXECUTION_REPORT).count() == 3


def test_execution_reports_go_on_during_the_rerun_of_an_adjustment(open_cast):
    decision = walk_impl.adjust(open_cast, implementing(open_cast))
    assert decision.state == "DRAFTING"
    document = svc.record_execution_report(open_cast["EXECUTOR"], decision, doc(DocumentType.EXECUTION_REPORT))
    assert document.stage_record.stage == Stage.IMPL


def test_an_execution_report_before_implementation_starts_is_refused(open_cast):
    decision = published(open_cast)
    before = snapshot(decision)
    refused(
        lambda: svc.record_execution_report(open_cast["EXECUTOR"], decision, doc(DocumentType.EXECUTION_REPORT)),
        "STATE_PREREQUISITE_MISSING",
    )
    assert snapshot(decision) == before


def test_only_the_designated_executor_reports(open_cast):
    decision = implementing(open_cast)
    other = user_with_role(open_cast.co_units[0], Role.EXECUTOR, "other-executor")
    with pytest.raises(NotPermitted):
        svc.record_execution_report(other, decision, doc(DocumentType.EXECUTION_REPORT))


def test_a_35th_article_issue_needs_its_situation(open_cast):
    decision = implementing(open_cast)
    before = snapshot(decision)
    refused(
        lambda: svc.record_issue(open_cast["EXECUTOR"], decision, doc(DocumentType.ISSUE_REPORT), situation=""),
        "DOSSIER_ITEM_MISSING",
    )
    assert snapshot(decision) == before
    issue = svc.record_issue(
        open_cast["EXECUTOR"],
        decision,
        doc(DocumentType.ISSUE_REPORT),
        situation="PROBLEM",
        description="补助资金拨付延迟",
    )
    assert issue.doc_type == DocumentType.ISSUE_REPORT
    assert AuditEvent.objects.filter(action="execution:issue", payload__situation="PROBLEM").exists()


# -- T24, T25 ------------------------------------------------------------------------------------------


def test_the_chief_suspends_urgently_and_resumes_the_unchanged_decision(open_cast):
    decision = walk_impl.suspend(open_cast, implementing(open_cast))
    assert decision.state == "SUSPENDED" and decision.suspended
    suspension = Suspension.objects.get(decision=decision)
    assert suspension.in_force_version == decision.in_force_version
    assert suspension.by == open_cast["CHIEF"]
    assert suspension.document.doc_type == DocumentType.SUSPENSION_DECISION
    decision = walk_impl.resume(open_cast, decision)
    assert decision.state == "IMPLEMENTING" and not decision.suspended
    suspension.refresh_from_db()
    assert suspension.ended_by == "RESUME" and suspension.end_reason


@pytest.mark.parametrize(
    "situation, urgent",
    [("", True), ("DISLIKE", True), ("PROBLEM", False), ("FORCE_MAJEURE", None)],
)
def test_suspension_needs_a_35th_article_situation_and_urgency(open_cast, situation, urgent):
    decision = implementing(open_cast)
    before = snapshot(decision)
    refusal = refused(
        lambda: svc.suspend(open_cast["CHIEF"], decision, situation=situation, urgent=urgent), "SUSPENSION_NOT_ALLOWED"
    )
    assert "第三十七条" in refusal.failures[-1].rule.citation
    assert snapshot(decision) == before


def test_a_suspended_decision_cannot_be_suspended_again(open_cast):
    decision = walk_impl.suspend(open_cast, implementing(open_cast))
    before = snapshot(decision)
    refused(lambda: walk_impl.suspend(open_cast, decision), "SUSPENSION_NOT_ALLOWED")
    assert snapshot(decision) == before


def test_a_published_decision_not_yet_implemented_cannot_be_suspended(open_cast):
    decision = published(open_cast)
    before = snapshot(decision)
    refused(lambda: walk_impl.suspend(open_cast, decision), "STATE_PREREQUISITE_MISSING")
    assert snapshot(decision) == before


def test_resuming_needs_a_reason(open_cast):
    decision = walk_impl.suspend(open_cast, implementing(open_cast))
    before = snapshot(decision)
    refused(lambda: svc.resume(open_cast["CHIEF"], decision, reason=" "), "REASON_REQUIRED")
    assert snapshot(decision) == before


def test_resuming_with_a_text_other_than_the_one_in_force_at_suspension_is_refused(open_cast):
    decision = walk_impl.suspend(open_cast, implementing(open_cast))
    # Test-only: the text in force changed behind the procedure's back; resuming must not carry it in.
    other = DraftVersion.objects.create(decision=decision, number=99, change_summary="直接修改")
    type(decision).objects.filter(pk=decision.pk).update(in_force_version=other)
    before = snapshot(decision)
    refused(lambda: walk_impl.resume(open_cast, decision), "ADJUSTMENT_REQUIRES_PROCEDURE")
    assert snapshot(decision) == before


def test_resuming_a_decision_that_is_not_suspended_is_refused(open_cast):
    decision = implementing(open_cast)
    refused(lambda: walk_impl.resume(open_cast, decision), "STATE_PREREQUISITE_MISSING")


def test_under_evaluation_a_suspension_only_sets_the_flag_and_closing_the_evaluation_lands_in_suspended(open_cast):
    decision = walk_impl.post_evaluate(open_cast, implementing(open_cast), conclude=False)
    decision = walk_impl.suspend(open_cast, decision)
    assert decision.state == "POST_EVALUATION" and decision.suspended
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk, action="suspension:flag").count() == 1
    decision = svc.close_post_evaluation(open_cast["GOV_OFFICE"], decision, conclusion="暂不调整")
    assert decision.state == "SUSPENDED"
    assert walk_impl.resume(open_cast, decision).state == "IMPLEMENTING"


def test_during_a_rerun_suspension_and_resume_only_set_and_clear_the_flag(open_cast):
    decision = walk_impl.adjust(open_cast, implementing(open_cast))
    decision = walk_impl.suspend(open_cast, decision)
    assert decision.state == "DRAFTING" and decision.suspended
    decision = walk_impl.resume(open_cast, decision)
    assert decision.state == "DRAFTING" and not decision.suspended
    assert Suspension.objects.get(decision=decision).ended_by == "RESUME"


def test_a_first_run_draft_cannot_be_suspended(open_cast):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    before = snapshot(decision)
    refused(lambda: walk_impl.suspend(open_cast, decision), "STATE_PREREQUISITE_MISSING")
    assert snapshot(decision) == before


# -- T26, T26a ------------------------------------------------------------------------------------------


def evaluator_org(cast):
    return RoleAssignment.objects.get(user=cast["POST_EVALUATOR"], role=Role.POST_EVALUATOR).organisation


def start_pe(cast, decision, **overrides):
    kwargs = {
        "trigger": "1",
        "evaluator": evaluator_org(cast),
        "commissioned": False,
        "plan_public_participation": True,
        "plan_npc_cppcc_participation": True,
        "documents": [doc(DocumentType.PE_START_DECISION), doc(DocumentType.PE_PLAN)],
    }
    kwargs.update(overrides)
    return svc.start_post_evaluation(cast["GOV_OFFICE"], decision, **kwargs)


def test_a_post_evaluation_starts_with_trigger_independent_evaluator_and_participatory_plan(open_cast):
    decision = start_pe(open_cast, implementing(open_cast, full=True))
    assert decision.state == "POST_EVALUATION"
    evaluation = PostEvaluation.objects.get(decision=decision)
    assert evaluation.trigger == "1"
    assert evaluation.independence_check["independent"] is True
    assert str(open_cast.third_party.pk) in evaluation.independence_check["excluded_units"]
    assert evaluation.stage_record.status == StageStatus.IN_PROGRESS


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"trigger": "4"}, "DOSSIER_ITEM_MISSING"),
        ({"documents": [doc(DocumentType.PE_PLAN)]}, "DOSSIER_ITEM_MISSING"),
        ({"evaluator": None}, "DOSSIER_ITEM_MISSING"),
        ({"documents": [doc(DocumentType.PE_START_DECISION)]}, "DOSSIER_ITEM_MISSING"),
        ({"plan_public_participation": False}, "DOSSIER_ITEM_MISSING"),
        ({"plan_npc_cppcc_participation": False}, "DOSSIER_ITEM_MISSING"),
    ],
)
def test_a_post_evaluation_without_an_item_is_refused(open_cast, overrides, code):
    decision = implementing(open_cast)
    before = snapshot(decision)
    refused(lambda: start_pe(open_cast, decision, **overrides), code)
    assert snapshot(decision) == before


@pytest.mark.parametrize("commissioned", [True, False])
def test_the_unit_that_did_the_risk_assessment_cannot_evaluate(open_cast, commissioned):
    decision = implementing(open_cast, full=True)
    before = snapshot(decision)
    refusal = refused(
        lambda: start_pe(open_cast, decision, evaluator=open_cast.third_party, commissioned=commissioned),
        "POST_EVALUATOR_NOT_INDEPENDENT",
    )
    assert "第三十六条第二款" in refusal.failures[0].rule.citation
    assert snapshot(decision) == before


def test_an_expert_agency_of_the_pre_decision_review_cannot_evaluate(open_cast):
    decision = implementing(open_cast, full=True)
    agency = Organisation.objects.create(
        name="城市发展研究院", code="agency", kind="OTHER", level="CITY", parent=open_cast.organ
    )
    refused(
        lambda: start_pe(open_cast, decision, evaluator=agency, commissioned=True), "POST_EVALUATOR_NOT_INDEPENDENT"
    )


def test_without_the_wider_exclusion_an_in_house_assessor_may_evaluate_but_not_a_commissioned_one(
    cast_factory, profile_variant
):
    profile = profile_variant("huzhou", catalogue_required=False, post_eval_exclude_pre_decision_assessors=False)
    cast = cast_factory(profile=profile.code)
    decision = implementing(cast, full=True)
    refused(
        lambda: start_pe(cast, decision, evaluator=cast.third_party, commissioned=True),
        "POST_EVALUATOR_NOT_INDEPENDENT",
    )
    decision = start_pe(cast, decision, evaluator=cast.third_party, commissioned=False)
    assert PostEvaluation.objects.get(decision=decision).independence_check["applies"] is False


def test_the_evaluator_submits_and_signs_off_the_report_and_the_office_records_the_conclusion(open_cast):
    decision = start_pe(open_cast, implementing(open_cast))
    before = snapshot(decision)
    refused(
        lambda: svc.close_post_evaluation(open_cast["GOV_OFFICE"], decision, conclusion="继续执行"),
        "DOSSIER_ITEM_MISSING",
    )
    refused(
        lambda: svc.submit_post_evaluation_report(
            open_cast["POST_EVALUATOR"], decision, documents=[doc(DocumentType.PE_REPORT)]
        ),
        "DOSSIER_ITEM_MISSING",
    )
    assert snapshot(decision) == before
    svc.submit_post_evaluation_report(
        open_cast["POST_EVALUATOR"],
        decision,
        documents=[doc(DocumentType.PE_REPORT), doc(DocumentType.PE_PARTICIPATION)],
    )
    record = fresh(decision).current_record(Stage.PE)
    assert record.status == StageStatus.DONE
    assert record.signoffs.get().role == Role.POST_EVALUATOR
    refused(lambda: svc.close_post_evaluation(open_cast["GOV_OFFICE"], decision, conclusion=""), "DOSSIER_ITEM_MISSING")
    decision = svc.close_post_evaluation(open_cast["GOV_OFFICE"], decision, conclusion="达到预期，继续执行")
    assert decision.state == "IMPLEMENTING"
    evaluation = PostEvaluation.objects.get(decision=decision)
    assert evaluation.conclusion == "达到预期，继续执行" and evaluation.closed_at


def test_only_the_designated_evaluator_submits_the_report(open_cast):
    decision = start_pe(open_cast, implementing(open_cast))
    other = user_with_role(open_cast.co_units[0], Role.POST_EVALUATOR, "other-evaluator")
    with pytest.raises(NotPermitted):
        svc.submit_post_evaluation_report(
            other, decision, documents=[doc(DocumentType.PE_REPORT), doc(DocumentType.PE_PARTICIPATION)]
        )


def test_a_report_uploaded_by_the_office_does_not_count_as_the_evaluators(open_cast):
    decision = start_pe(open_cast, implementing(open_cast))
    documents.upload(open_cast["GOV_OFFICE"], decision, Stage.PE, doc(DocumentType.PE_REPORT))
    refused(
        lambda: svc.submit_post_evaluation_report(
            open_cast["POST_EVALUATOR"], decision, documents=[doc(DocumentType.PE_PARTICIPATION)]
        ),
        "DOSSIER_ITEM_MISSING",
    )


# -- scenario 53: no direct change -------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["PUBLISHED", "IMPLEMENTING", "SUSPENDED", "POST_EVALUATION"])
def test_editing_the_decision_text_directly_is_refused_as_requiring_the_adjustment_procedure(open_cast, where):
    decision = published(open_cast)
    if where != "PUBLISHED":
        decision = walk_impl.implement(open_cast, decision)
    if where == "SUSPENDED":
        decision = walk_impl.suspend(open_cast, decision)
    if where == "POST_EVALUATION":
        decision = start_pe(open_cast, decision)
    before = snapshot(decision)
    refusal = refused(
        lambda: documents.add_draft_version(open_cast["UNDERTAKING_LEAD"], decision, doc(DocumentType.DRAFT, "edit")),
        "ADJUSTMENT_REQUIRES_PROCEDURE",
    )
    assert "第三十七条" in refusal.failures[0].rule.citation
    assert snapshot(decision) == before


# -- T27 (scenario 54) -----------------------------------------------------------------------------------------


def test_an_evaluation_recommending_a_major_change_leads_to_an_adjustment_that_reruns_the_procedure(open_cast):
    decision = walk_impl.post_evaluate(open_cast, implementing(open_cast), conclude=False)
    in_force = decision.in_force_version
    drafts = decision.draft_versions.count()
    old_pp = decision.current_record(Stage.PP)
    decision = walk_impl.adjust(open_cast, decision, reason="后评估报告建议调整补助标准")
    # The adjustment: a new draft version, DRAFTING, the text in force kept (P16).
    assert decision.state == "DRAFTING"
    assert decision.draft_versions.count() == drafts + 1
    assert decision.in_force_version == in_force
    adjustment = DecisionAdjustment.objects.get(decision=decision)
    assert adjustment.new_draft_version == decision.current_draft
    assert adjustment.document.doc_type == DocumentType.ADJUSTMENT_DECISION
    adj = StageRecord.objects.get(decision=decision, stage=Stage.ADJ)
    assert adj.status == StageStatus.DONE and adj.signoffs.get().role == Role.GOV_OFFICE
    drafting = decision.current_record(Stage.DRAFTING)
    assert drafting.status == StageStatus.IN_PROGRESS and drafting.draft_version == decision.current_draft
    assert PostEvaluation.objects.get(decision=decision).closed_at is not None
    moves = AuditEvent.objects.filter(
        decision_id_ref=decision.pk, action__in=["transition:T27", "transition:T27-redraft"]
    )
    assert [(e.payload["from"], e.payload["to"]) for e in moves.order_by("seq")] == [
        ("POST_EVALUATION", "ADJUSTING"),
        ("ADJUSTING", "DRAFTING"),
    ]
    # T6 opens PP, HEARING, EX and RA again, pinned to nothing yet; each may be closed again under B6.
    decision = redraft(open_cast, decision)
    for stage in (Stage.PP, Stage.HEARING, Stage.EX, Stage.RA):
        assert decision.current_record(stage).status == StageStatus.PENDING
    assert decision.current_record(Stage.PP).pk != old_pp.pk
    consultation.participate(open_cast, decision)
    consultation.skip_all(open_cast, decision)
    assert decision.current_record(Stage.EX).status == StageStatus.NOT_TRIGGERED
    # LR and CD are re-run for the adjusted content; publication adopts it.
    decision = legality.review(open_cast, decision)
    decision = legality.to_ready_for_meeting(open_cast, decision)
    decision = meeting.decide(open_cast, decision)
    decision = meeting.publish(open_cast, decision)
    assert decision.in_force_version == adjustment.new_draft_version
    assert DecisionAdjustment.objects.get(pk=adjustment.pk).closed_as == "ADOPTED"
    # Implementation of the adjusted text: a new IMPL record; the old one signed off as superseded.
    old_impl = decision.current_record(Stage.IMPL)
    decision = walk_impl.implement(open_cast, decision)
    old_impl.refresh_from_db()
    assert old_impl.status == StageStatus.DONE and old_impl.outcome == "SUPERSEDED"
    assert decision.current_record(Stage.IMPL).supersedes == old_impl


def test_an_adjustment_of_a_suspended_decision_keeps_the_suspension_until_the_adjusted_text_is_published(open_cast):
    decision = walk_impl.adjust(open_cast, walk_impl.suspend(open_cast, implementing(open_cast)))
    assert decision.state == "DRAFTING" and decision.suspended
    decision = redraft(open_cast, decision)
    decision = consultation.consult(open_cast, decision, expert=False, risk=False)
    decision = legality.review(open_cast, decision)
    decision = legality.to_ready_for_meeting(open_cast, decision)
    decision = meeting.publish(open_cast, meeting.decide(open_cast, decision))
    assert not decision.suspended
    assert Suspension.objects.get(decision=decision).ended_by == "ADJUSTED_PUBLISHED"


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"documents": []}, "DOSSIER_ITEM_MISSING"),
        ({"reason": ""}, "REASON_REQUIRED"),
        ({"draft": None}, "DOSSIER_ITEM_MISSING"),
    ],
)
def test_an_adjustment_without_its_decision_reason_or_draft_is_refused(open_cast, overrides, code):
    decision = implementing(open_cast)
    before = snapshot(decision)
    kwargs = {
        "reason": "情况变化",
        "draft": doc(DocumentType.DRAFT, "v2"),
        "documents": [doc(DocumentType.ADJUSTMENT_DECISION)],
        **overrides,
    }
    refused(lambda: svc.adjust(open_cast["GOV_OFFICE"], decision, **kwargs), code)
    assert snapshot(decision) == before


def test_a_decision_being_drafted_for_the_first_time_cannot_be_adjusted(open_cast):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    before = snapshot(decision)
    refused(lambda: walk_impl.adjust(open_cast, decision), "STATE_PREREQUISITE_MISSING")
    assert snapshot(decision) == before


def test_an_adjustment_keeps_the_catalogue_entry(cast):
    from catalog import walkthrough as catalog_walk
    from decisions.rules.facts import catalogue_entry

    decision = walk.propose(cast)
    catalog_walk.publish_catalogue(cast, decisions=[decision])
    decision = walk_impl.implement(cast, meeting.publish(cast, decided_from_listed(cast, decision)))
    entry = catalogue_entry(decision)
    decision = walk_impl.adjust(cast, decision)
    assert catalogue_entry(decision) == entry


def decided_from_listed(cast, decision):
    decision = walk.draft(cast, walk.initiate(cast, fresh(decision)))
    decision = consultation.consult(cast, decision)
    decision = legality.review(cast, decision)
    return meeting.decide(cast, legality.to_ready_for_meeting(cast, decision))


# -- T27b ---------------------------------------------------------------------------------------------------


def test_abandoning_an_adjustment_freezes_the_rerun_and_returns_to_implementing(open_cast):
    decision = redraft(open_cast, walk_impl.adjust(open_cast, implementing(open_cast)))
    consultation.comment(open_cast, decision)  # PP now IN_PROGRESS
    in_force = decision.in_force_version
    pp = decision.current_record(Stage.PP)
    decision = walk_impl.abandon_adjustment(open_cast, decision)
    assert decision.state == "IMPLEMENTING" and decision.in_force_version == in_force
    pp.refresh_from_db()
    assert pp.frozen_at is not None and pp.status == StageStatus.IN_PROGRESS
    for stage in (Stage.HEARING, Stage.EX, Stage.RA):
        assert decision.current_record(stage).frozen_at is not None
    assert decision.current_record(Stage.IMPL).frozen_at is None
    adjustment = DecisionAdjustment.objects.get(decision=decision)
    assert adjustment.closed_as == "ABANDONED" and adjustment.close_reason
    abandon = StageRecord.objects.filter(decision=decision, stage=Stage.ADJ).order_by("-id").first()
    assert abandon.outcome == "ABANDONED" and abandon.signoffs.exists()
    # P18: each co-unit gets a hand-over task for the frozen PP it worked on, none for never-reached records.
    assert {t.unit for t in decision.handover_tasks.filter(stage_record=pp)} == set(open_cast.co_units)
    assert not decision.handover_tasks.filter(stage_record__stage=Stage.EX, stage_record__frozen_at__isnull=False)
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk, action="dossier:frozen", object_id=str(pp.pk))


def test_abandoning_a_suspended_adjustment_returns_to_suspended(open_cast):
    decision = walk_impl.adjust(open_cast, walk_impl.suspend(open_cast, implementing(open_cast)))
    assert walk_impl.abandon_adjustment(open_cast, decision).state == "SUSPENDED"


def test_abandoning_closes_an_open_legality_round_without_opinion(open_cast):
    decision = consultation.consult(
        open_cast, redraft(open_cast, walk_impl.adjust(open_cast, implementing(open_cast))), expert=False, risk=False
    )
    decision = legality.submit(open_cast, decision)
    walk_impl.abandon_adjustment(open_cast, decision)
    review = LegalityReview.objects.filter(decision=decision).order_by("-round").first()
    assert review.outcome == "" and review.closed_without_opinion


@pytest.mark.parametrize(
    "overrides, code", [({"documents": []}, "DOSSIER_ITEM_MISSING"), ({"reason": ""}, "REASON_REQUIRED")]
)
def test_abandoning_needs_the_organs_decision_and_a_reason(open_cast, overrides, code):
    decision = walk_impl.adjust(open_cast, implementing(open_cast))
    before = snapshot(decision)
    kwargs = {"reason": "不再调整", "documents": [doc(DocumentType.ADJUSTMENT_DECISION)], **overrides}
    refused(lambda: svc.abandon_adjustment(open_cast["GOV_OFFICE"], decision, **kwargs), code)
    assert snapshot(decision) == before


def test_an_adjusted_draft_on_the_agenda_is_unscheduled_before_it_is_abandoned(open_cast):
    decision = redraft(open_cast, walk_impl.adjust(open_cast, implementing(open_cast)))
    decision = legality.to_ready_for_meeting(
        open_cast, legality.review(open_cast, consultation.consult(open_cast, decision, expert=False, risk=False))
    )
    decision = meeting.schedule(open_cast, decision)
    assert decision.state == "SCHEDULED"
    before = snapshot(decision)
    refusal = refused(lambda: walk_impl.abandon_adjustment(open_cast, decision), "STATE_PREREQUISITE_MISSING")
    assert "T19a" in refusal.failures[0].rule.zh
    assert snapshot(decision) == before


def test_a_first_run_decision_has_no_adjustment_to_abandon(open_cast):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    before = snapshot(decision)
    refused(lambda: walk_impl.abandon_adjustment(open_cast, decision), "STATE_PREREQUISITE_MISSING")
    assert snapshot(decision) == before


# -- T28 ----------------------------------------------------------------------------------------------------


def review_stop(cast, decision, outcome="LAWFUL", adviser=True, **overrides):
    if adviser:
        svc.add_stop_review_document(cast["LEGAL_ADVISER"], decision, doc(DocumentType.LEGAL_ADVISER_OPINION))
    kwargs = {
        "outcome": outcome,
        "authority": "本机关职权",
        "procedure": "程序合法",
        "content": "内容合法",
        "documents": [doc(DocumentType.LEGALITY_OPINION)],
        **overrides,
    }
    return svc.record_stop_legality_opinion(cast["LEGAL_REVIEWER"], decision, **kwargs)


def meet_on_stop(cast, decision, outcome="APPROVE", statements=None, meeting_obj=None, **overrides):
    kwargs = {
        "meeting": meeting_obj or walk_impl.stop_meeting(cast),
        "outcome": outcome,
        "statements": statements if statements is not None else walk_impl.stop_meeting_statements(cast, outcome),
        "documents": [doc(DocumentType.MINUTES)],
        **overrides,
    }
    return svc.record_stop_meeting_outcome(cast["GOV_OFFICE"], decision, **kwargs)


def stop_now(cast, decision, **overrides):
    kwargs = {"reason": "决策目标已无法实现", "documents": [doc(DocumentType.STOP_DECISION)], **overrides}
    return svc.stop(cast["GOV_OFFICE"], decision, **kwargs)


def test_a_stop_with_a_lawful_opinion_and_a_meetings_approval_stops_execution(open_cast):
    decision = walk_impl.suspend(open_cast, implementing(open_cast))
    decision = walk_impl.stop(open_cast, decision)
    assert decision.state == "STOPPED"
    assert decision.in_force_version is None and not decision.suspended and decision.first_report_due is None
    row = StopDecision.objects.get(decision=decision)
    assert row.legality_review.subject == "STOP" and row.legality_review.outcome == "LAWFUL"
    assert row.collective_outcome.outcome == "APPROVE" and row.collective_outcome.agenda_item.subject == "STOP"
    assert row.document.doc_type == DocumentType.STOP_DECISION
    stop_record = StageRecord.objects.get(decision=decision, stage=Stage.ADJ)
    assert stop_record.status == StageStatus.DONE and stop_record.outcome == "STOPPED"
    assert {d.doc_type for d in stop_record.documents.all()} >= {
        "LEGAL_ADVISER_OPINION",
        "LEGALITY_OPINION",
        "MINUTES",
        "STOP_DECISION",
    }
    impl = decision.current_record(Stage.IMPL)
    assert impl.status == StageStatus.DONE and impl.outcome == "STOPPED"
    assert Suspension.objects.get(decision=decision).ended_by == "STOP"
    # The stop's review and meeting are not the draft's: the legality and meeting areas ignore them.
    from decisions.rules import legality as legality_rules

    assert legality_rules.latest_opinion(decision).subject == "DRAFT"


def test_a_stop_without_its_legality_opinion_or_meeting_is_refused(open_cast):
    decision = implementing(open_cast)
    before = snapshot(decision)
    refusal = refused(lambda: stop_now(open_cast, decision), "ADJUSTMENT_REQUIRES_PROCEDURE")
    assert refusal.codes == ["ADJUSTMENT_REQUIRES_PROCEDURE", "ADJUSTMENT_REQUIRES_PROCEDURE"]
    assert snapshot(decision) == before
    review_stop(open_cast, decision)
    before = snapshot(decision)
    refusal = refused(lambda: stop_now(open_cast, decision), "ADJUSTMENT_REQUIRES_PROCEDURE")
    assert "会议" in refusal.failures[0].rule.zh
    assert snapshot(decision) == before


def test_a_stop_needs_its_decision_document_and_a_reason(open_cast):
    decision = implementing(open_cast)
    review_stop(open_cast, decision)
    meet_on_stop(open_cast, decision)
    before = snapshot(decision)
    refused(lambda: stop_now(open_cast, decision, documents=[]), "DOSSIER_ITEM_MISSING")
    refused(lambda: stop_now(open_cast, decision, reason=""), "REASON_REQUIRED")
    assert snapshot(decision) == before


@pytest.mark.parametrize(
    "overrides, adviser, code",
    [
        ({}, False, "LEGAL_ADVISER_OPINION_MISSING"),
        ({"content": ""}, True, "LEGALITY_OPINION_INCOMPLETE"),
        ({"outcome": "FINE"}, True, "LEGALITY_OPINION_INCOMPLETE"),
        ({"outcome": "EXPLORATORY_LEGAL_RISK_DISCLOSED"}, True, "EXPLORATORY_NOT_FLAGGED"),
        ({"documents": []}, True, "DOSSIER_ITEM_MISSING"),
    ],
)
def test_the_stops_legality_opinion_meets_t14s_guards(open_cast, overrides, adviser, code):
    decision = implementing(open_cast)
    if adviser:
        svc.add_stop_review_document(open_cast["LEGAL_ADVISER"], decision, doc(DocumentType.LEGAL_ADVISER_OPINION))
    before = snapshot(decision)
    refused(lambda: review_stop(open_cast, decision, adviser=False, **overrides), code)
    assert snapshot(decision) == before


def test_the_stops_meeting_comes_after_its_legality_review(open_cast):
    decision = implementing(open_cast)
    meeting_obj = walk_impl.stop_meeting(open_cast)
    before = snapshot(decision)
    refused(lambda: meet_on_stop(open_cast, decision, meeting_obj=meeting_obj), "LEGALITY_REVIEW_MISSING")
    assert snapshot(decision) == before


def test_a_stop_found_unlawful_is_not_discussed_and_cannot_be_taken(open_cast):
    decision = implementing(open_cast)
    review_stop(open_cast, decision, outcome="UNLAWFUL")
    meeting_obj = walk_impl.stop_meeting(open_cast)
    before = snapshot(decision)
    refused(lambda: meet_on_stop(open_cast, decision, meeting_obj=meeting_obj), "LEGALITY_UNLAWFUL")
    refused(lambda: stop_now(open_cast, decision), "ADJUSTMENT_REQUIRES_PROCEDURE")
    assert snapshot(decision) == before


def test_the_stops_meeting_meets_t20s_guards(open_cast):
    cast = open_cast
    decision = implementing(cast)
    review_stop(cast, decision)
    members, chief = cast.extra["members"], cast["CHIEF"]
    full = walk_impl.stop_meeting_statements(cast)
    whole = walk_impl.stop_meeting(cast)
    cases = [
        (
            {
                "meeting_obj": walk_impl.stop_meeting(cast, present=[chief, members[0]]),
                "statements": [full[0], full[-1]],
            },
            "QUORUM_NOT_MET",
        ),
        ({"meeting_obj": whole, "statements": full[1:]}, "MEMBER_STATEMENT_MISSING"),
        ({"meeting_obj": whole, "statements": [full[-1], *full[:-1]]}, "CHIEF_NOT_LAST"),
        (
            {"meeting_obj": whole, "statements": [{**s, "position": "REJECT"} for s in full[:-1]] + [full[-1]]},
            "CHIEF_REASON_MISSING",
        ),
        ({"meeting_obj": walk_impl.stop_meeting(cast, meeting_type="THEMATIC")}, "MEETING_TYPE_NOT_ALLOWED"),
        ({"meeting_obj": whole, "documents": []}, "DOSSIER_ITEM_MISSING"),
        ({"meeting_obj": whole, "outcome": "NO_OPINION"}, "DOSSIER_ITEM_MISSING"),
    ]
    before = snapshot(decision)
    for overrides, code in cases:
        refused(lambda o=overrides: meet_on_stop(cast, decision, **o), code)
        assert snapshot(decision) == before, code
    # With the chief's reason the chief may decide against the majority.
    differing = [{**s, "position": "REJECT"} for s in full[:-1]] + [full[-1]]
    result = meet_on_stop(cast, decision, meeting_obj=whole, statements=differing, chief_reason="情况紧急，必须停止")
    assert result.chief_differs_from_majority


def test_a_meetings_rejection_ends_the_stop_and_a_new_stop_needs_a_new_review(open_cast):
    decision = implementing(open_cast)
    review_stop(open_cast, decision)
    meet_on_stop(open_cast, decision, outcome="REJECT")
    first = StageRecord.objects.get(decision=decision, stage=Stage.ADJ)
    assert first.status == StageStatus.DONE and first.outcome == "STOP_NOT_APPROVED"
    refused(lambda: stop_now(open_cast, decision), "ADJUSTMENT_REQUIRES_PROCEDURE")
    review_stop(open_cast, decision)
    meet_on_stop(open_cast, decision)
    assert stop_now(open_cast, decision).state == "STOPPED"


def test_a_stop_under_way_can_be_dropped(open_cast):
    decision = implementing(open_cast)
    review_stop(open_cast, decision, outcome="UNLAWFUL")
    refused(lambda: svc.abandon_stop(open_cast["GOV_OFFICE"], decision, reason=""), "REASON_REQUIRED")
    svc.abandon_stop(open_cast["GOV_OFFICE"], decision, reason="审查认为停止执行不合法")
    record = StageRecord.objects.get(decision=decision, stage=Stage.ADJ)
    assert record.frozen_at is not None
    refused(lambda: svc.abandon_stop(open_cast["GOV_OFFICE"], decision, reason="x"), "STATE_PREREQUISITE_MISSING")


def test_a_stop_during_an_adjustments_rerun_freezes_the_rerun(open_cast):
    decision = redraft(
        open_cast, walk_impl.adjust(open_cast, walk_impl.post_evaluate(open_cast, implementing(open_cast)))
    )
    consultation.comment(open_cast, decision)
    decision = walk_impl.stop(open_cast, decision)
    assert decision.state == "STOPPED"
    assert decision.current_record(Stage.PP).frozen_at is not None
    assert DecisionAdjustment.objects.get(decision=decision).closed_as == "ABANDONED"
    assert not rules.open_records(decision, exclude=(Stage.ARC,)).exists()


def test_a_stop_during_post_evaluation_freezes_the_unfinished_evaluation(open_cast):
    decision = start_pe(open_cast, implementing(open_cast))
    decision = walk_impl.stop(open_cast, decision)
    record = decision.current_record(Stage.PE)
    assert record.frozen_at is not None
    assert PostEvaluation.objects.get(decision=decision).closed_at is not None


def test_a_first_run_decision_has_nothing_in_force_to_stop(open_cast):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    before = snapshot(decision)
    refused(lambda: review_stop(open_cast, decision), "STATE_PREREQUISITE_MISSING")
    refused(lambda: stop_now(open_cast, decision), "ADJUSTMENT_REQUIRES_PROCEDURE")
    assert snapshot(decision) == before


@pytest.mark.parametrize(
    "attempt",
    [
        lambda cast, d: walk_impl.suspend(cast, d),
        lambda cast, d: svc.record_execution_report(cast["EXECUTOR"], d, doc(DocumentType.EXECUTION_REPORT)),
        lambda cast, d: walk_impl.adjust(cast, d),
        lambda cast, d: walk_impl.implement(cast, d),
    ],
)
def test_a_stopped_decision_refuses_everything_but_archiving_as_closed(open_cast, attempt):
    decision = walk_impl.stop(open_cast, implementing(open_cast))
    before = snapshot(decision)
    refused(lambda: attempt(open_cast, decision), "DECISION_CLOSED")
    assert snapshot(decision) == before
    assert lifecycle.steps_from(decision.state) == ["T30"]


# -- who may do what ----------------------------------------------------------------------------------------

ALLOWED = {
    "start_implementation": {Role.GOV_OFFICE},
    "record_execution_report": {Role.EXECUTOR},
    "record_issue": {Role.EXECUTOR, Role.GOV_OFFICE},
    "suspend": {Role.CHIEF},
    "resume": {Role.CHIEF},
    "start_post_evaluation": {Role.GOV_OFFICE},
    "submit_post_evaluation_report": {Role.POST_EVALUATOR},
    "close_post_evaluation": {Role.GOV_OFFICE},
    "adjust": {Role.GOV_OFFICE},
    "abandon_adjustment": {Role.GOV_OFFICE},
    "add_stop_review_document": {Role.LEGAL_ADVISER, Role.LEGAL_REVIEWER},
    "record_stop_legality_opinion": {Role.LEGAL_REVIEWER},
    "record_stop_meeting_outcome": {Role.GOV_OFFICE},
    "abandon_stop": {Role.GOV_OFFICE},
    "stop": {Role.GOV_OFFICE},
    "end_without_catalogue": {Role.GOV_OFFICE},
    "record_implementation_closure": {Role.GOV_OFFICE},
    "archive": {Role.ARCHIVIST},
    "archive_after_implementation": {Role.ARCHIVIST},
    "decision_record": {
        Role.SUPERVISOR,
        Role.GOV_OFFICE,
        Role.CHIEF,
        Role.MEETING_MEMBER,
        Role.PARTY_LIAISON,
        Role.ARCHIVIST,
    },
}


def _call(name, cast, decision, user, meeting_obj=None):
    today = timezone.localdate()
    upload = doc(DocumentType.OTHER)
    calls = {
        "start_implementation": lambda: svc.start_implementation(
            user, decision, executor=cast.lead_unit, report_every_months=6, first_report_due=today
        ),
        "record_execution_report": lambda: svc.record_execution_report(user, decision, upload),
        "record_issue": lambda: svc.record_issue(user, decision, upload, situation="PROBLEM"),
        "suspend": lambda: svc.suspend(user, decision, situation="PROBLEM", urgent=True),
        "resume": lambda: svc.resume(user, decision, reason="x"),
        "start_post_evaluation": lambda: svc.start_post_evaluation(user, decision, trigger="1", evaluator=cast.office),
        "submit_post_evaluation_report": lambda: svc.submit_post_evaluation_report(user, decision, documents=[]),
        "close_post_evaluation": lambda: svc.close_post_evaluation(user, decision, conclusion="x"),
        "adjust": lambda: svc.adjust(user, decision, reason="x", draft=None),
        "abandon_adjustment": lambda: svc.abandon_adjustment(user, decision, reason="x"),
        "add_stop_review_document": lambda: svc.add_stop_review_document(user, decision, upload),
        "record_stop_legality_opinion": lambda: svc.record_stop_legality_opinion(
            user, decision, outcome="LAWFUL", authority="a", procedure="p", content="c"
        ),
        "record_stop_meeting_outcome": lambda: svc.record_stop_meeting_outcome(
            user, decision, meeting=meeting_obj, outcome="APPROVE", statements=[]
        ),
        "abandon_stop": lambda: svc.abandon_stop(user, decision, reason="x"),
        "stop": lambda: svc.stop(user, decision, reason="x"),
        "end_without_catalogue": lambda: svc.end_without_catalogue(user, decision, reason="x"),
        "record_implementation_closure": lambda: svc.record_implementation_closure(user, decision, reason="COMPLETED"),
        "archive": lambda: svc.archive(user, decision),
        "archive_after_implementation": lambda: svc.archive_after_implementation(user, decision),
        "decision_record": lambda: decision_record(user, decision),
    }
    return calls[name]()


@pytest.mark.parametrize("role", list(Role.values))
@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_only_the_roles_of_the_table_pass_the_gate(open_cast, name, role):
    decision = walk.propose(open_cast)
    user = AnonymousUser() if role == Role.PUBLIC else open_cast[role]
    meeting_obj = walk_impl.stop_meeting(open_cast) if name == "record_stop_meeting_outcome" else None
    events = record_events().count()
    if role in ALLOWED[name]:
        try:
            _call(name, open_cast, decision, user, meeting_obj)
        except NotPermitted:  # pragma: no cover - the failure message names the role
            pytest.fail(f"{role} must pass the gate of {name}")
        except ProcedureRefused:
            pass
    else:
        with pytest.raises(NotPermitted):
            _call(name, open_cast, decision, user, meeting_obj)
        assert record_events().count() == events
