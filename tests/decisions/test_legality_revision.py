"""After the opinion: revision, new rounds, re-run procedures, confirmation and the meeting package (T15–T18; B7)."""

from datetime import date

import pytest

from decisions.models import (
    AuditEvent,
    Document,
    DocumentType,
    DraftVersion,
    LegalityReview,
    RiskAssessment,
    SignOff,
    Stage,
    StageRecord,
    StageStatus,
)
from decisions.rules import ProcedureRefused
from decisions.rules import legality as rules
from decisions.services import consultation as consultation_services
from decisions.services import documents, legality, meeting
from decisions.walkthrough import consultation, doc
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import legality as lr
from tests.records import record_events

Outcome = LegalityReview.Outcome


@pytest.fixture
def reviewed(open_cast):
    """Return a factory: a decision through legality review with the given outcome (LEGAL_REVIEW_DONE or REVISING)."""

    def make(outcome=Outcome.LAWFUL, risk_level="LOW", **answers):
        decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)), answers or None)
        consultation.consult(open_cast, decision, risk_level=risk_level)
        decision.refresh_from_db()
        lr.review(open_cast, decision, outcome, received_on=date(2025, 4, 7))
        decision.refresh_from_db()
        return decision

    return make


def snapshot(decision):
    decision.refresh_from_db()
    return (
        decision.state,
        StageRecord.objects.filter(decision=decision).count(),
        DraftVersion.objects.filter(decision=decision).count(),
        list(
            DraftVersion.objects.filter(decision=decision).values_list(
                "substantive_change", "implements_opinion", "substantive_change_reason"
            )
        ),
        list(LegalityReview.objects.filter(decision=decision).values_list("round", "outcome", "stale_marked_at")),
        Document.objects.filter(decision=decision).count(),
        SignOff.objects.filter(decision=decision).count(),
        record_events().count(),
    )


def refused(fn, *args, **kwargs):
    with pytest.raises(ProcedureRefused) as caught:
        fn(*args, **kwargs)
    return caught.value


def new_draft(cast, decision, label="v-next"):
    return documents.add_draft_version(
        cast["UNDERTAKING_LEAD"], decision, doc(DocumentType.DRAFT, label), change_summary="根据审查意见修改"
    )


def assess(cast, decision, substantive=False, implements=True, **kwargs):
    return legality.record_draft_assessment(
        cast["LEGAL_REVIEWER"],
        decision,
        substantive_change=substantive,
        implements_opinion=implements,
        reason="仅作文字调整",
        **kwargs,
    )


def confirm(cast, decision, statement=True):
    uploads = [doc(DocumentType.MODIFICATION_STATEMENT, "修改情况说明")] if statement else []
    return legality.confirm_modifications(cast["UNDERTAKING_LEAD"], decision, documents=uploads)


def proceed(cast, decision):
    return legality.proceed_to_meeting(cast["UNDERTAKING_LEAD"], decision)


def resubmit_round(cast, decision, received_on=date(2025, 5, 6)):
    return legality.resubmit_new_round(
        cast["UNDERTAKING_LEAD"], decision, documents=lr.submission(decision), received_on=received_on
    )


# -- T18 ----------------------------------------------------------------------------------------------


def test_a_lawful_opinion_on_the_current_draft_goes_to_the_meeting(open_cast, reviewed):
    decision = proceed(open_cast, reviewed())
    assert decision.state == "READY_FOR_MEETING"


def test_a_draft_changed_after_the_opinion_makes_it_stale(open_cast, reviewed):
    decision = reviewed()
    new_draft(open_cast, decision)
    before = snapshot(decision)
    error = refused(proceed, open_cast, decision)
    assert error.codes == ["LEGALITY_OPINION_STALE"]
    assert "第二十七条" in error.failures[0].rule.citation
    assert snapshot(decision) == before


def test_an_opinion_marked_stale_by_the_reviewer_blocks_the_meeting(open_cast, reviewed):
    decision = reviewed()
    opinion = legality.mark_opinion_stale(open_cast["LEGAL_REVIEWER"], decision, reason="上位法已修订")
    assert (opinion.stale_reason, opinion.stale_marked_by) == ("上位法已修订", open_cast["LEGAL_REVIEWER"])
    assert refused(proceed, open_cast, decision).codes == ["LEGALITY_OPINION_STALE"]


def test_a_risk_assessment_marked_stale_blocks_the_meeting(open_cast, reviewed):
    decision = reviewed()
    consultation_services.mark_assessment_stale(open_cast["RISK_ASSESSOR"], decision, reason="实施条件发生变化")
    before = snapshot(decision)
    assert refused(proceed, open_cast, decision).codes == ["RISK_ASSESSMENT_STALE"]
    assert snapshot(decision) == before


def test_the_meeting_package_needs_the_legality_opinion_document(open_cast, reviewed):
    decision = reviewed()
    opinion_doc = rules.latest_opinion(decision).stage_record.documents.get(doc_type=DocumentType.LEGALITY_OPINION)
    documents.supersede(open_cast["LEGAL_REVIEWER"], opinion_doc, doc(DocumentType.OTHER, "误传"), reason="上传错误")
    error = refused(proceed, open_cast, decision)
    assert error.codes == ["MEETING_PACKAGE_INCOMPLETE"]
    assert error.failures[0].rule.name == "package_legality_opinion"


def test_scenario_39_an_exploratory_decision_goes_to_the_meeting_with_its_legal_risk_disclosed(open_cast, reviewed):
    decision = reviewed(Outcome.EXPLORATORY_LEGAL_RISK_DISCLOSED)
    assert decision.exploratory_reform is True
    proceed(open_cast, decision)
    decision.refresh_from_db()
    assert decision.state == "READY_FOR_MEETING"
    package = legality.meeting_package(decision)
    assert package["legal_risk_statement"] == lr.LEGAL_RISK
    assert package["legality_opinion"].outcome == Outcome.EXPLORATORY_LEGAL_RISK_DISCLOSED
    assert [d.doc_type for d in package["legality_opinion_documents"]] == ["LEGALITY_OPINION"]


def test_the_meeting_package_lists_the_29th_article_items(open_cast, reviewed):
    decision = reviewed(market_affecting=True)
    package = legality.meeting_package(decision)
    assert package["draft"] == decision.current_draft
    assert [d.doc_type for d in package["pp_adoption"]] == ["ADOPTION_STATEMENT"]
    assert [d.doc_type for d in package["ex_adoption"]] == ["EXPERT_ADOPTION_STATEMENT"]
    assert [d.doc_type for d in package["risk_report"]] == ["RISK_REPORT"]
    assert [d.doc_type for d in package["fair_competition"]] == ["FAIR_COMPETITION_REVIEW"]


# -- scenario 36: UNLAWFUL ------------------------------------------------------------------------------


def test_scenario_36_an_unlawful_draft_cannot_be_marked_ready_and_needs_a_new_round(open_cast, reviewed):
    decision = reviewed(Outcome.UNLAWFUL)
    assert decision.state == "REVISING"
    before = snapshot(decision)
    assert refused(proceed, open_cast, decision).code == "LEGALITY_UNLAWFUL"
    assert refused(confirm, open_cast, decision).code == "LEGALITY_UNLAWFUL"
    # Resubmitting the version found unlawful is refused.
    assert refused(resubmit_round, open_cast, decision).codes == ["LEGALITY_UNLAWFUL"]
    assert snapshot(decision) == before
    new_draft(open_cast, decision)
    assess(open_cast, decision, substantive=True)
    resubmit_round(open_cast, decision)
    decision.refresh_from_db()
    assert decision.state == "LEGAL_REVIEW_SUBMITTED"
    rounds = StageRecord.objects.filter(decision=decision, stage=Stage.LR).order_by("id")
    assert [(r.round, r.status) for r in rounds] == [(1, StageStatus.DONE), (2, StageStatus.IN_PROGRESS)]
    assert rounds[1].supersedes == rounds[0]
    assert rounds[1].draft_version.number == 2
    legality.accept_submission(open_cast["LEGAL_REVIEWER"], decision)
    lr.issue(open_cast, decision, Outcome.LAWFUL)
    assert rules.latest_opinion(decision).round == 2
    assert legality.review_clock(decision, date(2025, 5, 20))[1] == date(2025, 5, 6)  # the new round's clock
    assert proceed(open_cast, decision).state == "READY_FOR_MEETING"


def test_a_new_round_needs_a_new_draft_version(open_cast, reviewed):
    decision = reviewed(Outcome.LAWFUL_WITH_MODIFICATIONS)
    before = snapshot(decision)
    assert refused(resubmit_round, open_cast, decision).codes == ["DOSSIER_ITEM_MISSING"]
    assert snapshot(decision) == before


def test_an_opinion_its_author_marked_stale_may_be_reviewed_again_on_the_same_draft(open_cast, reviewed):
    decision = reviewed(Outcome.LAWFUL_WITH_MODIFICATIONS)
    legality.mark_opinion_stale(open_cast["LEGAL_REVIEWER"], decision, reason="上位法已修订")
    resubmit_round(open_cast, decision)
    assert rules.current_review(decision).round == 2


def test_a_new_round_carries_the_t10_submission_contents(open_cast, reviewed):
    decision = reviewed(Outcome.UNLAWFUL)
    new_draft(open_cast, decision)
    uploads = [u for u in lr.submission(decision) if u.doc_type != DocumentType.PROCEDURE_STATEMENT]
    error = refused(legality.resubmit_new_round, open_cast["UNDERTAKING_LEAD"], decision, documents=uploads)
    assert error.codes == ["PROCEDURE_STATEMENT_MISSING"]


# -- scenario 37 and T17 ----------------------------------------------------------------------------------


def test_scenario_37_a_confirmed_modification_goes_to_the_meeting_without_a_new_round(open_cast, reviewed):
    decision = reviewed(Outcome.LAWFUL_WITH_MODIFICATIONS)
    version = new_draft(open_cast, decision, "v2")
    assess(open_cast, decision)
    version.refresh_from_db()
    assert (version.substantive_change, version.implements_opinion, version.assessed_by) == (
        False,
        True,
        open_cast["LEGAL_REVIEWER"],
    )
    confirm(open_cast, decision)
    decision.refresh_from_db()
    assert decision.state == "READY_FOR_MEETING"
    event = AuditEvent.objects.get(decision_id_ref=decision.pk, action="transition:T17")
    assert event.payload["clause"] == "a"
    assert Document.objects.filter(decision=decision, doc_type=DocumentType.MODIFICATION_STATEMENT).count() == 1
    assert StageRecord.objects.filter(decision=decision, stage=Stage.LR).count() == 1
    assert not rules.opinion_stale(decision)  # a confirmed modification keeps the opinion current


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("no_new_draft", "MODIFICATION_NOT_CONFIRMED"),
        ("not_assessed", "MODIFICATION_NOT_CONFIRMED"),
        ("substantive", "MODIFICATION_NOT_CONFIRMED"),
        ("not_implemented", "MODIFICATION_NOT_CONFIRMED"),
        ("no_statement", "DOSSIER_ITEM_MISSING"),
        ("opinion_stale", "LEGALITY_OPINION_STALE"),
        ("risk_stale", "RISK_ASSESSMENT_STALE"),
    ],
)
def test_a_modification_is_confirmed_only_as_b5_t17_says(open_cast, reviewed, setup, code):
    decision = reviewed(Outcome.LAWFUL_WITH_MODIFICATIONS)
    if setup != "no_new_draft":
        new_draft(open_cast, decision)
    if setup not in ("no_new_draft", "not_assessed"):
        assess(open_cast, decision, substantive=setup == "substantive", implements=setup != "not_implemented")
    if setup == "opinion_stale":
        legality.mark_opinion_stale(open_cast["LEGAL_REVIEWER"], decision, reason="上位法已修订")
    if setup == "risk_stale":
        consultation_services.mark_assessment_stale(open_cast["RISK_ASSESSOR"], decision, reason="情况变化")
    before = snapshot(decision)
    error = refused(confirm, open_cast, decision, statement=setup != "no_statement")
    assert error.code == code
    assert snapshot(decision) == before


def test_t17_clause_b_after_a_pull_back_needs_a_new_version_recorded_as_not_substantive(open_cast, reviewed):
    decision = reviewed()
    meeting.pull_back_for_revision(open_cast["GOV_OFFICE"], decision, reason="会前需调整实施日期表述")
    assert legality.revising_entry(decision)[0] == "T20b"
    assert refused(confirm, open_cast, decision).code == "MODIFICATION_NOT_CONFIRMED"
    new_draft(open_cast, decision)
    assess(open_cast, decision, implements=None)
    confirm(open_cast, decision)
    decision.refresh_from_db()
    assert decision.state == "READY_FOR_MEETING"
    assert AuditEvent.objects.get(decision_id_ref=decision.pk, action="transition:T17").payload["clause"] == "b"


def test_t17_clause_b_is_refused_while_the_risk_is_high(open_cast, reviewed):
    decision = reviewed(risk_level="HIGH")
    meeting.pull_back_for_revision(open_cast["GOV_OFFICE"], decision, reason="风险等级为高")
    new_draft(open_cast, decision)
    assess(open_cast, decision, implements=None)
    before = snapshot(decision)
    error = refused(confirm, open_cast, decision)
    assert error.codes == ["RISK_NOT_CONTROLLABLE", "MODIFICATION_NOT_CONFIRMED"]
    assert snapshot(decision) == before


def test_clause_b_does_not_apply_after_an_opinion_asking_for_changes(open_cast, reviewed):
    decision = reviewed(Outcome.LAWFUL_WITH_MODIFICATIONS)
    new_draft(open_cast, decision)
    assess(open_cast, decision, implements=False)  # not substantive, but the opinion is not implemented
    assert refused(confirm, open_cast, decision).code == "MODIFICATION_NOT_CONFIRMED"


# -- the reviewer's assessment and stale marking -------------------------------------------------------


def test_a_change_touching_an_article_27_item_must_be_recorded_as_substantive(open_cast, reviewed):
    decision = reviewed(Outcome.LAWFUL_WITH_MODIFICATIONS)
    new_draft(open_cast, decision)
    before = snapshot(decision)
    error = refused(assess, open_cast, decision, substantive=False, touches_article_27=True)
    assert error.code == "LEGALITY_OPINION_STALE"
    assert snapshot(decision) == before
    version = assess(open_cast, decision, substantive=True, touches_article_27=True)
    assert version.substantive_change is True
    # A substantive change needs a new round: T17 is refused.
    assert refused(confirm, open_cast, decision).code == "MODIFICATION_NOT_CONFIRMED"


def test_only_a_version_made_after_the_opinion_can_be_assessed(open_cast, reviewed):
    decision = reviewed(Outcome.LAWFUL_WITH_MODIFICATIONS)
    before = snapshot(decision)
    assert refused(assess, open_cast, decision).code == "DOSSIER_ITEM_MISSING"
    assert snapshot(decision) == before


def test_an_assessment_needs_a_reason(open_cast, reviewed):
    decision = reviewed(Outcome.LAWFUL_WITH_MODIFICATIONS)
    new_draft(open_cast, decision)
    error = refused(
        legality.record_draft_assessment, open_cast["LEGAL_REVIEWER"], decision, substantive_change=False, reason=""
    )
    assert error.code == "REASON_REQUIRED"


def test_a_draft_is_assessed_only_while_revising(open_cast, reviewed):
    decision = reviewed()
    new_draft(open_cast, decision)
    assert refused(assess, open_cast, decision).code == "STATE_PREREQUISITE_MISSING"


def test_marking_an_opinion_stale_needs_a_reason_and_an_opinion(open_cast, reviewed):
    decision = reviewed()
    before = snapshot(decision)
    assert refused(legality.mark_opinion_stale, open_cast["LEGAL_REVIEWER"], decision, reason="").code == (
        "REASON_REQUIRED"
    )
    assert snapshot(decision) == before
    legality.mark_opinion_stale(open_cast["LEGAL_REVIEWER"], decision, reason="上位法已修订")
    assert refused(legality.mark_opinion_stale, open_cast["LEGAL_REVIEWER"], decision, reason="再次").code == (
        "LEGALITY_OPINION_STALE"
    )


def test_an_opinion_cannot_be_marked_stale_before_it_exists(open_cast):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    error = refused(legality.mark_opinion_stale, open_cast["LEGAL_REVIEWER"], decision, reason="x")
    assert error.code == "LEGALITY_REVIEW_MISSING"


# -- T16a -----------------------------------------------------------------------------------------------


def test_rerunning_the_risk_assessment_resets_it_and_keeps_the_others_with_their_justification(open_cast, reviewed):
    decision = reviewed(Outcome.UNLAWFUL)
    old = {stage: decision.current_record(stage) for stage in rules.SUB_STAGES}
    legality.rerun_procedures(
        open_cast["UNDERTAKING_LEAD"],
        decision,
        rerun_stages=["RA"],
        keep_justification="修改未涉及公众参与和专家论证的事项",
        draft=doc(DocumentType.DRAFT, "v2"),
        reason="根据审查意见调整实施方案",
    )
    decision.refresh_from_db()
    assert decision.state == "CONSULTATION"
    ra = decision.current_record(Stage.RA)
    assert (ra.status, ra.supersedes, ra.reopen_reason) == (
        StageStatus.PENDING,
        old[Stage.RA],
        "根据审查意见调整实施方案",
    )
    for stage in (Stage.PP, Stage.HEARING, Stage.EX):
        assert decision.current_record(stage) == old[stage]
    version = decision.current_draft
    assert version.number == 2
    assert version.kept_closures == dict.fromkeys(["PP", "HEARING", "EX"], "修改未涉及公众参与和专家论证的事项")
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk, action="stage:keep").count() == 3
    # The re-run assessment, then a new round (T10) numbered 2.
    consultation.assess_risk(open_cast, decision)
    decision.refresh_from_db()
    lr.review(open_cast, decision, received_on=date(2025, 5, 6))
    assert [r.round for r in LegalityReview.objects.filter(decision=decision)] == [1, 2]
    assert rules.latest_opinion(decision).draft_version.number == 2


def test_rerunning_public_participation_reruns_its_hearing(open_cast, reviewed):
    decision = reviewed(Outcome.UNLAWFUL)
    legality.rerun_procedures(
        open_cast["UNDERTAKING_LEAD"],
        decision,
        rerun_stages=["PP"],
        keep_justification={"EX": "专家论证结论不受影响", "RA": "风险未变化"},
        draft=doc(DocumentType.DRAFT, "v2"),
    )
    assert {s: decision.current_record(s).status for s in rules.SUB_STAGES} == {
        "PP": "PENDING",
        "HEARING": "PENDING",
        "EX": "DONE",
        "RA": "DONE",
    }


@pytest.mark.parametrize(
    ("kwargs", "code", "name"),
    [
        ({"draft": None}, "DOSSIER_ITEM_MISSING", "rerun_draft_given"),
        ({"keep_justification": {"PP": "x", "HEARING": "x", "EX": ""}}, "REASON_REQUIRED", "keep_ex_justified"),
    ],
)
def test_rerunning_needs_a_new_draft_and_a_justification_for_each_kept_stage(open_cast, reviewed, kwargs, code, name):
    decision = reviewed(Outcome.UNLAWFUL)
    before = snapshot(decision)
    options = {
        "rerun_stages": ["RA"],
        "keep_justification": "不受影响",
        "draft": doc(DocumentType.DRAFT, "v2"),
        **kwargs,
    }
    error = refused(legality.rerun_procedures, open_cast["UNDERTAKING_LEAD"], decision, **options)
    assert (error.code, error.failures[0].rule.name) == (code, name)
    assert snapshot(decision) == before


def test_only_consultation_sub_stages_can_be_rerun(open_cast, reviewed):
    decision = reviewed(Outcome.UNLAWFUL)
    with pytest.raises(ValueError):
        legality.rerun_procedures(
            open_cast["UNDERTAKING_LEAD"],
            decision,
            rerun_stages=["LR"],
            keep_justification="x",
            draft=doc(DocumentType.DRAFT, "v2"),
        )


def test_rerunning_from_a_returned_submission_freezes_the_open_round_without_an_opinion(open_cast):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    consultation.consult(open_cast, decision)
    decision.refresh_from_db()
    lr.submit(open_cast, decision, received_on=date(2025, 4, 1))
    legality.return_submission(open_cast["LEGAL_REVIEWER"], decision, reason="目录调整新增听证要求，须重新履行程序")
    legality.rerun_procedures(
        open_cast["UNDERTAKING_LEAD"],
        decision,
        rerun_stages=["PP"],
        keep_justification="不受影响",
        draft=doc(DocumentType.DRAFT, "v2"),
    )
    decision.refresh_from_db()
    assert decision.state == "CONSULTATION"
    review = LegalityReview.objects.get(decision=decision, round=1)
    assert review.closed_without_opinion
    assert review.outcome == ""
    assert review.stage_record.frozen_at is not None
    assert review.stage_record.status == StageStatus.IN_PROGRESS  # frozen, not closed (B10)
    consultation.participate(open_cast, decision)
    decision.refresh_from_db()
    lr.submit(open_cast, decision, received_on=date(2025, 5, 6))
    assert rules.current_review(decision).round == 2


def test_a_risk_assessment_after_a_high_one_counts_only_on_a_later_draft(open_cast):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    consultation.consult(open_cast, decision, risk_level="HIGH")
    high = RiskAssessment.objects.get(decision=decision)
    # Re-assessed on the same draft (T6c): the HIGH rating still counts (P5).
    consultation_services.reopen(
        open_cast["UNDERTAKING_LEAD"], decision, Stage.RA, reason="重新评估", stale_result="评估依据的数据已更新"
    )
    consultation.assess_risk(open_cast, decision, level="LOW")
    assert RiskAssessment.objects.filter(decision=decision).count() == 2
    assert rules.effective_risk_assessment(decision) == high
    # A new round after a pull-back and a re-run on a later draft: the LOW rating now counts.
    lr.review(open_cast, decision, received_on=date(2025, 4, 7))
    meeting.pull_back_for_revision(open_cast["GOV_OFFICE"], decision, reason="风险等级为高，修改草案并重新评估")
    legality.rerun_procedures(
        open_cast["UNDERTAKING_LEAD"],
        decision,
        rerun_stages=["RA"],
        keep_justification="不受影响",
        draft=doc(DocumentType.DRAFT, "v2"),
    )
    consultation.assess_risk(open_cast, decision, level="LOW")
    latest = RiskAssessment.objects.filter(decision=decision).order_by("-id").first()
    assert latest.draft_version.number == 2
    assert rules.effective_risk_assessment(decision) == latest


# -- the walkthrough ------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", list(Outcome.values))
def test_the_walkthrough_reaches_ready_for_meeting_from_every_outcome(open_cast, reviewed, outcome):
    decision = reviewed(outcome)
    decision = lr.to_ready_for_meeting(open_cast, decision)
    assert decision.state == "READY_FOR_MEETING"
    assert not rules.opinion_stale(decision)
