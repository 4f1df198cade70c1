"""The audit chain under both crypto profiles: a chain that moves from HMAC-SHA256 to 国密 HMAC-SM3 (and back)
still verifies, in the database (`manage.py verify_audit`) and in an auditor's bundle (`verify_bundle`),
and tampering is caught whichever algorithm an event was chained with."""

import json
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from decisions import audit
from decisions.models import AuditEvent, ChainHead, Role
from decisions.walkthrough import initiation as walk
from reports import verify as verifier
from reports.bundle import export_decision_bundle
from reports.verify import verify_bundle


def append_events(n, label):
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(
                audit.append(
                    actor=None,
                    role="",
                    action=f"{label}_{i}",
                    object_type="decisions.Decision",
                    object_id=str(i),
                    payload={"step": i, "note": "合法性审查意见"},
                )
            )
    return events


def test_a_chain_that_moves_to_the_gm_profile_and_back_still_verifies(db, settings, capsys):
    settings.JUECE_CRYPTO_PROFILE = "intl"
    before = append_events(3, "intl")
    settings.JUECE_CRYPTO_PROFILE = "gm"
    during = append_events(3, "gm")
    assert ChainHead.objects.get().head_algorithm == "HMAC-SM3"
    settings.JUECE_CRYPTO_PROFILE = "intl"
    after = append_events(2, "back")

    assert {e.algorithm for e in before + after} == {"HMAC-SHA256"}
    assert {e.algorithm for e in during} == {"HMAC-SM3"}
    assert during[0].prev_mac == before[-1].mac  # one chain across the switch
    assert ChainHead.objects.get().head_algorithm == "HMAC-SHA256"

    result = audit.verify()
    assert result.ok and result.checked == 8
    assert result.algorithms == {"HMAC-SHA256": 5, "HMAC-SM3": 3}
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "8 events checked" in out and "HMAC-SM3: 3" in out and "HMAC-SHA256: 5" in out


def test_a_sm3_event_is_not_the_sha256_mac_of_the_same_content(db, settings):
    settings.JUECE_CRYPTO_PROFILE = "gm"
    event = append_events(1, "gm")[0]
    event.algorithm = "HMAC-SHA256"
    assert audit.compute_mac(event, audit.GENESIS) != event.mac


@pytest.mark.parametrize("profile", ["intl", "gm"])
def test_an_edited_event_is_caught_in_either_profile(db, settings, profile):
    settings.JUECE_CRYPTO_PROFILE = profile
    events = append_events(4, profile)
    AuditEvent._base_manager.filter(seq=events[2].seq).update(payload={"step": 2, "note": "已改动"})

    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    assert f"seq={events[2].seq}" in str(failure.value) and "AUDIT_MAC_MISMATCH" in str(failure.value)


@pytest.mark.parametrize("relabel", ["HMAC-SHA256", "HMAC-SM3"])
def test_relabelling_an_events_algorithm_is_caught(db, settings, relabel):
    settings.JUECE_CRYPTO_PROFILE = "gm" if relabel == "HMAC-SHA256" else "intl"
    events = append_events(3, "x")
    AuditEvent._base_manager.filter(seq=events[1].seq).update(algorithm=relabel)

    result = audit.verify()
    assert not result.ok and (result.first_bad_seq, result.code) == (events[1].seq, "AUDIT_MAC_MISMATCH")


def test_a_truncated_tail_is_caught_after_a_profile_switch(db, settings):
    settings.JUECE_CRYPTO_PROFILE = "intl"
    append_events(2, "intl")
    settings.JUECE_CRYPTO_PROFILE = "gm"
    events = append_events(2, "gm")
    AuditEvent._base_manager.filter(seq=events[-1].seq).delete()

    result = audit.verify()
    assert not result.ok and result.code == "AUDIT_TAIL_MISSING"


def test_a_head_written_before_profiles_existed_still_verifies_and_the_next_append_moves_it(db, settings):
    settings.JUECE_CRYPTO_PROFILE = "intl"
    append_events(2, "old")
    head = ChainHead.objects.get()
    assert head.head_algorithm == "HMAC-SHA256"  # what the migration gives existing heads
    settings.JUECE_CRYPTO_PROFILE = "gm"
    append_events(1, "new")
    assert ChainHead.objects.get().head_algorithm == "HMAC-SM3"
    assert audit.verify().ok


def test_a_forged_head_algorithm_is_caught(db, settings):
    settings.JUECE_CRYPTO_PROFILE = "gm"
    append_events(2, "gm")
    ChainHead.objects.update(head_algorithm="HMAC-SHA256")

    assert audit.verify().code == "AUDIT_HEAD_MAC_MISMATCH"
    with pytest.raises(RuntimeError, match="verify_audit"), transaction.atomic():
        append_events(1, "refused")


# -- bundles -------------------------------------------------------------------------------------------------


@pytest.fixture
def mixed_bundle(open_cast, tmp_path, settings):
    """A decision begun under the intl profile and carried on under 国密, exported under 国密."""
    settings.JUECE_CRYPTO_PROFILE = "intl"
    decision = walk.propose(open_cast)
    settings.JUECE_CRYPTO_PROFILE = "gm"
    walk.draft(open_cast, walk.initiate(open_cast, decision))
    path = tmp_path / "mixed.zip"
    export_decision_bundle(open_cast[Role.SUPERVISOR], decision, path)
    return path


def bundle_events(path):
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith("data/decision.json"))
        index = json.loads(archive.read(name))
        events = json.loads(archive.read(name.replace("decision.json", "audit/events.json")))
    return index, events


def test_a_bundle_holding_both_profiles_verifies_with_the_key(mixed_bundle, settings, django_db_blocker):
    index, events = bundle_events(mixed_bundle)
    assert {e["algorithm"] for e in events} == {"HMAC-SHA256", "HMAC-SM3"}
    assert index["audit"]["events_mac_algorithm"] == "HMAC-SM3"
    assert index["audit"]["algorithms"] == ["HMAC-SHA256", "HMAC-SM3"]

    with django_db_blocker.block():
        report = verify_bundle(mixed_bundle, audit_key=settings.AUDIT_KEY)
    assert report.ok, verifier.format_report(report)
    assert report.macs_checked and not report.warnings


def test_a_bundle_with_a_wrong_key_fails_on_the_sm3_events_too(mixed_bundle, django_db_blocker):
    with django_db_blocker.block():
        report = verify_bundle(mixed_bundle, audit_key="not-the-audit-key-000")
    assert "AUDIT_MAC_MISMATCH" in report.codes() and "AUDIT_EVENTS_INCOMPLETE" in report.codes()
    bad = {p.seq for p in report.problems if p.code == "AUDIT_MAC_MISMATCH"}
    _index, events = bundle_events(mixed_bundle)
    assert bad == {e["seq"] for e in events}


def test_without_sm3_the_verifier_says_which_macs_it_could_not_check(
    mixed_bundle, settings, monkeypatch, django_db_blocker
):
    def no_sm3(algorithm, key, message, real=verifier.mac_hex):
        if algorithm == "HMAC-SM3":
            raise verifier.AlgorithmUnavailable(algorithm)
        return real(algorithm, key, message)

    monkeypatch.setattr(verifier, "mac_hex", no_sm3)
    with django_db_blocker.block():
        report = verify_bundle(mixed_bundle, audit_key=settings.AUDIT_KEY)
    _index, events = bundle_events(mixed_bundle)
    sm3 = sum(e["algorithm"] == "HMAC-SM3" for e in events)
    assert report.ok and not report.macs_checked
    [warning] = report.warnings
    assert warning.code == "MAC_ALGORITHM_UNAVAILABLE" and "HMAC-SM3" in warning.en
    assert f"{sm3 + 1} MAC(s) NOT checked" in warning.en  # the events' and the bundle's events_mac
    assert "未核验 MAC" in verifier.format_report(report)
