"""Consultation sub-stages: order (P1), not triggered (T6a), waived (T6b), reopened (T6c), trigger answers (P11),
the procedure-performance statement (第二十六条) and who may do what (B5, B6, B8)."""

import pytest
from django.contrib.auth.models import AnonymousUser

from catalog.models import AnnualCatalogue, CatalogueEntry
from decisions.models import (
    AuditEvent,
    CommentPeriod,
    Decision,
    Document,
    DocumentType,
    ExpertMember,
    Hearing,
    HearingParticipant,
    RiskAssessment,
    Role,
    RoleAssignment,
    SignOff,
    Stage,
    StageRecord,
    StageStatus,
    Waiver,
)
from decisions.permissions import NotPermitted
from decisions.rules import ProcedureRefused
from decisions.services import consultation, documents, initiation
from decisions.walkthrough import consultation as consult_walk
from decisions.walkthrough import doc
from decisions.walkthrough import initiation as walk

LAW = {
    "other_law_instrument": "《中华人民共和国城乡规划法》",
    "other_law_level": "法律",
    "other_law_article": "第二十六条",
}
STABILITY_TEXT = "经分析，决策实施不会对社会稳定、公共安全等方面造成不利影响"
MODELS = (
    AuditEvent,
    StageRecord,
    Document,
    SignOff,
    Waiver,
    CommentPeriod,
    Hearing,
    HearingParticipant,
    ExpertMember,
    RiskAssessment,
)
FLAGS = (
    "highly_technical",
    "stability_or_safety_impact",
    "direct_vital_interest",
    "major_disagreement",
    "major_interest_readjustment",
    "hearing_required_by_law",
    "confidential_by_law",
)


def consulting(cast, **answers):
    """Return a decision in CONSULTATION with the trigger answers given (the others: no)."""
    return walk.draft(cast, walk.initiate(cast, walk.propose(cast)), answers=answers)


def snapshot(decision):
    """Return everything a refused call must leave unchanged."""
    d = Decision.objects.get(pk=decision.pk)
    records = list(
        StageRecord.objects.filter(decision=d)
        .order_by("id")
        .values_list("id", "stage", "status", "reason_code", "methods")
    )
    waivers = list(Waiver.objects.order_by("id").values_list("id", "approved_by", "approved_at"))
    return d.state, records, waivers, [getattr(d, f) for f in FLAGS], [m.objects.count() for m in MODELS]


def refused(code, decision, call, *args, **kwargs):
    """Assert `call` is refused with `code` and leaves the database as it was; return the refusal."""
    before = snapshot(decision)
    with pytest.raises(ProcedureRefused) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.message()
    assert snapshot(decision) == before
    return caught.value


def status(decision, stage):
    return Decision.objects.get(pk=decision.pk).current_record(stage).status


def lead(cast):
    return cast[Role.UNDERTAKING_LEAD]


# -- P1: the order of sub-stages ------------------------------------------------------------------


def test_opening_a_substage_pins_it_to_the_current_draft(open_cast):
    decision = consulting(open_cast)
    events = AuditEvent.objects.filter(decision_id_ref=decision.pk, action="stage:open")
    before = events.count()
    record = consultation.open_substage(lead(open_cast), decision, Stage.PP)
    assert record.status == StageStatus.IN_PROGRESS
    assert record.draft_version.number == 1
    assert events.count() == before + 1
    assert Decision.objects.get(pk=decision.pk).state == "CONSULTATION"


def test_expert_review_cannot_open_while_participation_is_in_progress_under_the_default_order(open_cast):
    # Scenario 26a.
    decision = consulting(open_cast)
    consultation.open_substage(lead(open_cast), decision, Stage.PP)
    refusal = refused("CONSULTATION_ORDER", decision, consultation.open_substage, lead(open_cast), decision, Stage.EX)
    assert refusal.failures[0].rule.article == "P1"


def test_risk_assessment_waits_for_expert_review_under_the_default_order(open_cast):
    decision = consulting(open_cast)
    consult_walk.participate(open_cast, decision)
    refused(
        "CONSULTATION_ORDER", decision, consultation.open_substage, open_cast[Role.RISK_ASSESSOR], decision, Stage.RA
    )
    consult_walk.skip_expert_review(open_cast, decision)
    consultation.open_substage(open_cast[Role.RISK_ASSESSOR], decision, Stage.RA)
    assert status(decision, Stage.RA) == StageStatus.IN_PROGRESS


def test_the_any_order_profile_lets_the_three_run_side_by_side(cast_factory, profile_variant):
    cast = cast_factory(profile=profile_variant("huzhou", catalogue_required=False, consultation_order="any").code)
    decision = consulting(cast)
    consultation.open_substage(lead(cast), decision, Stage.RA)
    consultation.open_substage(lead(cast), decision, Stage.EX)
    consultation.open_substage(lead(cast), decision, Stage.PP)
    assert {status(decision, s) for s in (Stage.PP, Stage.EX, Stage.RA)} == {StageStatus.IN_PROGRESS}


def test_not_triggered_may_be_recorded_on_a_pending_substage_at_any_time(open_cast):
    decision = consulting(open_cast)
    consultation.open_substage(lead(open_cast), decision, Stage.PP)
    consult_walk.skip_all(open_cast, decision)
    assert status(decision, Stage.EX) == status(decision, Stage.RA) == StageStatus.NOT_TRIGGERED
    assert status(decision, Stage.PP) == StageStatus.IN_PROGRESS


@pytest.mark.parametrize("order", ["sequential", "any"])
def test_a_hearing_opens_only_while_participation_is_in_progress(cast_factory, profile_variant, order):
    cast = cast_factory(profile=profile_variant("huzhou", catalogue_required=False, consultation_order=order).code)
    decision = consulting(cast)
    refused("CONSULTATION_ORDER", decision, consultation.open_substage, cast[Role.HEARING_ORG], decision, Stage.HEARING)
    consultation.open_substage(lead(cast), decision, Stage.PP)
    consultation.open_substage(cast[Role.HEARING_ORG], decision, Stage.HEARING)
    assert status(decision, Stage.HEARING) == StageStatus.IN_PROGRESS


def test_a_substage_already_open_cannot_be_opened_again(open_cast):
    decision = consulting(open_cast)
    consultation.open_substage(lead(open_cast), decision, Stage.PP)
    refused("STATE_PREREQUISITE_MISSING", decision, consultation.open_substage, lead(open_cast), decision, Stage.PP)


def test_substages_cannot_open_before_consultation_and_the_refusal_names_the_open_stage(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    initiation.start_drafting(lead(open_cast), decision)
    refusal = refused(
        "STATE_PREREQUISITE_MISSING", decision, consultation.open_substage, lead(open_cast), decision, Stage.PP
    )
    assert refusal.failures[0].detail == "DRAFTING"
    assert "草案拟订" in refusal.failures[0].rule.zh


@pytest.mark.parametrize("stage", ["LR", "CD", "FOO"])
def test_only_consultation_substages_are_opened_here(open_cast, stage):
    decision = consulting(open_cast)
    refused("STATE_PREREQUISITE_MISSING", decision, consultation.open_substage, lead(open_cast), decision, stage)


def test_a_closed_decision_refuses_consultation_actions(open_cast):
    decision = walk.propose(open_cast)
    initiation.declare_not_applicable(open_cast["GOV_OFFICE"], decision, reason="EMERGENCY_RESPONSE")
    refused("DECISION_CLOSED", decision, consultation.open_substage, lead(open_cast), decision, Stage.PP)
    refused(
        "DECISION_CLOSED",
        decision,
        consultation.close_not_triggered,
        lead(open_cast),
        decision,
        Stage.EX,
        reason_code="NOT_HIGHLY_SPECIALISED",
        reason_text="x",
    )


# -- T6a and the B6 table ------------------------------------------------------------------------------


B6_NOT_TRIGGERED = [
    # stage, code, answers, extra input, expected code (None: accepted)
    ("PP", "OTHER_LAW_PROCEDURE", {}, LAW, None),
    ("PP", "NO_DIRECT_INTEREST_AND_NO_MAJOR_DISAGREEMENT", {}, {}, "STAGE_CANNOT_BE_SKIPPED"),
    ("PP", "OPTIONAL_NOT_HELD", {}, {}, "STAGE_CANNOT_BE_SKIPPED"),
    ("PP", "NOT_HIGHLY_SPECIALISED", {}, {}, "STAGE_CANNOT_BE_SKIPPED"),
    ("PP", "CONFIDENTIAL_BY_LAW", {"confidential_by_law": True}, {}, "STAGE_CANNOT_BE_SKIPPED"),
    ("HEARING", "NO_DIRECT_INTEREST_AND_NO_MAJOR_DISAGREEMENT", {}, {}, None),
    (
        "HEARING",
        "NO_DIRECT_INTEREST_AND_NO_MAJOR_DISAGREEMENT",
        {"direct_vital_interest": True},
        {},
        "STAGE_CANNOT_BE_SKIPPED",
    ),
    ("HEARING", "OPTIONAL_NOT_HELD", {"direct_vital_interest": True}, {}, None),
    (
        "HEARING",
        "OPTIONAL_NOT_HELD",
        {"hearing_required_by_law": True, "hearing_law_instrument": "《价格法》", "hearing_law_article": "第二十三条"},
        {},
        "HEARING_REQUIRED",
    ),
    ("HEARING", "OTHER_LAW_PROCEDURE", {}, LAW, None),
    ("HEARING", "NOT_HIGHLY_SPECIALISED", {}, {}, "STAGE_CANNOT_BE_SKIPPED"),
    ("EX", "NOT_HIGHLY_SPECIALISED", {}, {}, None),
    ("EX", "NOT_HIGHLY_SPECIALISED", {"highly_technical": True}, {}, "STAGE_CANNOT_BE_SKIPPED"),
    ("EX", "OTHER_LAW_PROCEDURE", {"highly_technical": True}, LAW, None),
    ("EX", "NO_STABILITY_OR_SAFETY_IMPACT", {}, {}, "STAGE_CANNOT_BE_SKIPPED"),
    ("EX", "OPTIONAL_NOT_HELD", {}, {}, "STAGE_CANNOT_BE_SKIPPED"),
    ("RA", "NO_STABILITY_OR_SAFETY_IMPACT", {}, {}, None),
    ("RA", "NO_STABILITY_OR_SAFETY_IMPACT", {"stability_or_safety_impact": True}, {}, "STAGE_CANNOT_BE_SKIPPED"),
    ("RA", "OTHER_LAW_PROCEDURE", {}, LAW, None),
    ("RA", "NOT_HIGHLY_SPECIALISED", {}, {}, "STAGE_CANNOT_BE_SKIPPED"),
    ("LR", "OTHER_LAW_PROCEDURE", {}, LAW, "STAGE_CANNOT_BE_SKIPPED"),
    ("CD", "OPTIONAL_NOT_HELD", {}, {}, "STAGE_CANNOT_BE_SKIPPED"),
    ("PARTY_REPORT", "OTHER_LAW_PROCEDURE", {}, LAW, "STAGE_CANNOT_BE_SKIPPED"),
    ("PUB", "OTHER_LAW_PROCEDURE", {}, LAW, "STAGE_CANNOT_BE_SKIPPED"),
]


@pytest.mark.parametrize(("stage", "code", "answers", "extra", "expected"), B6_NOT_TRIGGERED)
def test_not_triggered_follows_the_b6_table(open_cast, stage, code, answers, extra, expected):
    decision = consulting(open_cast, **answers)
    text = STABILITY_TEXT if code == "NO_STABILITY_OR_SAFETY_IMPACT" else "理由说明"
    call = (consultation.close_not_triggered, lead(open_cast), decision, stage)
    kwargs = {"reason_code": code, "reason_text": text, **extra}
    if expected:
        refused(expected, decision, *call, **kwargs)
        return
    consultation.close_not_triggered(*call[1:], **kwargs)
    record = Decision.objects.get(pk=decision.pk).current_record(stage)
    assert (record.status, record.reason_code, record.reason_text) == (StageStatus.NOT_TRIGGERED, code, text)
    assert record.draft_version.number == 1


def test_not_triggered_is_signed_off_by_the_lead_with_the_reason_in_the_signed_manifest(open_cast):
    decision = consulting(open_cast)
    consult_walk.skip_expert_review(open_cast, decision)
    record = Decision.objects.get(pk=decision.pk).current_record(Stage.EX)
    signoff = record.signoffs.get()
    assert (signoff.user, signoff.role) == (lead(open_cast), "UNDERTAKING_LEAD")
    assert signoff.manifest["reason_code"] == "NOT_HIGHLY_SPECIALISED"
    assert len(signoff.content_sha256) == 64


def test_not_triggered_needs_a_reason_text(open_cast):
    decision = consulting(open_cast)
    refused(
        "REASON_REQUIRED",
        decision,
        consultation.close_not_triggered,
        lead(open_cast),
        decision,
        Stage.EX,
        reason_code="NOT_HIGHLY_SPECIALISED",
        reason_text="  ",
    )


def test_no_stability_impact_must_address_stability_and_safety(open_cast):
    decision = consulting(open_cast)
    refused(
        "REASON_REQUIRED",
        decision,
        consultation.close_not_triggered,
        lead(open_cast),
        decision,
        Stage.RA,
        reason_code="NO_STABILITY_OR_SAFETY_IMPACT",
        reason_text="影响很小",
    )


@pytest.mark.parametrize(
    "citation",
    [
        {**LAW, "other_law_level": "规章"},
        {**LAW, "other_law_level": ""},
        {**LAW, "other_law_article": ""},
        {**LAW, "other_law_instrument": ""},
    ],
)
def test_another_laws_procedure_needs_a_law_or_administrative_regulation_and_its_article(open_cast, citation):
    decision = consulting(open_cast)
    refused(
        "OTHER_LAW_CITATION_MISSING",
        decision,
        consultation.close_not_triggered,
        lead(open_cast),
        decision,
        Stage.EX,
        reason_code="OTHER_LAW_PROCEDURE",
        reason_text="适用其他法律规定的程序",
        **citation,
    )


def test_another_laws_procedure_is_recorded_with_its_citation(open_cast):
    decision = consulting(open_cast)
    consultation.close_not_triggered(
        lead(open_cast),
        decision,
        Stage.RA,
        reason_code="OTHER_LAW_PROCEDURE",
        reason_text="适用其他法律规定的程序",
        **{**LAW, "other_law_level": "ADMINISTRATIVE_REGULATION"},
    )
    record = Decision.objects.get(pk=decision.pk).current_record(Stage.RA)
    assert (record.other_law_instrument, record.other_law_level, record.other_law_article) == (
        "《中华人民共和国城乡规划法》",
        "行政法规",
        "第二十六条",
    )


def test_closing_participation_as_not_triggered_closes_the_hearing_in_the_same_step(cast_factory, profile_variant):
    # HEARING_REQUIRED does not apply to the cascade (B6, Recording).
    cast = cast_factory(profile=profile_variant("huzhou", catalogue_required=False).code)
    decision = consulting(cast, major_disagreement=True)
    consultation.close_not_triggered(
        lead(cast), decision, Stage.PP, reason_code="OTHER_LAW_PROCEDURE", reason_text="适用其他法律规定的程序", **LAW
    )
    fresh = Decision.objects.get(pk=decision.pk)
    pp, hearing = fresh.current_record(Stage.PP), fresh.current_record(Stage.HEARING)
    assert (hearing.status, hearing.reason_code, hearing.closed_with) == (
        StageStatus.NOT_TRIGGERED,
        "OTHER_LAW_PROCEDURE",
        pp,
    )
    assert hearing.other_law_article == "第二十六条"
    assert not hearing.signoffs.exists()
    signoff = pp.signoffs.get()
    assert signoff.manifest["cascade"][0]["stage"] == "HEARING"


@pytest.mark.parametrize(
    ("answers", "profile", "expected"),
    [
        ({"major_disagreement": True}, "huzhou", "HEARING_REQUIRED"),
        ({"major_interest_readjustment": True}, "huzhou", "HEARING_REQUIRED"),
        ({"major_interest_readjustment": True}, "national", None),
        ({"major_disagreement": True}, "national", None),
    ],
)
def test_the_zhejiang_profile_requires_a_hearing_when_either_flag_is_ticked(
    cast_factory, profile_variant, answers, profile, expected
):
    cast = cast_factory(profile=profile_variant(profile, catalogue_required=False).code)
    decision = consulting(cast, **answers)
    kwargs = {"reason_code": "OPTIONAL_NOT_HELD", "reason_text": "未要求听证"}
    if expected:
        refused(expected, decision, consultation.close_not_triggered, lead(cast), decision, Stage.HEARING, **kwargs)
    else:
        consultation.close_not_triggered(lead(cast), decision, Stage.HEARING, **kwargs)
        assert status(decision, Stage.HEARING) == StageStatus.NOT_TRIGGERED


def test_a_code_contradicting_the_answers_is_refused_even_where_a_hearing_is_also_required(
    cast_factory, profile_variant
):
    cast = cast_factory(profile=profile_variant("huzhou", catalogue_required=False).code)
    decision = consulting(cast, major_disagreement=True)
    refusal = refused(
        "HEARING_REQUIRED",
        decision,
        consultation.close_not_triggered,
        lead(cast),
        decision,
        Stage.HEARING,
        reason_code="NO_DIRECT_INTEREST_AND_NO_MAJOR_DISAGREEMENT",
        reason_text="x",
    )
    assert refusal.codes == ["HEARING_REQUIRED", "STAGE_CANNOT_BE_SKIPPED"]


def test_a_prior_assessment_closes_risk_assessment_with_the_report_and_its_level(open_cast):
    # Scenario 24 (第二十二条第二款).
    decision = consulting(open_cast, stability_or_safety_impact=True)
    kwargs = {
        "reason_code": "ALREADY_ASSESSED_UNDER_OTHER_RULES",
        "reason_text": "项目已按发改投资〔2012〕2492号进行稳评",
    }
    refused(
        "PRIOR_ASSESSMENT_REFERENCE_MISSING",
        decision,
        consultation.close_not_triggered,
        lead(open_cast),
        decision,
        Stage.RA,
        prior_assessment_level="LOW",
        **kwargs,
    )
    refused(
        "PRIOR_ASSESSMENT_REFERENCE_MISSING",
        decision,
        consultation.close_not_triggered,
        lead(open_cast),
        decision,
        Stage.RA,
        documents=[doc(DocumentType.PRIOR_ASSESSMENT)],
        **kwargs,
    )
    consultation.close_not_triggered(
        lead(open_cast),
        decision,
        Stage.RA,
        prior_assessment_level="LOW",
        documents=[doc(DocumentType.PRIOR_ASSESSMENT)],
        **kwargs,
    )
    record = Decision.objects.get(pk=decision.pk).current_record(Stage.RA)
    assert (record.status, record.prior_assessment_level) == (StageStatus.NOT_TRIGGERED, "LOW")
    assert record.documents.filter(doc_type=DocumentType.PRIOR_ASSESSMENT).count() == 1


def test_a_done_substage_cannot_be_closed_as_not_triggered(open_cast):
    decision = consulting(open_cast)
    consult_walk.participate(open_cast, decision)
    consult_walk.expert_review(open_cast, decision)
    refused(
        "STATE_PREREQUISITE_MISSING",
        decision,
        consultation.close_not_triggered,
        lead(open_cast),
        decision,
        Stage.EX,
        reason_code="NOT_HIGHLY_SPECIALISED",
        reason_text="理由",
    )


def test_an_in_progress_substage_may_still_be_closed_as_not_triggered(open_cast):
    decision = consulting(open_cast)
    consult_walk.participate(open_cast, decision)
    consultation.open_substage(lead(open_cast), decision, Stage.EX)
    consult_walk.skip_expert_review(open_cast, decision)
    assert status(decision, Stage.EX) == StageStatus.NOT_TRIGGERED


# -- P12: the catalogue entry's required procedures ----------------------------------------------------


def _listed_requiring(cast, decision, procedures):
    catalogue = AnnualCatalogue.objects.create(
        organ=cast.organ, year=2025, title="2025年度目录", version=1, profile=decision.profile
    )
    return CatalogueEntry.objects.create(
        catalogue=catalogue, seq_no=1, name=decision.title, decision=decision, required_procedures=procedures
    )


@pytest.mark.parametrize(
    ("stage", "code", "extra"),
    [
        ("EX", "NOT_HIGHLY_SPECIALISED", {}),
        ("HEARING", "OPTIONAL_NOT_HELD", {}),
        ("PP", "OTHER_LAW_PROCEDURE", LAW),  # the cascade would close the required hearing
    ],
)
def test_a_stage_the_catalogue_requires_cannot_be_closed_as_not_triggered(open_cast, stage, code, extra):
    decision = consulting(open_cast)
    _listed_requiring(open_cast, decision, ["EX", "HEARING", "LR", "CD"])
    refused(
        "STAGE_REQUIRED_BY_CATALOGUE",
        decision,
        consultation.close_not_triggered,
        lead(open_cast),
        decision,
        stage,
        reason_code=code,
        reason_text="理由",
        **extra,
    )


def test_a_stage_the_catalogue_does_not_name_is_decided_by_b6(open_cast):
    decision = consulting(open_cast)
    _listed_requiring(open_cast, decision, ["EX", "HEARING"])
    consult_walk.skip_risk_assessment(open_cast, decision)
    assert status(decision, Stage.RA) == StageStatus.NOT_TRIGGERED


def test_a_catalogue_modification_reopens_a_stage_it_now_requires(open_cast):
    decision = consulting(open_cast)
    consult_walk.skip_all(open_cast, decision)
    _listed_requiring(open_cast, decision, ["EX"])
    reopened = consultation.reopen_required_by_catalogue(decision, reason="目录调整：增加专家论证", actor=None)
    assert [r.stage for r in reopened] == ["EX"]
    assert status(decision, Stage.EX) == StageStatus.PENDING
    assert status(decision, Stage.RA) == StageStatus.NOT_TRIGGERED


# -- T6b: waivers ------------------------------------------------------------------------------------


BASIS = "《中华人民共和国保守国家秘密法》第九条；《重大行政决策程序暂行条例》第十四条"


def test_a_confidential_matter_without_a_basis_document_cannot_be_waived(open_cast):
    # Scenario 18.
    decision = consulting(open_cast, confidential_by_law=True)
    refused(
        "WAIVER_BASIS_MISSING",
        decision,
        consultation.record_waiver,
        lead(open_cast),
        decision,
        Stage.PP,
        reason_code="CONFIDENTIAL_BY_LAW",
        legal_basis=BASIS,
    )
    refused(
        "WAIVER_BASIS_MISSING",
        decision,
        consultation.record_waiver,
        lead(open_cast),
        decision,
        Stage.PP,
        reason_code="CONFIDENTIAL_BY_LAW",
        legal_basis="",
        evidence=doc(DocumentType.WAIVER_EVIDENCE),
    )


def test_confidential_by_law_needs_the_matter_recorded_as_confidential(open_cast):
    decision = consulting(open_cast)
    refused(
        "WAIVER_BASIS_MISSING",
        decision,
        consultation.record_waiver,
        lead(open_cast),
        decision,
        Stage.PP,
        reason_code="CONFIDENTIAL_BY_LAW",
        legal_basis=BASIS,
        evidence=doc(DocumentType.WAIVER_EVIDENCE),
    )


def test_a_confidential_waiver_is_recorded_approved_signed_off_and_stated(open_cast):
    # Scenario 19.
    decision = consulting(open_cast, confidential_by_law=True)
    waiver = consultation.record_waiver(
        lead(open_cast),
        decision,
        Stage.PP,
        reason_code="CONFIDENTIAL_BY_LAW",
        legal_basis=BASIS,
        evidence=doc(DocumentType.WAIVER_EVIDENCE),
    )
    assert waiver.approved_at is None
    assert status(decision, Stage.PP) == StageStatus.PENDING
    refused("WAIVER_APPROVER_INVALID", decision, consultation.sign_off_waiver, lead(open_cast), decision, Stage.PP)
    consultation.approve_waiver(open_cast["GOV_OFFICE"], decision, Stage.PP)
    assert status(decision, Stage.PP) == StageStatus.PENDING  # the lead's sign-off closes it
    consultation.sign_off_waiver(lead(open_cast), decision, Stage.PP)
    fresh = Decision.objects.get(pk=decision.pk)
    pp, hearing = fresh.current_record(Stage.PP), fresh.current_record(Stage.HEARING)
    assert (pp.status, hearing.status) == (StageStatus.WAIVED, StageStatus.WAIVED)
    assert pp.waiver == hearing.waiver == waiver
    assert hearing.reason_code == "CONFIDENTIAL_BY_LAW"
    assert pp.signoffs.get().user == lead(open_cast)
    statement = {e["stage"]: e for e in consultation.procedure_statement(fresh)}
    for stage in ("PP", "HEARING"):
        assert statement[stage]["status"] == "WAIVED"
        assert statement[stage]["waiver"]["legal_basis"] == BASIS
        assert statement[stage]["waiver"]["approved_role"] == "GOV_OFFICE"
    assert statement["HEARING"]["cascade_from"] == "PP"


@pytest.mark.parametrize(
    ("code", "approver", "expected"),
    [
        ("CONFIDENTIAL_BY_LAW", "LEGAL_ADVISER", "WAIVER_APPROVER_INVALID"),
        ("CONFIDENTIAL_BY_LAW", "GOV_OFFICE", None),
        ("ZJ_ART7_URGENT", "GOV_OFFICE", "WAIVER_APPROVER_INVALID"),
        ("ZJ_ART7_URGENT", "LEGAL_ADVISER", None),
    ],
)
def test_a_waiver_is_approved_only_by_the_role_b6_names(open_cast, code, approver, expected):
    decision = consulting(open_cast, confidential_by_law=True)
    consultation.record_waiver(
        lead(open_cast),
        decision,
        Stage.PP,
        reason_code=code,
        legal_basis=BASIS,
        evidence=doc(DocumentType.WAIVER_EVIDENCE),
    )
    if expected:
        refused(expected, decision, consultation.approve_waiver, open_cast[approver], decision, Stage.PP)
    else:
        approved = consultation.approve_waiver(open_cast[approver], decision, Stage.PP)
        assert (approved.approved_by, approved.approved_role) == (open_cast[approver], approver)


def test_the_recorder_cannot_approve_their_own_waiver(open_cast):
    decision = consulting(open_cast, confidential_by_law=True)
    recorder = lead(open_cast)
    RoleAssignment.objects.create(user=recorder, organisation=open_cast.organ, role=Role.GOV_OFFICE)
    consultation.record_waiver(
        recorder,
        decision,
        Stage.PP,
        reason_code="CONFIDENTIAL_BY_LAW",
        legal_basis=BASIS,
        evidence=doc(DocumentType.WAIVER_EVIDENCE),
    )
    refusal = refused("WAIVER_APPROVER_INVALID", decision, consultation.approve_waiver, recorder, decision, Stage.PP)
    assert "登记人" in refusal.failures[0].rule.zh


@pytest.mark.parametrize("stage", ["PP", "EX", "RA"])
def test_the_zhejiang_urgent_exception_waives_pp_ex_and_ra_with_a_legal_advisers_approval(open_cast, stage):
    decision = consulting(open_cast)
    consultation.record_waiver(
        lead(open_cast),
        decision,
        stage,
        reason_code="ZJ_ART7_URGENT",
        legal_basis="《浙江省重大行政决策程序规定》第七条",
        evidence=doc(DocumentType.WAIVER_EVIDENCE),
    )
    consultation.approve_waiver(open_cast["LEGAL_ADVISER"], decision, stage)
    consultation.sign_off_waiver(lead(open_cast), decision, stage)
    assert status(decision, stage) == StageStatus.WAIVED


@pytest.mark.parametrize(
    ("stage", "code"),
    [
        ("EX", "CONFIDENTIAL_BY_LAW"),
        ("RA", "CONFIDENTIAL_BY_LAW"),
        ("HEARING", "CONFIDENTIAL_BY_LAW"),
        ("HEARING", "ZJ_ART7_URGENT"),
        ("LR", "ZJ_ART7_URGENT"),
        ("CD", "ZJ_ART7_URGENT"),
        ("PARTY_REPORT", "CONFIDENTIAL_BY_LAW"),
        ("PP", "OTHER_LAW_PROCEDURE"),
    ],
)
def test_a_waiver_code_b6_does_not_allow_for_the_stage_is_refused(open_cast, stage, code):
    decision = consulting(open_cast, confidential_by_law=True)
    refused(
        "STAGE_CANNOT_BE_SKIPPED",
        decision,
        consultation.record_waiver,
        lead(open_cast),
        decision,
        stage,
        reason_code=code,
        legal_basis=BASIS,
        evidence=doc(DocumentType.WAIVER_EVIDENCE),
    )


def test_the_national_profile_has_no_zhejiang_urgent_exception(national_open_cast):
    decision = consulting(national_open_cast)
    refused(
        "STAGE_CANNOT_BE_SKIPPED",
        decision,
        consultation.record_waiver,
        lead(national_open_cast),
        decision,
        Stage.EX,
        reason_code="ZJ_ART7_URGENT",
        legal_basis=BASIS,
        evidence=doc(DocumentType.WAIVER_EVIDENCE),
    )


def test_a_waiver_on_a_closed_substage_is_refused(open_cast):
    decision = consulting(open_cast)
    consult_walk.skip_expert_review(open_cast, decision)
    refused(
        "STATE_PREREQUISITE_MISSING",
        decision,
        consultation.record_waiver,
        lead(open_cast),
        decision,
        Stage.EX,
        reason_code="ZJ_ART7_URGENT",
        legal_basis=BASIS,
        evidence=doc(DocumentType.WAIVER_EVIDENCE),
    )


# -- T6c: reopen -----------------------------------------------------------------------------------


def test_reopening_keeps_the_old_record_and_creates_a_superseding_pending_one(open_cast):
    decision = consulting(open_cast)
    consult_walk.skip_expert_review(open_cast, decision)
    old = Decision.objects.get(pk=decision.pk).current_record(Stage.EX)
    new = consultation.reopen(lead(open_cast), decision, Stage.EX, reason="补充论证")
    old.refresh_from_db()
    assert (new.status, new.supersedes, new.reopen_reason) == (StageStatus.PENDING, old, "补充论证")
    assert old.status == StageStatus.NOT_TRIGGERED
    assert Decision.objects.get(pk=decision.pk).current_record(Stage.EX) == new


def test_reopening_needs_a_reason(open_cast):
    decision = consulting(open_cast)
    consult_walk.skip_expert_review(open_cast, decision)
    refused("REASON_REQUIRED", decision, consultation.reopen, lead(open_cast), decision, Stage.EX, reason="")


def test_a_done_substage_reopens_only_on_a_new_draft_version_or_a_stale_result(open_cast):
    decision = consulting(open_cast)
    consult_walk.consult(open_cast, decision)
    refused("REASON_REQUIRED", decision, consultation.reopen, lead(open_cast), decision, Stage.EX, reason="重新论证")
    refused(
        "REASON_REQUIRED",
        decision,
        consultation.reopen,
        lead(open_cast),
        decision,
        Stage.EX,
        reason="重新论证",
        draft_version=1,
    )
    version = documents.add_draft_version(
        lead(open_cast), decision, doc(DocumentType.DRAFT, "v2"), change_summary="修改补助标准"
    )
    assert status(decision, Stage.EX) == StageStatus.DONE  # a new draft reopens nothing by itself (P12)
    consultation.reopen(lead(open_cast), decision, Stage.EX, reason="草案第2版修改了补助标准", draft_version=version)
    consultation.reopen(lead(open_cast), decision, Stage.RA, reason="评估结论失效", stale_result="风险评估报告")
    assert status(decision, Stage.EX) == status(decision, Stage.RA) == StageStatus.PENDING


def test_reopening_participation_reopens_the_hearing(open_cast):
    decision = consulting(open_cast)
    consult_walk.participate(open_cast, decision)
    consultation.reopen(lead(open_cast), decision, Stage.PP, reason="补充征求意见", stale_result="意见采纳情况")
    assert status(decision, Stage.PP) == status(decision, Stage.HEARING) == StageStatus.PENDING
    assert StageRecord.objects.filter(decision=decision, stage=Stage.HEARING).count() == 2


def test_reopening_the_hearing_of_a_done_participation_reopens_participation_too(open_cast):
    decision = consulting(open_cast)
    consult_walk.participate(open_cast, decision)
    consultation.reopen(
        lead(open_cast), decision, Stage.HEARING, reason="决定举行听证", stale_result="听证未举行的结论"
    )
    assert status(decision, Stage.PP) == status(decision, Stage.HEARING) == StageStatus.PENDING


def test_an_open_substage_cannot_be_reopened(open_cast):
    decision = consulting(open_cast)
    refused(
        "STATE_PREREQUISITE_MISSING", decision, consultation.reopen, lead(open_cast), decision, Stage.EX, reason="理由"
    )


def test_reopening_is_refused_outside_consultation(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    refused(
        "STATE_PREREQUISITE_MISSING", decision, consultation.reopen, lead(open_cast), decision, Stage.EX, reason="理由"
    )


# -- the trigger answers after T6 (T6a last sentences, P11) ------------------------------------------------


@pytest.mark.parametrize(
    ("skip", "answers", "stage", "reopened"),
    [
        (consult_walk.skip_expert_review, {"highly_technical": True}, "EX", True),
        (consult_walk.skip_risk_assessment, {"stability_or_safety_impact": True}, "RA", True),
        (consult_walk.skip_risk_assessment, {"highly_technical": True}, "RA", False),
    ],
)
def test_a_yes_answer_reopens_the_matching_not_triggered_stage(open_cast, skip, answers, stage, reopened):
    decision = consulting(open_cast)
    skip(open_cast, decision)
    consultation.update_trigger_answers(lead(open_cast), decision, **answers)
    assert status(decision, stage) == (StageStatus.PENDING if reopened else StageStatus.NOT_TRIGGERED)
    events = AuditEvent.objects.filter(decision_id_ref=decision.pk, action="stage:reopen")
    assert events.count() == (1 if reopened else 0)
    if reopened:
        assert events.get().payload["by"] == "SYSTEM"


def test_a_prior_assessment_is_not_reopened_by_a_stability_answer(open_cast):
    decision = consulting(open_cast)
    consultation.close_not_triggered(
        lead(open_cast),
        decision,
        Stage.RA,
        reason_code="ALREADY_ASSESSED_UNDER_OTHER_RULES",
        reason_text="已评估",
        prior_assessment_level="MEDIUM",
        documents=[doc(DocumentType.PRIOR_ASSESSMENT)],
    )
    consultation.update_trigger_answers(lead(open_cast), decision, stability_or_safety_impact=True)
    assert status(decision, Stage.RA) == StageStatus.NOT_TRIGGERED


@pytest.mark.parametrize(
    ("profile", "code", "answers", "reopened"),
    [
        ("huzhou", "NO_DIRECT_INTEREST_AND_NO_MAJOR_DISAGREEMENT", {"direct_vital_interest": True}, True),
        ("national", "NO_DIRECT_INTEREST_AND_NO_MAJOR_DISAGREEMENT", {"major_disagreement": True}, True),
        ("national", "OPTIONAL_NOT_HELD", {"major_disagreement": True}, False),
        ("huzhou", "OPTIONAL_NOT_HELD", {"major_disagreement": True}, True),
        ("huzhou", "OPTIONAL_NOT_HELD", {"major_interest_readjustment": True}, True),
        (
            "national",
            "OPTIONAL_NOT_HELD",
            {
                "hearing_required_by_law": True,
                "hearing_law_instrument": "《价格法》",
                "hearing_law_article": "第二十三条",
            },
            True,
        ),
    ],
)
def test_a_hearing_closed_as_not_triggered_reopens_when_the_answers_require_it(
    cast_factory, profile_variant, profile, code, answers, reopened
):
    cast = cast_factory(profile=profile_variant(profile, catalogue_required=False).code)
    decision = consulting(cast)
    consultation.open_substage(lead(cast), decision, Stage.PP)
    consultation.close_not_triggered(lead(cast), decision, Stage.HEARING, reason_code=code, reason_text="理由")
    consultation.update_trigger_answers(lead(cast), decision, **answers)
    assert status(decision, Stage.HEARING) == (StageStatus.PENDING if reopened else StageStatus.NOT_TRIGGERED)
    assert status(decision, Stage.PP) == StageStatus.IN_PROGRESS


def test_a_hearing_reopened_by_the_answers_after_participation_was_done_reopens_participation(open_cast):
    decision = consulting(open_cast)
    consult_walk.participate(open_cast, decision, hearing=False)
    consultation.update_trigger_answers(lead(open_cast), decision, major_disagreement=True)
    assert status(decision, Stage.PP) == status(decision, Stage.HEARING) == StageStatus.PENDING


def test_the_participation_cascade_is_not_reopened_by_a_hearing_answer(open_cast):
    decision = consulting(open_cast)
    consultation.close_not_triggered(
        lead(open_cast),
        decision,
        Stage.PP,
        reason_code="OTHER_LAW_PROCEDURE",
        reason_text="适用其他法律规定的程序",
        **LAW,
    )
    consultation.update_trigger_answers(lead(open_cast), decision, major_disagreement=True)
    assert status(decision, Stage.HEARING) == StageStatus.NOT_TRIGGERED


def test_a_hearing_required_by_law_needs_its_instrument_and_article(open_cast):
    decision = consulting(open_cast)
    refused(
        "TRIGGER_QUESTIONNAIRE_INCOMPLETE",
        decision,
        consultation.update_trigger_answers,
        lead(open_cast),
        decision,
        hearing_required_by_law=True,
    )
    refused(
        "TRIGGER_QUESTIONNAIRE_INCOMPLETE",
        decision,
        consultation.update_trigger_answers,
        lead(open_cast),
        decision,
        highly_technical=None,
    )


def test_clearing_a_zhejiang_hearing_flag_needs_a_reason_and_is_listed_in_the_statement(open_cast):
    decision = consulting(open_cast, major_disagreement=True)
    refused(
        "REASON_REQUIRED",
        decision,
        consultation.update_trigger_answers,
        lead(open_cast),
        decision,
        major_disagreement=False,
    )
    consultation.update_trigger_answers(
        lead(open_cast), decision, major_disagreement=False, reason="经协调，各方意见已趋一致"
    )
    fresh = Decision.objects.get(pk=decision.pk)
    assert fresh.major_disagreement is False
    hearing = {e["stage"]: e for e in consultation.procedure_statement(fresh)}["HEARING"]
    assert hearing["hearing_flag_changes"][0]["flags"] == ["major_disagreement"]
    assert hearing["hearing_flag_changes"][0]["reason"] == "经协调，各方意见已趋一致"


@pytest.mark.parametrize("hearing_done", [False, True])
def test_a_hearing_flag_cannot_be_cleared_once_the_hearing_started(open_cast, hearing_done):
    decision = consulting(open_cast, major_interest_readjustment=True)
    if hearing_done:
        consult_walk.participate(open_cast, decision)
        assert status(decision, Stage.HEARING) == StageStatus.DONE
    else:
        consultation.open_substage(lead(open_cast), decision, Stage.PP)
        consultation.open_substage(open_cast[Role.HEARING_ORG], decision, Stage.HEARING)
    refused(
        "HEARING_REQUIRED",
        decision,
        consultation.update_trigger_answers,
        lead(open_cast),
        decision,
        major_interest_readjustment=False,
        reason="利益调整幅度缩小",
    )


def test_the_national_profile_clears_major_disagreement_without_a_reason(national_open_cast):
    decision = consulting(national_open_cast, major_disagreement=True)
    consultation.update_trigger_answers(lead(national_open_cast), decision, major_disagreement=False)
    assert Decision.objects.get(pk=decision.pk).major_disagreement is False


def test_trigger_answers_change_only_in_consultation(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    refused(
        "STATE_PREREQUISITE_MISSING",
        decision,
        consultation.update_trigger_answers,
        lead(open_cast),
        decision,
        highly_technical=True,
    )


def test_unknown_trigger_answers_are_a_programming_error(open_cast):
    decision = consulting(open_cast)
    with pytest.raises(TypeError):
        consultation.update_trigger_answers(lead(open_cast), decision, title="x")


# -- 第二十六条: the procedure-performance statement -----------------------------------------------------


def test_the_statement_lists_status_reason_and_pinned_version_of_each_substage(open_cast):
    # Scenario 23: a not-highly-specialised EX is listed with its justification.
    decision = consulting(open_cast)
    consult_walk.participate(open_cast, decision)
    consult_walk.skip_expert_review(open_cast, decision)
    consult_walk.assess_risk(open_cast, decision, level="MEDIUM")
    statement = {e["stage"]: e for e in consultation.procedure_statement(Decision.objects.get(pk=decision.pk))}
    assert [statement[s]["status"] for s in ("PP", "HEARING", "EX", "RA")] == [
        "DONE",
        "NOT_TRIGGERED",
        "NOT_TRIGGERED",
        "DONE",
    ]
    assert statement["EX"]["reason_code"] == "NOT_HIGHLY_SPECIALISED"
    assert "专业性" in statement["EX"]["reason_text"]
    assert statement["HEARING"]["reason_code"] == "OPTIONAL_NOT_HELD"
    assert {statement[s]["draft_version"] for s in statement} == {1}
    assert statement["RA"]["risk_level"] == "MEDIUM"
    assert statement["PP"]["comment_periods"][0]["days"] == 30
    assert set(statement["PP"]["methods"]) == {"PUBLIC_COMMENT", "FORUM"}
    assert statement["PP"]["signed_off_by"] == str(lead(open_cast))


def test_the_statement_shows_the_pins_after_a_new_draft_inside_consultation(open_cast):
    decision = consulting(open_cast)
    consult_walk.participate(open_cast, decision)
    documents.add_draft_version(lead(open_cast), decision, doc(DocumentType.DRAFT, "v2"), change_summary="修改")
    consult_walk.expert_review(open_cast, decision)
    statement = {e["stage"]: e for e in consultation.procedure_statement(Decision.objects.get(pk=decision.pk))}
    assert (statement["PP"]["draft_version"], statement["EX"]["draft_version"]) == (1, 2)


# -- who may do what (B5 "A" column, B8 sign-off table) ------------------------------------------------------


def _user(cast, role):
    return AnonymousUser() if role == Role.PUBLIC else cast[role]


def _permitted(call):
    try:
        call()
    except NotPermitted:
        return False
    except ProcedureRefused:
        return True
    return True


def _matrix(cast, call, allowed):
    """Return the roles whose user gets past the gate, checking nothing changed for the others."""
    passed = set()
    for role in Role.values:
        if _permitted(lambda role=role: call(_user(cast, role))):
            passed.add(role)
    assert passed == set(allowed), sorted(passed ^ set(allowed))


@pytest.fixture
def drafting(open_cast):
    """A decision still in DRAFTING: an allowed role passes the gate and is refused by the rules."""
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    initiation.start_drafting(lead(open_cast), decision)
    return decision


LEAD_ONLY = [Role.UNDERTAKING_LEAD]


ROLE_TABLE = [
    ("open PP", lambda u, d: consultation.open_substage(u, d, "PP"), LEAD_ONLY),
    ("open HEARING", lambda u, d: consultation.open_substage(u, d, "HEARING"), [Role.HEARING_ORG]),
    ("open EX", lambda u, d: consultation.open_substage(u, d, "EX"), LEAD_ONLY),
    ("open RA", lambda u, d: consultation.open_substage(u, d, "RA"), [Role.UNDERTAKING_LEAD, Role.RISK_ASSESSOR]),
    (
        "not triggered",
        lambda u, d: consultation.close_not_triggered(
            u, d, "EX", reason_code="NOT_HIGHLY_SPECIALISED", reason_text="x"
        ),
        LEAD_ONLY,
    ),
    (
        "waiver",
        lambda u, d: consultation.record_waiver(u, d, "PP", reason_code="CONFIDENTIAL_BY_LAW", legal_basis="x"),
        LEAD_ONLY,
    ),
    ("sign off waiver", lambda u, d: consultation.sign_off_waiver(u, d, "PP"), LEAD_ONLY),
    ("reopen", lambda u, d: consultation.reopen(u, d, "EX", reason="x"), LEAD_ONLY),
    ("answers", lambda u, d: consultation.update_trigger_answers(u, d, highly_technical=True), LEAD_ONLY),
    ("methods", lambda u, d: consultation.record_participation_methods(u, d, ["FORUM"]), LEAD_ONLY),
    (
        "notice",
        lambda u, d: consultation.publish_comment_notice(
            u, d, channels=["GOV_WEBSITE"], publish_date=None, deadline_date=None
        ),
        LEAD_ONLY,
    ),
    (
        "prepare notice",
        lambda u, d: consultation.prepare_comment_notice(u, d, channels=[], publish_date=None, deadline_date=None),
        LEAD_ONLY,
    ),
    ("extend", lambda u, d: consultation.extend_comment_period(u, d, deadline_date=None), LEAD_ONLY),
    ("complete PP", lambda u, d: consultation.complete_public_participation(u, d), LEAD_ONLY),
    (
        "schedule hearing",
        lambda u, d: consultation.schedule_hearing(u, d, hearing_date=None, place=""),
        [Role.HEARING_ORG],
    ),
    ("update hearing", lambda u, d: consultation.update_hearing(u, d, place="x"), [Role.HEARING_ORG]),
    (
        "move hearing",
        lambda u, d: consultation.change_hearing_date(u, d, hearing_date=None, reason="x"),
        [Role.HEARING_ORG],
    ),
    ("participant", lambda u, d: consultation.add_hearing_participant(u, d, name="x"), [Role.HEARING_ORG]),
    ("complete hearing", lambda u, d: consultation.complete_hearing(u, d), LEAD_ONLY),
    ("mode", lambda u, d: consultation.set_expert_review_mode(u, d, "MEETING"), LEAD_ONLY),
    ("expert", lambda u, d: consultation.add_expert(u, d, name="x", declaration=None), LEAD_ONLY),
    ("complete EX", lambda u, d: consultation.complete_expert_review(u, d), LEAD_ONLY),
    (
        "assessment",
        lambda u, d: consultation.record_risk_assessment(
            u,
            d,
            level="LOW",
            risk_points="",
            prevention_measures="",
            contingency_plan="",
            departments_heard=False,
            report=None,
        ),
        [Role.RISK_ASSESSOR],
    ),
    ("complete RA", lambda u, d: consultation.complete_risk_assessment(u, d), LEAD_ONLY),
    ("stale", lambda u, d: consultation.mark_assessment_stale(u, d, reason="x"), [Role.RISK_ASSESSOR]),
]


def test_only_the_roles_of_b5_may_act(open_cast, drafting):
    before = snapshot(drafting)
    wrong = {}
    for name, call, allowed in ROLE_TABLE:
        passed = {r for r in Role.values if _permitted(lambda r=r, call=call: call(_user(open_cast, r), drafting))}
        if passed != set(allowed):
            wrong[name] = sorted(passed ^ set(allowed))
    assert wrong == {}
    assert snapshot(drafting) == before


def test_only_the_b6_approver_roles_pass_the_waiver_approval_gate(open_cast):
    decision = consulting(open_cast, confidential_by_law=True)
    consultation.record_waiver(
        lead(open_cast),
        decision,
        Stage.PP,
        reason_code="ZJ_ART7_URGENT",
        legal_basis=BASIS,
        evidence=doc(DocumentType.WAIVER_EVIDENCE),
    )
    passed = {
        r
        for r in Role.values
        if _permitted(lambda r=r: consultation.approve_waiver(_user(open_cast, r), decision, Stage.PP))
    }
    assert passed == {Role.GOV_OFFICE, Role.LEGAL_ADVISER}


def test_only_the_expert_or_the_lead_may_upload_an_expert_opinion(open_cast):
    decision = consulting(open_cast)
    consult_walk.participate(open_cast, decision)
    consultation.open_substage(lead(open_cast), decision, Stage.EX)
    member = consultation.add_expert(
        lead(open_cast), decision, name="专家", declaration=doc(DocumentType.EXPERT_DECLARATION)
    )
    opinion = doc(DocumentType.COMMENT_NOTICE)  # the wrong type: allowed roles are refused after the gate
    _matrix(
        open_cast,
        lambda user: consultation.upload_expert_opinion(user, decision, member, opinion),
        [Role.EXPERT, Role.UNDERTAKING_LEAD],
    )


def test_there_is_nothing_to_approve_without_a_pending_waiver(open_cast):
    decision = consulting(open_cast)
    refused(
        "STATE_PREREQUISITE_MISSING", decision, consultation.approve_waiver, open_cast["GOV_OFFICE"], decision, Stage.PP
    )


def test_a_rerun_inside_another_step_resets_closed_substages_with_the_hearing(open_cast):
    from decisions.services.common import action

    decision = consulting(open_cast)
    consult_walk.consult(open_cast, decision, expert=False)
    with action(lead(open_cast), decision, roles=[Role.UNDERTAKING_LEAD]) as ctx:
        created = consultation.rerun_substages(ctx, ["PP", "EX"], "根据审查意见重新履行程序")
    assert [r.stage for r in created] == ["PP", "HEARING", "EX"]
    assert status(decision, Stage.RA) == StageStatus.DONE
    assert {status(decision, s) for s in ("PP", "HEARING", "EX")} == {StageStatus.PENDING}
