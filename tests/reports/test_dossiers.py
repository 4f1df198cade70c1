"""Stage dossiers and the archive dossier: requested with the sign-off, rendered by the worker, read back."""

import hashlib
import io
import json
import subprocess

import pypdf
import pytest
from django.db import transaction
from weasyprint import HTML

from decisions.audit import canonical
from decisions.models import AuditEvent, DocumentType, Stage, StageStatus
from decisions.rules import ProcedureRefused
from decisions.rules import consultation as consultation_rules
from decisions.services import consultation as consultation_svc
from decisions.services.common import Upload
from decisions.walkthrough import consultation, doc
from decisions.walkthrough import implementation as walk_impl
from decisions.walkthrough import initiation as walk
from reports import dossiers, pdf
from reports.models import Dossier
from tests.decisions.test_implementation import implementing


def read(dossier):
    with dossier.file.open("rb") as stored:
        content = stored.read()
    return content, pypdf.PdfReader(io.BytesIO(content))


def text_of(reader, pages=None):
    return "".join(page.extract_text() or "" for page in reader.pages[: pages or len(reader.pages)])


def pdfa_part(reader):
    import re

    xmp = reader.trailer["/Root"]["/Metadata"].get_data().decode()
    found = re.search(r"pdfaid:part(?:>|=\")(\d)", xmp)
    conformance = re.search(r"pdfaid:conformance(?:>|=\")(\w)", xmp)
    return f"{found.group(1)}{conformance.group(1)}" if found and conformance else None


def embedded(reader):
    return {name: contents[0] for name, contents in reader.attachments.items()}


def real_pdf(text):
    """An upload that is itself a proper PDF with embedded fonts (bound into the dossier as pages)."""
    body = f"<html lang='zh'><body style=\"font-family: 'Noto Serif CJK SC'\"><h1>{text}</h1></body></html>"
    return HTML(string=body).write_pdf()


def drafted(open_cast):
    return walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))


def test_closing_a_stage_requests_its_dossier_in_the_same_transaction(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    record = decision.stage_records.get(stage=Stage.INITIATION)
    dossier = Dossier.objects.get(stage_record=record)
    assert dossier.status == Dossier.Status.PENDING and dossier.version == 1
    assert dossier.signoff == record.signoffs.get() and dossier.manifest_sha256 == dossier.signoff.content_sha256
    assert dossier.task_id  # queued for the pdf worker


def test_a_refused_close_requests_no_dossier(open_cast):
    decision = drafted(open_cast)
    consultation.comment(open_cast, decision)
    before = Dossier.objects.count()
    with pytest.raises(ProcedureRefused):  # no opinion summary, no adoption statement
        consultation_svc.complete_public_participation(open_cast["UNDERTAKING_LEAD"], decision)
    assert Dossier.objects.count() == before


def test_a_stage_dossier_reads_back_as_pdfa_with_its_signed_manifest_and_attachments(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    record = decision.stage_records.get(stage=Stage.INITIATION)
    (dossier,) = dossiers.render_pending(decision)
    assert dossier.status == Dossier.Status.DONE, dossier.error
    content, reader = read(dossier)
    assert hashlib.sha256(content).hexdigest() == dossier.sha256 and len(content) == dossier.size
    assert len(reader.pages) == dossier.pages >= 3
    assert pdfa_part(reader) == "3B"
    first = reader.pages[0].extract_text()
    assert "重大行政决策环节案卷" in first and decision.title in first and decision.reference in first
    assert f"第 1 页 共 {dossier.pages} 页".replace(" ", "") in first.replace(" ", "")
    data = json.loads(embedded(reader)["dossier.json"])
    signoff = record.signoffs.get()
    assert data["signoff"]["content_sha256"] == signoff.content_sha256
    assert hashlib.sha256(canonical(data["signoff"]["manifest"]).encode()).hexdigest() == signoff.content_sha256
    assert {d["sha256"] for d in data["documents"]} == set(record.documents.values_list("sha256", flat=True))
    event = AuditEvent.objects.get(action="dossier:issued", object_id=str(dossier.pk))
    assert event.payload["sha256"] == dossier.sha256 and event.payload["signoff"] == signoff.pk


def test_every_page_carries_the_identifier_and_one_numbering(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    (dossier,) = dossiers.render_pending(decision)
    _, reader = read(dossier)
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text().replace(" ", "")
        assert decision.reference in text
        assert f"第{number}页共{total}页" in text


def test_the_cjk_font_is_embedded(open_cast, tmp_path):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    (dossier,) = dossiers.render_pending(decision)
    listing = subprocess.run(["pdffonts", dossier.file.path], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in listing.splitlines() if "CJK" in line]
    assert cjk and all(" yes yes yes " in line for line in cjk)


def test_uploaded_pdfs_are_bound_in_as_pages_and_other_formats_embedded(open_cast):
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    record = decision.stage_records.get(stage=Stage.DRAFTING)
    dossiers.render_pending(decision)
    dossier = Dossier.objects.get(stage_record=record)
    _, reader = read(dossier)
    files = embedded(reader)
    # The walkthrough's uploads are PDFs without embedded fonts: not PDF/A, so carried as attachments.
    stored = {d.sha256 for d in record.documents.all()}
    carried = {hashlib.sha256(content).hexdigest() for name, content in files.items() if name != "dossier.json"}
    assert carried == stored


def test_a_pdf_upload_with_embedded_fonts_becomes_pages_of_the_dossier(open_cast):
    lead = open_cast["UNDERTAKING_LEAD"]
    decision = drafted(open_cast)
    consultation.comment(open_cast, decision)
    method = Upload(
        DocumentType.PP_METHOD_RECORD, "method.pdf", real_pdf("公众参与方式记录：座谈会"), title="座谈会记录"
    )
    consultation_svc.record_participation_methods(lead, decision, ["FORUM"], documents=[method])
    consultation_svc.close_not_triggered(
        lead, decision, Stage.HEARING, reason_code=consultation_rules.OPTIONAL_NOT_HELD, reason_text="未要求听证"
    )
    summary = [doc(DocumentType.OPINION_SUMMARY), doc(DocumentType.ADOPTION_STATEMENT)]
    decision = consultation_svc.complete_public_participation(lead, decision, documents=summary)
    record = decision.stage_records.get(stage=Stage.PP)
    dossiers.render_pending(decision)
    _, reader = read(Dossier.objects.get(stage_record=record))
    bound = [page.extract_text() for page in reader.pages if "公众参与方式记录：座谈会" in page.extract_text()]
    assert bound and "附件1：座谈会记录" in bound[0].replace(" ", "")


def test_a_not_triggered_stage_gets_a_dossier_stating_the_reason_and_basis(open_cast):
    decision = consultation.skip_expert_review(open_cast, drafted(open_cast))
    record = decision.stage_records.get(stage=Stage.EX)
    assert record.status == StageStatus.NOT_TRIGGERED
    dossiers.render_pending(decision)
    dossier = Dossier.objects.get(stage_record=record)
    _, reader = read(dossier)
    text = text_of(reader)
    assert "未启动、依法免予或冻结的理由及依据" in text and record.reason_code in text


def test_a_preview_of_an_unsigned_stage_is_marked_as_draft(open_cast):
    decision = drafted(open_cast)
    record = decision.current_record(Stage.PP)
    content = dossiers.preview(open_cast["UNDERTAKING_LEAD"], record)
    reader = pypdf.PdfReader(io.BytesIO(content))
    assert "草稿" in reader.pages[0].extract_text()
    assert not Dossier.objects.filter(stage_record=record).exists()


def test_signed_dossiers_carry_no_draft_mark(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    (dossier,) = dossiers.render_pending(decision)
    _, reader = read(dossier)
    assert "草稿" not in reader.pages[0].extract_text()


def test_a_failed_render_is_recorded_and_retried_and_leaves_no_file(open_cast, monkeypatch, settings):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    dossier = Dossier.objects.get(decision=decision)

    def broken(_dossier):
        raise RuntimeError("字体损坏")

    monkeypatch.setattr(dossiers, "build", broken)
    dossiers.render(dossier.pk)
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.PENDING and dossier.attempts == 1 and "字体损坏" in dossier.error
    assert not dossier.file and not dossier.sha256
    assert not AuditEvent.objects.filter(action="dossier:issued").exists()
    settings.JUECE_RENDER_ATTEMPTS = 2
    dossiers.render(dossier.pk)
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.FAILED and dossier.attempts == 2
    monkeypatch.undo()
    assert dossiers.retry_failed(decision) == 1
    (done,) = dossiers.render_pending(decision)
    assert done.status == Dossier.Status.DONE


def test_a_render_killed_midway_is_found_and_requeued(open_cast):
    from datetime import timedelta

    from django.utils import timezone

    decision = walk.initiate(open_cast, walk.propose(open_cast))
    dossier = Dossier.objects.get(decision=decision)
    # What a worker killed during the render leaves: RENDERING, no file, no hash, no event.
    Dossier.objects.filter(pk=dossier.pk).update(
        status=Dossier.Status.RENDERING, attempts=1, started_at=timezone.now() - timedelta(hours=1)
    )
    assert dossiers.recover_stalled() == [dossier]
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.PENDING and "中断" in dossier.error
    (done,) = dossiers.render_pending(decision)
    assert done.status == Dossier.Status.DONE


def test_a_rendered_dossier_is_immutable_and_regenerating_keeps_the_old_version(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    (first,) = dossiers.render_pending(decision)
    first.pages = 1
    with pytest.raises(PermissionError):
        first.save()
    with pytest.raises(PermissionError):
        first.delete()
    with pytest.raises(ProcedureRefused) as refused:
        dossiers.regenerate(open_cast["ARCHIVIST"], first, reason="")
    assert refused.value.code == "REASON_REQUIRED"
    second = dossiers.regenerate(open_cast["ARCHIVIST"], first, reason="更换字体后重新生成")
    dossiers.render_pending(decision)
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.version == 2 and second.supersedes == first and second.status == Dossier.Status.DONE
    assert first.status == Dossier.Status.DONE and first.file.storage.exists(first.file.name)
    assert second.sha256 != first.sha256 and second.signoff == first.signoff
    # The new version says on its cover which version it is and why it was made.
    cover = read(second)[1].pages[0].extract_text().replace(" ", "")
    assert "第2版" in cover and "更换字体后重新生成" in cover


def test_only_the_archivist_or_the_office_may_regenerate(open_cast):
    from decisions.permissions import NotPermitted

    decision = walk.initiate(open_cast, walk.propose(open_cast))
    (dossier,) = dossiers.render_pending(decision)
    with pytest.raises(NotPermitted):
        dossiers.regenerate(open_cast["UNDERTAKING_LEAD"], dossier, reason="想重新生成")


def test_the_archive_dossier_is_assembled_with_one_numbering_contents_and_the_audit_trail(open_cast):
    decision = walk_impl.archive(open_cast, implementing(open_cast))
    done = dossiers.render_pending(decision)
    assert all(d.status == Dossier.Status.DONE for d in done), [d.error for d in done]
    archive = Dossier.objects.get(decision=decision, kind=Dossier.Kind.ARCHIVE)
    _, reader = read(archive)
    total = len(reader.pages)
    stage_pages = sum(d.pages for d in done if d.kind == Dossier.Kind.STAGE)
    assert total > stage_pages
    for number, page in enumerate(reader.pages, start=1):
        assert f"第{number}页共{total}页" in page.extract_text().replace(" ", "")
    contents = text_of(reader, pages=3)
    assert "重大行政决策归档案卷" in contents and "目录" in contents
    # The audit trail closes the dossier: its heading in the last (ARC) part, its events on the last page.
    heading = [i for i, page in enumerate(reader.pages) if "截至归档签署" in page.extract_text()]
    arc = decision.stage_records.get(stage="ARC")
    index = json.loads(embedded(reader)["archive.json"])
    by_record = {p["stage_record"]: p for p in index["parts"]}
    for stage_dossier in (d for d in done if d.kind == Dossier.Kind.STAGE):
        assert by_record[stage_dossier.stage_record_id]["sha256"] == stage_dossier.sha256
        first_page = by_record[stage_dossier.stage_record_id]["first_page"]
        assert "重大行政决策环节案卷" in reader.pages[first_page - 1].extract_text()
    assert heading and heading[0] + 1 >= by_record[arc.pk]["first_page"]
    assert (
        "decisions.StageRecord#" in reader.pages[-1].extract_text() or "decisions." in reader.pages[-1].extract_text()
    )
    assert pdfa_part(reader) == "3B"
    # Each part brought its own font subsets; the archive carries one embedded program per font, so it is
    # far smaller than the parts laid end to end.
    listing = subprocess.run(["pdffonts", archive.file.path], capture_output=True, text=True, check=True).stdout
    fonts = [line.split()[0].split("+")[-1] for line in listing.splitlines()[2:]]
    assert fonts and len(fonts) == len(set(fonts)) and all(" yes yes yes " in x for x in listing.splitlines()[2:])
    assert archive.size < sum(d.size for d in done if d.kind == Dossier.Kind.STAGE) / 3


def test_the_archive_dossier_waits_for_its_stage_dossiers(open_cast):
    decision = walk_impl.archive(open_cast, implementing(open_cast))
    archive = Dossier.objects.get(decision=decision, kind=Dossier.Kind.ARCHIVE)
    dossiers.render(archive.pk)
    archive.refresh_from_db()
    assert archive.status == Dossier.Status.PENDING and "尚未生成" in archive.error and archive.attempts == 0


def test_rendering_refuses_without_a_cjk_font(open_cast, monkeypatch):
    from reports import fonts

    monkeypatch.setattr(fonts, "chinese_families", lambda: ())
    with pytest.raises(fonts.MissingCJKFont) as missing:
        pdf.render_html("<p>汉字</p>")
    assert "fonts-noto-cjk" in str(missing.value)
    assert fonts.check_cjk_font()[0].id == "juece.E001"


def test_the_system_check_fails_on_a_machine_without_cjk_fonts(tmp_path):
    import os
    import sys

    (tmp_path / "fonts").mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        f"<?xml version='1.0'?><!DOCTYPE fontconfig SYSTEM 'fonts.dtd'><fontconfig><dir>{tmp_path / 'fonts'}</dir>"
        f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "JUECE_DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode != 0 and "juece.E001" in result.stderr and "fonts-noto-cjk" in result.stderr


def test_a_transaction_rolled_back_after_the_close_leaves_no_dossier(open_cast):
    decision = walk.propose(open_cast)
    with pytest.raises(RuntimeError), transaction.atomic():
        walk.initiate(open_cast, decision)
        assert Dossier.objects.filter(decision=decision).exists()
        raise RuntimeError("rollback")
    assert not Dossier.objects.filter(decision=decision).exists()


def test_the_render_command_renders_the_queue_and_shows_where_each_dossier_stands(open_cast):
    from django.core.management import call_command

    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    out, err = io.StringIO(), io.StringIO()
    call_command("render_dossiers", "--decision", decision.reference, stdout=out, stderr=err)
    assert "已生成 2 份案卷" in out.getvalue() and "2/2" in err.getvalue()
    status = io.StringIO()
    call_command("render_dossiers", "--status", "--decision", str(decision.pk), stdout=status)
    lines = status.getvalue().splitlines()
    assert len(lines) == 2 and all("已生成" in line for line in lines)
    for dossier in Dossier.objects.filter(decision=decision):
        assert dossier.sha256 in status.getvalue()


def test_an_exported_bundle_of_real_dossiers_verifies_and_names_a_changed_dossier(open_cast, tmp_path, settings):
    import zipfile

    from reports.bundle import export_decision_bundle
    from reports.verify import verify_bundle

    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    dossiers.render_pending(decision)
    path = tmp_path / "bundle.zip"
    export_decision_bundle(open_cast["SUPERVISOR"], decision, path)
    assert verify_bundle(path, audit_key=settings.AUDIT_KEY).ok
    with zipfile.ZipFile(path) as source:
        names = source.namelist()
        target = next(n for n in names if "/data/dossiers/" in n and n.endswith(".pdf"))
        broken = tmp_path / "broken.zip"
        with zipfile.ZipFile(broken, "w") as out:
            for name in names:
                content = source.read(name)
                if name == target:
                    content = content[:-40] + bytes([content[-40] ^ 1]) + content[-39:]
                out.writestr(name, content)
    report = verify_bundle(broken, audit_key=settings.AUDIT_KEY)
    assert not report.ok and any(target.endswith(changed) for changed in report.changed)


def test_the_archive_dossier_fails_visibly_when_a_stage_dossier_failed(open_cast, settings):
    decision = walk_impl.archive(open_cast, implementing(open_cast))
    stage = Dossier.objects.filter(decision=decision, kind=Dossier.Kind.STAGE).first()
    Dossier.objects.filter(pk=stage.pk).update(status=Dossier.Status.FAILED, error="字体损坏")
    settings.JUECE_RENDER_ATTEMPTS = 1
    archive = Dossier.objects.get(decision=decision, kind=Dossier.Kind.ARCHIVE)
    dossiers.render(archive.pk)
    archive.refresh_from_db()
    assert archive.status == Dossier.Status.FAILED and "环节案卷生成失败" in archive.error


def test_the_render_command_regenerates_a_dossier_as_a_new_version_with_a_reason(open_cast):
    from django.core.management import CommandError, call_command

    decision = walk.initiate(open_cast, walk.propose(open_cast))
    (first,) = dossiers.render_pending(decision)
    archivist = open_cast["ARCHIVIST"].username
    with pytest.raises(CommandError, match="REASON_REQUIRED"):
        call_command("render_dossiers", "--regenerate", str(first.pk), "--user", archivist, stdout=io.StringIO())
    out = io.StringIO()
    call_command(
        "render_dossiers", "--regenerate", str(first.pk), "--user", archivist, "--reason", "模板修正", stdout=out
    )
    assert "取代第 1 版" in out.getvalue()
    versions = list(Dossier.objects.filter(stage_record=first.stage_record).order_by("version"))
    assert [d.version for d in versions] == [1, 2] and versions[1].status == Dossier.Status.DONE


def test_verifying_stored_dossiers_names_a_changed_or_missing_file(open_cast):
    from django.core.management import CommandError, call_command

    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    first, second = dossiers.render_pending(decision)
    out = io.StringIO()
    call_command("render_dossiers", "--verify", stdout=out)
    assert "已核对 2 份案卷" in out.getvalue()
    from pathlib import Path

    path = Path(first.file.path)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 1
    path.write_bytes(bytes(content))
    Path(second.file.path).unlink()
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 / 2"):
        call_command("render_dossiers", "--verify", stdout=io.StringIO(), stderr=err)
    assert "文件内容已被改动" in err.getvalue() and "文件缺失" in err.getvalue()
