"""The audit chain: every change appends one event, MAC-chained to the one before (第33条, B10).

Each event's MAC covers its own content and the previous event's MAC, keyed with
settings.AUDIT_KEY, which lives outside the database: whoever can edit rows cannot
recompute the chain. The chain head (last sequence number and MAC, itself MACed)
is what catches a deleted tail. Each event names its algorithm so that events
written later with 国密 SM3 verify alongside the HMAC-SHA256 ones.
Events are appended inside the caller's transaction, so a rolled-back change
leaves no event and an event never describes a change that did not happen.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from decisions.models import AuditEvent, ChainHead

GENESIS = "0" * 64
CURRENT_ALGORITHM = "HMAC-SHA256"


def _hmac_sha256(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


ALGORITHMS = {"HMAC-SHA256": _hmac_sha256}


def _key():
    return settings.AUDIT_KEY.encode()


def _json_default(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return value.pk
    return str(value)


def canonical(value) -> str:
    """Serialise `value` the one way MACs and hashes are computed over."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def normalise(payload):
    """Return `payload` as it will read back from a JSONField, so the MAC survives the round trip."""
    return json.loads(canonical(payload))


def event_content(event) -> dict:
    return {
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "role": event.role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "decision": event.decision_id_ref,
        "payload": event.payload,
        "algorithm": event.algorithm,
    }


def compute_mac(event, prev_mac) -> str:
    algorithm = ALGORITHMS[event.algorithm]
    return algorithm(_key(), f"{prev_mac}|{canonical(event_content(event))}".encode())


def _head_mac(seq, mac) -> str:
    return _hmac_sha256(_key(), f"head|{seq}|{mac}".encode())


def append(*, actor, role, action, obj=None, object_type="", object_id="", decision=None, payload=None):
    """Append one event to the chain inside the current transaction, and return it."""
    assert transaction.get_connection().in_atomic_block, "audit events are written with the change they record"
    head, _ = ChainHead.objects.select_for_update().get_or_create(id=1, defaults={"last_mac": GENESIS})
    prev_mac = head.last_mac or GENESIS
    if head.last_seq and not hmac.compare_digest(head.head_mac, _head_mac(head.last_seq, prev_mac)):
        raise RuntimeError("the audit chain head has been altered: run `manage.py verify_audit`")
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or str(obj.pk)
    event = AuditEvent(
        seq=head.last_seq + 1,
        at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=str(actor) if actor is not None else "system",
        role=role or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        decision_id_ref=getattr(decision, "pk", decision),
        payload=normalise(payload or {}),
        algorithm=CURRENT_ALGORITHM,
        prev_mac=prev_mac,
    )
    event.mac = compute_mac(event, prev_mac)
    event.save()
    head.last_seq = event.seq
    head.last_mac = event.mac
    head.head_mac = _head_mac(event.seq, event.mac)
    head.save(update_fields=["last_seq", "last_mac", "head_mac"])
    return event


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify(batch_size=2000) -> VerifyResult:
    """Walk the chain in sequence order; report the first event that does not verify."""
    expected_seq, prev_mac, checked = 1, GENESIS, 0
    events = AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size)
    for event in events:
        if event.seq != expected_seq:
            problem = "missing event(s) before it" if event.seq > expected_seq else "sequence out of order"
            return VerifyResult(False, checked, expected_seq if event.seq > expected_seq else event.seq, problem)
        if event.algorithm not in ALGORITHMS:
            return VerifyResult(False, checked, event.seq, f"unknown algorithm {event.algorithm}")
        if not hmac.compare_digest(event.prev_mac, prev_mac):
            return VerifyResult(False, checked, event.seq, "does not link to the previous event")
        if not hmac.compare_digest(event.mac, compute_mac(event, prev_mac)):
            return VerifyResult(False, checked, event.seq, "content does not match its MAC")
        prev_mac, expected_seq, checked = event.mac, expected_seq + 1, checked + 1
    head = ChainHead.objects.filter(id=1).first()
    last_seq = expected_seq - 1
    if head is None:
        return VerifyResult(last_seq == 0, checked, 1 if last_seq else None, "" if not last_seq else "chain head missing")
    if not hmac.compare_digest(head.head_mac or "", _head_mac(head.last_seq, head.last_mac)) and head.last_seq:
        return VerifyResult(False, checked, head.last_seq, "chain head does not match its MAC")
    if head.last_seq != last_seq or (last_seq and head.last_mac != prev_mac):
        return VerifyResult(False, checked, last_seq + 1, "events missing at the end of the chain")
    return VerifyResult(True, checked)
