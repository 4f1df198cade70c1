"""Legality review: submission, intake, returns, the opinion and the clock (T10–T14; 第二十五条至第二十八条)."""

from datetime import date

import pytest
from django.utils import timezone

from decisions import calendar
from decisions.models import (
    AuditEvent,
    Document,
    DocumentType,
    LegalityReview,
    Organisation,
    Role,
    RoleAssignment,
    SignOff,
    Stage,
    StageRecord,
    StageStatus,
)
from decisions.rules import Context, ProcedureRefused
from decisions.rules import legality as rules
from decisions.services import documents, legality
from decisions.walkthrough import doc
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import legality as lr
from tests.records import record_events

Outcome = LegalityReview.Outcome


@pytest.fixture
def in_consultation(open_cast):
    """Return a factory: a decision in CONSULTATION, with its sub-stages still open."""

    def make(**answers):
        decision = walk.initiate(open_cast, walk.propose(open_cast))
        return walk.draft(open_cast, decision, answers or None)

    return make


@pytest.fixture
def consulted(open_cast, in_consultation):
    """Return a factory: a decision in CONSULTATION with PP, HEARING, EX and RA closed."""
    from decisions.walkthrough import consultation

    def make(**answers):
        decision = in_consultation(**answers)
        consultation.consult(open_cast, decision)
        decision.refresh_from_db()
        return decision

    return make


def snapshot(decision):
    """What a refusal must leave untouched."""
    decision.refresh_from_db()
    return (
        decision.state,
        decision.exploratory_reform,
        StageRecord.objects.filter(decision=decision).count(),
        list(
            LegalityReview.objects.filter(decision=decision).values_list(
                "round", "submitted_on", "complete_on", "returned_on", "outcome"
            )
        ),
        Document.objects.filter(decision=decision).count(),
        SignOff.objects.filter(decision=decision).count(),
        record_events().count(),
    )


def refused(fn, *args, **kwargs):
    with pytest.raises(ProcedureRefused) as caught:
        fn(*args, **kwargs)
    return caught.value


def submit(cast, decision, *, without=(), received_on=date(2025, 4, 7), **kwargs):
    uploads = [u for u in lr.submission(decision) if u.doc_type not in without]
    return legality.submit_for_legality_review(
        cast["UNDERTAKING_LEAD"], decision, documents=uploads, received_on=received_on, **kwargs
    )


def advise(cast, decision, user=None):
    return documents.upload(
        user or cast["LEGAL_ADVISER"],
        decision,
        Stage.LR,
        doc(DocumentType.LEGAL_ADVISER_OPINION, "法律意见", signed=True),
    )


def issue(cast, decision, outcome=Outcome.LAWFUL, user=None, **overrides):
    fields = {
        **lr.OPINION_TEXTS,
        "outcome": outcome,
        "documents": [doc(DocumentType.LEGALITY_OPINION, "审查意见书", sealed=True)],
        **overrides,
    }
    return legality.issue_legality_opinion(user or cast["LEGAL_REVIEWER"], decision, **fields)


def in_review(cast, decision, received_on=date(2025, 4, 7)):
    submit(cast, decision, received_on=received_on)
    legality.accept_submission(cast["LEGAL_REVIEWER"], decision)
    advise(cast, decision)
    return decision


# -- T10 ----------------------------------------------------------------------------------------------


def test_submission_opens_round_one_with_its_record_and_review_pinned_to_the_current_draft(open_cast, consulted):
    decision = submit(open_cast, consulted())
    assert decision.state == "LEGAL_REVIEW_SUBMITTED"
    record = decision.current_record(Stage.LR)
    assert (record.round, record.status, record.draft_version.number) == (1, StageStatus.IN_PROGRESS, 1)
    review = record.legality_review
    assert review.round == 1
    assert review.reviewer_dept == open_cast.justice
    assert review.submitted_on == date(2025, 4, 7)
    assert review.complete_on is None
    assert review.draft_version == decision.current_draft
    assert set(record.documents.values_list("doc_type", flat=True)) == {
        "SUBMISSION_LETTER",
        "LEGAL_BASIS_LIST",
        "PROCEDURE_STATEMENT",
    }
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk, action="transition:T10").count() == 1
    submitted = AuditEvent.objects.get(decision_id_ref=decision.pk, action="legality:submit")
    pins = {e["stage"]: (e["status"], e["draft_version"]) for e in submitted.payload["procedure_statement"]}
    assert pins == {"PP": ("DONE", 1), "HEARING": ("NOT_TRIGGERED", 1), "EX": ("DONE", 1), "RA": ("DONE", 1)}


def test_the_receipt_date_defaults_to_today_in_shanghai(open_cast, consulted):
    decision = consulted()
    legality.submit_for_legality_review(open_cast["UNDERTAKING_LEAD"], decision, documents=lr.submission(decision))
    assert rules.current_review(decision).submitted_on == calendar.localdate(timezone.now())


def test_a_receipt_date_in_the_future_is_refused(open_cast, consulted):
    decision = consulted()
    before = snapshot(decision)
    error = refused(submit, open_cast, decision, received_on=date(2999, 1, 1))
    assert error.code == "RECEIPT_DATE_INVALID"
    assert snapshot(decision) == before


def test_submission_with_every_sub_stage_open_names_all_four(open_cast, in_consultation):
    decision = in_consultation()
    before = snapshot(decision)
    error = refused(submit, open_cast, decision)
    assert error.codes == ["PRIOR_STAGES_INCOMPLETE"] * 4
    assert [f.rule.name for f in error.failures] == [
        "prior_pp_closed",
        "prior_hearing_closed",
        "prior_ex_closed",
        "prior_ra_closed",
    ]
    assert snapshot(decision) == before


def test_scenario_26_an_expert_review_still_running_blocks_submission_under_any_order(cast_factory, profile_variant):
    """Scenario 26: consultation_order "any"; PP DONE, EX IN_PROGRESS, RA DONE → PRIOR_STAGES_INCOMPLETE."""
    from decisions.services import consultation as services
    from decisions.walkthrough import consultation

    cast = cast_factory(profile=profile_variant("huzhou", catalogue_required=False, consultation_order="any").code)
    decision = walk.draft(cast, walk.initiate(cast, walk.propose(cast)))
    consultation.participate(cast, decision)
    consultation.assess_risk(cast, decision)
    services.open_substage(cast["UNDERTAKING_LEAD"], decision, Stage.EX)
    assert decision.current_record(Stage.EX).status == StageStatus.IN_PROGRESS
    assert decision.current_record(Stage.PP).status == StageStatus.DONE
    assert decision.current_record(Stage.RA).status == StageStatus.DONE
    before = snapshot(decision)
    error = refused(submit, cast, decision)
    assert error.codes == ["PRIOR_STAGES_INCOMPLETE"]
    assert error.failures[0].rule.name == "prior_ex_closed"
    assert snapshot(decision) == before


@pytest.mark.parametrize(
    ("missing", "code"),
    [
        (DocumentType.LEGAL_BASIS_LIST, "DOSSIER_ITEM_MISSING"),
        (DocumentType.PROCEDURE_STATEMENT, "PROCEDURE_STATEMENT_MISSING"),
        (DocumentType.SUBMISSION_LETTER, "DOSSIER_ITEM_MISSING"),
    ],
)
def test_a_submission_missing_an_item_is_refused_and_nothing_is_written(open_cast, consulted, missing, code):
    decision = consulted()
    before = snapshot(decision)
    error = refused(submit, open_cast, decision, without=[missing])
    assert error.codes == [code]
    assert snapshot(decision) == before


def test_a_submission_to_another_department_is_a_request_for_comments_not_a_review(open_cast, consulted):
    decision = consulted()
    before = snapshot(decision)
    error = refused(submit, open_cast, decision, reviewer=open_cast.office)
    assert error.codes == ["LEGALITY_REVIEW_REPLACED_BY_COMMENT"]
    assert "第二十五条" in error.failures[0].rule.citation
    assert snapshot(decision) == before


def test_an_organ_without_a_legality_review_department_cannot_submit(open_cast, consulted):
    decision = consulted()
    Organisation.objects.filter(pk=open_cast.organ.pk).update(legality_review_dept=None)
    error = refused(submit, open_cast, decision)
    assert error.codes == ["LEGALITY_REVIEW_REPLACED_BY_COMMENT"]


def test_a_market_affecting_draft_needs_its_fair_competition_review_at_submission(open_cast, consulted):
    decision = consulted(market_affecting=True)
    before = snapshot(decision)
    error = refused(submit, open_cast, decision, without=[DocumentType.FAIR_COMPETITION_REVIEW])
    assert error.codes == ["FAIR_COMPETITION_REVIEW_MISSING"]
    assert "第二十九条" in error.failures[0].rule.citation
    assert snapshot(decision) == before
    submit(open_cast, decision)
    assert decision.current_record(Stage.LR).documents.filter(doc_type="FAIR_COMPETITION_REVIEW").exists()


def test_flagging_an_exploratory_reform_at_submission_needs_its_statement(open_cast, consulted):
    decision = consulted()
    before = snapshot(decision)
    error = refused(submit, open_cast, decision, exploratory_reform=True)
    assert error.codes == ["REASON_REQUIRED"]
    assert snapshot(decision) == before
    uploads = lr.submission(decision, exploratory=True)
    legality.submit_for_legality_review(
        open_cast["UNDERTAKING_LEAD"],
        decision,
        documents=uploads,
        received_on=date(2025, 4, 7),
        exploratory_reform=True,
        exploratory_statement="国家尚无明确规定",
    )
    decision.refresh_from_db()
    assert decision.exploratory_reform is True
    assert decision.exploratory_statement == "国家尚无明确规定"


# -- T11, T12, T13, T13a -------------------------------------------------------------------------------


def test_scenario_34_a_return_and_resubmission_restarts_the_clock_from_the_new_receipt_date(open_cast, consulted):
    decision = submit(open_cast, consulted(), received_on=date(2025, 4, 1))
    legality.return_submission(
        open_cast["LEGAL_REVIEWER"],
        decision,
        reason="缺少风险评估报告附件",
        returned_on=date(2025, 4, 3),
        documents=[doc(DocumentType.RETURN_NOTICE)],
    )
    decision.refresh_from_db()
    assert decision.state == "LEGAL_REVIEW_RETURNED"
    review = rules.current_review(decision)
    assert (review.returned_on, review.return_reason, review.complete_on) == (
        date(2025, 4, 3),
        "缺少风险评估报告附件",
        None,
    )
    legality.resubmit(open_cast["UNDERTAKING_LEAD"], decision, received_on=date(2025, 4, 7))
    decision.refresh_from_db()
    assert decision.state == "LEGAL_REVIEW_SUBMITTED"
    legality.accept_submission(open_cast["LEGAL_REVIEWER"], decision)
    review.refresh_from_db()
    assert (review.round, review.submitted_on, review.complete_on) == (1, date(2025, 4, 7), date(2025, 4, 7))
    assert StageRecord.objects.filter(decision=decision, stage=Stage.LR).count() == 1
    advise(open_cast, decision)
    issue(open_cast, decision)
    count, complete_on = legality.review_clock(decision, date(2025, 4, 17))
    assert (count.days, complete_on) == (7, date(2025, 4, 7))


def test_a_return_needs_a_reason_listing_the_missing_items(open_cast, consulted):
    decision = submit(open_cast, consulted())
    before = snapshot(decision)
    error = refused(legality.return_submission, open_cast["LEGAL_REVIEWER"], decision, reason=" ")
    assert error.codes == ["REASON_REQUIRED"]
    assert snapshot(decision) == before


def test_scenario_33_without_the_procedure_statement_the_reviewer_can_only_return_it(open_cast, consulted):
    decision = submit(open_cast, consulted())
    statement = decision.current_record(Stage.LR).documents.get(doc_type=DocumentType.PROCEDURE_STATEMENT)
    documents.delete(open_cast["UNDERTAKING_LEAD"], statement)
    before = snapshot(decision)
    error = refused(legality.accept_submission, open_cast["LEGAL_REVIEWER"], decision)
    assert error.codes == ["PROCEDURE_STATEMENT_MISSING"]
    assert "第二十六条" in error.failures[0].rule.citation
    assert snapshot(decision) == before
    assert rules.current_review(decision).complete_on is None  # the clock did not start
    legality.return_submission(open_cast["LEGAL_REVIEWER"], decision, reason="缺少履行决策法定程序的说明")
    decision.refresh_from_db()
    assert decision.state == "LEGAL_REVIEW_RETURNED"


def test_a_resubmission_with_the_named_items_still_missing_is_refused(open_cast, consulted):
    decision = submit(open_cast, consulted())
    basis = decision.current_record(Stage.LR).documents.get(doc_type=DocumentType.LEGAL_BASIS_LIST)
    documents.delete(open_cast["UNDERTAKING_LEAD"], basis)
    assert refused(legality.accept_submission, open_cast["LEGAL_REVIEWER"], decision).codes == ["DOSSIER_ITEM_MISSING"]
    legality.return_submission(open_cast["LEGAL_REVIEWER"], decision, reason="缺少法律依据清单")
    before = snapshot(decision)
    error = refused(legality.resubmit, open_cast["UNDERTAKING_LEAD"], decision)
    assert error.codes == ["DOSSIER_ITEM_MISSING"]
    assert error.failures[0].rule.name == "supplied_legal_basis_list_submitted"
    assert snapshot(decision) == before
    legality.resubmit(open_cast["UNDERTAKING_LEAD"], decision, documents=[doc(DocumentType.LEGAL_BASIS_LIST)])
    decision.refresh_from_db()
    assert decision.state == "LEGAL_REVIEW_SUBMITTED"


def test_a_resubmission_received_before_the_return_is_refused(open_cast, consulted):
    decision = submit(open_cast, consulted(), received_on=date(2025, 4, 1))
    legality.return_submission(open_cast["LEGAL_REVIEWER"], decision, reason="补充材料", returned_on=date(2025, 4, 3))
    error = refused(legality.resubmit, open_cast["UNDERTAKING_LEAD"], decision, received_on=date(2025, 4, 2))
    assert error.code == "RECEIPT_DATE_INVALID"


def test_a_supplement_requested_during_review_stops_the_clock_until_the_next_acceptance(open_cast, consulted):
    decision = in_review(open_cast, consulted(), received_on=date(2025, 4, 1))
    assert rules.current_review(decision).complete_on == date(2025, 4, 1)
    before = snapshot(decision)
    assert refused(legality.request_supplement, open_cast["LEGAL_REVIEWER"], decision, reason="").codes == [
        "REASON_REQUIRED"
    ]
    assert snapshot(decision) == before
    legality.request_supplement(
        open_cast["LEGAL_REVIEWER"], decision, reason="补充第三方评估合同", returned_on=date(2025, 4, 2)
    )
    decision.refresh_from_db()
    assert decision.state == "LEGAL_REVIEW_RETURNED"
    assert rules.current_review(decision).complete_on is None
    legality.resubmit(open_cast["UNDERTAKING_LEAD"], decision, received_on=date(2025, 4, 8))
    legality.accept_submission(open_cast["LEGAL_REVIEWER"], decision)
    assert rules.current_review(decision).complete_on == date(2025, 4, 8)


def _closed_without(decision, stage, doc_type):
    """Put `stage` DONE without `doc_type` (a fixture for the intake rule alone, not a procedure path)."""
    record = decision.current_record(stage)
    assert not record.documents.filter(doc_type=doc_type).exists()
    if record.status == StageStatus.PENDING:
        record.open(decision.current_draft, record.decision.created_at)
    record.complete(record.decision.created_at)
    record.save()


@pytest.mark.parametrize(
    ("stage", "doc_type", "check"),
    [
        (Stage.PP, DocumentType.ADOPTION_STATEMENT, rules.pp_adoption_submitted),
        (Stage.EX, DocumentType.EXPERT_ADOPTION_STATEMENT, rules.ex_adoption_submitted),
        (Stage.RA, DocumentType.RISK_REPORT, rules.risk_report_submitted),
    ],
)
def test_intake_asks_for_each_done_stages_adoption_statement_or_report(in_consultation, stage, doc_type, check):
    decision = in_consultation()
    assert check.holds(Context(decision=decision))  # not DONE: nothing asked
    _closed_without(decision, stage, doc_type)
    assert not check.holds(Context(decision=decision))
    assert check.code == "DOSSIER_ITEM_MISSING"
    # Handed in with the submission (or supplied to the round's record), it counts.
    assert check.holds(Context(decision=decision, params={"uploads": [doc(doc_type)], "new_round": True}))


def test_intake_accepts_complete_materials_and_starts_the_clock(open_cast, consulted):
    decision = submit(open_cast, consulted(), received_on=date(2025, 4, 7))
    legality.accept_submission(open_cast["LEGAL_REVIEWER"], decision)
    decision.refresh_from_db()
    assert decision.state == "LEGAL_REVIEW_IN_PROGRESS"
    assert rules.current_review(decision).complete_on == date(2025, 4, 7)  # the receipt date, not the click


# -- T14 (and T15) ---------------------------------------------------------------------------------------


def test_a_lawful_opinion_closes_the_round_signed_off_by_the_reviewer(open_cast, consulted):
    decision = in_review(open_cast, consulted())
    issue(open_cast, decision)
    decision.refresh_from_db()
    assert decision.state == "LEGAL_REVIEW_DONE"
    record = decision.current_record(Stage.LR)
    assert (record.status, record.outcome) == (StageStatus.DONE, Outcome.LAWFUL)
    signoff = record.signoffs.get()
    assert (signoff.user, signoff.role) == (open_cast["LEGAL_REVIEWER"], "LEGAL_REVIEWER")
    assert {d["type"] for d in signoff.manifest["documents"]} >= {"LEGAL_ADVISER_OPINION", "LEGALITY_OPINION"}
    review = record.legality_review
    assert (review.outcome, review.issued_by, review.authority) == (
        Outcome.LAWFUL,
        open_cast["LEGAL_REVIEWER"],
        lr.OPINION_TEXTS["authority"],
    )
    assert rules.latest_opinion(decision) == review


@pytest.mark.parametrize("outcome", [Outcome.UNLAWFUL, Outcome.LAWFUL_WITH_MODIFICATIONS])
def test_an_opinion_asking_for_changes_sends_the_decision_to_revising_by_the_system(open_cast, consulted, outcome):
    decision = in_review(open_cast, consulted())
    issue(open_cast, decision, outcome)
    decision.refresh_from_db()
    assert decision.state == "REVISING"
    t15 = AuditEvent.objects.get(decision_id_ref=decision.pk, action="transition:T15")
    assert (t15.role, t15.actor_id, t15.payload["from"]) == ("SYSTEM", None, "LEGAL_REVIEW_DONE")
    assert legality.revising_entry(decision)[0] == "T15"


def test_scenario_35_an_opinion_without_a_legal_advisers_opinion_is_refused(open_cast, consulted):
    decision = submit(open_cast, consulted())
    legality.accept_submission(open_cast["LEGAL_REVIEWER"], decision)
    # The reviewer's own upload is not a legal adviser's opinion (第二十八条).
    advise(open_cast, decision, user=open_cast["LEGAL_REVIEWER"])
    before = snapshot(decision)
    error = refused(issue, open_cast, decision)
    assert error.codes == ["LEGAL_ADVISER_OPINION_MISSING"]
    assert "第二十八条" in error.failures[0].rule.citation
    assert snapshot(decision) == before


@pytest.mark.parametrize("field", ["authority", "procedure", "content"])
def test_an_opinion_must_state_each_article_27_finding(open_cast, consulted, field):
    decision = in_review(open_cast, consulted())
    before = snapshot(decision)
    error = refused(issue, open_cast, decision, **{field: ""})
    assert error.codes == ["LEGALITY_OPINION_INCOMPLETE"]
    assert error.failures[0].rule.name == f"opinion_{field}_stated"
    assert snapshot(decision) == before


def test_an_opinion_outcome_outside_p6_is_refused(open_cast, consulted):
    decision = in_review(open_cast, consulted())
    assert refused(issue, open_cast, decision, "APPROVED").codes == ["LEGALITY_OPINION_INCOMPLETE"]


def test_an_opinion_without_its_document_is_refused(open_cast, consulted):
    decision = in_review(open_cast, consulted())
    assert refused(issue, open_cast, decision, documents=[]).codes == ["DOSSIER_ITEM_MISSING"]


@pytest.mark.parametrize(
    ("flagged", "statement", "clear", "ok"),
    [
        (False, lr.LEGAL_RISK, False, False),
        (True, "", False, False),
        (True, lr.LEGAL_RISK, True, False),
        (True, lr.LEGAL_RISK, False, True),
    ],
)
def test_the_exploratory_outcome_needs_the_flag_and_a_legal_risk_statement(
    open_cast, consulted, flagged, statement, clear, ok
):
    decision = consulted()
    if flagged:
        uploads = lr.submission(decision, exploratory=True)
        legality.submit_for_legality_review(
            open_cast["UNDERTAKING_LEAD"],
            decision,
            documents=uploads,
            received_on=date(2025, 4, 7),
            exploratory_reform=True,
            exploratory_statement=lr.EXPLORATORY_STATEMENT,
        )
    else:
        submit(open_cast, decision)
    legality.accept_submission(open_cast["LEGAL_REVIEWER"], decision)
    advise(open_cast, decision)
    kwargs = {"legal_risk_statement": statement, "clear_exploratory_reform": clear}
    if ok:
        issue(open_cast, decision, Outcome.EXPLORATORY_LEGAL_RISK_DISCLOSED, **kwargs)
        assert rules.latest_opinion(decision).legal_risk_statement == lr.LEGAL_RISK
    else:
        before = snapshot(decision)
        error = refused(issue, open_cast, decision, Outcome.EXPLORATORY_LEGAL_RISK_DISCLOSED, **kwargs)
        assert error.codes == ["EXPLORATORY_NOT_FLAGGED"]
        assert snapshot(decision) == before


def test_the_reviewer_may_clear_the_exploratory_flag_when_issuing_the_opinion(open_cast, consulted):
    decision = consulted()
    legality.submit_for_legality_review(
        open_cast["UNDERTAKING_LEAD"],
        decision,
        documents=lr.submission(decision, exploratory=True),
        received_on=date(2025, 4, 7),
        exploratory_reform=True,
        exploratory_statement=lr.EXPLORATORY_STATEMENT,
    )
    legality.accept_submission(open_cast["LEGAL_REVIEWER"], decision)
    advise(open_cast, decision)
    issue(open_cast, decision, Outcome.LAWFUL, clear_exploratory_reform=True)
    decision.refresh_from_db()
    assert decision.exploratory_reform is False
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk, action="decision:exploratory_cleared").exists()


def test_an_opinion_from_a_department_other_than_the_one_reviewing_is_refused(open_cast, consulted):
    decision = in_review(open_cast, consulted())
    # The organ names another legality-review department after the submission went to the justice bureau.
    other = Organisation.objects.create(
        name="另一法制机构",
        code=f"{open_cast.organ.code}-legal2",
        kind=Organisation.Kind.DEPARTMENT,
        level=open_cast.organ.level,
        parent=open_cast.organ,
    )
    Organisation.objects.filter(pk=open_cast.organ.pk).update(legality_review_dept=other)
    reviewer = type(open_cast["LEGAL_REVIEWER"]).objects.create(username=f"{open_cast.organ.code}_reviewer_other")
    RoleAssignment.objects.create(user=reviewer, organisation=other, role=Role.LEGAL_REVIEWER)
    error = refused(issue, open_cast, decision, user=reviewer)
    assert error.codes == ["LEGALITY_REVIEW_REPLACED_BY_COMMENT"]


def test_an_opinion_cannot_be_issued_before_the_materials_are_accepted(open_cast, consulted):
    decision = submit(open_cast, consulted())
    advise(open_cast, decision)
    before = snapshot(decision)
    error = refused(issue, open_cast, decision)
    assert error.codes == ["STATE_PREREQUISITE_MISSING"]
    assert snapshot(decision) == before


# -- the clock (B2, P4) ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("complete_on", "meeting", "days"),
    [
        (date(2025, 4, 7), date(2025, 4, 17), 7),  # scenario 30
        (date(2025, 4, 14), date(2025, 4, 18), 3),  # scenario 31
        (date(2025, 4, 7), date(2025, 4, 8), 0),
        # National Day 2025: 10-01…10-08 off; Sunday 09-28 and Saturday 10-11 are make-up working days.
        (date(2025, 9, 26), date(2025, 10, 10), 4),
    ],
)
def test_the_review_clock_counts_working_days_strictly_between(open_cast, consulted, complete_on, meeting, days):
    calendar.load_shipped()
    decision = in_review(open_cast, consulted(), received_on=complete_on)
    issue(open_cast, decision)
    count, start = legality.review_clock(decision, meeting)
    assert (count.days, count.provisional, start) == (days, False, complete_on)


def test_without_an_opinion_the_review_clock_is_zero(open_cast, consulted):
    count, start = legality.review_clock(consulted(), date(2025, 4, 17))
    assert (count.days, start) == (0, None)


def test_the_walkthrough_review_leaves_seven_working_days_before_a_meeting_tomorrow(open_cast, consulted):
    from datetime import timedelta

    decision = lr.review(open_cast, consulted())
    assert decision.state == "LEGAL_REVIEW_DONE"
    count, _ = legality.review_clock(decision, timezone.localdate() + timedelta(days=1))
    assert count.days >= 7


@pytest.mark.parametrize("check", [rules.draft_explanation_submitted, rules.consultation_record_submitted])
def test_intake_asks_for_the_drafting_explanation_and_the_article_13_consultation_record(open_cast, check):
    from decisions.services import initiation

    decision = walk.initiate(open_cast, walk.propose(open_cast))
    initiation.start_drafting(open_cast["UNDERTAKING_LEAD"], decision)  # DRAFTING: nothing uploaded yet
    assert not check.holds(Context(decision=decision))
    doc_type = {
        "draft_explanation_submitted": DocumentType.DRAFT_EXPLANATION,
        "consultation_record_submitted": DocumentType.CONSULTATION_RECORD,
    }[check.name]
    assert check.holds(Context(decision=decision, params={"uploads": [doc(doc_type)], "new_round": True}))


@pytest.mark.parametrize(
    ("stage", "doc_type", "check"),
    [
        (Stage.PP, DocumentType.ADOPTION_STATEMENT, rules.package_pp_adoption),
        (Stage.EX, DocumentType.EXPERT_ADOPTION_STATEMENT, rules.package_ex_adoption),
        (Stage.RA, DocumentType.RISK_REPORT, rules.package_risk_report),
    ],
)
def test_the_meeting_package_asks_for_each_done_stages_article_29_item(in_consultation, stage, doc_type, check):
    decision = in_consultation()
    assert check.holds(Context(decision=decision))
    _closed_without(decision, stage, doc_type)
    assert not check.holds(Context(decision=decision))
    assert check.code == "MEETING_PACKAGE_INCOMPLETE"


def test_the_meeting_package_asks_for_the_fair_competition_review_of_a_market_affecting_draft(in_consultation):
    decision = in_consultation(market_affecting=True)
    assert not rules.package_fair_competition.holds(Context(decision=decision))
    assert rules.package_fair_competition.code == "FAIR_COMPETITION_REVIEW_MISSING"
    assert rules.package_fair_competition in rules.PACKAGE
    assert rules.package_fair_competition.holds(Context(decision=in_consultation()))
