"""How long the audit chain is kept, its export to archives, and the purge of what was exported (等保 2.0 安全审计).

Events are kept settings.JUECE_AUDIT_RETENTION_DAYS (default 365; never below 180: 《网络安全法》第二十一条,
network logs are kept for no less than six months).

export_archive() writes the events not yet archived, up to a time, to one JSON-lines file (each line one
event with prev_mac and mac, decisions.audit.event_record) and a manifest with the file's SHA-256 and SM3,
under MEDIA_ROOT/audit_archives/ through Django's storage; it checks every event's link and MAC as it
writes, and records an AuditArchive row and a `security:audit_archive` event naming the digests.

purge() removes, once they are older than the retention period and held in an archive that still verifies
(file present, both digests, every line's MAC with the key, and the archive event of the chain), the
security events (`security:*`) that belong to no decision. The rest is never purged: a decision's events
are the record of its procedure (条例第三十三条 过程记录和材料归档), rules read them (T29, REVISING) and
bundles attest documents with them; the archive and purge events say what was removed. Each run of
consecutive purged events leaves an AuditAnchor with the MAC the next remaining event links to, so that
decisions.audit.verify() still walks the whole chain, and a `security:audit_purge` event.

Who may call these (三员分立: the audit administrator) is the callers' gate; the commands act as `system`.
"""

import hashlib
import json
import os
import tempfile
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta

from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from decisions import audit
from decisions.models import AuditAnchor, AuditArchive, AuditEvent

ARCHIVE_ACTION = "security:audit_archive"
PURGE_ACTION = "security:audit_purge"
PURGEABLE_PREFIX = "security:"
# What was archived and purged stays in the chain for good: it is the evidence of the purge itself.
NEVER_PURGED = (ARCHIVE_ACTION, PURGE_ACTION)
ARCHIVE_DIR = "audit_archives"
ARCHIVE_FORMAT = "juece-audit-archive/1"
BATCH = 2000

REFUSALS = {
    "AUDIT_NOTHING_TO_ARCHIVE": (
        "截至 {until} 没有尚未归档的审计事件",
        "no audit event up to {until} is left to archive",
    ),
    "AUDIT_CHAIN_BROKEN": (
        "审计链未通过核验（seq {seq}：{problem_zh}），不予归档或清理；请先运行 manage.py verify_audit 查明原因",
        "the audit chain does not verify (seq {seq}: {problem}); nothing is archived or purged",
    ),
    "AUDIT_PURGE_TOO_RECENT": (
        "清理时点 {before} 晚于保存期限（{days} 天）的起点 {cutoff}：保存期内的审计事件不得清理",
        "{before} is later than the start of the retention period ({days} days), {cutoff}",
    ),
    "AUDIT_PURGE_RETENTION_NOT_REACHED": (
        "没有超过保存期限（{days} 天，{before} 之前）的可清理审计事件",
        "no purgeable audit event is older than the retention period ({days} days, before {before})",
    ),
    "AUDIT_PURGE_NOT_ARCHIVED": (
        "超过保存期限的审计事件尚未导出归档，不予清理：请先运行 manage.py audit_archive",
        "the events past the retention period are not in an audit archive yet: run manage.py audit_archive first",
    ),
    "AUDIT_ARCHIVE_MISSING": (
        "审计归档 #{id}（seq {first}–{last}）的文件缺失，不予清理",
        "the file of audit archive #{id} (seq {first}–{last}) is missing",
    ),
    "AUDIT_ARCHIVE_ALTERED": (
        "审计归档 #{id}（seq {first}–{last}）的文件与登记的 SHA-256/SM3 摘要不符（已被改动），不予清理",
        "the file of audit archive #{id} (seq {first}–{last}) does not match its SHA-256/SM3 digests",
    ),
    "AUDIT_ARCHIVE_INVALID": (
        "审计归档 #{id} 第 {line} 行未通过核验（{reason}），不予清理",
        "line {line} of audit archive #{id} does not verify ({reason})",
    ),
    "AUDIT_ARCHIVE_UNATTESTED": (
        "审计归档 #{id} 的登记与审计链中的归档事件不符，不予清理",
        "audit archive #{id} does not match its archive event in the chain",
    ),
    "AUDIT_ARCHIVE_MISMATCH": (
        "待清理的审计事件 seq {seq} 与审计归档 #{id} 中的记录不符，不予清理",
        "audit event seq {seq} differs from its record in audit archive #{id}",
    ),
}


class AuditRetentionRefused(Exception):
    """An archive or a purge refused, with a stable code and a Chinese and an English message."""

    def __init__(self, code, **details):
        self.code = code
        zh, en = REFUSALS[code]
        self.message_zh, self.message_en = zh.format(**details), en.format(**details)
        super().__init__(f"{self.message_zh} / {self.message_en} ({code})")


def retention_days() -> int:
    """Return the retention period in days; below the legal floor of 180 is a configuration error."""
    days = settings.JUECE_AUDIT_RETENTION_DAYS
    if days < settings.AUDIT_RETENTION_MIN_DAYS:
        raise ImproperlyConfigured(f"JUECE_AUDIT_RETENTION_DAYS must be at least {settings.AUDIT_RETENTION_MIN_DAYS}")
    return days


# -- export ---------------------------------------------------------------------------------------------------


class _Digests:
    """SHA-256 and SM3 of a byte stream, computed as it is written or read."""

    def __init__(self):
        self.sha256 = hashlib.sha256()
        self.sm3 = hashes.Hash(hashes.SM3())

    def update(self, data: bytes):
        self.sha256.update(data)
        self.sm3.update(data)

    def hexdigests(self) -> tuple[str, str]:
        return self.sha256.hexdigest(), self.sm3.finalize().hex()


class _StagedFile(File):
    # FileSystemStorage moves a file that has a temporary path (an atomic rename in the same directory)
    # instead of writing the target chunk by chunk; any other storage reads it.
    def temporary_file_path(self):
        return self.file.name


@contextmanager
def _staging(storage):
    """Yield the path of a temporary file beside the archives (or in the system's temp directory); remove it after."""
    try:
        directory = storage.path(ARCHIVE_DIR)
        os.makedirs(directory, exist_ok=True)
    except NotImplementedError:  # a storage without local paths
        directory = None
    handle, path = tempfile.mkstemp(prefix=".staging-", suffix=".part", dir=directory)
    os.close(handle)
    try:
        yield path
    finally:
        with suppress(FileNotFoundError):
            os.remove(path)


def _store(storage, name, path) -> str:
    with open(path, "rb") as handle:
        return storage.save(name, _StagedFile(handle, name=os.path.basename(name)))


def _line(record) -> bytes:
    return (json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()


def _write_events(path, first_seq, prev_mac, until):
    """Write the events from `first_seq` up to `until` to `path`, checking each link and MAC; return what was written."""
    digests, expected_seq, count, algorithms = _Digests(), first_seq, 0, set()
    events = AuditEvent.objects.filter(seq__gte=first_seq).order_by("seq").iterator(chunk_size=BATCH)
    # Closed on leaving, even at the break: PostgreSQL's server-side cursor must not outlive the transaction.
    with closing(events), open(path, "wb") as out:
        for event in events:
            if event.at > until:
                break
            # An archive must never certify a chain that does not verify.
            if event.seq != expected_seq:
                raise _chain_broken(expected_seq, "AUDIT_EVENT_MISSING")
            if event.algorithm not in audit.ALGORITHMS or not audit._same(event.prev_mac, prev_mac):
                raise _chain_broken(event.seq, "AUDIT_LINK_BROKEN")
            if not audit._same(event.mac, audit.compute_mac(event, prev_mac)):
                raise _chain_broken(event.seq, "AUDIT_MAC_MISMATCH")
            data = _line(audit.event_record(event))
            out.write(data)
            digests.update(data)
            prev_mac, expected_seq, count = event.mac, expected_seq + 1, count + 1
            algorithms.add(event.algorithm)
    return count, prev_mac, digests.hexdigests(), sorted(algorithms)


def _chain_broken(seq, code):
    zh, en = audit.PROBLEMS[code]
    return AuditRetentionRefused("AUDIT_CHAIN_BROKEN", seq=seq, problem_zh=zh, problem=en)


def export_archive(user, until=None) -> AuditArchive:
    """Export the events not yet archived, up to `until` (now by default), to a verified archive; record it.

    The file and its manifest appear under their names complete, with their AuditArchive row and the
    `security:audit_archive` event, or not at all.
    """
    until = until or timezone.now()
    previous = AuditArchive.objects.order_by("-last_seq").first()
    first_seq = previous.last_seq + 1 if previous else 1
    first_prev_mac = previous.last_mac if previous else audit.GENESIS
    storage = AuditArchive._meta.get_field("file").storage
    saved = []
    try:
        with _staging(storage) as events_path, _staging(storage) as manifest_path:
            count, last_mac, (sha256, sm3), algorithms = _write_events(events_path, first_seq, first_prev_mac, until)
            if not count:
                raise AuditRetentionRefused("AUDIT_NOTHING_TO_ARCHIVE", until=until.isoformat())
            last_seq = first_seq + count - 1
            stem = f"{ARCHIVE_DIR}/audit-{first_seq:012d}-{last_seq:012d}"
            with transaction.atomic():
                saved.append(_store(storage, stem + ".jsonl", events_path))
                manifest = {
                    "format": ARCHIVE_FORMAT,
                    "file": os.path.basename(saved[0]),
                    "first_seq": first_seq,
                    "last_seq": last_seq,
                    "count": count,
                    "prev_mac": first_prev_mac,
                    "last_mac": last_mac,
                    "mac_algorithms": algorithms,
                    "until": until.isoformat(),
                    "created_at": timezone.now().isoformat(),
                    "digests": {"SHA-256": sha256, "SM3": sm3},
                }
                with open(manifest_path, "wb") as out:
                    out.write(json.dumps(manifest, ensure_ascii=False, indent=2).encode())
                saved.append(_store(storage, stem + ".manifest.json", manifest_path))
                archive = AuditArchive.objects.create(
                    first_seq=first_seq,
                    last_seq=last_seq,
                    event_count=count,
                    prev_mac=first_prev_mac,
                    last_mac=last_mac,
                    until=until,
                    sha256=sha256,
                    sm3=sm3,
                    file=saved[0],
                    manifest=saved[1],
                    created_by=user if getattr(user, "pk", None) else None,
                )
                audit.append(
                    actor=user,
                    role="",
                    action=ARCHIVE_ACTION,
                    obj=archive,
                    payload={
                        "first_seq": first_seq,
                        "last_seq": last_seq,
                        "count": count,
                        "until": until,
                        "file": saved[0],
                        "sha256": sha256,
                        "sm3": sm3,
                    },
                )
    except BaseException:
        for name in saved:
            storage.delete(name)
        raise
    return archive


def verify_archive(archive, wanted=()) -> dict:
    """Check an archive against its digests, the key and the chain; return {seq: mac} of the `wanted` seqs it holds.

    Raises AuditRetentionRefused when the file is missing or altered, a line does not verify, or the row
    differs from the `security:audit_archive` event that recorded it.
    """
    where = {"id": archive.pk, "first": archive.first_seq, "last": archive.last_seq}
    storage, name = archive.file.storage, archive.file.name
    if not name or not storage.exists(name):
        raise AuditRetentionRefused("AUDIT_ARCHIVE_MISSING", **where)
    wanted, found, problem = set(wanted), {}, None
    digests, expected_seq, prev_mac = _Digests(), archive.first_seq, archive.prev_mac
    with storage.open(name, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            digests.update(raw)
            if problem is None:
                problem = _line_problem(raw, expected_seq, prev_mac)
                if problem is None:
                    record = json.loads(raw)
                    if record["seq"] in wanted:
                        found[record["seq"]] = record["mac"]
                    expected_seq, prev_mac = expected_seq + 1, record["mac"]
                else:
                    problem = (number, problem)
    # A file whose bytes changed is reported as altered, whatever its lines say.
    if digests.hexdigests() != (archive.sha256, archive.sm3):
        raise AuditRetentionRefused("AUDIT_ARCHIVE_ALTERED", **where)
    if problem is None and (expected_seq - 1 != archive.last_seq or not audit._same(prev_mac, archive.last_mac)):
        problem = (archive.event_count + 1, "文件在 last_seq 之前结束 / ends before last_seq")
    if problem is not None:
        raise AuditRetentionRefused("AUDIT_ARCHIVE_INVALID", id=archive.pk, line=problem[0], reason=problem[1])
    recorded = (
        AuditEvent.objects.filter(
            action=ARCHIVE_ACTION, object_type=AuditArchive._meta.label, object_id=str(archive.pk)
        )
        .values_list("payload", flat=True)
        .first()
    )
    attested = {
        "first_seq": archive.first_seq,
        "last_seq": archive.last_seq,
        "sha256": archive.sha256,
        "sm3": archive.sm3,
    }
    if not recorded or any(recorded.get(key) != value for key, value in attested.items()):
        raise AuditRetentionRefused("AUDIT_ARCHIVE_UNATTESTED", id=archive.pk)
    return found


def _line_problem(raw, expected_seq, prev_mac) -> str | None:
    """Return what is wrong with one archived line, or None when it is the event `expected_seq` linked to `prev_mac`."""
    try:
        record = json.loads(raw)
        seq, algorithm = record["seq"], record["algorithm"]
        if seq != expected_seq:
            return f"seq {seq}，应为 {expected_seq} / expected {expected_seq}"
        if algorithm not in audit.ALGORITHMS:
            return f"未知算法 {algorithm} / unknown algorithm"
        if not audit._same(record["prev_mac"], prev_mac):
            return "与前一事件的链接不符 / does not link to the previous event"
        if not audit._same(record["mac"], audit.record_mac(record)):
            return "内容与其 MAC 不符 / content does not match its MAC"
    except (ValueError, KeyError, TypeError) as exc:
        return f"无法读取 / unreadable: {exc.__class__.__name__}"
    return None


# -- purge ----------------------------------------------------------------------------------------------------


@dataclass
class PurgeResult:
    count: int
    first_seq: int
    last_seq: int
    anchors: list = field(default_factory=list)
    archives: list = field(default_factory=list)


def purgeable_events():
    """The events a purge may remove once past retention and archived: security events of no decision."""
    return AuditEvent.objects.filter(action__startswith=PURGEABLE_PREFIX, decision_id_ref__isnull=True).exclude(
        action__in=NEVER_PURGED
    )


def purge(user, before=None) -> PurgeResult:
    """Remove the purgeable events older than `before` (the start of the retention period by default) that lie
    in archives that still verify; leave an anchor per run of removed events and a `security:audit_purge` event.
    """
    days = retention_days()
    cutoff = timezone.now() - timedelta(days=days)
    before = before or cutoff
    if before > cutoff:
        raise AuditRetentionRefused(
            "AUDIT_PURGE_TOO_RECENT", before=before.isoformat(), days=days, cutoff=cutoff.isoformat()
        )
    old = purgeable_events().filter(at__lt=before)
    if not old.exists():
        raise AuditRetentionRefused("AUDIT_PURGE_RETENTION_NOT_REACHED", days=days, before=before.isoformat())
    archives = list(AuditArchive.objects.order_by("first_seq"))
    if not archives or not old.filter(seq__lte=archives[-1].last_seq).exists():
        raise AuditRetentionRefused("AUDIT_PURGE_NOT_ARCHIVED")
    # Never remove anything from a chain that does not verify: what is wrong must stay to be found.
    chain = audit.verify()
    if not chain.ok:
        raise AuditRetentionRefused(
            "AUDIT_CHAIN_BROKEN", seq=chain.first_bad_seq, problem_zh=chain.problem_zh, problem=chain.problem
        )
    plan = []  # (archive, [(seq, mac), …]) in seq order
    for archive in archives:
        rows = list(
            old.filter(seq__range=(archive.first_seq, archive.last_seq)).order_by("seq").values_list("seq", "mac")
        )
        if not rows:
            continue
        archived = verify_archive(archive, wanted=[seq for seq, _mac in rows])
        for seq, mac in rows:
            if seq not in archived or not audit._same(archived[seq], mac):
                raise AuditRetentionRefused("AUDIT_ARCHIVE_MISMATCH", seq=seq, id=archive.pk)
        plan.append((archive, rows))
    with transaction.atomic():
        anchors = []
        for archive, rows in plan:
            for run in _runs(rows):
                (first_seq, _first_mac), (last_seq, last_mac) = run[0], run[-1]
                algorithm = audit.current_algorithm()
                anchors.append(
                    AuditAnchor.objects.create(
                        first_seq=first_seq,
                        seq=last_seq,
                        mac=last_mac,
                        algorithm=algorithm,
                        anchor_mac=audit.anchor_mac(first_seq, last_seq, last_mac, archive.sha256, algorithm),
                        archive=archive,
                    )
                )
        seqs = [seq for _archive, rows in plan for seq, _mac in rows]
        _delete_exported(seqs)
        result = PurgeResult(len(seqs), seqs[0], seqs[-1], anchors, [archive for archive, _rows in plan])
        audit.append(
            actor=user,
            role="",
            action=PURGE_ACTION,
            obj=result.archives[-1],
            payload={
                "count": result.count,
                "first_seq": result.first_seq,
                "last_seq": result.last_seq,
                "runs": len(anchors),
                "archives": [archive.pk for archive in result.archives],
                "before": before,
                "retention_days": days,
            },
        )
    return result


def _runs(rows):
    """Split (seq, mac) rows sorted by seq into runs of consecutive seqs."""
    runs = []
    for row in rows:
        if runs and row[0] == runs[-1][-1][0] + 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    return runs


def _delete_exported(seqs):
    """Delete the audit events `seqs`, exported, past retention and anchored: the one place events are deleted.

    AuditEvent.delete() and the manager's bulk update/delete refuse; the manager's `_purge_exported` is the
    escape hatch kept for this purge, which removes chosen security events by seq, never every event before one.
    """
    deleted = 0
    for start in range(0, len(seqs), BATCH):
        deleted += AuditEvent.objects._purge_exported(seqs[start : start + BATCH])
    if deleted != len(seqs):
        # Another purge got there first: roll this one back rather than anchor rows it did not remove.
        raise transaction.TransactionManagementError("audit events changed during the purge; run it again")
