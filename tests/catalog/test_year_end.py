"""Year end: the completion report, carry-over, removal pending and the close (P21, B9)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from catalog import services
from catalog.models import CatalogueAdjustment
from catalog.rules import year_end
from decisions.models import AuditEvent, Position
from tests.catalog.conftest import upload

MODIFY = CatalogueAdjustment.Kind.MODIFY


@pytest.fixture
def published(kit):
    decision = kit.proposal()
    catalogue = kit.build("PUBLISHED", decisions=[decision])
    decision.refresh_from_db()
    return catalogue, catalogue.entries_at().get(), decision


def test_the_year_end_report_is_refused_while_an_adjustment_is_open(kit, published, refused):
    catalogue, entry, _ = published
    kit.propose(catalogue, MODIFY, entry=entry, data={"remarks": "x"})
    failure = refused(kit.report, catalogue)
    assert failure.code == "CATALOGUE_ADJUSTMENT_OPEN"


def test_every_entry_in_progress_needs_a_disposition(kit, refused):
    first, second = kit.proposal("甲事项"), kit.proposal("乙事项")
    catalogue = kit.build("PUBLISHED", decisions=[first, second])
    keyed = {e.decision_id: e.key for e in catalogue.entries_at()}
    # The disposition given for the first entry is rolled back with the refusal.
    failure = refused(kit.report, catalogue, dispositions={keyed[first.pk]: "CARRY_OVER"})
    assert failure.codes == ["CATALOGUE_ENTRY_INVALID"]
    assert "乙事项" in failure.failures[0].detail and "甲事项" not in failure.failures[0].detail


@pytest.mark.parametrize("missing", ["report", "published_on"])
def test_the_completion_report_must_be_attached_and_dated(kit, published, refused, missing):
    catalogue, _, _ = published
    assert refused(kit.report, catalogue, **{missing: None}).codes == ["DOSSIER_ITEM_MISSING"]


def test_a_disposition_is_carry_over_or_remove_pending_and_only_for_entries_in_progress(kit, published, refused):
    catalogue, entry, decision = published
    failure = refused(services.set_year_end_disposition, kit.office, catalogue, entry, "POSTPONED")
    assert failure.code == "CATALOGUE_ENTRY_INVALID"
    services.set_year_end_disposition(kit.office, catalogue, entry, "REMOVE_PENDING")
    entry.refresh_from_db()
    assert entry.year_end_disposition == "REMOVE_PENDING"
    kit.advance(decision, "DECIDED")
    failure = refused(services.set_year_end_disposition, kit.office, catalogue, entry, "CARRY_OVER")
    assert failure.code == "CATALOGUE_ENTRY_INVALID"


def test_each_entry_gets_its_year_end_status_from_its_decision(kit):
    decided, rejected, withdrawn, running, deferred = (
        kit.proposal(t) for t in ("决定", "否决", "撤出", "办理中", "暂缓")
    )
    catalogue = kit.build("PUBLISHED", decisions=[decided, rejected, withdrawn, running, deferred])
    kit.advance(decided, "DECIDED")
    rejected = kit.advance(rejected, "SCHEDULED")
    from decisions.walkthrough import meeting as meeting_walk

    meeting_walk.decide(kit.cast, rejected, Position.REJECT)
    deferred = kit.advance(deferred, "SCHEDULED")
    meeting_walk.decide(kit.cast, deferred, Position.DEFER)
    remove = catalogue.entries_at().get(decision=withdrawn)
    kit.adjustment_at(catalogue, "PUBLISHED", CatalogueAdjustment.Kind.REMOVE, entry=remove)
    catalogue.refresh_from_db()
    keyed = {e.decision_id: e.key for e in catalogue.entries_at()}
    kit.report(catalogue, dispositions={keyed[running.pk]: "CARRY_OVER", keyed[deferred.pk]: "CARRY_OVER"})
    catalogue.refresh_from_db()
    assert catalogue.state == "YEAR_END_REPORTED"
    statuses = {e.decision.title: (e.year_end_status, e.year_end_disposition) for e in catalogue.entries_at()}
    assert statuses == {
        "决定": ("DECIDED", ""),
        "否决": ("REJECTED", ""),
        "办理中": ("IN_PROGRESS", "CARRY_OVER"),
        "暂缓": ("IN_PROGRESS", "CARRY_OVER"),
    }
    assert catalogue.documents_of("YEAR_END_REPORT").get().issued_on == kit.today


def test_a_remove_pending_entry_is_withdrawn_when_the_report_is_published(kit):
    listed, consulting = kit.proposal("一"), kit.proposal("二")
    catalogue = kit.build("PUBLISHED", decisions=[listed, consulting])
    consulting = kit.advance(consulting, "CONSULTATION")
    kit.report(catalogue, dispositions={e.key: "REMOVE_PENDING" for e in catalogue.entries_at()})
    for decision in (listed, consulting):
        decision.refresh_from_db()
        assert decision.state == "WITHDRAWN"
        t29 = AuditEvent.objects.get(decision_id_ref=decision.pk, action="transition:T29")
        assert t29.payload["source_type"] == "catalog.AnnualCatalogue"
    assert {e.year_end_status for e in catalogue.entries_at()} == {"WITHDRAWN"}
    assert {e.year_end_disposition for e in catalogue.entries_at()} == {"REMOVE_PENDING"}


def test_a_remove_pending_entry_whose_decision_is_scheduled_is_carried_over(kit, published):
    catalogue, entry, decision = published
    services.set_year_end_disposition(kit.office, catalogue, entry, "REMOVE_PENDING")
    decision = kit.advance(decision, "SCHEDULED")
    kit.report(catalogue, dispositions={})
    entry.refresh_from_db()
    decision.refresh_from_db()
    assert decision.state == "SCHEDULED"
    assert (entry.year_end_status, entry.year_end_disposition) == ("IN_PROGRESS", "CARRY_OVER")
    event = AuditEvent.objects.get(action="catalogue:entry_year_end", object_id=str(entry.pk))
    assert event.payload["withdrawal_refused"] == ["CATALOGUE_REMOVE_AFTER_DECISION"]


# -- closing -------------------------------------------------------------------------------------------


def test_a_reported_catalogue_closes_at_the_end_of_its_year(kit, published):
    catalogue, _, _ = published
    kit.report(catalogue)
    assert services.close_if_due(year_end(kit.year) - timedelta(seconds=1)) == []
    catalogue.refresh_from_db()
    assert catalogue.state == "YEAR_END_REPORTED"
    closed = services.close_if_due(year_end(kit.year))
    assert [c.pk for c in closed] == [catalogue.pk]
    catalogue.refresh_from_db()
    assert catalogue.state == "CLOSED" and catalogue.closed_at == year_end(kit.year)
    assert services.close_if_due(year_end(kit.year) + timedelta(days=1)) == []
    event = AuditEvent.objects.get(action="catalogue:close", object_id=str(catalogue.pk))
    assert event.role == "SYSTEM" and event.actor is None


def test_a_catalogue_reported_after_its_year_closes_when_the_report_is_published(kit):
    catalogue = kit.build("PUBLISHED", year=kit.year - 1)
    assert services.close_if_due() == []  # the year is over but no report yet: it stays PUBLISHED
    catalogue.refresh_from_db()
    assert catalogue.state == "PUBLISHED"
    kit.report(catalogue)
    assert [c.pk for c in services.close_if_due()] == [catalogue.pk]


def test_the_year_end_lapses_open_adjustments_before_the_report(kit, published):
    catalogue, entry, _ = published
    adjustment = kit.adjustment_at(catalogue, "GOV_APPROVED", MODIFY, entry=entry, data={"remarks": "x"})
    services.close_if_due(year_end(kit.year))
    adjustment.refresh_from_db()
    assert (adjustment.state, adjustment.rejection_reason) == ("REJECTED", "year end")
    catalogue.refresh_from_db()
    assert catalogue.version == 1
    assert kit.report(catalogue).state == "YEAR_END_REPORTED"


def test_an_adjustment_due_after_the_year_end_is_refused_before_the_lapse_runs(kit, published, refused):
    catalogue, entry, _ = published
    adjustment = kit.adjustment_at(catalogue, "PARTY_CONSENTED", MODIFY, entry=entry, data={"remarks": "x"})
    # The adjustment may not be published once 31 December has passed, even if the system has not lapsed it yet.
    from catalog import lifecycle
    from catalog.rules import adjustment_still_accepted
    from decisions.rules import Context

    late = Context(target=adjustment, now=year_end(kit.year) + timedelta(hours=1))
    assert not adjustment_still_accepted.holds(late)
    assert lifecycle.check(adjustment, "adjustment.publish", late)[0].code == "CATALOGUE_CLOSED"


# -- carry-over into the next year ----------------------------------------------------------------------------


def test_a_carry_over_decision_must_be_in_next_years_catalogue(kit, published):
    catalogue, entry, decision = published
    decision = kit.advance(decision, "INITIATED")
    kit.report(catalogue, dispositions={entry.key: "CARRY_OVER"})
    following = kit.open(kit.year + 1)
    kit.add(following, decision=kit.proposal("新一年事项"), name="新一年事项")
    compiled = kit.compile(following)
    assert [w.code for w in compiled.warnings] == ["CATALOGUE_CARRY_OVER_MISSING"]
    assert decision.reference in compiled.warnings[0].detail
    event = AuditEvent.objects.get(action="catalogue:compile", object_id=str(following.pk))
    assert event.payload["warnings"][0]["code"] == "CATALOGUE_CARRY_OVER_MISSING"


def test_a_carried_over_decision_keeps_its_state_and_is_not_listed_again(kit, published):
    catalogue, entry, decision = published
    decision = kit.advance(decision, "CONSULTATION")
    kit.report(catalogue, dispositions={entry.key: "CARRY_OVER"})
    following = kit.open(kit.year + 1)
    kit.add(following, decision=decision, name=decision.title)
    assert kit.compile(following).warnings == []
    kit.approve(following)
    kit.consent(following)
    kit.publish(following)
    decision.refresh_from_db()
    assert decision.state == "CONSULTATION"
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk, action="transition:T3").count() == 1
    assert following.entries_at(1).get().decision == decision


def test_the_year_end_report_keeps_the_report_document(kit, published):
    catalogue, _, _ = published
    services.report_year_end(
        kit.office,
        catalogue,
        report=upload("完成情况"),
        published_on=kit.today,
        dispositions={catalogue.entries_at().get().key: "CARRY_OVER"},
    )
    catalogue.refresh_from_db()
    assert catalogue.year_end_reported_at is not None
    assert catalogue.documents_of("YEAR_END_REPORT").count() == 1


def test_an_archived_decision_counts_by_the_state_it_was_archived_from(kit):
    from catalog.rules import year_end_status
    from decisions.walkthrough import implementation as implementation_walk
    from decisions.walkthrough import meeting as meeting_walk

    rejected, withdrawn = kit.proposal("否决"), kit.proposal("撤出")
    catalogue = kit.build("PUBLISHED", decisions=[rejected, withdrawn])
    rejected = meeting_walk.decide(kit.cast, kit.advance(rejected, "SCHEDULED"), Position.REJECT)
    kit.adjustment_at(
        catalogue, "PUBLISHED", CatalogueAdjustment.Kind.REMOVE, entry=catalogue.entries_at().get(decision=withdrawn)
    )
    for decision, status in ((rejected, "REJECTED"), (withdrawn, "WITHDRAWN")):
        archived = implementation_walk.archive(kit.cast, decision)
        assert archived.state == "ARCHIVED"
        assert year_end_status(archived) == status


def test_an_entry_past_its_planned_submission_is_flagged_until_the_meeting(kit):
    from catalog.rules import planned_submission_overdue

    late, on_time, scheduled = kit.proposal("逾期"), kit.proposal("未到期"), kit.proposal("已上会")
    catalogue = kit.open()
    yesterday = kit.today - timedelta(days=1)
    kit.add(
        catalogue,
        decision=late,
        name="逾期",
        planned_submission_from=yesterday - timedelta(days=30),
        planned_submission_to=yesterday,
    )
    kit.add(catalogue, decision=on_time, name="未到期", planned_submission_to=kit.today)
    kit.add(catalogue, decision=scheduled, name="已上会", planned_submission_to=yesterday)
    for step in (kit.compile, kit.approve, kit.consent, kit.publish):
        step(catalogue)
    catalogue.refresh_from_db()
    kit.advance(scheduled, "SCHEDULED")
    assert [e.name for e in planned_submission_overdue(catalogue, kit.today)] == ["逾期"]
    assert [e.name for e in planned_submission_overdue(catalogue, kit.today + timedelta(days=1))] == ["逾期", "未到期"]


def test_only_a_published_removal_or_a_reported_remove_pending_entry_is_a_withdrawal_source(kit):
    from catalog.rules import withdrawal_source_valid

    removed, pending = kit.proposal("撤出"), kit.proposal("拟撤出")
    catalogue = kit.build("PUBLISHED", decisions=[removed, pending])
    entry = catalogue.entries_at().get(decision=removed)
    adjustment = kit.adjustment_at(catalogue, "PARTY_CONSENTED", CatalogueAdjustment.Kind.REMOVE, entry=entry)
    assert not withdrawal_source_valid(adjustment, removed)
    adjustment = kit.publish_adjustment(adjustment)
    assert withdrawal_source_valid(adjustment, removed) and not withdrawal_source_valid(adjustment, pending)
    catalogue.refresh_from_db()
    assert not withdrawal_source_valid(catalogue, pending)
    kit.report(catalogue, dispositions={catalogue.entries_at().get(decision=pending).key: "REMOVE_PENDING"})
    catalogue.refresh_from_db()
    assert withdrawal_source_valid(catalogue, pending)


def test_the_daily_close_catalogues_command_lapses_and_closes_what_is_due_and_then_nothing(kit, published, monkeypatch):
    catalogue, entry, _ = published
    adjustment = kit.adjustment_at(catalogue, "REVIEWED", MODIFY, entry=entry, data={"remarks": "x"})
    out = StringIO()
    call_command("close_catalogues", stdout=out)
    assert "0 项调整作废，0 个目录关闭" in out.getvalue()  # the year is not over

    after_year_end = year_end(kit.year) + timedelta(hours=1)
    monkeypatch.setattr(services.timezone, "now", lambda: after_year_end)
    out = StringIO()
    call_command("close_catalogues", stdout=out)
    adjustment.refresh_from_db()
    assert adjustment.state == "REJECTED" and "目录调整作废" in out.getvalue()
    assert "1 项调整作废，0 个目录关闭" in out.getvalue()  # no year-end report yet: the catalogue stays published

    kit.report(catalogue)
    out = StringIO()
    call_command("close_catalogues", stdout=out)
    catalogue.refresh_from_db()
    assert catalogue.state == "CLOSED" and f"目录关闭 closed: {catalogue.title}" in out.getvalue()
    out = StringIO()
    call_command("close_catalogues", stdout=out)
    assert "0 项调整作废，0 个目录关闭" in out.getvalue()
