import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.forms.models import model_to_dict

from decisions import audit
from decisions.models import AuditEvent, ChainHead


@pytest.fixture
def history(db, django_user_model):
    """Return a factory that appends `n` events, each in its own transaction, and returns them in order."""
    user = django_user_model.objects.create_user(username="gov-office", password="x")

    def make(n=5):
        events = []
        for i in range(n):
            with transaction.atomic():
                events.append(
                    audit.append(
                        actor=user if i % 2 else None,
                        role="GOV_OFFICE" if i % 2 else "",
                        action=f"test_action_{i}",
                        object_type="decisions.Decision",
                        object_id=str(100 + i),
                        payload={"step": i, "note": "送请合法性审查", "amount": "12.50", "items": [i, i + 1]},
                    )
                )
        return events

    return make


def verify_audit_fails_at(seq):
    """Run verify_audit, expect exit status 1, and check that it names `seq` as the first bad event."""
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit")
    message = str(excinfo.value)
    assert excinfo.value.returncode == 1
    assert re.search(rf"seq={seq}\b", message), message
    assert "审计链未通过核验" in message and "Audit chain broken" in message
    return message


def test_verify_audit_passes_on_an_untouched_history(history, capsys):
    history(5)

    call_command("verify_audit")

    out = capsys.readouterr().out
    assert "5" in out and "intact" in out
    assert audit.verify().checked == 5


def test_verify_audit_passes_on_an_empty_chain(db, capsys):
    call_command("verify_audit")
    assert "0 events checked" in capsys.readouterr().out


def test_verify_audit_quiet_prints_nothing_when_intact(history, capsys):
    history(3)
    call_command("verify_audit", "--quiet")
    assert capsys.readouterr().out == ""


def test_an_event_without_an_actor_is_recorded_as_system(history):
    first = history(1)[0]
    assert (first.actor_id, first.actor_label) == (None, "system")


def test_events_read_back_from_the_database_still_verify(history):
    events = history(3)
    stored = AuditEvent.objects.get(seq=events[1].seq)
    assert stored.mac == audit.compute_mac(stored, events[0].mac)


@pytest.mark.parametrize(
    "value",
    [1e20, 1.5e300, -0.0, 0.1, 0.1 + 0.2, 1e-7, 2**70, Decimal("1.10"), date(2025, 4, 7), "合法性审查", None, True],
)
def test_payload_values_survive_the_database_round_trip(db, value):
    with transaction.atomic():
        audit.append(actor=None, role="", action="numbers", payload={"value": value, "nested": [{"v": value}]})

    assert audit.verify().ok


def test_a_payload_with_nan_is_refused(db):
    with pytest.raises(ValueError, match="NaN"), transaction.atomic():
        audit.append(actor=None, role="", action="nan", payload={"value": float("nan")})


def update_event(at_seq, **fields):
    # As someone with the database would, past the application's refusal (AuditEvent.objects is append-only):
    # tests of tampering change rows through the plain `_base_manager`.
    assert AuditEvent._base_manager.filter(seq=at_seq).update(**fields) == 1


def alter_payload(events):
    middle = events[2]
    update_event(middle.seq, payload={**middle.payload, "amount": "99.99"})
    return middle.seq


def alter_time(events):
    middle = events[2]
    update_event(middle.seq, at=middle.at - timedelta(days=1))
    return middle.seq


def alter_action(events):
    update_event(events[2].seq, action="withdraw")
    return events[2].seq


def alter_actor_label(events):
    update_event(events[1].seq, actor_label="someone else")
    return events[1].seq


def alter_prev_mac(events):
    update_event(events[2].seq, prev_mac="0" * 64)
    return events[2].seq


def replace_mac_with_text(events):
    update_event(events[2].seq, mac="篡改")
    return events[2].seq


def delete_middle(events):
    AuditEvent._base_manager.filter(seq=events[2].seq).delete()
    return events[2].seq


def delete_last(events):
    AuditEvent._base_manager.filter(seq=events[-1].seq).delete()
    return events[-1].seq


def delete_last_and_roll_head_back(events):
    # Without the key the attacker cannot recompute head_mac for the earlier head.
    AuditEvent._base_manager.filter(seq=events[-1].seq).delete()
    ChainHead.objects.filter(id=1).update(last_seq=events[-2].seq, last_mac=events[-2].mac)
    return events[-1].seq


def delete_chain_head(events):
    ChainHead.objects.all().delete()
    return events[-1].seq + 1


def insert_forged_event(events):
    last = events[-1]
    forged = model_to_dict(AuditEvent.objects.get(seq=events[1].seq), exclude=["id", "actor"])
    forged.update(seq=last.seq + 1, prev_mac=last.mac, actor_id=events[1].actor_id)
    AuditEvent.objects.create(**forged)
    ChainHead.objects.filter(id=1).update(last_seq=last.seq + 1, last_mac=forged["mac"])
    return last.seq + 1


def swap_two_events(events):
    a, b = events[1].seq, events[2].seq
    update_event(a, seq=10**9)  # seq is unique: park one event first
    update_event(b, seq=a)
    update_event(10**9, seq=b)
    return a


def rename_algorithm(events):
    update_event(events[2].seq, algorithm="SM3")
    return events[2].seq


@pytest.mark.parametrize(
    "tamper",
    [
        alter_payload,
        alter_time,
        alter_action,
        alter_actor_label,
        alter_prev_mac,
        replace_mac_with_text,
        delete_middle,
        delete_last,
        delete_last_and_roll_head_back,
        delete_chain_head,
        insert_forged_event,
        swap_two_events,
        rename_algorithm,
    ],
)
def test_verify_audit_detects_tampering_and_names_the_first_bad_seq(history, tamper):
    events = history(5)

    bad_seq = tamper(events)

    verify_audit_fails_at(bad_seq)
    result = audit.verify()
    assert (result.ok, result.first_bad_seq) == (False, bad_seq)
    assert result.code in audit.PROBLEMS and result.problem_zh


def test_appending_after_the_head_was_rolled_back_is_refused(history):
    events = history(3)
    ChainHead.objects.filter(id=1).update(last_seq=events[-2].seq, last_mac=events[-2].mac)

    with pytest.raises(RuntimeError, match="verify_audit"), transaction.atomic():
        audit.append(actor=None, role="", action="after_tamper")


@pytest.mark.django_db(transaction=True)
def test_append_refuses_to_write_outside_a_transaction():
    with pytest.raises(transaction.TransactionManagementError):
        audit.append(actor=None, role="", action="no_transaction")
    assert not AuditEvent.objects.exists()


class ChangeFailed(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_an_event_in_a_rolled_back_transaction_leaves_no_event_and_the_chain_stays_valid():
    for i in range(2):
        with transaction.atomic():
            audit.append(actor=None, role="", action=f"kept_{i}")

    with pytest.raises(ChangeFailed), transaction.atomic():
        audit.append(actor=None, role="", action="rolled_back")
        raise ChangeFailed  # the change the event describes fails, so the event must go too

    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["kept_0", "kept_1"]
    assert audit.verify().ok
    with transaction.atomic():
        audit.append(actor=None, role="", action="kept_2")
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1, 2, 3]
    assert audit.verify().ok
