"""Checking an auditor bundle (审计导出包) without the database: BagIt manifests and the audit chain inside.

Imports nothing but the standard library and bagit, so that an auditor runs it anywhere:
`python -m reports.verify FILE [--audit-key-env VAR]` (or `manage.py verify_bundle FILE`). With the
audit key it re-computes every MAC exactly as decisions/audit.py does, with the algorithm each event
names: HMAC-SHA256, or 国密 HMAC-SM3 (through Python's OpenSSL when it has SM3, else the `cryptography`
package if installed; without either it says which MACs it could not check). The bundle's layout is
described in reports/bundle.py, which writes it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import hmac
import io
import json
import logging
import os
import shutil
import stat
import sys
import tempfile
import unicodedata
import zipfile
import zlib
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath
from uuid import UUID

import bagit

FORMAT = "juece-bundle/1"
AUDIT_ALGORITHM = "HMAC-SHA256"  # what bundles written before the crypto profiles used throughout
MAC_ALGORITHMS = ("HMAC-SHA256", "HMAC-SM3")  # decisions/crypto.py MACS: what an audit event may name
CHECKSUM = "sha256"
BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
TAG_FILES = ("bagit.txt", "bag-info.txt", f"manifest-{CHECKSUM}.txt", f"tagmanifest-{CHECKSUM}.txt")

# What decisions.audit.event_content() covers, in its order; events.json adds prev_mac and mac.
EVENT_FIELDS = (
    "seq",
    "at",
    "actor",
    "actor_label",
    "role",
    "action",
    "object_type",
    "object_id",
    "decision",
    "payload",
    "algorithm",
)
CSV_FIELDS = (*EVENT_FIELDS, "prev_mac", "mac")

# Audit actions (and object types) that attest a file of the bundle.
DOCUMENT_ACTIONS = ("document:upload", "document:supersede")
DOCUMENT_OBJECT = "decisions.Document"
CATALOGUE_DOCUMENT_ACTION = "catalogue:document"
CATALOGUE_DOCUMENT_OBJECT = "catalog.CatalogueDocument"
SIGNOFF_ACTION = "signoff"
SIGNOFF_OBJECT = "decisions.SignOff"
DOSSIER_ACTION = "dossier:issued"
NOTICE_ACTION = "catalogue:notice_issued"  # a rendered publication notice of a catalogue version (reports.publication)
EXPORT_ACTION = "bundle:export"

CATALOGUE_ROLES = ("GOV_OFFICE", "SUPERVISOR")
CHUNK = 1024 * 1024


def canonical(value) -> str:
    """Serialise JSON data the one way decisions.audit.canonical does (MACs and sign-off hashes)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _json_default(value):
    # The same conversions as decisions.audit._json_default, plus lazy strings and UUIDs for the index.
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, UUID):
        return str(value)
    return str(value)


class AlgorithmUnavailable(Exception):
    """This Python can compute no such MAC: the report says so instead of passing or failing the event."""


def _hmac_sm3(key: bytes, message: bytes) -> str:
    try:
        return hmac.new(key, message, "sm3").hexdigest()  # OpenSSL builds with SM3 (most do)
    except ValueError:
        pass
    try:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives import hmac as crypto_hmac
    except ImportError:
        raise AlgorithmUnavailable("HMAC-SM3 needs SM3 in OpenSSL or the cryptography package") from None
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(message)
    return mac.finalize().hex()


def mac_hex(algorithm: str, key: bytes, message: str) -> str:
    """Return the MAC `algorithm` (HMAC-SHA256 or HMAC-SM3) of `message`; AlgorithmUnavailable if it cannot."""
    if algorithm == "HMAC-SHA256":
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
    if algorithm == "HMAC-SM3":
        return _hmac_sm3(key, message.encode())
    raise AlgorithmUnavailable(algorithm)


def mac_available(algorithm: str) -> bool:
    try:
        mac_hex(algorithm, b"k", "")
    except AlgorithmUnavailable:
        return False
    return True


def _hmac(key: bytes, message: str) -> str:
    return mac_hex(AUDIT_ALGORITHM, key, message)


def event_mac(key: bytes, event: dict) -> str:
    """Return the MAC of one exported event over `prev_mac|canonical(content)`, with the algorithm it names."""
    content = {name: event.get(name) for name in EVENT_FIELDS}
    return mac_hex(event.get("algorithm"), key, f"{event.get('prev_mac')}|{canonical(content)}")


def events_mac(key: bytes, unit: str, events, algorithm: str = AUDIT_ALGORITHM) -> str:
    """Return the keyed MAC over which events a bundle part holds: events added or removed change it."""
    listed = [[event.get("seq"), event.get("mac")] for event in events]
    return mac_hex(algorithm, key, "bundle|" + canonical({"unit": unit, "events": listed}))


def _as_key(key) -> bytes | None:
    if key is None or key == "" or key == b"":
        return None
    return key if isinstance(key, bytes) else str(key).encode()


def decision_base(reference) -> str:
    """Return where a decision's part lives inside `data/` of a catalogue bundle."""
    return f"decisions/{safe_name(str(reference))}/"


SM3_MANIFEST = "juece-manifest-sm3.txt"  # 国密 bundles: SM3 of every payload file, a tag file (reports/bundle.py)


def _sm3():
    """Return a new SM3 hash object (update/hexdigest): OpenSSL's, else the cryptography package's."""
    try:
        return hashlib.new("sm3")
    except ValueError:
        pass
    try:
        from cryptography.hazmat.primitives import hashes
    except ImportError:
        raise AlgorithmUnavailable("SM3 needs SM3 in OpenSSL or the cryptography package") from None

    class _Hash:
        def __init__(self):
            self._hash = hashes.Hash(hashes.SM3())

        def update(self, data):
            self._hash.update(data)

        def hexdigest(self):
            return self._hash.finalize().hex()

    return _Hash()


def sm3_file(path) -> str:
    digest = _sm3()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def safe_name(name: str, limit: int = 180) -> str:
    """Return `name` usable as one path component on any file system (UTF-8 bytes ≤ `limit`)."""
    name = unicodedata.normalize("NFC", str(name))
    name = "".join("_" if ch in '/\\:*?"<>|' or ord(ch) < 32 or ord(ch) == 127 else ch for ch in name)
    name = name.strip(" .") or "file"
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 10:
        stem, suffix = name, ""
    suffix = f".{suffix}" if suffix else ""
    while len((stem + suffix).encode()) > limit and stem:
        stem = stem[:-1]
    return (stem or "file") + suffix


# -- the report of a verification --------------------------------------------------------------------------------

PROBLEMS = {
    "BUNDLE_UNREADABLE": ("无法读取导出包：{error}", "cannot read the bundle: {error}"),
    "BUNDLE_UNSAFE_PATH": ("压缩包内的路径不安全，未解压", "unsafe path in the archive, not extracted"),
    "BAG_INVALID": ("BagIt 结构无效：{error}", "invalid BagIt structure: {error}"),
    "FILE_CHANGED": ("文件已被改动（SHA-256 与清单不符）", "file changed (its SHA-256 does not match the manifest)"),
    "FILE_MISSING": ("文件已被删除（清单列出，包内没有）", "file removed (listed in a manifest, not in the bag)"),
    "FILE_ADDED": ("文件为新增（不在任何清单中）", "file added (not listed in any manifest)"),
    "FILE_DUPLICATED": ("压缩包内同一文件出现多次", "the archive holds this file more than once"),
    "PAYLOAD_UNCHECKED": (
        "缺少载荷清单，data/ 下的文件均未核验",
        "no payload manifest: no file under data/ was checked",
    ),
    "INDEX_MISSING": ("缺少索引文件", "index file missing"),
    "INDEX_UNREADABLE": ("索引文件无法解析：{error}", "index file cannot be read: {error}"),
    "FILE_NOT_LISTED": ("文件未列入索引", "file not listed in the index"),
    "AUDIT_EVENT_MALFORMED": ("审计事件（第 {number} 条）缺少字段：{fields}", "audit event #{number} lacks {fields}"),
    "AUDIT_SEQUENCE_DISORDER": (
        "审计事件 seq {seq} 顺序错乱或重复",
        "audit event seq {seq} is out of order or repeated",
    ),
    "AUDIT_LINK_BROKEN": (
        "审计事件 seq {seq} 与前一事件 seq {prev} 的链接不符",
        "audit event seq {seq} does not link to seq {prev}",
    ),
    "AUDIT_UNKNOWN_ALGORITHM": (
        "审计事件 seq {seq} 使用未知算法 {algorithm}",
        "audit event seq {seq}: unknown {algorithm}",
    ),
    "AUDIT_MAC_MISMATCH": (
        "审计事件 seq {seq} 的内容与其 MAC 不符（已被改动）",
        "audit event seq {seq}: its content does not match its MAC (altered)",
    ),
    "AUDIT_EVENTS_INCOMPLETE": (
        "审计事件集合与导出时的 MAC 不符（有事件被增删）",
        "the set of audit events does not match its MAC (events added or removed)",
    ),
    "AUDIT_EVENT_FOREIGN": ("审计事件 seq {seq} 不属于该决策", "audit event seq {seq} belongs to another decision"),
    "AUDIT_CSV_MISMATCH": (
        "events.csv 与 events.json 不一致（{where}）",
        "events.csv differs from events.json ({where})",
    ),
    "DOCUMENT_HASH_MISMATCH": (
        "材料 #{id} 的 SHA-256 与{against_zh}不符",
        "document #{id}: its SHA-256 does not match {against_en}",
    ),
    "DOCUMENT_SM3_MISMATCH": (
        "材料 #{id} 的文件与其 SM3 不符（已被改动）",
        "document #{id}: its file does not hash to its SM3 (altered)",
    ),
    "DOCUMENT_UNATTESTED": ("材料 #{id} 没有对应的上传审计事件", "document #{id} has no upload audit event"),
    "DOCUMENT_ABSENT": (
        "审计事件 seq {seq} 记载的材料 #{id} 不在包内",
        "document #{id} of audit event seq {seq} is not in the bundle",
    ),
    "DOSSIER_HASH_MISMATCH": (
        "案卷 #{id} 的 SHA-256 与索引不符",
        "dossier #{id}: its SHA-256 does not match the index",
    ),
    "DOSSIER_UNATTESTED": (
        "案卷 #{id} 的 SHA-256 不见于任何出具它的审计事件(dossier:issued / catalogue:notice_issued)",
        "dossier #{id}: its SHA-256 is in no audit event that issued it (dossier:issued / catalogue:notice_issued)",
    ),
    "DOSSIER_ABSENT": (
        "审计事件 seq {seq} 出具的案卷不在包内",
        "the dossier issued by audit event seq {seq} is not in the bundle",
    ),
    "SIGNOFF_HASH_MISMATCH": (
        "签署 #{id} 的签署内容清单与其 SHA-256 不符",
        "sign-off #{id}: its manifest does not hash to its SHA-256",
    ),
    "SIGNOFF_UNATTESTED": (
        "签署 #{id} 的 SHA-256 与其签署审计事件不符（或没有该事件）",
        "sign-off #{id}: its SHA-256 does not match its signoff audit event (or there is none)",
    ),
    "SIGNOFF_ABSENT": (
        "审计事件 seq {seq} 记载的签署 #{id} 不在索引中",
        "sign-off #{id} of audit event seq {seq} is not in the index",
    ),
    "CATALOGUE_DECISION_MISSING": (
        "目录列出的决策 {reference} 不在包内",
        "decision {reference} of the catalogue is missing",
    ),
    "CATALOGUE_DECISION_UNLISTED": ("包内的决策未列入目录索引", "decision part not listed in catalogue.json"),
    # Signed sign-offs and the 国密 SM3 manifest (decisions/signing.py; check_sm3_manifest, signoff_signature).
    "SIGNOFF_SIGNATURE_INVALID": (
        "签署 #{id} 的签名无法用其公钥验证（签署内容或签名已被改动）",
        "sign-off #{id}: its signature does not verify under its public key (content or signature altered)",
    ),
    "SIGNOFF_SIGNATURE_UNATTESTED": (
        "签署 #{id} 的签名、算法或公钥与其签署审计事件记载的不符",
        "sign-off #{id}: its signature, algorithm or key differs from what its signoff audit event recorded",
    ),
    "SIGNOFF_SM3_MISMATCH": (
        "签署 #{id} 的签署内容清单与其 SM3 不符",
        "sign-off #{id}: its manifest does not hash to its SM3",
    ),
    "SM3_MANIFEST_MISSING": ("包声明有 SM3 清单，但清单不在包内", "bag-info.txt names an SM3 manifest the bag lacks"),
    "SM3_MANIFEST_MISMATCH": (
        "文件已被改动（SM3 与 SM3 清单不符）",
        "file changed (its SM3 does not match the SM3 manifest)",
    ),
    "SM3_MANIFEST_INCOMPLETE": (
        "文件与 SM3 清单不对应（清单未列出，或列出的文件不在包内）",
        "file and SM3 manifest disagree (not listed, or listed but not in the bag)",
    ),
}
WARNINGS = {
    "SM3_NOT_CHECKED": (
        "本机无法计算 SM3（需要支持 SM3 的 OpenSSL 或 cryptography 包）：SM3 清单与 SM3 摘要未核验",
        "SM3 cannot be computed here (needs OpenSSL with SM3 or the cryptography package): SM3 NOT checked",
    ),
    "SIGNATURES_NOT_CHECKED": (
        "本机无法核验 {algorithm} 签名（需要 {needs} 包）：这些签名未核验",
        "{algorithm} signatures cannot be checked here (needs the {needs} package): NOT checked",
    ),
    "MACS_NOT_CHECKED": (
        "未提供审计密钥：未核验各审计事件的 MAC，仅核验了链接、哈希和一致性",
        "no audit key given: event MACs were NOT checked, only links, hashes and consistency",
    ),
    "AUDIT_KEY_WRONG": (
        "没有一个 MAC 相符：审计密钥可能不正确",
        "not one MAC matches: the audit key may be the wrong one",
    ),
    "MAC_ALGORITHM_UNAVAILABLE": (
        "本机无法计算 {algorithm}（需要支持 SM3 的 OpenSSL 或 cryptography 包）：{count} 个 MAC 未核验",
        "{algorithm} cannot be computed here (needs OpenSSL with SM3 or the cryptography package): "
        "{count} MAC(s) NOT checked",
    ),
}
# Kinds of problem that say what happened to a file of the bag.
CHANGED, REMOVED, ADDED = ("FILE_CHANGED",), ("FILE_MISSING",), ("FILE_ADDED", "FILE_DUPLICATED")


@dataclass
class Problem:
    code: str
    path: str
    zh: str
    en: str
    seq: int | None = None

    def __str__(self):
        return f"{self.path}: {self.zh} / {self.en}"


@dataclass
class Report:
    """What verify_bundle found. `ok` is True when there is no problem; warnings do not fail a bundle."""

    bundle: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    macs_checked: bool = False
    counts: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, code, path, seq=None, **details):
        zh, en = PROBLEMS[code]
        problem = Problem(code, path, zh.format(seq=seq, **details), en.format(seq=seq, **details), seq)
        if not any((p.code, p.path, p.zh) == (code, path, problem.zh) for p in self.problems):
            self.problems.append(problem)
        return problem

    def warn(self, code, path="", **details):
        zh, en = WARNINGS[code]
        self.warnings.append(Problem(code, path, zh.format(**details), en.format(**details)))

    def paths(self, *codes) -> list[str]:
        seen = []
        for problem in self.problems:
            if (not codes or problem.code in codes) and problem.path not in seen:
                seen.append(problem.path)
        return seen

    @property
    def changed(self):
        return self.paths(*CHANGED)

    @property
    def removed(self):
        return self.paths(*REMOVED)

    @property
    def added(self):
        return self.paths(*ADDED)

    def codes(self) -> set[str]:
        return {p.code for p in self.problems}

    def as_dict(self):
        return {
            "bundle": self.bundle,
            "ok": self.ok,
            "macs_checked": self.macs_checked,
            "changed": self.changed,
            "removed": self.removed,
            "added": self.added,
            "problems": [asdict(p) for p in self.problems],
            "warnings": [asdict(p) for p in self.warnings],
            "counts": self.counts,
            "info": self.info,
        }


def format_report(report: Report) -> str:
    """Return the report as text for a terminal: every changed, removed and added file, then the rest."""
    lines = [f"导出包 bundle: {report.bundle}"]
    if report.info:
        ident = report.info.get("External-Identifier", "")
        lines.append(f"  标识 identifier: {ident}  （{report.info.get('Source-Organization', '')}）")
    counts = report.counts
    if counts:
        lines.append(
            "  已核验 checked: "
            + "，".join(
                f"{label} {counts.get(key, 0)}"
                for key, label in (
                    ("files", "文件 files"),
                    ("decisions", "决策 decisions"),
                    ("documents", "材料 documents"),
                    ("dossiers", "案卷 dossiers"),
                    ("signoffs", "签署 sign-offs"),
                    ("signatures", "签名 signatures"),
                    ("events", "审计事件 events"),
                )
            )
        )
    for title, paths in (
        ("已改动 changed", report.changed),
        ("已删除 removed", report.removed),
        ("新增 added", report.added),
    ):
        for path in paths:
            lines.append(f"  {title}: {path}")
    for problem in report.problems:
        if problem.code not in (*CHANGED, *REMOVED, *ADDED):
            lines.append(f"  问题 problem [{problem.code}] {problem}")
    for warning in report.warnings:
        lines.append(f"  警告 WARNING [{warning.code}] {warning.zh} / {warning.en}")
    mac = "已核验 MAC / MACs checked" if report.macs_checked else "未核验 MAC / MACs NOT checked"
    if report.ok:
        lines.append(f"结果 result: 完整 INTACT（{mac}）")
    else:
        lines.append(f"结果 result: 未通过 FAILED，{len(report.problems)} 个问题 problem(s)（{mac}）")
    return "\n".join(lines)


# -- verification: plain Python and bagit, no database ---------------------------------------------------------


@contextmanager
def _quiet_bagit():
    """bagit logs each failure itself; the report says it once, so keep its log out of the terminal."""
    logger = logging.getLogger("bagit")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def verify_bundle(path, audit_key=None) -> Report:
    """Verify a bundle (ZIP, or a directory holding one bag) without the database; return a Report.

    bagit checks every file against the manifests (changed, removed, added); then the audit events
    are checked: order, links between consecutive events, each document's, dossier's and sign-off's
    hash against the event that recorded it, and, given `audit_key`, every MAC.
    """
    path = Path(path)
    report = Report(bundle=str(path))
    key = _as_key(audit_key)
    with tempfile.TemporaryDirectory(prefix="juece-verify-") as scratch:
        scratch = Path(scratch)
        if path.is_dir():
            root = scratch / "bag"
            shutil.copytree(path, root, symlinks=True)
        else:
            root = _extract(path, scratch, report)
            if root is None:
                return report
        with _quiet_bagit():
            check_bag(root, report, key)
    return report


def _extract(path: Path, scratch: Path, report: Report) -> Path | None:
    """Extract the ZIP safely into `scratch`; return the bag's root directory, or None."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.add("BUNDLE_UNREADABLE", str(path), error=exc)
        return None
    with archive:
        entries, seen = [], set()
        for info in archive.infolist():
            name = info.filename
            parts = PurePosixPath(name).parts
            mode = info.external_attr >> 16
            unsafe = not parts or name.startswith("/") or "\\" in name or ":" in parts[0] or ".." in parts
            if unsafe or stat.S_ISLNK(mode):
                report.add("BUNDLE_UNSAFE_PATH", name)
                continue
            if info.is_dir():
                continue
            if name in seen:
                report.add("FILE_DUPLICATED", name)
                continue
            seen.add(name)
            entries.append(info)
        tops = {PurePosixPath(info.filename).parts[0] for info in entries}
        nested = all(len(PurePosixPath(info.filename).parts) > 1 for info in entries)
        prefix = f"{next(iter(tops))}/" if len(tops) == 1 and nested else ""
        root = scratch / "bag"
        root.mkdir()
        try:
            for info in entries:
                relative = info.filename[len(prefix) :]
                target = root / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
        except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
            report.add("BUNDLE_UNREADABLE", str(path), error=exc)
            return None
    return root


def _read_tagmanifest(root: Path) -> dict[str, str] | None:
    path = root / f"tagmanifest-{CHECKSUM}.txt"
    if not path.is_file():
        return None
    entries = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(exc) from exc
    for line in text.splitlines():
        digest, _, name = line.strip().partition(" ")
        if digest and name:
            entries[name.strip().lstrip("*")] = digest.lower()
    return entries


def check_bag(root: Path, report: Report, key: bytes | None = None) -> Report:
    """Check an extracted bag in `root` (files may be rewritten in this scratch copy); fill `report`."""
    for item in sorted(root.rglob("*")):
        if item.is_symlink():
            report.add("BUNDLE_UNSAFE_PATH", item.relative_to(root).as_posix())
            item.unlink()
    _check_tag_files(root, report)
    _check_with_bagit(root, report)
    check_sm3_manifest(root, report)
    report.counts["files"] = (
        sum(1 for p in (root / "data").rglob("*") if p.is_file()) if (root / "data").is_dir() else 0
    )
    AuditCheck(root, report, key).run()
    return report


def _check_tag_files(root: Path, report: Report):
    """Tag files: bagit checks those the tag manifest lists; here also the manifests themselves and extra files."""
    try:
        listed = _read_tagmanifest(root)
    except ValueError as exc:
        report.add("BAG_INVALID", f"tagmanifest-{CHECKSUM}.txt", error=exc)
        listed = None
    for name in TAG_FILES:
        if not (root / name).is_file():
            report.add("FILE_MISSING", name)
    if listed is None:
        return
    for name, digest in listed.items():
        target = root / name
        if target.is_file() and sha256_file(target) != digest:
            report.add("FILE_CHANGED", name)
        elif not target.exists():
            report.add("FILE_MISSING", name)
    for item in sorted(root.rglob("*")):
        relative = item.relative_to(root).as_posix()
        if not item.is_file() or relative.startswith("data/"):
            continue
        if relative not in listed and not relative.startswith("tagmanifest-"):
            report.add("FILE_ADDED", relative)


def _check_with_bagit(root: Path, report: Report):
    """Run bagit's validation and name every file it finds changed, missing or unexpected."""
    bag, aside = _open_bag(root, report)
    if bag is None:
        return
    try:
        bag.validate(processes=1)
        return
    except bagit.BagError as exc:
        failure = exc
    # validate() stops at the first failing step (the Payload-Oxum count names no file):
    # run the steps that name files one by one, so that every changed, missing or added file is reported.
    no_payload_manifest = not (root / f"manifest-{CHECKSUM}.txt").is_file()
    details = list(getattr(failure, "details", None) or [])
    for step in (bag._validate_completeness, lambda: bag._validate_entries(1)):
        try:
            step()
        except bagit.BagValidationError as exc:
            details.extend(exc.details or [])
        except bagit.BagError as exc:
            report.add("BAG_INVALID", "", error=exc)
    if no_payload_manifest:
        report.add("PAYLOAD_UNCHECKED", f"manifest-{CHECKSUM}.txt")
    named = False
    for detail in details:
        path = str(PurePosixPath(Path(detail.path).as_posix()))
        if isinstance(detail, bagit.ChecksumMismatch):
            if not (root / path).is_file():
                continue  # a removed file: bagit reports it as missing too
            report.add("FILE_CHANGED", path)
        elif isinstance(detail, bagit.FileMissing):
            if path not in aside:
                report.add("FILE_MISSING", path)
        elif isinstance(detail, bagit.UnexpectedFile):
            if no_payload_manifest and path.startswith("data/"):
                continue
            report.add("FILE_ADDED", path)
        else:
            report.add("BAG_INVALID", path, error=detail)
        named = True
    if not named and not report.problems:
        report.add("BAG_INVALID", "", error=getattr(failure, "message", None) or failure)


def _open_bag(root: Path, report: Report):
    """Open the bag with bagit; return (bag, names set aside) or (None, …).

    A missing or damaged bagit.txt or bag-info.txt is already named by the tag manifest check; so that
    bagit still checks every other file, this scratch copy gets the standard bagit.txt back, and then,
    if bagit still cannot read it, bag-info.txt is set aside (the Payload-Oxum is then not compared).
    """
    aside = set()
    declaration = root / "bagit.txt"
    if not declaration.is_file():
        declaration.write_text(BAGIT_TXT, encoding="utf-8")
    for repair in ("bagit.txt", "bag-info.txt", None):
        try:
            return bagit.Bag(str(root)), aside
        except Exception as exc:  # BagError, or a tag file that no longer decodes
            failure = exc
        if repair == "bagit.txt" and declaration.read_text(encoding="utf-8", errors="replace") != BAGIT_TXT:
            declaration.write_text(BAGIT_TXT, encoding="utf-8")
        elif repair == "bag-info.txt" and (root / "bag-info.txt").is_file():
            (root / "bag-info.txt").unlink()
            aside.add("bag-info.txt")
    report.add("BAG_INVALID", "", error=failure)
    return None, aside


def _load_json(root: Path, relative: str, report: Report):
    target = root / relative
    if not target.is_file():
        report.add("INDEX_MISSING", relative)
        return None
    try:
        return json.loads(target.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        report.add("INDEX_UNREADABLE", relative, error=exc)
        return None


def _inside(root: Path, relative) -> Path | None:
    """Return root/relative if `relative` names a path inside the bag, else None."""
    if not isinstance(relative, str) or not relative or relative.startswith("/") or "\\" in relative:
        return None
    if ".." in PurePosixPath(relative).parts:
        return None
    return root / relative


class AuditCheck:
    """The audit checks of a bag's parts: each decision part, and the catalogue's part."""

    def __init__(self, root: Path, report: Report, key: bytes | None):
        self.root, self.report, self.key = root, report, key
        self.macs_tried = self.macs_failed = 0
        self.unchecked = {}  # MAC algorithm this Python cannot compute → how many MACs were left unchecked
        self.listed_files = set()

    def run(self):
        root, report = self.root, self.report
        counts = {"decisions": 0, "documents": 0, "dossiers": 0, "signoffs": 0, "events": 0}
        report.counts.update(counts)
        info = root / "bag-info.txt"
        if info.is_file():
            with suppress(Exception):
                report.info = {k: v for k, v in bagit._load_tag_file(str(info)).items() if isinstance(v, str)}
        units = []
        if (root / "data" / "decision.json").is_file():
            units.append(("decision", "data/"))
        if (root / "data" / "catalogue" / "catalogue.json").is_file():
            units.append(("catalogue", "data/catalogue/"))
            catalogue = _load_json(root, "data/catalogue/catalogue.json", report) or {}
            listed = []
            for item in catalogue.get("decisions") or []:
                base = f"data/{decision_base(item.get('reference', ''))}"
                listed.append(base)
                if not (root / base / "decision.json").is_file():
                    report.add("CATALOGUE_DECISION_MISSING", base + "decision.json", reference=item.get("reference"))
                else:
                    units.append(("decision", base))
            parts = root / "data" / "decisions"
            for found in sorted(parts.glob("*/decision.json")) if parts.is_dir() else ():
                base = f"data/decisions/{found.parent.name}/"
                if base not in listed:
                    report.add("CATALOGUE_DECISION_UNLISTED", base + "decision.json")
                    units.append(("decision", base))
        if not units:
            report.add("INDEX_MISSING", "data/decision.json")
        for kind, base in units:
            if kind == "decision":
                self.decision(base)
            else:
                self.catalogue(base)
        self.unlisted_files(units)
        if self.key is None:
            report.warn("MACS_NOT_CHECKED")
        else:
            report.macs_checked = not self.unchecked  # some MACs left unchecked: the report must not say "checked"
            if self.macs_tried and self.macs_failed == self.macs_tried:
                report.warn("AUDIT_KEY_WRONG")
            for algorithm, count in sorted(self.unchecked.items()):
                report.warn("MAC_ALGORITHM_UNAVAILABLE", algorithm=algorithm, count=count)

    # -- one part ----------------------------------------------------------------------------------------

    def decision(self, base):
        index = _load_json(self.root, base + "decision.json", self.report)
        if not isinstance(index, dict):
            return
        self.report.counts["decisions"] += 1
        facts = index.get("decision") or {}
        events = self.events(base, unit=f"decision:{facts.get('id')}", index=index, decision_id=facts.get("id"))
        self.documents(base, index.get("documents") or [], events, DOCUMENT_ACTIONS, DOCUMENT_OBJECT, "id")
        self.signoffs(base, index.get("signoffs") or [], events)
        self.dossiers(base, index.get("dossiers") or [], events)

    def catalogue(self, base):
        index = _load_json(self.root, base + "catalogue.json", self.report)
        if not isinstance(index, dict):
            return
        unit = f"catalogue:{(index.get('catalogue') or {}).get('id')}"
        events = self.events(base, unit=unit, index=index, decision_id=None)
        actions = (CATALOGUE_DOCUMENT_ACTION,)
        self.documents(base, index.get("documents") or [], events, actions, CATALOGUE_DOCUMENT_OBJECT, "record")
        self.dossiers(base, index.get("notices") or [], events, action=NOTICE_ACTION)

    # -- audit events ------------------------------------------------------------------------------------

    def events(self, base, *, unit, index, decision_id):
        report, where = self.report, base + "audit/events.json"
        events = _load_json(self.root, where, report)
        if events is None:
            return []
        if not isinstance(events, list):
            report.add("INDEX_UNREADABLE", where, error="not a list")
            return []
        good, previous = [], None
        for number, event in enumerate(events, start=1):
            missing = [name for name in CSV_FIELDS if not isinstance(event, dict) or name not in event]
            if missing or not isinstance(event.get("seq"), int):
                report.add("AUDIT_EVENT_MALFORMED", where, number=number, fields=", ".join(missing) or "seq")
                continue
            seq = event["seq"]
            if previous is not None and seq <= previous["seq"]:
                report.add("AUDIT_SEQUENCE_DISORDER", where, seq=seq)
            elif (
                previous is not None
                and seq == previous["seq"] + 1
                and not hmac.compare_digest(str(event["prev_mac"]).encode(), str(previous["mac"]).encode())
            ):
                report.add("AUDIT_LINK_BROKEN", where, seq=seq, prev=previous["seq"])
            if event["algorithm"] not in MAC_ALGORITHMS:
                report.add("AUDIT_UNKNOWN_ALGORITHM", where, seq=seq, algorithm=event["algorithm"])
            elif self.key is not None:
                self.check_mac(
                    event["algorithm"], lambda event=event: event_mac(self.key, event), event["mac"], where, seq
                )
            if decision_id is not None and event["decision"] != decision_id:
                report.add("AUDIT_EVENT_FOREIGN", where, seq=seq)
            good.append(event)
            previous = event if previous is None or seq > previous["seq"] else previous
        self.report.counts["events"] += len(good)
        audit = index.get("audit") or {}
        # Bundles name the algorithm of events_mac; those written before the 国密 profile used HMAC-SHA256.
        algorithm = audit.get("events_mac_algorithm") or AUDIT_ALGORITHM
        if self.key is not None:
            try:
                expected = events_mac(self.key, unit, good, algorithm)
            except AlgorithmUnavailable:
                if algorithm in MAC_ALGORITHMS:
                    self.unchecked[algorithm] = self.unchecked.get(algorithm, 0) + 1
                else:
                    report.add("AUDIT_EVENTS_INCOMPLETE", where)
            else:
                if not hmac.compare_digest(expected.encode(), str(audit.get("events_mac", "")).encode()):
                    report.add("AUDIT_EVENTS_INCOMPLETE", where)
        self.csv(base, good)
        return good

    def check_mac(self, algorithm, compute, stored, where, seq):
        """Compare one event's MAC; count it as unchecked when this Python cannot compute `algorithm`."""
        try:
            expected = compute()
        except AlgorithmUnavailable:
            self.unchecked[algorithm] = self.unchecked.get(algorithm, 0) + 1
            return
        self.macs_tried += 1
        if not hmac.compare_digest(expected.encode(), str(stored).encode()):
            self.macs_failed += 1
            self.report.add("AUDIT_MAC_MISMATCH", where, seq=seq)

    def csv(self, base, events):
        where = base + "audit/events.csv"
        target = self.root / where
        if not target.is_file():
            self.report.add("INDEX_MISSING", where)
            return
        try:
            rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"), newline="")))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            self.report.add("INDEX_UNREADABLE", where, error=exc)
            return
        if len(rows) != len(events):
            self.report.add("AUDIT_CSV_MISMATCH", where, where=f"{len(rows)} ≠ {len(events)}")
        for row, event in zip(rows, events):
            if {k: row.get(k) for k in CSV_FIELDS} != csv_row(event):
                self.report.add("AUDIT_CSV_MISMATCH", where, where=f"seq {event.get('seq')}")

    # -- files and what attests them ---------------------------------------------------------------------

    def _file(self, base, entry, what):
        """Return (relative path, sha256 of the file) for an index entry, or (path, None) if not there."""
        relative = entry.get("path")
        target = _inside(self.root, relative)
        if target is None or not str(relative).startswith(base + what + "/"):
            self.report.add("INDEX_UNREADABLE", base, error=f"bad path {relative!r}")
            return relative, None
        self.listed_files.add(relative)
        if not target.is_file():
            self.report.add("FILE_MISSING", relative)
            return relative, None
        return relative, sha256_file(target)

    def documents(self, base, documents, events, actions, object_type, id_key):
        attest = {}
        for event in events:
            if event["action"] in actions and event["object_type"] == object_type:
                attest.setdefault(str(event["object_id"]), []).append(event)
        present = set()
        for entry in documents:
            if not isinstance(entry, dict):
                continue
            self.report.counts["documents"] += 1
            ident = str(entry.get(id_key))
            present.add(ident)
            relative, digest = self._file(base, entry, "documents")
            if digest is None:
                continue
            label = entry.get("id")
            if digest != entry.get("sha256"):
                self.report.add(
                    "DOCUMENT_HASH_MISMATCH", relative, id=label, against_zh="索引登记值", against_en="the index"
                )
            if entry.get("digest_sm3"):
                self.document_sm3(relative, label, entry["digest_sm3"])
            recorded = attest.get(ident)
            if not recorded:
                self.report.add("DOCUMENT_UNATTESTED", relative, id=label)
            elif not any((e["payload"] or {}).get("sha256") == digest for e in recorded):
                self.report.add(
                    "DOCUMENT_HASH_MISMATCH",
                    relative,
                    seq=recorded[0]["seq"],
                    id=label,
                    against_zh=f"上传审计事件 seq {recorded[0]['seq']}",
                    against_en=f"its upload audit event seq {recorded[0]['seq']}",
                )
        for ident, recorded in attest.items():
            if ident not in present:
                self.report.add("DOCUMENT_ABSENT", base + "audit/events.json", seq=recorded[0]["seq"], id=ident)

    def document_sm3(self, relative, label, recorded):
        """国密: a document stored under the gm profile carries the SM3 of its file (decisions/seals.py)."""
        try:
            digest = sm3_file(_inside(self.root, relative))
        except AlgorithmUnavailable:
            if not any(w.code == "SM3_NOT_CHECKED" for w in self.report.warnings):
                self.report.warn("SM3_NOT_CHECKED", relative)
            return
        self.report.counts["document_sm3"] = self.report.counts.get("document_sm3", 0) + 1
        if digest != recorded:
            self.report.add("DOCUMENT_SM3_MISMATCH", relative, id=label)

    def signoffs(self, base, signoffs, events):
        where = base + "decision.json"
        recorded = {
            str(e["object_id"]): e
            for e in events
            if e["action"] == SIGNOFF_ACTION and e["object_type"] == SIGNOFF_OBJECT
        }
        present = set()
        for entry in signoffs:
            if not isinstance(entry, dict):
                continue
            self.report.counts["signoffs"] += 1
            ident = str(entry.get("id"))
            present.add(ident)
            digest = hashlib.sha256(canonical(entry.get("manifest")).encode()).hexdigest()
            if digest != entry.get("content_sha256"):
                self.report.add("SIGNOFF_HASH_MISMATCH", where, id=ident)
            event = recorded.get(ident)
            if event is None or (event["payload"] or {}).get("sha256") != entry.get("content_sha256"):
                self.report.add("SIGNOFF_UNATTESTED", where, seq=event and event["seq"], id=ident)
            check_signoff_signature(self.report, where, ident, entry, event)
        for ident, event in recorded.items():
            if ident not in present:
                self.report.add("SIGNOFF_ABSENT", where, seq=event["seq"], id=ident)

    def dossiers(self, base, dossiers, events, action=DOSSIER_ACTION):
        """Check each PDF juece issued (stage dossiers, or a catalogue's publication notices) against its event."""
        issued = [e for e in events if e["action"] == action]
        hashes = {(e["payload"] or {}).get("sha256") for e in issued}
        present = set()
        for entry in dossiers:
            if not isinstance(entry, dict):
                continue
            self.report.counts["dossiers"] += 1
            relative, digest = self._file(base, entry, "dossiers")
            if digest is None:
                continue
            present.add(digest)
            if digest != entry.get("sha256"):
                self.report.add("DOSSIER_HASH_MISMATCH", relative, id=entry.get("id"))
            if digest not in hashes:
                self.report.add("DOSSIER_UNATTESTED", relative, id=entry.get("id"))
        for event in issued:
            if (event["payload"] or {}).get("sha256") not in present:
                self.report.add("DOSSIER_ABSENT", base + "audit/events.json", seq=event["seq"])

    def unlisted_files(self, units):
        for _kind, base in units:
            for what in ("documents", "dossiers"):
                folder = self.root / base / what
                if not folder.is_dir():
                    continue
                for item in sorted(folder.rglob("*")):
                    relative = item.relative_to(self.root).as_posix()
                    if item.is_file() and relative not in self.listed_files:
                        self.report.add("FILE_NOT_LISTED", relative)


# -- 国密 SM3 manifest and signed sign-offs (decisions/signing.py writes what these check) ------------------------

SM2_USER_ID = b"1234567812345678"  # GM/T 0009-2012 default user ID, as decisions/crypto.py signs with
SIGNOFF_MESSAGE_PREFIX = "juece-signoff/1"
SIGNATURE_DIGESTS = {"Ed25519": "SHA-256", "SM2-SM3": "SM3"}  # the digest each signature algorithm signs
SIGNATURE_NEEDS = {"Ed25519": "cryptography", "SM2-SM3": "gmalg"}


def check_sm3_manifest(root: Path, report: Report):
    """Check every payload file against juece-manifest-sm3.txt when the bag has one (or bag-info names one)."""
    manifest, info = root / SM3_MANIFEST, root / "bag-info.txt"
    if not manifest.is_file():
        declared = info.is_file() and "Juece-SM3-Manifest:" in info.read_text(encoding="utf-8", errors="replace")
        if declared:
            report.add("SM3_MANIFEST_MISSING", SM3_MANIFEST)
        return
    try:
        _sm3()
    except AlgorithmUnavailable:
        report.warn("SM3_NOT_CHECKED", SM3_MANIFEST)
        return
    listed = {}
    for line in manifest.read_text(encoding="utf-8", errors="replace").splitlines():
        digest, _, name = line.strip().partition(" ")
        if digest and name:
            listed[bagit._decode_filename(name.strip().lstrip("*"))] = digest.lower()
    present = {p.relative_to(root).as_posix() for p in (root / "data").rglob("*") if p.is_file()}
    for name in sorted(set(listed) | present):
        target = _inside(root, name)
        if name not in listed or name not in present or target is None:
            report.add("SM3_MANIFEST_INCOMPLETE", name)
        elif sm3_file(target) != listed[name]:
            report.add("SM3_MANIFEST_MISMATCH", name)
    report.counts["sm3_files"] = len(listed)


def signoff_message(signature_algorithm: str, manifest) -> bytes:
    """Rebuild what a sign-off's signer signed: ``juece-signoff/1|<digest algorithm>|<hex digest>``."""
    digest_algorithm = SIGNATURE_DIGESTS[signature_algorithm]
    text = canonical(manifest).encode()
    if digest_algorithm == "SM3":
        digest = _sm3()
        digest.update(text)
        hexdigest = digest.hexdigest()
    else:
        hexdigest = hashlib.sha256(text).hexdigest()
    return f"{SIGNOFF_MESSAGE_PREFIX}|{digest_algorithm}|{hexdigest}".encode()


def _der_integers(signature: bytes) -> tuple[int, int]:
    """Read a strict DER SEQUENCE{INTEGER r, INTEGER s} (an SM2 signature); ValueError if it is anything else."""
    if len(signature) < 8 or signature[0] != 0x30 or signature[1] != len(signature) - 2:
        raise ValueError("not a DER SEQUENCE")
    position, values = 2, []
    for _ in range(2):
        if signature[position] != 0x02:
            raise ValueError("not a DER INTEGER")
        length = signature[position + 1]
        body = signature[position + 2 : position + 2 + length]
        if not 0 < length <= 33 or len(body) != length or body[0] & 0x80:
            raise ValueError("bad INTEGER")
        if length > 1 and body[0] == 0 and not body[1] & 0x80:
            raise ValueError("INTEGER not minimally encoded")
        values.append(int.from_bytes(body, "big"))
        position += 2 + length
    if position != len(signature):
        raise ValueError("trailing bytes")
    return values[0], values[1]


def signature_verifies(algorithm: str, public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Verify Ed25519 (cryptography) or SM2-SM3 (gmalg); AlgorithmUnavailable if this Python lacks the package."""
    if algorithm == "Ed25519":
        try:
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        except ImportError:
            raise AlgorithmUnavailable(algorithm) from None
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True
    if algorithm == "SM2-SM3":
        try:
            import gmalg
        except ImportError:
            raise AlgorithmUnavailable(algorithm) from None
        try:
            r, s = _der_integers(signature)
            verifier = gmalg.SM2(pk=public_key, uid=SM2_USER_ID)
            if not verifier.verify_pk(public_key):
                return False
            return bool(verifier.verify(message, r.to_bytes(32, "big"), s.to_bytes(32, "big")))
        except (ValueError, OverflowError, IndexError, TypeError):
            return False
    return False


def check_signoff_signature(report: Report, where: str, ident: str, entry: dict, event: dict | None):
    """Check a sign-off's SM3 and signature, and that both are what its (MAC-chained) audit event recorded."""
    import base64

    recorded = (event or {}).get("payload") or {}
    sm3 = entry.get("content_sm3") or ""
    if sm3 or recorded.get("sm3"):
        try:
            digest = _sm3()
            digest.update(canonical(entry.get("manifest")).encode())
            if digest.hexdigest() != sm3:
                report.add("SIGNOFF_SM3_MISMATCH", where, id=ident)
        except AlgorithmUnavailable:
            if not any(w.code == "SM3_NOT_CHECKED" for w in report.warnings):
                report.warn("SM3_NOT_CHECKED", where)
        if event is not None and recorded.get("sm3") != sm3:
            report.add("SIGNOFF_UNATTESTED", where, seq=event["seq"], id=ident)
    algorithm, signature_text = entry.get("signature_algorithm") or "", entry.get("signature") or ""
    attested = recorded.get("signature")
    if not (algorithm or signature_text or attested):
        return  # an unsigned sign-off, as its event says
    report.counts["signatures"] = report.counts.get("signatures", 0) + 1
    try:
        public_key = base64.b64decode(entry.get("signer_public_key") or "", validate=True)
        signature = base64.b64decode(signature_text, validate=True)
    except ValueError:
        public_key = signature = b""
    if event is not None and (
        not isinstance(attested, dict)
        or attested.get("algorithm") != algorithm
        or attested.get("key") != hashlib.sha256(public_key).hexdigest()
        or attested.get("sha256") != hashlib.sha256(signature_text.encode()).hexdigest()
    ):
        report.add("SIGNOFF_SIGNATURE_UNATTESTED", where, seq=event["seq"], id=ident)
    if algorithm not in SIGNATURE_DIGESTS:
        report.add("SIGNOFF_SIGNATURE_INVALID", where, id=ident)
        return
    try:
        intact = signature_verifies(algorithm, public_key, signoff_message(algorithm, entry.get("manifest")), signature)
    except AlgorithmUnavailable:
        if not any(w.code == "SIGNATURES_NOT_CHECKED" and algorithm in w.en for w in report.warnings):
            report.warn("SIGNATURES_NOT_CHECKED", where, algorithm=algorithm, needs=SIGNATURE_NEEDS[algorithm])
        return
    if not intact:
        report.add("SIGNOFF_SIGNATURE_INVALID", where, id=ident)


def csv_row(event: dict) -> dict:
    """Return one audit event as the strings of its events.csv row."""
    row = {}
    for name in CSV_FIELDS:
        value = event.get(name)
        if name == "payload":
            row[name] = canonical(value)
        else:
            row[name] = "" if value is None else str(value)
    return row


# -- python -m reports.verify verify FILE [--audit-key-env VAR]: the auditor's own check, no Django ------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reports.verify", description="核验审计导出包 / verify a juece audit bundle (no database)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="核验导出包 / verify a bundle")
    verify.add_argument("bundle")
    verify.add_argument("--audit-key-env", metavar="VAR", help="从该环境变量读取审计密钥 / read the audit key from VAR")
    verify.add_argument("--json", action="store_true", help="以 JSON 输出 / print the report as JSON")
    options = parser.parse_args(argv)
    key = None
    if options.audit_key_env:
        key = os.environ.get(options.audit_key_env)
        if not key:
            parser.error(f"环境变量 {options.audit_key_env} 未设置 / {options.audit_key_env} is not set")
    report = verify_bundle(options.bundle, audit_key=key)
    if options.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
