"""Withdrawal, ending without a catalogue, hand-overs and archiving (T29–T30a; P18, P22; scenarios 4, 56, 59)."""

import pytest
from django.utils import timezone

from catalog import walkthrough as catalog_walk
from decisions import lifecycle
from decisions.models import (
    AuditEvent,
    Document,
    DocumentType,
    HandoverTask,
    ImplementationClosure,
    LegalityReview,
    Role,
    SignOff,
    Stage,
    StageRecord,
    StageStatus,
    Waiver,
)
from decisions.permissions import NotPermitted
from decisions.queries import NOT_REACHED, archive_index, decision_record
from decisions.rules.implementation import add_months
from decisions.services import documents, publication
from decisions.services import implementation as svc
from decisions.walkthrough import consultation, doc, legality, meeting
from decisions.walkthrough import implementation as walk_impl
from decisions.walkthrough import initiation as walk
from tests.decisions.test_implementation import decided, fresh, implementing, refused, snapshot
from tests.records import record_events


def listed(cast):
    """A decision LISTED through a published catalogue; return it and the catalogue."""
    decision = walk.propose(cast)
    catalogue = catalog_walk.publish_catalogue(cast, decisions=[decision])
    return fresh(decision), catalogue


def in_consultation(cast):
    decision = walk.draft(cast, walk.initiate(cast, walk.propose(cast)))
    consultation.comment(cast, decision)  # PP IN_PROGRESS; HEARING, EX and RA still PENDING
    return fresh(decision)


def withdrawn(cast):
    return svc.end_without_catalogue(cast["GOV_OFFICE"], in_consultation(cast), reason="情况变化，终止决策程序")


def archive_now(cast, decision, **overrides):
    kwargs = {"documents": [doc(DocumentType.ARCHIVE_INDEX)], **overrides}
    return svc.archive(cast["ARCHIVIST"], decision, **kwargs)


# -- T29: catalogue removal (scenario 4) -------------------------------------------------------------------


def test_removing_the_entry_of_a_decision_in_consultation_withdraws_it_and_freezes_its_records(cast):
    decision, catalogue = listed(cast)
    decision = walk.draft(cast, walk.initiate(cast, decision))
    consultation.comment(cast, decision)
    catalog_walk.remove_from_catalogue(cast, catalogue, decision)
    decision = fresh(decision)
    assert decision.state == "WITHDRAWN"
    # Every stage record is read-only: closed with its sign-off, or frozen.
    for record in decision.stage_records.all():
        assert record.is_closed, record
    pp = decision.current_record(Stage.PP)
    assert pp.status == StageStatus.IN_PROGRESS and pp.frozen_reason.startswith("撤回时冻结")
    frozen = AuditEvent.objects.get(decision_id_ref=decision.pk, action="dossier:frozen", object_id=str(pp.pk))
    assert "frozen at withdrawal" in frozen.payload["mark"] and len(frozen.payload["sha256"]) == 64
    # P18: a hand-over task per co-unit for the frozen PP it worked on; none for records never reached.
    assert {t.unit for t in HandoverTask.objects.filter(stage_record=pp)} == set(cast.co_units)
    assert not HandoverTask.objects.filter(stage_record__stage__in=["HEARING", "EX", "RA"], decision=decision)
    # Only ARCHIVED remains reachable; everything else is refused as closed.
    assert lifecycle.steps_from("WITHDRAWN") == ["T30"]
    before = snapshot(decision)
    refused(
        lambda: documents.upload(cast["UNDERTAKING_LEAD"], decision, Stage.PP, doc(DocumentType.OPINION_SUMMARY)),
        "DECISION_CLOSED",
    )
    refused(lambda: walk.draft(cast, decision), "DECISION_CLOSED")
    assert snapshot(decision) == before


def test_withdrawal_closes_an_open_legality_round_as_withdrawn(cast):
    decision, catalogue = listed(cast)
    decision = walk.draft(cast, walk.initiate(cast, decision))
    decision = legality.submit(cast, consultation.consult(cast, decision, expert=False, risk=False))
    assert decision.state == "LEGAL_REVIEW_SUBMITTED"
    catalog_walk.remove_from_catalogue(cast, catalogue, decision)
    review = LegalityReview.objects.get(decision=decision)
    assert review.outcome == "" and "撤回" in review.closed_without_opinion
    assert fresh(decision).current_record(Stage.LR).frozen_at is not None


def test_a_decision_that_was_decided_cannot_be_withdrawn_even_after_the_party_said_no(open_cast):
    decision = decided(open_cast)
    meeting.report_to_party(open_cast, decision, agrees=False)
    decision = publication.return_after_party_reply(open_cast["GOV_OFFICE"], decision, reason="党委不同意")
    assert decision.state == "REVISING"
    before = snapshot(decision)
    refused(lambda: svc.withdraw(decision, source=decision.organ), "CATALOGUE_REMOVE_AFTER_DECISION")
    assert [f.code for f in svc.withdrawal_failures(decision)] == ["CATALOGUE_REMOVE_AFTER_DECISION"]
    assert snapshot(decision) == before


def test_a_rerun_after_an_adjustment_cannot_be_withdrawn(open_cast):
    decision = walk_impl.adjust(open_cast, implementing(open_cast))
    assert decision.state == "DRAFTING"
    before = snapshot(decision)
    refused(lambda: svc.withdraw(decision, source=decision.organ), "CATALOGUE_REMOVE_AFTER_DECISION")
    assert snapshot(decision) == before


def test_a_scheduled_decision_is_unscheduled_before_it_can_be_withdrawn(open_cast):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    decision = consultation.consult(open_cast, decision, expert=False, risk=False)
    decision = meeting.schedule(
        open_cast, legality.to_ready_for_meeting(open_cast, legality.review(open_cast, decision))
    )
    before = snapshot(decision)
    refusal = refused(lambda: svc.withdraw(decision, source=decision.organ), "CATALOGUE_REMOVE_AFTER_DECISION")
    assert "T19a" in refusal.failures[0].rule.zh
    assert snapshot(decision) == before


def test_withdrawal_failures_are_empty_for_a_decision_that_may_be_withdrawn(open_cast):
    assert svc.withdrawal_failures(in_consultation(open_cast)) == []


def test_withdrawal_names_what_removes_the_entry(open_cast):
    decision = in_consultation(open_cast)
    with pytest.raises(ValueError):
        svc.withdraw(decision, source=None)


# -- T29b ---------------------------------------------------------------------------------------------------


def test_without_a_catalogue_the_office_ends_the_procedure_with_a_reason(open_cast):
    decision = in_consultation(open_cast)
    before = snapshot(decision)
    refused(lambda: svc.end_without_catalogue(open_cast["GOV_OFFICE"], decision, reason=""), "REASON_REQUIRED")
    assert snapshot(decision) == before
    decision = svc.end_without_catalogue(open_cast["GOV_OFFICE"], decision, reason="情况变化，终止决策程序")
    assert decision.state == "WITHDRAWN" and decision.closing_reason == "情况变化，终止决策程序"
    assert (
        not decision.stage_records.filter(frozen_at__isnull=True)
        .exclude(status__in=["DONE", "NOT_TRIGGERED", "WAIVED"])
        .exists()
    )


def test_where_the_catalogue_is_required_only_its_adjustment_ends_the_procedure(cast):
    decision, _catalogue = listed(cast)
    before = snapshot(decision)
    refused(
        lambda: svc.end_without_catalogue(cast["GOV_OFFICE"], decision, reason="不再需要"), "CATALOGUE_LISTING_REQUIRED"
    )
    assert snapshot(decision) == before


def test_a_decision_in_force_is_not_ended_without_a_catalogue_but_stopped(open_cast):
    decision = implementing(open_cast)
    before = snapshot(decision)
    refused(
        lambda: svc.end_without_catalogue(open_cast["GOV_OFFICE"], decision, reason="不再需要"),
        "CATALOGUE_REMOVE_AFTER_DECISION",
    )
    assert snapshot(decision) == before


# -- hand-over tasks and T30 --------------------------------------------------------------------------------


def test_archiving_waits_for_the_index_and_the_co_units_hand_overs(open_cast):
    decision = withdrawn(open_cast)
    tasks = list(HandoverTask.objects.filter(decision=decision, closed_at__isnull=True).order_by("id"))
    assert tasks
    before = snapshot(decision)
    refused(lambda: archive_now(open_cast, decision, documents=[]), "DOSSIER_ITEM_MISSING")
    refused(lambda: archive_now(open_cast, decision), "COUNIT_HANDOVER_OPEN")
    assert snapshot(decision) == before
    # Closing a hand-over works on a closed decision (P7 (3)) and needs the hand-over record.
    refused(
        lambda: svc.close_handover_task(open_cast["ARCHIVIST"], tasks[0], doc(DocumentType.OTHER)),
        "DOSSIER_ITEM_MISSING",
    )
    task = svc.close_handover_task(open_cast["ARCHIVIST"], tasks[0], doc(DocumentType.HANDOVER_RECORD))
    assert task.closed_by == open_cast["ARCHIVIST"] and task.document.doc_type == DocumentType.HANDOVER_RECORD
    assert task.document.stage_record.stage == Stage.ARC
    refused(
        lambda: svc.close_handover_task(open_cast["ARCHIVIST"], tasks[0], doc(DocumentType.HANDOVER_RECORD)),
        "DOCUMENT_IMMUTABLE",
    )
    walk_impl.close_handovers(open_cast, decision)
    decision = archive_now(open_cast, decision)
    assert decision.state == "ARCHIVED"


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ARCHIVIST])
def test_only_the_archivist_closes_hand_over_tasks(open_cast, role):
    decision = withdrawn(open_cast)
    task = HandoverTask.objects.filter(decision=decision).first()
    from django.contrib.auth.models import AnonymousUser

    user = AnonymousUser() if role == Role.PUBLIC else open_cast[role]
    with pytest.raises(NotPermitted):
        svc.close_handover_task(user, task, doc(DocumentType.HANDOVER_RECORD))


def test_archiving_signs_off_the_archive_and_the_frozen_records_and_indexes_every_record(open_cast):
    decision = walk_impl.close_handovers(open_cast, withdrawn(open_cast))
    pp = decision.current_record(Stage.PP)
    assert not pp.signoffs.exists()
    decision = archive_now(open_cast, decision)
    arc = decision.current_record(Stage.ARC)
    assert arc.status == StageStatus.DONE
    signoff = arc.signoffs.get()
    assert signoff.role == Role.ARCHIVIST and signoff.user == open_cast["ARCHIVIST"]
    indexed = {entry["stage_record"]: entry for entry in signoff.manifest["archive_index"]}
    assert set(indexed) == set(decision.stage_records.values_list("pk", flat=True))
    ex = decision.current_record(Stage.EX)
    assert indexed[ex.pk]["note"] == NOT_REACHED and not indexed[ex.pk]["reached"]
    assert indexed[pp.pk]["frozen_at"] and indexed[pp.pk]["reached"]
    frozen_signoff = pp.signoffs.get()
    assert frozen_signoff.role == Role.ARCHIVIST and "冻结" in frozen_signoff.subject
    assert arc.documents.filter(doc_type=DocumentType.ARCHIVE_INDEX).exists()
    # ARCHIVED is final (P7 (3)).
    before = snapshot(decision)
    refused(lambda: archive_now(open_cast, decision), "DECISION_CLOSED")
    refused(lambda: walk_impl.suspend(open_cast, decision), "DECISION_CLOSED")
    assert snapshot(decision) == before


def test_the_archive_index_lists_every_record_in_order_with_unreached_ones_marked(open_cast):
    decision = in_consultation(open_cast)
    index = archive_index(decision)
    assert [e["stage_record"] for e in index] == list(
        decision.stage_records.order_by("id").values_list("pk", flat=True)
    )
    by_stage = {e["stage"]: e for e in index}
    assert by_stage["INITIATION"]["signoffs"] and by_stage["INITIATION"]["note"] == ""
    assert by_stage["RA"]["note"] == NOT_REACHED
    assert by_stage["PP"]["status"] == "IN_PROGRESS"


def test_a_started_record_without_its_sign_off_blocks_the_archive(open_cast):
    decision = walk_impl.close_handovers(open_cast, withdrawn(open_cast))
    # Test-only: a record that left PENDING after the freeze and was never closed or signed off.
    record = StageRecord.objects.create(decision=decision, stage=Stage.IMPL)
    record.open(None, timezone.now())
    record.save()
    before = snapshot(decision)
    refused(lambda: archive_now(open_cast, decision), "DOSSIER_ITEM_MISSING")
    assert snapshot(decision) == before


def test_a_rejected_decision_is_archived(open_cast):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    decision = consultation.consult(open_cast, decision, expert=False, risk=False)
    decision = meeting.decide(
        open_cast, legality.to_ready_for_meeting(open_cast, legality.review(open_cast, decision)), outcome="REJECT"
    )
    assert decision.state == "REJECTED"
    assert walk_impl.archive(open_cast, decision).state == "ARCHIVED"


def test_a_stopped_decision_is_archived(open_cast):
    decision = walk_impl.stop(open_cast, implementing(open_cast))
    decision = walk_impl.archive(open_cast, decision)
    assert decision.state == "ARCHIVED"
    assert (
        not StageRecord.objects.filter(decision=decision)
        .exclude(status="PENDING")
        .filter(signoffs__isnull=True)
        .exists()
    )


@pytest.mark.parametrize("end", ["NOT_APPLICABLE", "DECLINED"])
def test_matters_closed_without_a_procedure_are_not_archived(open_cast, end):
    from decisions.services import initiation

    decision = walk.propose(open_cast)
    if end == "NOT_APPLICABLE":
        initiation.declare_not_applicable(open_cast["GOV_OFFICE"], decision, reason="EMERGENCY_RESPONSE")
    else:
        initiation.decline(
            open_cast["GOV_OFFICE"], decision, reason="不予启动", documents=[doc(DocumentType.DECLINE_RECORD)]
        )
    before = snapshot(decision)
    refused(lambda: archive_now(open_cast, decision), "DECISION_CLOSED")
    assert snapshot(decision) == before


def test_a_decision_in_force_is_archived_only_through_its_implementation_closure(open_cast):
    decision = implementing(open_cast)
    before = snapshot(decision)
    # P7 (1): T30's own guards fail first: the implementation record is still open.
    refused(lambda: archive_now(open_cast, decision), "DOSSIER_ITEM_MISSING")
    refused(
        lambda: svc.archive_after_implementation(
            open_cast["ARCHIVIST"], decision, documents=[doc(DocumentType.ARCHIVE_INDEX)]
        ),
        "DOSSIER_ITEM_MISSING",
    )
    assert snapshot(decision) == before


# -- T30a ---------------------------------------------------------------------------------------------------


def close_implementation(cast, decision, **overrides):
    kwargs = {"reason": "COMPLETED", "documents": [doc(DocumentType.IMPLEMENTATION_CLOSURE)], **overrides}
    return svc.record_implementation_closure(cast["GOV_OFFICE"], decision, **kwargs)


@pytest.mark.parametrize(
    "overrides",
    [{"reason": "DONE"}, {"reason": ""}, {"documents": []}],
)
def test_the_end_of_implementation_needs_its_reason_and_record(open_cast, overrides):
    decision = implementing(open_cast)
    before = snapshot(decision)
    refused(lambda: close_implementation(open_cast, decision, **overrides), "DOSSIER_ITEM_MISSING")
    assert snapshot(decision) == before


def test_the_end_of_implementation_needs_every_report_already_due(open_cast):
    decision = decided(open_cast)
    decision = meeting.publish(open_cast, decision)
    today = timezone.localdate()
    svc.start_implementation(
        open_cast["GOV_OFFICE"],
        decision,
        executor=open_cast.lead_unit,
        report_every_months=6,
        first_report_due=add_months(today, -13),
        documents=[doc(DocumentType.EXECUTOR_DESIGNATION)],
    )
    for half in ("H1", "H2"):
        svc.record_execution_report(open_cast["EXECUTOR"], decision, doc(DocumentType.EXECUTION_REPORT, half))
    before = snapshot(decision)
    refusal = refused(lambda: close_implementation(open_cast, decision), "DOSSIER_ITEM_MISSING")
    assert "执行情况报告" in refusal.failures[0].rule.zh
    assert snapshot(decision) == before
    svc.record_execution_report(open_cast["EXECUTOR"], decision, doc(DocumentType.EXECUTION_REPORT, "H3"))
    assert close_implementation(open_cast, decision).reason == "COMPLETED"


def test_a_suspended_decision_is_resumed_or_stopped_before_its_implementation_ends(open_cast):
    decision = walk_impl.suspend(open_cast, implementing(open_cast))
    before = snapshot(decision)
    refused(lambda: close_implementation(open_cast, decision), "STATE_PREREQUISITE_MISSING")
    assert snapshot(decision) == before


def test_implementation_ends_and_the_archivist_archives_the_decision(open_cast):
    decision = implementing(open_cast)
    in_force = decision.in_force_version
    closure = close_implementation(open_cast, decision, reason="EXPIRED")
    assert closure.document.doc_type == DocumentType.IMPLEMENTATION_CLOSURE
    impl = fresh(decision).current_record(Stage.IMPL)
    assert impl.status == StageStatus.DONE and impl.outcome == "EXPIRED"
    assert impl.signoffs.get().role == Role.GOV_OFFICE
    # No co-unit worked on execution: no hand-over task for it.
    assert not HandoverTask.objects.filter(stage_record=impl).exists()
    refused(lambda: close_implementation(open_cast, decision), "STATE_PREREQUISITE_MISSING")
    decision = walk_impl.archive(open_cast, decision)
    assert decision.state == "ARCHIVED" and decision.in_force_version is None
    assert in_force is not None
    assert decision.current_record(Stage.ARC).signoffs.get().role == Role.ARCHIVIST


def test_the_end_of_implementation_freezes_a_stop_that_was_not_pursued(open_cast):
    decision = implementing(open_cast)
    svc.add_stop_review_document(open_cast["LEGAL_ADVISER"], decision, doc(DocumentType.LEGAL_ADVISER_OPINION))
    close_implementation(open_cast, decision)
    stop_record = StageRecord.objects.get(decision=decision, stage=Stage.ADJ)
    assert stop_record.frozen_at is not None
    decision = walk_impl.archive(open_cast, decision)
    assert stop_record.signoffs.get().role == Role.ARCHIVIST


# -- scenario 56: closed records keep their documents ------------------------------------------------------------


def test_a_document_of_a_closed_stage_cannot_be_deleted_only_superseded_with_a_reason(open_cast):
    decision = implementing(open_cast)
    designation = Document.objects.get(decision=decision, doc_type=DocumentType.EXECUTOR_DESIGNATION)
    close_implementation(open_cast, decision)
    events = record_events().count()
    refused(lambda: documents.delete(open_cast["GOV_OFFICE"], designation), "DOCUMENT_IMMUTABLE")
    assert record_events().count() == events and Document.objects.filter(pk=designation.pk).exists()
    replacement = documents.supersede(
        open_cast["GOV_OFFICE"], designation, doc(DocumentType.EXECUTOR_DESIGNATION, "v2"), reason="原件扫描不清晰"
    )
    assert replacement.supersedes == designation
    assert AuditEvent.objects.filter(action="document:upload", object_id=str(designation.pk)).exists()
    assert AuditEvent.objects.filter(action="document:supersede", object_id=str(replacement.pk)).exists()


# -- scenario 59: the supervisor reads everything -------------------------------------------------------------


def test_a_supervisor_reads_the_whole_record_of_an_archived_decision_and_reading_writes_nothing(open_cast):
    decision = meeting.issue_not_public(open_cast, decided(open_cast))  # PUB waived: a Waiver row
    decision = walk_impl.archive(open_cast, walk_impl.implement(open_cast, decision))
    assert decision.state == "ARCHIVED"
    events = record_events().count()
    record = decision_record(open_cast["SUPERVISOR"], decision)
    assert record_events().count() == events
    assert record["read_as"] == Role.SUPERVISOR
    assert record["decision"]["state"] == "ARCHIVED"
    assert len(record["stage_records"]) == decision.stage_records.count()
    assert {d["id"] for d in record["documents"]} == set(
        Document.objects.filter(decision=decision).values_list("pk", flat=True)
    )
    assert len(record["signoffs"]) == SignOff.objects.filter(decision=decision).count()
    assert [w["id"] for w in record["waivers"]] == list(
        Waiver.objects.filter(stage_record__decision=decision).values_list("pk", flat=True)
    )
    assert record["waivers"] and record["waivers"][0]["code"] == "CONFIDENTIAL_BY_LAW"
    seqs = [e["seq"] for e in record["audit_events"]]
    assert seqs == sorted(seqs) and len(seqs) == AuditEvent.objects.filter(decision_id_ref=decision.pk).count()
    assert record["implementation_closure"]["reason"] == ImplementationClosure.Reason.COMPLETED


def test_a_supervisor_of_another_organ_cannot_read_the_record(cast_factory, open_cast):
    decision = walk.propose(open_cast)
    elsewhere = cast_factory()
    with pytest.raises(NotPermitted):
        decision_record(elsewhere["SUPERVISOR"], decision)


def test_a_higher_organs_supervisor_reads_a_lower_organs_record(cast_factory, open_cast):
    lower = cast_factory(
        profile=open_cast.organ.profile_code, parent=open_cast.organ, name="测试下级县人民政府", level="COUNTY"
    )
    decision = walk.propose(lower)
    assert decision_record(open_cast["SUPERVISOR"], decision)["decision"]["id"] == decision.pk
