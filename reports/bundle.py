"""Auditor bundles (审计导出包): a decision's or an annual catalogue's record as one BagIt ZIP (RFC 8493).

A bundle is a bag serialised as a ZIP with one top-level directory. For a decision::

    <name>/bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
    <name>/data/decision.json               the index: facts, stage records, sign-offs, documents, dossiers
    <name>/data/dossiers/<Dossier.filename> every rendered dossier version (superseded ones too)
    <name>/data/documents/<id>-<name>       the original attachments, byte for byte
    <name>/data/audit/events.json|csv       the decision's audit events with prev_mac and mac
    <name>/juece-manifest-sm3.txt           国密 profile only: the SM3 of every payload file (a tag file)

Each sign-off in the index carries its SHA-256 (and SM3 under 国密) and, when sign-offs are signed
(decisions/signing.py), the signature, its algorithm and the signer's public key.

A catalogue bundle holds `data/catalogue/` (catalogue.json, its documents, the publication notice PDF juece
rendered for each published version under `dossiers/`, and its audit events) and one such part per listed
decision under `data/decisions/<reference>/`.

The export side reads the database; its Django imports are made inside the functions, so that the
verify side (reports/verify.py: `verify_bundle`, `python -m reports.verify verify FILE`) imports and runs with nothing
but the standard library and bagit: an auditor checks a bundle without the database, and with the
audit key re-computes every MAC exactly as decisions/audit.py does.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import bagit

from reports.verify import (
    BAGIT_TXT,
    CATALOGUE_ROLES,
    CHECKSUM,
    CHUNK,
    CSV_FIELDS,
    EXPORT_ACTION,
    FORMAT,
    SM3_MANIFEST,
    AuditCheck,
    Problem,
    Report,
    _json_default,
    _quiet_bagit,
    csv_row,
    decision_base,
    events_mac,
    safe_name,
    sha256_file,
    sm3_file,
)

# -- export: reads the database (Django imports happen inside) -------------------------------------------------


class BundleError(Exception):
    """An export that cannot be made; nothing was written."""

    def __init__(self, zh, en):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


@dataclass
class ExportResult:
    path: Path
    size: int
    sha256: str
    tagmanifest_sha256: str
    decisions: list[str]
    files: int
    payload_bytes: int
    event_seq: int
    # What the record itself fails (a stored file that no longer matches its hash …): the bundle shows it as it is.
    problems: list[Problem] = field(default_factory=list)


def export_decision_bundle(user, decision, path, progress=None, *, overwrite=False) -> ExportResult:
    """Write the bundle of one decision to `path` (ZIP); `progress(done, total, label)` after each file.

    Refused (NotPermitted) unless `user` may read the whole record (decisions.queries.READERS).
    The file appears complete or not at all, together with its `bundle:export` audit event.
    """
    from decisions.permissions import require_role
    from decisions.queries import READERS

    role = require_role(user, decision, READERS)
    target = _target(path, overwrite)
    notes = []
    with _staging(target) as bag_dir:
        with _snapshot():
            head = _chain_head_seq()
            _DecisionPart(user, decision, bag_dir, "", notes, progress).write()
        info = _bag_info(
            organ=decision.organ,
            identifier=decision.reference,
            description=f"重大行政决策“{decision.title}”（{decision.reference}）的审计导出包："
            "案卷（含历次版本）、原始材料、签署记录和审计事件",
            head=head,
            user=user,
            role=role,
        )
        return _publish(
            bag_dir,
            target,
            info,
            notes,
            user=user,
            role=role,
            obj=decision,
            decision=decision,
            kind="decision",
            references=[decision.reference],
        )


def export_catalogue_bundle(user, catalogue, path, progress=None, *, overwrite=False) -> ExportResult:
    """Write the bundle of an annual catalogue and every decision any version of it lists.

    `progress(done, total, label)` is called after each decision and after the catalogue's own part.
    Refused (NotPermitted) unless `user` holds GOV_OFFICE or SUPERVISOR for the catalogue's organ
    and may read each listed decision.
    """
    from decisions.permissions import require_organ_role, require_role
    from decisions.queries import READERS

    role = require_organ_role(user, catalogue.organ, CATALOGUE_ROLES)
    decisions = catalogue_decisions(catalogue)
    for decision in decisions:
        require_role(user, decision, READERS)
    target = _target(path, overwrite)
    total, notes = len(decisions) + 1, []
    with _staging(target) as bag_dir:
        with _snapshot():
            head = _chain_head_seq()
            for done, decision in enumerate(decisions, start=1):
                _DecisionPart(user, decision, bag_dir, decision_base(decision.reference), notes).write()
                if progress:
                    progress(done, total, f"{decision.reference} {decision.title}")
            _CataloguePart(catalogue, decisions, bag_dir, notes).write()
            if progress:
                progress(total, total, "目录材料 catalogue records")
        organ = catalogue.organ
        info = _bag_info(
            organ=organ,
            identifier=f"{organ.code}-{catalogue.year}-catalogue",
            description=f"{organ.name}{catalogue.year}年度重大行政决策事项目录“{catalogue.title}”的审计导出包："
            f"目录材料，及所列 {len(decisions)} 项决策的案卷、原始材料、签署记录和审计事件",
            head=head,
            user=user,
            role=role,
        )
        return _publish(
            bag_dir,
            target,
            info,
            notes,
            user=user,
            role=role,
            obj=catalogue,
            decision=None,
            kind="catalogue",
            references=[d.reference for d in decisions],
        )


def catalogue_decisions(catalogue):
    """Return each decision any version of the catalogue lists, in catalogue order (withdrawn ones too)."""
    seen, listed = set(), []
    for entry in catalogue.entries.filter(decision__isnull=False).select_related("decision__organ"):
        if entry.decision_id not in seen:
            seen.add(entry.decision_id)
            listed.append((entry.seq_no, entry.valid_from, entry.decision.pk, entry.decision))
    return [item[-1] for item in sorted(listed, key=lambda item: item[:3])]


def _target(path, overwrite) -> Path:
    target = Path(path).resolve()
    if not target.parent.is_dir():
        raise BundleError(f"目录不存在：{target.parent}", f"no such directory: {target.parent}")
    if target.is_dir() or (target.exists() and not overwrite):
        raise BundleError(f"文件已存在：{target}", f"file exists: {target}")
    return target


def bag_name(target: Path) -> str:
    name = target.name[: -len(".zip")] if target.name.lower().endswith(".zip") else target.name
    return safe_name(name)


@contextmanager
def _staging(target: Path):
    """Yield an empty directory to build the bag in; it is removed whatever happens."""
    scratch = Path(tempfile.mkdtemp(prefix="juece-bundle-"))
    try:
        bag_dir = scratch / bag_name(target)
        bag_dir.mkdir()
        yield bag_dir
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextmanager
def _snapshot():
    """Read the record from one snapshot on PostgreSQL (as audit.verify does); SQLite reads need no lock."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _chain_head_seq() -> int:
    from decisions.models import ChainHead

    return ChainHead.objects.filter(id=1).values_list("last_seq", flat=True).first() or 0


def _dump(path: Path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _plain(value):
    """Return `value` as the JSON data it will read back as."""
    return json.loads(json.dumps(value, default=_json_default))


def _copy(field_file, target: Path) -> str:
    """Copy a stored file into the bag; return the SHA-256 of the bytes copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    try:
        with field_file.open("rb") as src, open(target, "xb") as dst:
            for chunk in iter(lambda: src.read(CHUNK), b""):
                digest.update(chunk)
                dst.write(chunk)
    except FileNotFoundError as exc:
        raise BundleError(
            f"存储中缺少文件 {field_file.name}，无法导出", f"the stored file {field_file.name} is missing"
        ) from exc
    return digest.hexdigest()


class _Part:
    """One part of the bag (a decision, or the catalogue): its files under `data/<base>` and its audit events."""

    def __init__(self, bag_dir: Path, base: str, notes: list):
        self.bag_dir, self.base, self.notes = bag_dir, base, notes

    def rel(self, *parts) -> str:
        return self.base + "/".join(parts)

    def copy(self, field_file, relative, recorded_sha256, label) -> str:
        """Copy a stored file to data/<relative>; return its path in the bag."""
        digest = _copy(field_file, self.bag_dir / relative)
        if digest != recorded_sha256:
            # The bundle keeps the stored bytes as they are; verify_bundle names the file.
            self.notes.append(f"data/{relative}: {label} 存储文件的 SHA-256 与登记值不符 / stored bytes differ")
        return f"data/{relative}"

    def write_events(self, events, unit) -> dict:
        from decisions import crypto
        from decisions.audit import event_content

        rows = _plain([{**event_content(e), "prev_mac": e.prev_mac, "mac": e.mac} for e in events])
        mac_algorithm = crypto.profile().mac_algorithm
        _dump(self.bag_dir / self.rel("audit", "events.json"), rows)
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(csv_row(row) for row in rows)
        # UTF-8 with a byte-order mark, so that a spreadsheet opens the Chinese text correctly.
        (self.bag_dir / self.rel("audit", "events.csv")).write_text(buffer.getvalue(), encoding="utf-8-sig")
        return {
            "events": f"data/{self.rel('audit', 'events.json')}",
            "csv": f"data/{self.rel('audit', 'events.csv')}",
            "count": len(rows),
            "first_seq": rows[0]["seq"] if rows else None,
            "last_seq": rows[-1]["seq"] if rows else None,
            # The MAC over which events the part holds uses the current profile and names it; each event
            # keeps the algorithm it was chained with (a chain that moved to 国密 holds both).
            "algorithm": mac_algorithm,
            "algorithms": sorted({row["algorithm"] for row in rows}),
            "events_mac_algorithm": mac_algorithm,
            "events_mac": events_mac(crypto.key_for("audit"), unit, rows, mac_algorithm),
        }


class _DecisionPart(_Part):
    def __init__(self, user, decision, bag_dir, base, notes, progress=None):
        super().__init__(bag_dir, base, notes)
        self.user, self.decision, self.progress = user, decision, progress

    def write(self):
        from decisions.models import AuditEvent
        from decisions.queries import decision_record
        from reports.models import Dossier

        decision = self.decision
        record = decision_record(self.user, decision)  # the same readers, and facts, as the auditor's view
        for replaced in ("audit_events", "read_as", "signoffs"):  # signoffs: written below with their manifests
            record.pop(replaced, None)
        documents = list(decision.documents.order_by("id"))
        dossiers = list(
            Dossier.objects.filter(decision=decision, status=Dossier.Status.DONE)
            .select_related("stage_record", "decision")
            .order_by("id")
        )
        signoffs = list(decision.signoffs.select_related("user").order_by("id"))
        total, done = len(documents) + len(dossiers) + 1, 0

        def tick(label):
            nonlocal done
            done += 1
            if self.progress:
                self.progress(done, total, label)

        by_id = {d["id"]: d for d in record.pop("documents")}
        document_index = []
        for document in documents:
            relative = self.rel("documents", safe_name(f"{document.pk}-{document.original_name}"))
            path = self.copy(document.file, relative, document.sha256, f"材料 document #{document.pk}")
            # 国密: the file's SM3 too, which reports/verify.py checks against the file.
            entry = {**by_id.get(document.pk, {"id": document.pk}), "digest_sm3": document.digest_sm3, "path": path}
            document_index.append(entry)
            tick(path)
        dossier_index = []
        for dossier in dossiers:
            relative = self.rel("dossiers", safe_name(dossier.filename))
            path = self.copy(dossier.file, relative, dossier.sha256, f"案卷 dossier #{dossier.pk}")
            dossier_index.append(
                {
                    "id": dossier.pk,
                    "kind": dossier.kind,
                    "stage_record": dossier.stage_record_id,
                    "signoff": dossier.signoff_id,
                    "version": dossier.version,
                    "status": dossier.status,
                    "supersedes": dossier.supersedes_id,
                    "superseded": hasattr(dossier, "superseded_by"),
                    "sha256": dossier.sha256,
                    "manifest_sha256": dossier.manifest_sha256,
                    "size": dossier.size,
                    "pages": dossier.pages,
                    "finished_at": dossier.finished_at,
                    "path": path,
                }
            )
            tick(path)
        organ = decision.organ
        index = {
            "format": FORMAT,
            "kind": "decision",
            "decision": {
                **record.pop("decision"),
                "organ_code": organ.code,
                "organ_name": organ.name,
                "category": decision.category,
                "source_type": decision.source_type,
                "created_at": decision.created_at,
            },
            "catalogue_entries": [
                {
                    "catalogue": entry.catalogue_id,
                    "year": entry.catalogue.year,
                    "catalogue_title": entry.catalogue.title,
                    "key": entry.key,
                    "seq_no": entry.seq_no,
                    "valid_from": entry.valid_from,
                    "valid_to": entry.valid_to,
                }
                for entry in decision.catalogue_entries.select_related("catalogue").order_by("catalogue_id", "id")
            ],
            "stage_records": record.pop("stage_records"),
            "signoffs": [
                {
                    "id": s.pk,
                    "stage_record": s.stage_record_id,
                    "user": s.user_id,
                    "user_label": str(s.user),
                    "role": s.role,
                    "at": s.at,
                    "subject": s.subject,
                    "manifest": s.manifest,
                    "content_sha256": s.content_sha256,
                    "supersedes": s.supersedes_id,
                    **_signature_of(s),
                }
                for s in signoffs
            ],
            "documents": document_index,
            "dossiers": dossier_index,
            **record,
        }
        # Events are read last: one committed meanwhile is harmless, a document without its event is not.
        events = AuditEvent.objects.filter(decision_id_ref=decision.pk).order_by("seq")
        index["audit"] = self.write_events(events, f"decision:{decision.pk}")
        tick(f"data/{self.rel('audit', 'events.json')}")
        _dump(self.bag_dir / self.rel("decision.json"), index)


def _signature_of(signoff) -> dict:
    """A sign-off's 国密 digest and the signer's signature with its public key (checked offline by reports/verify.py)."""
    return {
        "content_sm3": signoff.content_sm3,
        "signature": signoff.signature,
        "signature_algorithm": signoff.signature_algorithm,
        "signer_public_key": signoff.signer_public_key,
    }


class _CataloguePart(_Part):
    def __init__(self, catalogue, decisions, bag_dir, notes):
        super().__init__(bag_dir, "catalogue/", notes)
        self.catalogue, self.decisions = catalogue, decisions

    def write(self):
        from django.db.models import Q

        from catalog.models import AnnualCatalogue, CatalogueAdjustment, CatalogueDocument, CatalogueEntry
        from decisions.models import AuditEvent
        from reports.models import CatalogueNotice

        catalogue = self.catalogue
        records = list(CatalogueDocument.objects.filter(catalogue=catalogue).select_related("document").order_by("id"))
        documents = []
        for item in records:
            document = item.document
            relative = self.rel("documents", safe_name(f"{document.pk}-{document.original_name}"))
            path = self.copy(document.file, relative, document.sha256, f"目录材料 catalogue document #{item.pk}")
            documents.append(
                {
                    "record": item.pk,
                    "id": document.pk,
                    "kind": item.kind,
                    "adjustment": item.adjustment_id,
                    "entry_key": item.entry_key,
                    "issued_by": item.issued_by,
                    "issued_on": item.issued_on,
                    "type": document.doc_type,
                    "title": document.title,
                    "name": document.original_name,
                    "sha256": document.sha256,
                    "digest_sm3": document.digest_sm3,
                    "size": document.size,
                    "uploaded_at": document.uploaded_at,
                    "path": path,
                }
            )
        # The publication notices juece rendered for each published version (B8 item 1), under dossiers/.
        notices = list(CatalogueNotice.objects.filter(catalogue=catalogue).order_by("version", "id"))
        notice_rows = []
        for notice in notices:
            if notice.status != CatalogueNotice.Status.DONE:
                continue
            relative = self.rel("dossiers", f"notice-v{notice.version}-{notice.pk}.pdf")
            path = self.copy(notice.file, relative, notice.sha256, f"目录公布通知 catalogue notice #{notice.pk}")
            notice_rows.append(
                {
                    "id": notice.pk,
                    "version": notice.version,
                    "sha256": notice.sha256,
                    "size": notice.size,
                    "pages": notice.pages,
                    "path": path,
                }
            )
        entries = list(catalogue.entries.select_related("decision", "lead_unit").order_by("seq_no", "valid_from", "id"))
        adjustments = list(catalogue.adjustments.order_by("id"))
        organ = catalogue.organ
        index = {
            "format": FORMAT,
            "kind": "catalogue",
            "catalogue": {
                "id": catalogue.pk,
                "organ": organ.pk,
                "organ_code": organ.code,
                "organ_name": organ.name,
                "year": catalogue.year,
                "title": catalogue.title,
                "state": catalogue.state,
                "version": catalogue.version,
                "profile": str(catalogue.profile),
                "published_at": catalogue.published_at,
                "notice_number": catalogue.notice_number,
                "notice_date": catalogue.notice_date,
                "notice_url": catalogue.notice_url,
                "year_end_reported_at": catalogue.year_end_reported_at,
                "closed_at": catalogue.closed_at,
            },
            "decisions": [
                {
                    "id": d.pk,
                    "reference": d.reference,
                    "title": d.title,
                    "state": d.state,
                    "path": f"data/{decision_base(d.reference)}decision.json",
                }
                for d in self.decisions
            ],
            "entries": [
                {
                    "id": e.pk,
                    "key": e.key,
                    "valid_from": e.valid_from,
                    "valid_to": e.valid_to,
                    "seq_no": e.seq_no,
                    "name": e.name,
                    "main_content": e.main_content,
                    "category": e.category,
                    "decision": e.decision_id,
                    "decision_reference": e.decision.reference if e.decision_id else None,
                    "decision_body": e.decision_body,
                    "lead_unit": e.lead_unit.name if e.lead_unit_id else "",
                    "legal_policy_basis": e.legal_policy_basis,
                    "required_procedures": e.required_procedures,
                    "planned_submission_text": e.planned_submission_text,
                    "planned_completion": e.planned_completion,
                    "year_end_status": e.year_end_status,
                    "year_end_disposition": e.year_end_disposition,
                    "remarks": e.remarks,
                }
                for e in entries
            ],
            "adjustments": [
                {
                    "id": a.pk,
                    "kind": a.kind,
                    "entry_key": a.entry_key,
                    "decision": a.decision_id,
                    "reason": a.reason,
                    "state": a.state,
                    "proposed_at": a.proposed_at,
                    "published_at": a.published_at,
                    "published_version": a.published_version,
                    "notice_number": a.notice_number,
                    "rejection_reason": a.rejection_reason,
                }
                for a in adjustments
            ],
            "documents": documents,
            "notices": notice_rows,
        }
        # The catalogue's own events (it, its entry rows, adjustments and records); decisions' events are theirs.
        about = Q(pk__in=[])
        for model, pks in (
            (AnnualCatalogue, [catalogue.pk]),
            (CatalogueEntry, [e.pk for e in entries]),
            (CatalogueAdjustment, [a.pk for a in adjustments]),
            (CatalogueDocument, [r.pk for r in records]),
            (CatalogueNotice, [n.pk for n in notices]),
        ):
            about |= Q(object_type=model._meta.label, object_id__in=[str(pk) for pk in pks])
        events = AuditEvent.objects.filter(about).order_by("seq")
        index["audit"] = self.write_events(events, f"catalogue:{catalogue.pk}")
        _dump(self.bag_dir / self.rel("catalogue.json"), index)


def _current_mac_algorithm() -> str:
    from decisions import crypto

    return crypto.profile().mac_algorithm


def _bag_info(*, organ, identifier, description, head, user, role) -> dict:
    from django.utils import timezone

    return {
        "Source-Organization": organ.name,
        "Bagging-Date": timezone.localdate().isoformat(),
        "External-Identifier": identifier,
        "External-Description": description,
        "Bag-Software-Agent": f"juece reports.bundle ({FORMAT}); bagit.py {bagit.VERSION}",
        "Juece-Bundle-Format": FORMAT,
        "Juece-Audit-Chain-Head-Seq": str(head),
        "Juece-Audit-Algorithm": _current_mac_algorithm(),
        "Juece-Exported-By": f"{user.get_username()} ({role})",
        **({"Juece-SM3-Manifest": SM3_MANIFEST} if _sm3_manifest_wanted() else {}),
    }


def _sm3_manifest_wanted() -> bool:
    from decisions import crypto

    return crypto.profile().digest_algorithm == "SM3"


def _write_sm3_manifest(bag_dir: Path):
    """国密: list the SM3 of every payload file beside bagit's SHA-256 manifest (bagit knows no SM3).

    A tag file in the manifest's own format; bagit's tag manifest lists it, so it cannot change unnoticed.
    """
    lines = []
    for item in sorted((bag_dir / "data").rglob("*")):
        if item.is_file():
            lines.append(f"{sm3_file(item)}  {bagit._encode_filename(item.relative_to(bag_dir).as_posix())}\n")
    (bag_dir / SM3_MANIFEST).write_text("".join(lines), encoding="utf-8")


def _make_bag(bag_dir: Path, info: dict) -> bagit.Bag:
    """Turn the staged payload into a BagIt 1.0 bag (bagit.make_bag writes 0.97) and validate it."""
    with _quiet_bagit():
        bagit.make_bag(str(bag_dir), dict(info), processes=1, checksums=[CHECKSUM])
        (bag_dir / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
        if info.get("Juece-SM3-Manifest"):
            _write_sm3_manifest(bag_dir)
        bagit.Bag(str(bag_dir)).save()  # re-writes the tag manifest over the new bagit.txt (and the SM3 manifest)
        bag = bagit.Bag(str(bag_dir))
        bag.validate(processes=1)
    return bag


def _zip(bag_dir: Path, fileobj):
    prefix = bag_dir.name
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for item in sorted(bag_dir.rglob("*")):
            if item.is_file():
                archive.write(item, f"{prefix}/{item.relative_to(bag_dir).as_posix()}")


def _publish(bag_dir, target, info, notes, *, user, role, obj, decision, kind, references) -> ExportResult:
    """Bag and check, zip to a temporary name, then append the export event and rename in one transaction."""
    from django.db import transaction

    from decisions import audit, crypto

    bag = _make_bag(bag_dir, info)
    report = Report(bundle=str(target))
    with _quiet_bagit():
        AuditCheck(bag_dir, report, crypto.key_for("audit")).run()
    problems = list(report.problems) + [Problem("EXPORT_STORED_FILE", "", note, note) for note in notes]
    tagmanifest_sha256 = sha256_file(bag_dir / f"tagmanifest-{CHECKSUM}.txt")
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    temporary = Path(temporary)
    published = False
    try:
        with os.fdopen(fd, "wb") as fh:
            _zip(bag_dir, fh)
            fh.flush()
            os.fsync(fh.fileno())
        size, digest = temporary.stat().st_size, sha256_file(temporary)
        with transaction.atomic():
            event = audit.append(
                actor=user,
                role=role,
                action=EXPORT_ACTION,
                obj=obj,
                decision=decision,
                payload={
                    "kind": kind,
                    "file": target.name,
                    "size": size,
                    "sha256": digest,
                    "tagmanifest_sha256": tagmanifest_sha256,
                    "payload_oxum": bag.info.get("Payload-Oxum"),
                    "chain_head_seq": int(info["Juece-Audit-Chain-Head-Seq"]),
                    "decisions": references,
                    "problems": len(problems),
                },
            )
            os.replace(temporary, target)
            published = True
    except BaseException:
        if published:  # renamed, but the transaction did not commit: take the file back
            with suppress(OSError):
                target.unlink()
        raise
    finally:
        with suppress(OSError):
            temporary.unlink()
    oxum_bytes, _, oxum_files = str(bag.info.get("Payload-Oxum", "0.0")).partition(".")
    return ExportResult(
        path=target,
        size=size,
        sha256=digest,
        tagmanifest_sha256=tagmanifest_sha256,
        decisions=list(references),
        files=int(oxum_files or 0),
        payload_bytes=int(oxum_bytes or 0),
        event_seq=event.seq,
        problems=problems,
    )
