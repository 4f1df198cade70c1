"""The audit chain: every change appends one event, MAC-chained to the one before (第33条, B10).

Each event's MAC covers its own content and the previous event's MAC, keyed with
the audit key from the key service (decisions/crypto.py; JUECE_AUDIT_KEY by default), which lives
outside the database: whoever can edit rows cannot recompute the chain. The chain head (last
sequence number and MAC, itself MACed) is what catches a deleted tail. New events and the head
take the MAC of the selected crypto profile (HMAC-SHA256, or 国密 HMAC-SM3); each event and the
head name their algorithm and are checked with it, so a chain that changed profile still verifies.
Events are appended inside the caller's transaction, so a rolled-back change
leaves no event and an event never describes a change that did not happen; once it commits, the
event is shipped to the syslog collector when one is set (decisions/audit_syslog.py).

Security events past the retention period may be purged once exported to an archive
(decisions/audit_retention.py): each run of purged events leaves an AuditAnchor holding the MAC the
next remaining event links to, so the chain still verifies across the gap, and verify() reports it.
"""

import hmac
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from decisions import audit_syslog, crypto
from decisions.models import AuditAnchor, AuditEvent, ChainHead

GENESIS = "0" * 64
# What events and heads written before the crypto profile existed were MACed with.
LEGACY_ALGORITHM = "HMAC-SHA256"
# MAC algorithms a chain may hold: algorithm name → function(key, message) → hex MAC.
ALGORITHMS = {name: (lambda key, message, name=name: crypto.mac_with(name, key, message)) for name in crypto.MACS}


def current_algorithm() -> str:
    """The MAC algorithm of the selected crypto profile (settings.JUECE_CRYPTO_PROFILE): what new events use."""
    return crypto.profile().mac_algorithm


def _key():
    return crypto.key_for("audit")


def _same(a, b) -> bool:
    """Compare two MACs in constant time; tampered values may hold any text, so compare bytes."""
    return hmac.compare_digest((a or "").encode(), (b or "").encode())


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
    return _as_stored(json.loads(canonical(payload)))


def _as_stored(value):
    # PostgreSQL jsonb stores numbers as numeric: 1e+20 reads back as the integer
    # 100000000000000000000 and -0.0 as 0.0, so such floats are stored in that form already.
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("audit payloads cannot hold NaN or infinity")
        if value == 0:
            return 0.0
        return int(value) if abs(value) >= 1e16 else value
    if isinstance(value, dict):
        return {key: _as_stored(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_stored(item) for item in value]
    return value


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


def event_record(event) -> dict:
    """Return the event as exported (archives, syslog): its content with prev_mac and mac, as plain JSON values."""
    return json.loads(canonical({**event_content(event), "prev_mac": event.prev_mac, "mac": event.mac}))


def compute_mac(event, prev_mac) -> str:
    algorithm = ALGORITHMS[event.algorithm]
    return algorithm(_key(), f"{prev_mac}|{canonical(event_content(event))}".encode())


def record_mac(record: dict) -> str:
    """Return the MAC an exported `record` (event_record) should carry, recomputed from its content and prev_mac."""
    content = {name: value for name, value in record.items() if name not in ("prev_mac", "mac")}
    return ALGORITHMS[record["algorithm"]](_key(), f"{record['prev_mac']}|{canonical(content)}".encode())


def anchor_mac(first_seq, seq, mac, archive_sha256, algorithm) -> str:
    """Return the keyed MAC of an anchor: the purged run first_seq..seq, its last MAC and its archive's digest."""
    return ALGORITHMS[algorithm](_key(), f"anchor|{first_seq}|{seq}|{mac}|{archive_sha256}".encode())


def _anchor_intact(anchor) -> bool:
    return anchor.algorithm in ALGORITHMS and _same(
        anchor.anchor_mac, anchor_mac(anchor.first_seq, anchor.seq, anchor.mac, anchor.archive.sha256, anchor.algorithm)
    )


def _head_mac(seq, mac, algorithm) -> str:
    return ALGORITHMS[algorithm](_key(), f"head|{seq}|{mac}".encode())


def _head_intact(head) -> bool:
    algorithm = head.head_algorithm or LEGACY_ALGORITHM
    return algorithm in ALGORITHMS and _same(head.head_mac, _head_mac(head.last_seq, head.last_mac, algorithm))


def append(*, actor, role, action, obj=None, object_type="", object_id="", decision=None, payload=None):
    """Append one event to the chain inside the current transaction, and return it."""
    # A real check, not `assert`: `python -O` must not let an event commit apart from its change.
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("audit events are written with the change they record")
    head, _ = ChainHead.objects.select_for_update().get_or_create(id=1, defaults={"last_mac": GENESIS})
    prev_mac = head.last_mac or GENESIS
    if head.last_seq and not _head_intact(head):
        raise RuntimeError("the audit chain head has been altered: run `manage.py verify_audit`")
    algorithm = current_algorithm()
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
        algorithm=algorithm,
        prev_mac=prev_mac,
    )
    event.mac = compute_mac(event, prev_mac)
    event.save()
    head.last_seq = event.seq
    head.last_mac = event.mac
    head.head_mac = _head_mac(event.seq, event.mac, algorithm)
    head.head_algorithm = algorithm
    head.save(update_fields=["last_seq", "last_mac", "head_mac", "head_algorithm"])
    if audit_syslog.enabled():
        audit_syslog.ship_on_commit(event_record(event))
    return event


# Stable codes for what verify() finds, with the Chinese and English message of each.
PROBLEMS = {
    "AUDIT_EVENT_MISSING": ("此前有事件缺失", "missing event(s) before it"),
    "AUDIT_SEQUENCE_DISORDER": ("序号顺序错乱", "sequence out of order"),
    "AUDIT_UNKNOWN_ALGORITHM": ("未知算法 {algorithm}", "unknown algorithm {algorithm}"),
    "AUDIT_LINK_BROKEN": ("与前一事件的链接不符", "does not link to the previous event"),
    "AUDIT_MAC_MISMATCH": ("事件内容与其 MAC 不符（已被改动）", "content does not match its MAC"),
    "AUDIT_HEAD_MISSING": ("链头缺失", "chain head missing"),
    "AUDIT_HEAD_MAC_MISMATCH": ("链头与其 MAC 不符（链尾无法核实）", "chain head does not match its MAC"),
    "AUDIT_TAIL_MISSING": ("链尾事件缺失", "events missing at the end of the chain"),
    "AUDIT_ANCHOR_MAC_MISMATCH": ("清理锚点与其 MAC 不符（已被改动）", "purge anchor does not match its MAC"),
    "AUDIT_EVENT_IN_PURGED_RANGE": ("已清理的范围内出现事件", "an event inside a purged range"),
}


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""
    code: str = ""
    problem_zh: str = ""
    # How many verified events each MAC algorithm covers, e.g. {"HMAC-SHA256": 120, "HMAC-SM3": 40}.
    algorithms: dict = field(default_factory=dict)
    # Events purged after export (decisions/audit_retention.py) that the walk crossed through their anchors:
    # how many, the seq ranges [first, last] (adjacent runs joined) and the archives that hold them.
    purged: int = 0
    purged_ranges: list = field(default_factory=list)
    purged_archives: list = field(default_factory=list)


def _broken(checked, seq, code, algorithms=None, **details) -> VerifyResult:
    zh, en = PROBLEMS[code]
    return VerifyResult(False, checked, seq, en.format(**details), code, zh.format(**details), dict(algorithms or {}))


class _PurgedRuns:
    """The anchors of purged runs, crossed in seq order by the walk, and what it crossed."""

    def __init__(self):
        self.by_first_seq = {anchor.first_seq: anchor for anchor in AuditAnchor.objects.select_related("archive")}
        self.count, self.ranges, self.archives = 0, [], set()

    def cross(self, expected_seq, prev_mac):
        """Follow the anchors starting at `expected_seq`; return (next expected seq, MAC it links to, bad anchor)."""
        while (anchor := self.by_first_seq.get(expected_seq)) is not None:
            if not _anchor_intact(anchor):
                return expected_seq, prev_mac, anchor
            if self.ranges and self.ranges[-1][1] == anchor.first_seq - 1:
                self.ranges[-1][1] = anchor.seq
            else:
                self.ranges.append([anchor.first_seq, anchor.seq])
            self.count += anchor.seq - anchor.first_seq + 1
            self.archives.add(anchor.archive_id)
            expected_seq, prev_mac = anchor.seq + 1, anchor.mac
        return expected_seq, prev_mac, None

    def holds(self, seq) -> bool:
        return any(first <= seq <= last for first, last in self.ranges)

    def result(self, ok, checked, algorithms, broken=None) -> VerifyResult:
        result = broken or VerifyResult(ok, checked, algorithms=algorithms)
        result.purged, result.purged_ranges = self.count, [tuple(pair) for pair in self.ranges]
        result.purged_archives = sorted(self.archives)
        return result


def verify(batch_size=2000) -> VerifyResult:
    """Walk the chain in sequence order; report the first event that does not verify.

    Events and the chain head are read from one snapshot, so that an append committed while
    the walk runs is not mistaken for a missing tail. A problem found only at the head is
    reported at the seq after the last event that verified: the head cannot vouch for the end.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # Must be the transaction's first statement; inside a caller's transaction its level applies.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _verify(batch_size)


def _verify(batch_size) -> VerifyResult:
    expected_seq, prev_mac, checked, used = 1, GENESIS, 0, {}
    purged = _PurgedRuns()

    def broken(seq, code, **details):
        return purged.result(False, checked, used, _broken(checked, seq, code, algorithms=used, **details))

    events = AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size)
    for event in events:
        # A purged run is crossed through its anchor: the next remaining event links to the anchor's MAC.
        expected_seq, prev_mac, bad_anchor = purged.cross(expected_seq, prev_mac)
        if bad_anchor is not None:
            return broken(bad_anchor.first_seq, "AUDIT_ANCHOR_MAC_MISMATCH")
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                return broken(expected_seq, "AUDIT_EVENT_MISSING")
            if purged.holds(event.seq):
                return broken(event.seq, "AUDIT_EVENT_IN_PURGED_RANGE")
            return broken(event.seq, "AUDIT_SEQUENCE_DISORDER")
        if event.algorithm not in ALGORITHMS:
            return broken(event.seq, "AUDIT_UNKNOWN_ALGORITHM", algorithm=event.algorithm)
        if not _same(event.prev_mac, prev_mac):
            return broken(event.seq, "AUDIT_LINK_BROKEN")
        if not _same(event.mac, compute_mac(event, prev_mac)):
            return broken(event.seq, "AUDIT_MAC_MISMATCH")
        prev_mac, expected_seq, checked = event.mac, expected_seq + 1, checked + 1
        used[event.algorithm] = used.get(event.algorithm, 0) + 1
    expected_seq, prev_mac, bad_anchor = purged.cross(expected_seq, prev_mac)
    if bad_anchor is not None:
        return broken(bad_anchor.first_seq, "AUDIT_ANCHOR_MAC_MISMATCH")
    head = ChainHead.objects.filter(id=1).first()
    last_seq = expected_seq - 1
    if head is None:
        return purged.result(True, checked, used) if last_seq == 0 else broken(last_seq + 1, "AUDIT_HEAD_MISSING")
    if head.last_seq and not _head_intact(head):
        return broken(last_seq + 1, "AUDIT_HEAD_MAC_MISMATCH")
    if head.last_seq != last_seq or (last_seq and not _same(head.last_mac, prev_mac)):
        return broken(last_seq + 1, "AUDIT_TAIL_MISSING")
    return purged.result(True, checked, used)
