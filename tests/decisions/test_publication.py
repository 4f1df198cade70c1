"""Party report (第三十一条) and publication (第三十二条): T21, T21a, T22."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from decisions.models import (
    CollectiveOutcome,
    Decision,
    DocumentType,
    Organisation,
    PartyReport,
    Position,
    Publication,
    Role,
    SignOff,
    Stage,
    StageRecord,
    StageStatus,
    Waiver,
)
from decisions.permissions import NotPermitted
from decisions.rules import ProcedureRefused
from decisions.services import publication as svc
from decisions.walkthrough import consultation as walk_consultation
from decisions.walkthrough import doc
from decisions.walkthrough import implementation as walk_impl
from decisions.walkthrough import initiation as walk_init
from decisions.walkthrough import legality as walk_legal
from decisions.walkthrough import meeting as walk
from tests.records import record_events

NATIONAL_CHANNELS = ["GAZETTE", "GOV_WEBSITE", "LOCAL_NEWSPAPER"]


# -- helpers ------------------------------------------------------------------------------------


def decided(cast, *, answers=None, received_on=None, meeting_date=None, **decide_options):
    """Return a decision the meeting approved (DECIDED)."""
    decision = walk_init.draft(cast, walk_init.initiate(cast, walk_init.propose(cast)), answers=answers)
    walk_consultation.consult(cast, decision, expert=False)
    walk_legal.review(cast, decision, received_on=received_on)
    decision = walk_legal.to_ready_for_meeting(cast, decision)
    return walk.decide(cast, decision, controllability="CONTROLLABLE", date=meeting_date, **decide_options)


def fresh(decision):
    return Decision.objects.get(pk=decision.pk)


def snapshot(decision):
    return (
        fresh(decision).state,
        record_events().count(),
        StageRecord.objects.filter(decision=decision).count(),
        decision.documents.count(),
        Publication.objects.filter(decision=decision).count(),
        PartyReport.objects.filter(decision=decision).count(),
        Waiver.objects.count(),
        SignOff.objects.count(),
        fresh(decision).in_force_version_id,
    )


def refused(call, *args, **kwargs):
    with pytest.raises(ProcedureRefused) as caught:
        call(*args, **kwargs)
    assert not isinstance(caught.value, NotPermitted)
    return caught.value


def report(cast, decision):
    return svc.record_party_report(
        cast[Role.PARTY_LIAISON], decision, document=doc(DocumentType.PARTY_REPORT), reported_on=timezone.localdate()
    )


def reply(cast, decision, agrees=True):
    return svc.record_party_reply(
        cast[Role.PARTY_LIAISON],
        decision,
        document=doc(DocumentType.PARTY_REPLY),
        reply_on=timezone.localdate(),
        agrees=agrees,
    )


def publish(cast, decision, channels=NATIONAL_CHANNELS, skip_proof=None, **options):
    proofs = {c: doc(DocumentType.CHANNEL_PROOF, c) for c in channels if c != skip_proof}
    options.setdefault("final_decision", doc(DocumentType.FINAL_DECISION))
    return svc.publish(cast[Role.GOV_OFFICE], decision, channels=channels, proofs=proofs, **options)


@pytest.fixture
def national(cast_factory, profile_variant):
    """An organ under the national profile (three channels), no catalogue required."""
    return cast_factory(profile=profile_variant("national", catalogue_required=False).code)


# -- the party report ---------------------------------------------------------------------------


def test_the_report_opens_the_party_report_record_and_the_reply_closes_it(national):
    decision = decided(national)
    result = report(national, decision)
    record = fresh(decision).current_record(Stage.PARTY_REPORT)
    assert record.status == StageStatus.IN_PROGRESS and result.stage_record == record
    assert result.outcome == CollectiveOutcome.objects.get(agenda_item__decision=decision)
    reply(national, decision)
    record.refresh_from_db()
    assert (record.status, record.outcome) == (StageStatus.DONE, "AGREED")
    signoff = record.signoffs.get()
    assert (signoff.user, signoff.role) == (national[Role.PARTY_LIAISON], "PARTY_LIAISON")
    assert {d["type"] for d in signoff.manifest["documents"]} == {"PARTY_REPORT", "PARTY_REPLY"}


def test_without_a_required_reply_the_report_alone_closes_the_record(cast_factory, profile_variant):
    cast = cast_factory(profile=profile_variant("national", catalogue_required=False, party_reply_required=False).code)
    decision = decided(cast)
    report(cast, decision)
    assert fresh(decision).current_record(Stage.PARTY_REPORT).status == StageStatus.DONE
    assert publish(cast, decision).state == "PUBLISHED"


def test_a_report_is_recorded_only_on_a_decided_matter_and_only_once(national):
    decision = decided(national, outcome=Position.DEFER)
    assert refused(report, national, decision).code == "STATE_PREREQUISITE_MISSING"
    decision = decided(national)
    report(national, decision)
    before = snapshot(decision)
    assert refused(report, national, decision).code == "PARTY_REPORT_ALREADY_RECORDED"
    assert snapshot(decision) == before


def test_a_reply_needs_a_report_first_and_a_plain_yes_or_no(national):
    decision = decided(national)
    assert refused(reply, national, decision).code == "PARTY_REPORT_MISSING"
    report(national, decision)
    error = refused(
        svc.record_party_reply,
        national[Role.PARTY_LIAISON],
        decision,
        document=doc(DocumentType.PARTY_REPLY),
        reply_on=timezone.localdate(),
        agrees=None,
    )
    assert error.code == "PARTY_REPLY_MISSING"
    error = refused(
        svc.record_party_reply,
        national[Role.PARTY_LIAISON],
        decision,
        document=doc(DocumentType.PARTY_REPLY),
        reply_on=timezone.localdate() + timedelta(days=1),
        agrees=True,
    )
    assert error.code == "DATE_INVALID"


# -- T21 ----------------------------------------------------------------------------------------


def test_scenario_29_publishing_without_a_party_report_is_refused_and_nothing_is_written(national):
    decision = decided(national)
    before = snapshot(decision)
    error = refused(publish, national, decision)
    assert error.code == "PARTY_REPORT_MISSING"
    assert "第三十一条" in error.failures[0].rule.citation
    assert snapshot(decision) == before


def test_publishing_needs_the_committees_reply(national):
    decision = decided(national)
    report(national, decision)
    before = snapshot(decision)
    assert refused(publish, national, decision).code == "PARTY_REPLY_MISSING"
    assert snapshot(decision) == before


def test_a_reply_that_does_not_agree_blocks_publication_and_issue(national):
    decision = decided(national)
    report(national, decision)
    reply(national, decision, agrees=False)
    before = snapshot(decision)
    assert refused(publish, national, decision).code == "PARTY_REPLY_NOT_AGREED"
    svc.record_not_public(
        national[Role.GOV_OFFICE],
        decision,
        legal_basis=walk.NOT_PUBLIC_BASIS,
        evidence=doc(DocumentType.NOT_PUBLIC_BASIS),
    )
    error = refused(
        svc.issue_not_public, national.extra["gov_office_2"], decision, final_decision=doc(DocumentType.FINAL_DECISION)
    )
    assert error.code == "PARTY_REPLY_NOT_AGREED"
    assert fresh(decision).state == before[0]


def test_scenario_50_publication_on_gazette_website_and_newspaper_with_an_interpretation(national):
    decision = decided(national, answers={"public_concern": True})
    walk.report_to_party(national, decision)
    error = refused(publish, national, decision)
    assert error.codes == ["DOSSIER_ITEM_MISSING"] and "政策解读" in error.failures[0].rule.zh
    decision = publish(national, decision, interpretation=doc(DocumentType.INTERPRETATION))
    assert decision.state == "PUBLISHED"
    assert decision.in_force_version == decision.current_draft
    record = decision.current_record(Stage.PUB)
    assert record.status == StageStatus.DONE
    assert (record.signoffs.get().user, record.signoffs.get().role) == (national[Role.GOV_OFFICE], "GOV_OFFICE")
    publication = Publication.objects.get(decision=decision)
    assert publication.channels == NATIONAL_CHANNELS
    assert set(publication.proofs) == set(NATIONAL_CHANNELS)
    assert publication.interpretation_document is not None and publication.final_document is not None
    assert publication.draft_version == decision.in_force_version


def test_the_office_may_raise_the_interpretation_flags_at_publication(national):
    decision = decided(national)
    walk.report_to_party(national, decision)
    before = snapshot(decision)
    assert refused(publish, national, decision, highly_technical=True).code == "DOSSIER_ITEM_MISSING"
    assert snapshot(decision) == before and fresh(decision).highly_technical is False
    publish(national, decision, highly_technical=True, interpretation=doc(DocumentType.INTERPRETATION))
    assert fresh(decision).highly_technical is True


@pytest.mark.parametrize("missing", NATIONAL_CHANNELS)
def test_every_channel_of_the_profile_is_required(national, missing):
    decision = decided(national)
    walk.report_to_party(national, decision)
    before = snapshot(decision)
    error = refused(publish, national, decision, channels=[c for c in NATIONAL_CHANNELS if c != missing])
    assert error.code == "PUBLICATION_CHANNELS_MISSING"
    assert "第三十二条" in error.failures[0].rule.citation
    assert snapshot(decision) == before


def test_the_zhejiang_profile_adds_the_government_service_portal(open_cast):
    decision = decided(open_cast)
    walk.report_to_party(open_cast, decision)
    assert refused(publish, open_cast, decision).code == "PUBLICATION_CHANNELS_MISSING"
    assert publish(open_cast, decision, channels=[*NATIONAL_CHANNELS, "ZJ_SERVICE_PORTAL"]).state == "PUBLISHED"


def test_each_channel_needs_its_proof_and_the_final_text_is_required(national):
    decision = decided(national)
    walk.report_to_party(national, decision)
    error = refused(publish, national, decision, skip_proof="LOCAL_NEWSPAPER")
    assert error.codes == ["DOSSIER_ITEM_MISSING"]
    assert "本行政区域内发行的报纸" in error.failures[0].rule.zh
    error = refused(publish, national, decision, final_decision=None)
    assert error.codes == ["DOSSIER_ITEM_MISSING"] and "决策文件" in error.failures[0].rule.zh
    error = refused(publish, national, decision, channels=["GAZETTE", "TELEGRAPH"])
    assert error.code == "PUBLICATION_CHANNEL_UNKNOWN"


def test_a_decision_reported_to_the_peoples_congress_needs_that_report(national):
    decision = decided(national, answers={"requires_npc_report": True})
    walk.report_to_party(national, decision)
    assert refused(publish, national, decision).code == "NPC_REPORT_MISSING"
    assert publish(national, decision, npc_report=doc(DocumentType.NPC_REPORT)).state == "PUBLISHED"


def test_a_township_organ_needs_its_channels_set_in_the_profile(cast_factory, profile_variant):
    types = {"government": ["EXECUTIVE", "PLENARY"], "township": ["EXECUTIVE"]}
    profile = profile_variant("national", catalogue_required=False, allowed_decision_meeting_types=types)
    township = cast_factory(profile=profile.code, level=Organisation.Level.TOWNSHIP)
    decision = decided(township)
    walk.report_to_party(township, decision)
    assert refused(publish, township, decision).code == "PROFILE_NOT_CONFIGURED"


def test_publication_long_after_the_meeting_is_published_with_a_warning(national):
    today = timezone.localdate()
    decision = decided(national, received_on=today - timedelta(days=120), meeting_date=today - timedelta(days=60))
    walk.report_to_party(national, decision)
    decision = publish(national, decision)
    assert decision.state == "PUBLISHED"
    assert [w["code"] for w in decision.warnings] == ["PUBLICATION_NOT_TIMELY"]


def test_prompt_publication_has_no_warning(national):
    decision = decided(national)
    walk.report_to_party(national, decision)
    assert publish(national, decision).warnings == []


def test_the_adopted_text_amended_at_the_meeting_is_the_text_in_force(national):
    decision = decided(national, amendments="第五条删去“原则上”")
    decision = walk.publish(national, decision)
    assert decision.in_force_version.adopted_at_meeting


# -- T21a ---------------------------------------------------------------------------------------


def test_a_disagreeing_reply_sends_the_decision_back_and_keeps_the_record(national):
    decision = decided(national)
    report(national, decision)
    reply(national, decision, agrees=True)
    before = snapshot(decision)
    assert refused(svc.return_after_party_reply, national[Role.GOV_OFFICE], decision, reason="x").code == (
        "PARTY_REPLY_MISSING"
    )
    assert snapshot(decision) == before

    decision = decided(national)
    report(national, decision)
    reply(national, decision, agrees=False)
    assert refused(svc.return_after_party_reply, national[Role.GOV_OFFICE], decision, reason="").code == (
        "REASON_REQUIRED"
    )
    decision = svc.return_after_party_reply(national[Role.GOV_OFFICE], decision, reason="党委要求进一步论证")
    assert decision.state == "REVISING"
    approve = CollectiveOutcome.objects.get(agenda_item__decision=decision)
    assert approve.superseded_by_party_reply and approve.superseded_reason == "党委要求进一步论证"
    assert PartyReport.objects.filter(decision=decision, reply_agrees=False).count() == 1


def test_after_a_disagreeing_reply_a_new_meeting_needs_a_new_report(national):
    decision = decided(national)
    report(national, decision)
    reply(national, decision, agrees=False)
    svc.return_after_party_reply(national[Role.GOV_OFFICE], decision, reason="党委要求修改")
    decision = walk_legal.to_ready_for_meeting(national, fresh(decision))
    assert decision.state == "READY_FOR_MEETING"
    decision = walk.decide(
        national, decision, controllability="CONTROLLABLE", date=timezone.localdate() + timedelta(days=1)
    )
    assert decision.state == "DECIDED"
    assert refused(publish, national, decision).code == "PARTY_REPORT_MISSING"
    walk.report_to_party(national, decision)
    assert publish(national, decision).state == "PUBLISHED"
    assert PartyReport.objects.filter(decision=decision).count() == 2
    old, new = fresh(decision).stage_records.filter(stage=Stage.PARTY_REPORT).order_by("id")
    assert new.supersedes_id == old.pk


# -- T22 ----------------------------------------------------------------------------------------


def test_scenario_51_a_lawfully_withheld_decision_is_issued_without_channels(national):
    decision = decided(national)
    walk.report_to_party(national, decision)
    waiver = svc.record_not_public(
        national[Role.GOV_OFFICE],
        decision,
        legal_basis=walk.NOT_PUBLIC_BASIS,
        evidence=doc(DocumentType.NOT_PUBLIC_BASIS),
    )
    decision = svc.issue_not_public(
        national.extra["gov_office_2"], decision, final_decision=doc(DocumentType.FINAL_DECISION)
    )
    assert decision.state == "ISSUED_NOT_PUBLIC"
    assert decision.in_force_version == decision.current_draft
    record = decision.current_record(Stage.PUB)
    assert (record.status, record.reason_code) == (StageStatus.WAIVED, "CONFIDENTIAL_BY_LAW")
    waiver.refresh_from_db()
    assert waiver.recorded_by == national[Role.GOV_OFFICE] and waiver.approved_by == national.extra["gov_office_2"]
    publication = Publication.objects.get(decision=decision)
    assert publication.channels == [] and publication.not_public_basis == walk.NOT_PUBLIC_BASIS
    assert record.signoffs.get().user == national.extra["gov_office_2"]


def test_the_recorder_cannot_approve_withholding_publication(national):
    decision = decided(national)
    walk.report_to_party(national, decision)
    svc.record_not_public(
        national[Role.GOV_OFFICE],
        decision,
        legal_basis=walk.NOT_PUBLIC_BASIS,
        evidence=doc(DocumentType.NOT_PUBLIC_BASIS),
    )
    before = snapshot(decision)
    error = refused(
        svc.issue_not_public, national[Role.GOV_OFFICE], decision, final_decision=doc(DocumentType.FINAL_DECISION)
    )
    assert error.code == "WAIVER_APPROVER_INVALID"
    assert snapshot(decision) == before


def test_withholding_publication_needs_a_cited_basis_and_evidence(national):
    decision = decided(national)
    walk.report_to_party(national, decision)
    before = snapshot(decision)
    error = refused(
        svc.issue_not_public, national.extra["gov_office_2"], decision, final_decision=doc(DocumentType.FINAL_DECISION)
    )
    assert error.code == "WAIVER_BASIS_MISSING"
    error = refused(
        svc.record_not_public,
        national[Role.GOV_OFFICE],
        decision,
        legal_basis=" ",
        evidence=doc(DocumentType.NOT_PUBLIC_BASIS),
    )
    assert error.code == "WAIVER_BASIS_MISSING"
    error = refused(
        svc.record_not_public, national[Role.GOV_OFFICE], decision, legal_basis=walk.NOT_PUBLIC_BASIS, evidence=None
    )
    assert error.code == "WAIVER_BASIS_MISSING"
    assert snapshot(decision) == before


def test_issue_without_publication_needs_the_party_report(national):
    decision = decided(national)
    svc.record_not_public(
        national[Role.GOV_OFFICE],
        decision,
        legal_basis=walk.NOT_PUBLIC_BASIS,
        evidence=doc(DocumentType.NOT_PUBLIC_BASIS),
    )
    error = refused(
        svc.issue_not_public, national.extra["gov_office_2"], decision, final_decision=doc(DocumentType.FINAL_DECISION)
    )
    assert error.code == "PARTY_REPORT_MISSING"


# -- after a major adjustment (T27) -------------------------------------------------------------


def test_publishing_the_adjusted_decision_adopts_the_adjustment_and_ends_the_suspension(national):
    from tests.decisions.test_meeting import rerun_to_ready

    decision = walk.publish(national, decided(national))
    first = decision.in_force_version
    decision = walk_impl.suspend(national, walk_impl.implement(national, decision))
    assert decision.state == "SUSPENDED"
    decision = walk_impl.adjust(national, decision)
    decision = rerun_to_ready(national, decision)
    decision = walk.decide(
        national, decision, controllability="CONTROLLABLE", date=timezone.localdate() + timedelta(days=1)
    )
    assert decision.state == "DECIDED" and fresh(decision).suspended
    assert refused(publish, national, decision).code == "PARTY_REPORT_MISSING"  # the first run's report is not enough
    decision = walk.publish(national, decision)
    assert decision.state == "PUBLISHED"
    assert decision.in_force_version != first and not decision.suspended
    assert decision.adjustments.get().closed_as == "ADOPTED"
    assert decision.suspensions.get().ended_by == "ADJUSTED_PUBLISHED"


# -- who may do what ----------------------------------------------------------------------------


def _calls(cast, decision):
    office, liaison = {Role.GOV_OFFICE}, {Role.PARTY_LIAISON}
    today = date.today()
    return [
        (
            liaison,
            lambda u: svc.record_party_report(u, decision, document=doc(DocumentType.PARTY_REPORT), reported_on=today),
        ),
        (
            liaison,
            lambda u: svc.record_party_reply(
                u, decision, document=doc(DocumentType.PARTY_REPLY), reply_on=today, agrees=True
            ),
        ),
        (office, lambda u: svc.return_after_party_reply(u, decision, reason="不同意")),
        (
            office,
            lambda u: svc.publish(
                u, decision, channels=["GAZETTE"], proofs={}, final_decision=doc(DocumentType.FINAL_DECISION)
            ),
        ),
        (
            office,
            lambda u: svc.record_not_public(
                u, decision, legal_basis="依据", evidence=doc(DocumentType.NOT_PUBLIC_BASIS)
            ),
        ),
        (office, lambda u: svc.issue_not_public(u, decision, final_decision=doc(DocumentType.FINAL_DECISION))),
    ]


@pytest.mark.parametrize("role", Role.values)
def test_only_the_roles_of_the_table_may_report_and_publish(national, role):
    decision = walk_init.propose(national)
    user = AnonymousUser() if role == Role.PUBLIC else national[role]
    for allowed, call in _calls(national, decision):
        if role in allowed:
            with pytest.raises(ProcedureRefused) as caught:  # the gate lets it through; the state refuses
                call(user)
            assert not isinstance(caught.value, NotPermitted)
        else:
            with pytest.raises(NotPermitted):
                call(user)
