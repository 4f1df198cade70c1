"""Auditor bundles: export a decision or a catalogue as a BagIt ZIP, and verify one without the database."""

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import bagit
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from catalog import walkthrough as catalog_walk
from catalog.models import CatalogueDocument
from decisions import audit
from decisions.models import AuditEvent, Role
from decisions.permissions import NotPermitted
from decisions.walkthrough import initiation as walk
from reports import bundle, publication
from reports import verify as verifier
from reports.bundle import export_catalogue_bundle, export_decision_bundle
from reports.models import Dossier
from reports.verify import verify_bundle
from tests.decisions.test_implementation import decided

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = "JUECE_AUDIT_KEY"


# -- dossiers: stand-in for reports.dossiers.render_pending() ------------------------------------------------


def issue_dossiers(decision):
    """Request a dossier for each signed stage record and render every pending one.

    Stand-in for `reports.dossiers.render_pending(decision)`: swap the body for that call to bundle the real
    dossiers (checked: the bundle then verifies too, but rendering takes ≈5–6 s per decision instead of ≈0.2 s).
    """
    for record in decision.stage_records.filter(signoffs__isnull=False).distinct().order_by("id"):
        if not Dossier.objects.filter(stage_record=record).exists():
            signoff = record.signoffs.order_by("-id").first()
            Dossier.objects.create(kind=Dossier.Kind.STAGE, decision=decision, stage_record=record, signoff=signoff)
    for dossier in Dossier.objects.filter(decision=decision, status=Dossier.Status.PENDING).order_by("id"):
        render_dossier(dossier)


def render_dossier(dossier):
    """Render a tiny real PDF for `dossier`, store it, mark it DONE and audit `dossier:issued`."""
    from weasyprint import HTML

    part = dossier.stage_record.stage if dossier.stage_record_id else dossier.kind
    html = f"<h1>{dossier.decision.reference}</h1><p>{part} v{dossier.version} signoff {dossier.signoff_id}</p>"
    content = HTML(string=html).write_pdf()
    dossier.sha256 = hashlib.sha256(content).hexdigest()
    dossier.size, dossier.pages = len(content), 1
    dossier.manifest_sha256 = dossier.signoff.content_sha256 if dossier.signoff_id else ""
    dossier.file.save(f"{dossier.sha256}.pdf", ContentFile(content), save=False)
    dossier.status, dossier.finished_at = Dossier.Status.DONE, timezone.now()
    with transaction.atomic():
        dossier.save()
        audit.append(
            actor=None,
            role="SYSTEM",
            action="dossier:issued",
            obj=dossier,
            decision=dossier.decision,
            payload={
                "sha256": dossier.sha256,
                "manifest_sha256": dossier.manifest_sha256,
                "signoff": dossier.signoff_id,
                "stage_record": dossier.stage_record_id,
                "version": dossier.version,
                "kind": dossier.kind,
            },
        )
    return dossier


def regenerate(dossier, reason="模板修订后重新生成"):
    """A new version superseding `dossier` (the old one stays, superseded)."""
    new = Dossier.objects.create(
        kind=dossier.kind,
        decision=dossier.decision,
        stage_record=dossier.stage_record,
        signoff=dossier.signoff,
        version=dossier.version + 1,
        supersedes=dossier,
        reason=reason,
    )
    return render_dossier(new)


def full_record(cast):
    """A DECIDED decision with its documents, a dossier per signed stage (one regenerated), an archive dossier
    and a FAILED render that must not be exported."""
    decision = decided(cast)
    issue_dossiers(decision)
    regenerate(Dossier.objects.filter(decision=decision, kind=Dossier.Kind.STAGE).order_by("id").first())
    render_dossier(Dossier.objects.create(kind=Dossier.Kind.ARCHIVE, decision=decision))
    Dossier.objects.create(
        kind=Dossier.Kind.ARCHIVE, decision=decision, version=2, status=Dossier.Status.FAILED, error="boom"
    )
    return decision


# -- bundles as an auditor sees them ------------------------------------------------------------------------


def read_bag(path):
    """Return (top-level directory, {path in the bag: bytes})."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        prefix = names[0].split("/")[0] + "/"
        assert all(name.startswith(prefix) for name in names)
        return prefix, {name[len(prefix) :]: archive.read(name) for name in names}


def tampered(source, target, edit, reseal=False):
    """Copy the bundle with `edit(files)` applied; `reseal` re-writes every manifest (bagit) so bagit passes."""
    prefix, files = read_bag(source)
    edit(files)
    if reseal:
        with tempfile.TemporaryDirectory() as scratch:
            for name, data in files.items():
                (Path(scratch) / name).parent.mkdir(parents=True, exist_ok=True)
                (Path(scratch) / name).write_bytes(data)
            bagit.Bag(scratch).save(manifests=True)
            files = {p.relative_to(scratch).as_posix(): p.read_bytes() for p in Path(scratch).rglob("*") if p.is_file()}
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in files.items():
            archive.writestr(prefix + name, data)
    return target


def flip(data, at=None):
    data = bytearray(data)
    at = len(data) // 2 if at is None else at
    data[at] ^= 0x01
    return bytes(data)


def first(files, folder):
    return sorted(name for name in files if name.startswith(folder))[0]


def events_of(files, base="data/"):
    return json.loads(files[base + "audit/events.json"])


def put_events(files, events, csv_too=True, base="data/"):
    files[base + "audit/events.json"] = json.dumps(events, ensure_ascii=False, indent=2).encode()
    if csv_too:
        out = io.StringIO(newline="")
        writer = csv.DictWriter(out, fieldnames=verifier.CSV_FIELDS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(verifier.csv_row(e) for e in events)
        files[base + "audit/events.csv"] = out.getvalue().encode("utf-8-sig")


@pytest.fixture
def no_db(django_db_blocker):
    """Inside it, any database access fails the test."""
    return django_db_blocker.block


@pytest.fixture
def exported(open_cast, tmp_path):
    """A decision's bundle, exported by the organ's supervisor (auditor)."""
    decision = full_record(open_cast)
    path = tmp_path / "bundle.zip"
    result = export_decision_bundle(open_cast[Role.SUPERVISOR], decision, path)
    return path, decision, result


def verify(path, key=True):
    return verify_bundle(path, audit_key=settings.AUDIT_KEY if key else None)


# -- export and verify an intact bundle -----------------------------------------------------------------------


def test_intact_decision_bundle_verifies(open_cast, tmp_path, no_db):
    decision = full_record(open_cast)
    events_before = AuditEvent.objects.filter(decision_id_ref=decision.pk).count()
    path, out, err = tmp_path / "审计包.zip", io.StringIO(), io.StringIO()
    auditor = open_cast[Role.SUPERVISOR]
    call_command(
        "export_bundle", "--decision", decision.reference, "--user", auditor.username, "-o", str(path),
        stdout=out, stderr=err,
    )  # fmt: skip
    assert "已导出" in out.getvalue() and "Exported" in out.getvalue()

    prefix, files = read_bag(path)
    assert prefix == "审计包/"
    assert files["bagit.txt"] == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    assert {"bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"} <= set(files)
    info = files["bag-info.txt"].decode()
    for tag in (
        f"Source-Organization: {decision.organ.name}",
        f"External-Identifier: {decision.reference}",
        "External-Description: 重大行政决策",
        "Payload-Oxum: ",
        "Bagging-Date: ",
        "Juece-Audit-Algorithm: HMAC-SHA256",
        "Juece-Audit-Chain-Head-Seq: ",
    ):
        assert tag in info, tag

    index = json.loads(files["data/decision.json"])
    assert index["decision"]["reference"] == decision.reference
    assert [s["no"] for s in index["stage_records"]] == list(range(1, len(index["stage_records"]) + 1))
    # Every document, byte for byte, named <id>-<original name>.
    documents = list(decision.documents.order_by("id"))
    assert [d["id"] for d in index["documents"]] == [d.pk for d in documents]
    for document, entry in zip(documents, index["documents"]):
        assert entry["path"] == f"data/documents/{document.pk}-{document.original_name}"
        with document.file.open("rb") as fh:
            assert files[entry["path"]] == fh.read()
    # Every DONE dossier, superseded versions too; the FAILED render is not there.
    done = Dossier.objects.filter(decision=decision, status=Dossier.Status.DONE).order_by("id")
    assert [d["id"] for d in index["dossiers"]] == [d.pk for d in done]
    assert any(d["superseded"] for d in index["dossiers"]) and any(d["version"] == 2 for d in index["dossiers"])
    assert {f"data/dossiers/{d.filename}" for d in done} == {n for n in files if n.startswith("data/dossiers/")}
    # Sign-offs with their manifests; audit events as JSON and CSV with their MACs.
    assert [s["id"] for s in index["signoffs"]] == list(decision.signoffs.order_by("id").values_list("pk", flat=True))
    events = events_of(files)
    assert len(events) == events_before and events == sorted(events, key=lambda e: e["seq"])
    assert set(events[0]) == set(verifier.CSV_FIELDS)
    assert files["data/audit/events.csv"].decode("utf-8-sig").count("\r\n") == len(events) + 1

    # The export is audited with the tag manifest's and the ZIP's SHA-256, and the chain still verifies.
    event = AuditEvent.objects.get(action="bundle:export", decision_id_ref=decision.pk)
    assert event.payload["tagmanifest_sha256"] == hashlib.sha256(files["tagmanifest-sha256.txt"]).hexdigest()
    assert event.payload["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert event.payload["decisions"] == [decision.reference] and event.role == Role.SUPERVISOR
    assert audit.verify().ok

    with no_db():
        with tempfile.TemporaryDirectory() as scratch:  # the bagit library itself accepts the bag
            zipfile.ZipFile(path).extractall(scratch)
            assert bagit.Bag(str(Path(scratch) / "审计包")).is_valid()
        keyed = verify(path)
        assert keyed.ok and keyed.macs_checked and not keyed.warnings, keyed.problems
        assert keyed.counts["documents"] == len(documents) and keyed.counts["events"] == len(events)
        assert keyed.counts["dossiers"] == done.count() and keyed.counts["signoffs"] == len(index["signoffs"])
        unkeyed = verify(path, key=False)
        assert unkeyed.ok and not unkeyed.macs_checked
        assert [w.code for w in unkeyed.warnings] == ["MACS_NOT_CHECKED"]
        out = io.StringIO()
        call_command("verify_bundle", str(path), stdout=out)
        assert "未核验 MAC / MACs NOT checked" in out.getvalue() and "INTACT" in out.getvalue()


def test_export_reports_progress_per_file(exported, open_cast, tmp_path):
    _path, decision, result = exported
    calls = []
    export_decision_bundle(
        open_cast[Role.ARCHIVIST], decision, tmp_path / "again.zip", progress=lambda *a: calls.append(a)
    )
    total = decision.documents.count() + Dossier.objects.filter(decision=decision, status="DONE").count() + 1
    assert [c[:2] for c in calls] == [(n, total) for n in range(1, total + 1)]
    assert calls[-1][2] == "data/audit/events.json"
    assert result.files > total and not result.problems


# -- what verification names ---------------------------------------------------------------------------------


def test_verify_names_a_changed_file(exported, tmp_path, no_db):
    path, _decision, _result = exported
    _prefix, files = read_bag(path)
    document = first(files, "data/documents/")
    dossier = first(files, "data/dossiers/")
    with no_db():
        broken = tampered(path, tmp_path / "doc.zip", lambda f: f.update({document: flip(f[document])}))
        report = verify(broken)
        assert not report.ok and report.changed == [document] and not report.removed and not report.added
        assert "DOCUMENT_HASH_MISMATCH" in report.codes()

        both = tampered(
            path,
            tmp_path / "two.zip",
            lambda f: f.update({dossier: flip(f[dossier]), "bag-info.txt": flip(f["bag-info.txt"], at=3)}),
        )
        report = verify(both, key=False)
        assert set(report.changed) == {dossier, "bag-info.txt"}
        assert "DOSSIER_HASH_MISMATCH" in report.codes()

        # A byte flipped anywhere in a tag file, even one that no longer decodes, is named.
        for name in ("bag-info.txt", "manifest-sha256.txt", "bagit.txt"):
            report = verify(tampered(path, tmp_path / "tag.zip", lambda f, n=name: f.update({n: flip(f[n])})))
            assert name in report.changed, (name, report.problems)

        out = io.StringIO()
        with pytest.raises(CommandError) as refused:
            call_command("verify_bundle", str(broken), "--audit-key-env", KEY_ENV, stdout=out)
        assert refused.value.returncode == 1
        assert f"已改动 changed: {document}" in out.getvalue() and "FAILED" in out.getvalue()


def test_verify_names_a_deleted_file(exported, tmp_path, no_db):
    path, _decision, _result = exported
    _prefix, files = read_bag(path)
    dossier, document = first(files, "data/dossiers/"), first(files, "data/documents/")

    def remove(*names):
        return lambda f: [f.pop(n) for n in names]

    with no_db():
        report = verify(tampered(path, tmp_path / "a.zip", remove(dossier, document)))
        assert set(report.removed) == {dossier, document} and not report.changed and not report.added
        for name in ("tagmanifest-sha256.txt", "bag-info.txt", "bagit.txt", "manifest-sha256.txt"):
            report = verify(tampered(path, tmp_path / "b.zip", remove(name)))
            assert report.removed == [name], (name, report.problems)
        # Deleted and the manifests re-made to hide it: the index still names what is gone ...
        report = verify(tampered(path, tmp_path / "c.zip", remove(dossier, document), reseal=True), key=False)
        assert set(report.removed) == {dossier, document}

        # ... and with the index edited too, the audit events that recorded them do.
        def erase(f):
            remove(dossier, document)(f)
            index = json.loads(f["data/decision.json"])
            index["documents"] = [d for d in index["documents"] if d["path"] != document]
            index["dossiers"] = [d for d in index["dossiers"] if d["path"] != dossier]
            f["data/decision.json"] = json.dumps(index, ensure_ascii=False).encode()

        report = verify(tampered(path, tmp_path / "d.zip", erase, reseal=True), key=False)
        assert not report.ok and {"DOSSIER_ABSENT", "DOCUMENT_ABSENT"} <= report.codes()


def test_verify_names_an_added_file(exported, tmp_path, no_db):
    path, _decision, _result = exported
    extra = {"data/documents/9999-补充材料.pdf": b"%PDF-1.4 extra", "notes.txt": b"added at the root"}
    with no_db():
        report = verify(tampered(path, tmp_path / "added.zip", lambda f: f.update(extra)))
        assert set(report.added) == set(extra) and not report.changed and not report.removed
        out = io.StringIO()
        with pytest.raises(CommandError):
            call_command("verify_bundle", str(tmp_path / "added.zip"), stdout=out)
        assert "新增 added: data/documents/9999-补充材料.pdf" in out.getvalue()
        # Added with the manifests re-made: the file is in no index and no audit event.
        report = verify(tampered(path, tmp_path / "sealed.zip", lambda f: f.update(extra), reseal=True))
        assert "data/documents/9999-补充材料.pdf" in report.paths("FILE_NOT_LISTED")


def test_verify_catches_an_edited_audit_event(exported, tmp_path, no_db):
    path, _decision, _result = exported
    _prefix, files = read_bag(path)
    events = events_of(files)
    upload = next(e for e in events if e["action"] == "document:upload")
    step = next(e for e in events if e["action"].startswith("transition:"))
    seqs = {e["seq"] for e in events}
    linked = next(e for e in events if e["seq"] + 1 in seqs)

    def edit(change, csv_too=True):
        def apply(f):
            edited = json.loads(json.dumps(events))
            change(edited)
            put_events(f, edited, csv_too=csv_too)

        return apply

    def by_seq(seq):
        return lambda edited: next(e for e in edited if e["seq"] == seq)

    with no_db():
        # A forged upload hash: the manifests are re-made so bagit passes, the audit check does not.
        forged = tampered(
            path,
            tmp_path / "forged.zip",
            edit(lambda ev: by_seq(upload["seq"])(ev)["payload"].update(sha256="0" * 64)),
            reseal=True,
        )
        report = verify(forged, key=False)
        assert not report.ok and not (report.changed or report.removed or report.added)
        assert "DOCUMENT_HASH_MISMATCH" in report.codes()
        keyed = verify(forged)
        assert [p.seq for p in keyed.problems if p.code == "AUDIT_MAC_MISMATCH"] == [upload["seq"]]

        # An edit nothing else cross-checks: without the key it passes only with the warning; with it, it fails.
        quiet = tampered(
            path,
            tmp_path / "quiet.zip",
            edit(lambda ev: by_seq(step["seq"])(ev)["payload"].update(to="ARCHIVED")),
            reseal=True,
        )
        report = verify(quiet, key=False)
        assert report.ok and [w.code for w in report.warnings] == ["MACS_NOT_CHECKED"]
        assert [(p.code, p.seq) for p in verify(quiet).problems] == [("AUDIT_MAC_MISMATCH", step["seq"])]

        # A MAC replaced to match an edit breaks the link to the next event, key or not.
        relinked = tampered(
            path, tmp_path / "mac.zip", edit(lambda ev: by_seq(linked["seq"])(ev).update(mac="f" * 64)), reseal=True
        )
        report = verify(relinked, key=False)
        assert ("AUDIT_LINK_BROKEN", linked["seq"] + 1) in {(p.code, p.seq) for p in report.problems}

        # An event dropped (one nothing else refers to): only the key's MAC over the set of events notices.
        dropped = tampered(
            path, tmp_path / "drop.zip", edit(lambda ev: ev.remove(by_seq(step["seq"])(ev))), reseal=True
        )
        assert verify(dropped, key=False).ok
        assert "AUDIT_EVENTS_INCOMPLETE" in verify(dropped).codes()

        # events.json edited alone: the CSV copy disagrees.
        alone = tampered(
            path,
            tmp_path / "alone.zip",
            edit(lambda ev: by_seq(step["seq"])(ev).update(actor_label="someone else"), csv_too=False),
            reseal=True,
        )
        assert "AUDIT_CSV_MISMATCH" in verify(alone, key=False).codes()

        # A wrong key fails every MAC and says so.
        wrong = verify_bundle(path, audit_key="not-the-key-0123456789")
        assert not wrong.ok and [w.code for w in wrong.warnings] == ["AUDIT_KEY_WRONG"]


def test_verify_checks_signoff_manifests(exported, tmp_path, no_db):
    path, _decision, _result = exported

    def edit(f):
        index = json.loads(f["data/decision.json"])
        index["signoffs"][0]["manifest"]["subject"] = "改过的签署事项"
        f["data/decision.json"] = json.dumps(index, ensure_ascii=False).encode()

    with no_db():
        report = verify(tampered(path, tmp_path / "signoff.zip", edit, reseal=True), key=False)
    assert "SIGNOFF_HASH_MISMATCH" in report.codes()


def test_verify_needs_no_database(exported, tmp_path, no_db):
    path, _decision, _result = exported
    _prefix, files = read_bag(path)
    document = first(files, "data/documents/")
    broken = tampered(path, tmp_path / "broken.zip", lambda f: f.update({document: flip(f[document])}))
    with no_db():  # in process: pytest-django fails any query or connection here
        call_command("verify_bundle", str(path), "--audit-key-env", KEY_ENV, stdout=io.StringIO())

    # As a command, with DATABASE_URL pointing at a server that does not exist.
    env = {**os.environ, "DATABASE_URL": "postgres://nobody:nothing@127.0.0.1:9/none", "DJANGO_SETTINGS_MODULE": ""}
    env.pop("DJANGO_SETTINGS_MODULE")
    command = [sys.executable, "manage.py", "verify_bundle", "--audit-key-env", KEY_ENV]
    intact = subprocess.run([*command, str(path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert intact.returncode == 0, intact.stderr
    assert "INTACT" in intact.stdout
    failed = subprocess.run([*command, str(broken)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1 and f"已改动 changed: {document}" in failed.stdout, failed.stderr

    # Without Django at all: what an auditor runs on a machine without the project's settings.
    script = (
        "import sys; from reports.verify import main; code = main(sys.argv[1:]);"
        "assert 'django.conf' not in sys.modules and 'decisions.models' not in sys.modules; sys.exit(code)"
    )
    plain = subprocess.run(
        [sys.executable, "-c", script, "verify", str(path), "--audit-key-env", KEY_ENV],
        cwd=ROOT,
        env={k: v for k, v in env.items() if k != "DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert plain.returncode == 0 and "INTACT" in plain.stdout, plain.stderr


# -- who may export ------------------------------------------------------------------------------------------


def test_export_refuses_a_user_who_may_not_see_the_decision(open_cast, cast_factory, tmp_path):
    decision = decided(open_cast)
    outsider = cast_factory()[Role.SUPERVISOR]  # a supervisor of another organ
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    path = out_dir / "refused.zip"
    for user in (open_cast[Role.UNDERTAKING_LEAD], open_cast[Role.LEGAL_REVIEWER], outsider):
        with pytest.raises(NotPermitted):
            export_decision_bundle(user, decision, path)
        with pytest.raises(CommandError) as refused:
            call_command("export_bundle", "--decision", str(decision.pk), "--user", user.username, "-o", str(path))
        assert "无权导出" in str(refused.value) and "Not permitted" in str(refused.value)
    assert not list(out_dir.iterdir())
    assert not AuditEvent.objects.filter(action="bundle:export").exists()
    # Each organ role that reads the whole record may export it.
    for role in (Role.SUPERVISOR, Role.GOV_OFFICE, Role.CHIEF, Role.ARCHIVIST):
        export_decision_bundle(open_cast[role], decision, out_dir / f"{role}.zip")
    assert AuditEvent.objects.filter(action="bundle:export").count() == 4


# -- a catalogue ---------------------------------------------------------------------------------------------


def test_catalogue_bundle_holds_every_listed_decision(cast, tmp_path, no_db):
    listed = [walk.propose(cast, title=f"事项{n}") for n in range(3)]
    catalogue = catalog_walk.publish_catalogue(cast, decisions=listed)
    started = walk.draft(cast, walk.initiate(cast, listed[0]))
    issue_dossiers(started)
    (notice,) = publication.render_pending(catalogue)  # the publication notice of version 1
    path, err = tmp_path / "catalogue.zip", io.StringIO()
    call_command(
        "export_bundle", "--catalogue", str(catalogue.year), cast.organ.code,
        "--user", cast[Role.SUPERVISOR].username, "-o", str(path), stdout=io.StringIO(), stderr=err,
    )  # fmt: skip
    # Not a terminal: one line per decision, then the catalogue's own records.
    lines = err.getvalue().splitlines()
    assert [line.split("]")[0] for line in lines] == ["[1/4", "[2/4", "[3/4", "[4/4"]
    assert all(d.reference in line for d, line in zip(listed, lines))

    _prefix, files = read_bag(path)
    index = json.loads(files["data/catalogue/catalogue.json"])
    assert [d["reference"] for d in index["decisions"]] == [d.reference for d in listed]
    for decision in listed:
        part = json.loads(files[f"data/decisions/{decision.reference}/decision.json"])
        assert part["decision"]["id"] == decision.pk
        assert len([n for n in files if n.startswith(f"data/decisions/{decision.reference}/documents/")]) == (
            decision.documents.count()
        )
    assert any(n.startswith(f"data/decisions/{started.reference}/dossiers/") for n in files)
    assert len(index["documents"]) == CatalogueDocument.objects.filter(catalogue=catalogue).count() > 0
    assert {e["decision_reference"] for e in index["entries"]} == {d.reference for d in listed}
    assert any(e["action"] == "catalogue:document" for e in events_of(files, "data/catalogue/"))
    (listed_notice,) = index["notices"]
    assert (listed_notice["version"], listed_notice["sha256"]) == (1, notice.sha256)
    assert hashlib.sha256(files[listed_notice["path"]]).hexdigest() == notice.sha256
    assert any(e["action"] == "catalogue:notice_issued" for e in events_of(files, "data/catalogue/"))
    assert "External-Identifier: " + f"{cast.organ.code}-{catalogue.year}-catalogue" in files["bag-info.txt"].decode()
    event = AuditEvent.objects.get(action="bundle:export")
    assert event.payload["decisions"] == [d.reference for d in listed] and event.decision_id_ref is None

    with no_db():
        report = verify(path)
        assert report.ok and report.counts["decisions"] == 3, report.problems
        changed = verify(
            tampered(
                path,
                tmp_path / "notice.zip",
                lambda f: f.update({listed_notice["path"]: flip(f[listed_notice["path"]])}),
                reseal=True,
            )
        )
        assert "DOSSIER_HASH_MISMATCH" in changed.codes() and "DOSSIER_UNATTESTED" in changed.codes()
        gone = f"data/decisions/{listed[1].reference}/decision.json"
        report = verify(tampered(path, tmp_path / "gone.zip", lambda f: f.pop(gone), reseal=True), key=False)
        assert "CATALOGUE_DECISION_MISSING" in report.codes()

    # Only the organ's office or supervisor may export its catalogue.
    with pytest.raises(NotPermitted):
        export_catalogue_bundle(cast[Role.LEGAL_REVIEWER], catalogue, tmp_path / "no.zip")
    calls = []
    export_catalogue_bundle(cast[Role.GOV_OFFICE], catalogue, tmp_path / "office.zip", lambda *a: calls.append(a))
    assert [c[:2] for c in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]


# -- failures leave nothing ----------------------------------------------------------------------------------


def test_export_leaves_no_file_when_it_fails(open_cast, tmp_path, monkeypatch):
    decision = decided(open_cast)
    auditor = open_cast[Role.SUPERVISOR]
    out_dir, scratch = tmp_path / "out", tmp_path / "scratch"
    out_dir.mkdir(), scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    target = out_dir / "bundle.zip"

    def nothing_left():
        assert not list(out_dir.iterdir()) and not list(scratch.iterdir())
        assert not AuditEvent.objects.filter(action="bundle:export").exists()

    # The ZIP fails half-way.
    def half(bag_dir, fileobj):
        fileobj.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(bundle, "_zip", half)
        with pytest.raises(OSError, match="disk full"):
            export_decision_bundle(auditor, decision, target)
    nothing_left()

    # The audit event cannot be appended (after the ZIP is written): no file either.
    with monkeypatch.context() as patch:
        patch.setattr(audit, "append", lambda **kw: (_ for _ in ()).throw(RuntimeError("chain head locked")))
        with pytest.raises(RuntimeError):
            export_decision_bundle(auditor, decision, target)
    nothing_left()

    # A stored attachment has gone missing from storage.
    document = decision.documents.order_by("id").first()
    os.remove(document.file.path)
    with pytest.raises(CommandError) as failed:
        call_command("export_bundle", "--decision", decision.reference, "--user", auditor.username, "-o", str(target))
    assert "导出失败" in str(failed.value) and document.file.name in str(failed.value)
    nothing_left()

    # An existing file is not replaced without --force.
    target.write_bytes(b"earlier export")
    with pytest.raises(CommandError, match="文件已存在"):
        call_command("export_bundle", "--decision", decision.reference, "--user", auditor.username, "-o", str(target))
    assert target.read_bytes() == b"earlier export"


def test_a_stored_file_that_no_longer_matches_is_exported_as_it_is_and_named(open_cast, tmp_path, no_db):
    decision = decided(open_cast)
    document = decision.documents.order_by("id").first()
    Path(document.file.path).write_bytes(b"%PDF-1.4 replaced behind the application's back")
    result = export_decision_bundle(open_cast[Role.ARCHIVIST], decision, tmp_path / "b.zip")
    assert [p.code for p in result.problems] == [
        "DOCUMENT_HASH_MISMATCH",
        "DOCUMENT_HASH_MISMATCH",
        "EXPORT_STORED_FILE",
    ]
    with no_db():
        report = verify(tmp_path / "b.zip")
    assert not report.ok and not report.changed
    assert report.paths("DOCUMENT_HASH_MISMATCH") == [f"data/documents/{document.pk}-{document.original_name}"]


def test_bundle_canonical_json_is_the_audit_modules():
    value = {"b": [1, 2.5, None, True], "a": "重大行政决策", "c": {"z": 1e20, "y": -0.0}}
    assert verifier.canonical(value) == audit.canonical(value)


@pytest.mark.django_db(transaction=True)
def test_export_commits_its_event_with_the_file_outside_any_transaction(open_cast, tmp_path):
    """Not inside a test transaction: the snapshot read (PostgreSQL) and the real commit of the export event."""
    decision = full_record(open_cast)
    result = export_decision_bundle(open_cast[Role.SUPERVISOR], decision, tmp_path / "committed.zip")
    assert result.path.exists() and not list(tmp_path.glob(".*.part"))
    event = AuditEvent.objects.get(seq=result.event_seq)
    assert event.action == "bundle:export" and event.payload["sha256"] == result.sha256
    assert audit.verify().ok and verify(result.path).ok
