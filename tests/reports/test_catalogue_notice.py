"""The catalogue's publication notice: requested with each publication, rendered, stored, attested, read back."""

import hashlib
import io
import subprocess
from datetime import date

import pypdf
import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from catalog import services, walkthrough
from catalog.models import CatalogueAdjustment
from decisions import audit
from decisions.models import AuditEvent
from decisions.rules import ProcedureRefused
from decisions.walkthrough import doc
from reports import publication
from reports.models import CatalogueNotice

TASK = "reports.tasks.render_catalogue_notice"
NAMES = ("城区停车收费标准调整", "市区公交线网优化方案")
LONG = "为深入贯彻落实“千万工程”战略部署，扎实推进“四好农村路”建设，重点对道路实施“白改黑”改造、排水设施改造提升。" * 3


def published(cast, names=NAMES, **fields):
    catalogue = walkthrough.publish_catalogue(cast, entries=[{"name": name, **fields} for name in names])
    catalogue.refresh_from_db()
    return catalogue


def notice_tasks(notice=None):
    tasks = DBTaskResult.objects.filter(task_path=TASK)
    if notice is not None:
        tasks = tasks.filter(args_kwargs__args=[notice.pk])
    return tasks


def text(content_or_notice):
    if isinstance(content_or_notice, CatalogueNotice):
        with content_or_notice.file.open("rb") as stored:
            content_or_notice = stored.read()
    reader = pypdf.PdfReader(io.BytesIO(content_or_notice))
    return [(page.extract_text() or "").replace(" ", "").replace("\n", "") for page in reader.pages]


def test_publication_requests_exactly_one_notice_on_the_pdf_queue(cast):
    before = notice_tasks().count()
    catalogue = published(cast)
    (notice,) = CatalogueNotice.objects.filter(catalogue=catalogue)
    assert (notice.version, notice.status, notice.attempts, notice.sha256) == (1, "PENDING", 0, "")
    (task,) = notice_tasks(notice)
    assert notice_tasks().count() == before + 1
    assert task.queue_name == "pdf" and notice.task_id == str(task.id)


def _consented_but_unapproved(cast):
    """A catalogue compiled but not approved: publishing it is refused."""
    office = cast["GOV_OFFICE"]
    catalogue = services.open_catalogue(office, cast.organ, date.today().year, call_for_proposals=doc("OTHER", "征集"))
    _, data = walkthrough.entry_data(cast, {"name": NAMES[0]})
    services.add_entry(office, catalogue, **data)
    return services.compile(office, catalogue, compiled_list=doc("OTHER", "汇总清单"))


def test_a_refused_publication_requests_no_notice(cast):
    catalogue = _consented_but_unapproved(cast)
    before = notice_tasks().count()
    with pytest.raises(ProcedureRefused):
        services.publish(
            cast["GOV_OFFICE"],
            catalogue,
            notice_number="测政办发〔2026〕1号",
            notice_date=date.today(),
            notice_url="https://www.example.gov.cn/catalogue",
            notice=doc("OTHER", "公布通知"),
        )
    assert not CatalogueNotice.objects.filter(catalogue=catalogue).exists()
    assert notice_tasks().count() == before


def test_a_rolled_back_publication_requests_nothing(cast):
    before = notice_tasks().count()
    with pytest.raises(RuntimeError), transaction.atomic():
        catalogue = published(cast)
        assert CatalogueNotice.objects.filter(catalogue=catalogue).exists()
        raise RuntimeError("rollback")
    assert not CatalogueNotice.objects.exists()
    assert notice_tasks().count() == before


def test_the_notice_reads_back_with_title_number_and_entries_and_its_fonts_embedded(cast):
    catalogue = published(cast, main_content=LONG, legal_policy_basis="《重大行政决策程序暂行条例》(国务院令第713号)")
    (notice,) = publication.render_pending(catalogue)
    assert notice.status == CatalogueNotice.Status.DONE, notice.error
    with notice.file.open("rb") as stored:
        content = stored.read()
    assert hashlib.sha256(content).hexdigest() == notice.sha256 and len(content) == notice.size
    assert notice.file.name.startswith(f"notices/{catalogue.pk}/") and notice.sha256 in notice.file.name
    pages = text(notice)
    assert len(pages) == notice.pages
    first = pages[0]
    year = catalogue.year
    short = cast.organ.name.removesuffix("人民政府")
    assert f"{cast.organ.name}关于印发{short}{year}年度重大行政决策事项目录的通知" in first
    assert catalogue.notice_number in first
    d = catalogue.notice_date
    assert f"{d.year}年{d.month}月{d.day}日" in "".join(pages[:2])  # the signature date
    whole = "".join(pages)
    for heading in ("序号", "决策事项名称", "主要内容", "承办单位", "法律政策依据", "履行程序", "是否听证"):
        assert heading in whole
    assert all(name in whole for name in NAMES) and cast.lead_unit.name in whole
    assert "目录调整情况" not in whole  # version 1 has no adjustments to append
    for number, page in enumerate(pages, start=1):
        assert f"第{number}页共{len(pages)}页" in page
    listing = subprocess.run(["pdffonts", notice.file.path], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in listing.splitlines() if "CJK" in line]
    assert cjk and all(" yes yes yes " in line for line in cjk)


def test_the_table_header_repeats_on_every_page_the_table_runs_over(cast):
    names = [f"第{n}项城区道路改造提升工程" for n in range(1, 10)]
    catalogue = published(cast, names=names, main_content=LONG)
    pages = text(publication.catalogue_notice_pdf(catalogue))
    table = [page for page in pages if any(name in page for name in names)]
    assert len(table) >= 2
    assert all("决策事项名称" in page and "是否听证" in page for page in table)


def test_an_adjustment_makes_the_next_versions_notice_with_the_adjustment_appended(cast):
    catalogue = published(cast)
    reason = "根据市委市政府工作部署，新增老旧小区改造事项"
    adjustment = walkthrough.add_to_catalogue(cast, catalogue, name="老旧小区改造三年行动计划")
    CatalogueAdjustment.objects.filter(pk=adjustment.pk).update(reason=reason)  # a reason to look for in the PDF
    entry = catalogue.entries_at(2).get(name=NAMES[0])
    walkthrough.adjust(cast, catalogue, "MODIFY", entry=entry, data={"name": "城区停车收费管理办法"})
    catalogue.refresh_from_db()
    assert list(CatalogueNotice.objects.filter(catalogue=catalogue).values_list("version", "status")) == [
        (1, "PENDING"),
        (2, "PENDING"),
        (3, "PENDING"),
    ]
    assert all(notice_tasks(n).count() == 1 for n in CatalogueNotice.objects.filter(catalogue=catalogue))
    done = publication.render_pending(catalogue)
    assert [(n.version, n.status) for n in done] == [(1, "DONE"), (2, "DONE"), (3, "DONE")]
    assert publication.latest_notice(catalogue).version == 3
    assert publication.latest_notice(catalogue, 1) == done[0]
    pages = text(done[2])
    appended = [i for i, page in enumerate(pages) if "附件2目录调整情况" in page]
    assert appended
    tail = "".join(pages[appended[0] :])
    assert reason in tail and adjustment.notice_number in tail
    assert "老旧小区改造三年行动计划" in tail and f"{NAMES[0]}城区停车收费管理办法" in tail  # old → new
    assert "城区停车收费管理办法" in "".join(pages[: appended[0]])  # the table is the version-3 list
    assert reason not in "".join(text(done[0]))


def test_a_done_notice_can_be_neither_changed_nor_deleted(cast):
    catalogue = published(cast)
    (notice,) = publication.render_pending(catalogue)
    notice.pages = 99
    with pytest.raises(PermissionError):
        notice.save()
    with pytest.raises(PermissionError):
        notice.delete()
    notice.refresh_from_db()
    assert notice.status == CatalogueNotice.Status.DONE and notice.pages != 99


def test_the_issued_notice_is_in_the_audit_chain(cast):
    catalogue = published(cast)
    (notice,) = publication.render_pending(catalogue)
    event = AuditEvent.objects.get(action="catalogue:notice_issued", object_id=str(notice.pk))
    assert event.object_type == "reports.CatalogueNotice" and event.role == "SYSTEM"
    assert event.payload["catalogue"] == catalogue.pk and event.payload["version"] == 1
    assert event.payload["sha256"] == notice.sha256
    assert audit.verify().ok


def test_a_failed_render_is_recorded_retried_then_failed_and_leaves_nothing(cast, monkeypatch, settings):
    catalogue = published(cast)
    notice = CatalogueNotice.objects.get(catalogue=catalogue)

    def broken(_notice):
        raise RuntimeError("字体损坏")

    monkeypatch.setattr(publication, "build", broken)
    settings.JUECE_RENDER_ATTEMPTS = 2
    publication.render(notice.pk)
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == ("PENDING", 1) and "字体损坏" in notice.error
    assert notice_tasks(notice).count() == 2  # the publication's request and the retry
    publication.render(notice.pk)
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == ("FAILED", 2) and "字体损坏" in notice.error
    assert not notice.file and not notice.sha256
    assert not AuditEvent.objects.filter(action="catalogue:notice_issued").exists()
    assert publication.latest_notice(catalogue) is None
    monkeypatch.undo()
    assert publication.ensure_notice(catalogue).status == CatalogueNotice.Status.DONE


def test_ensure_notice_renders_a_version_that_has_none_once(cast):
    catalogue = published(cast)
    # A catalogue published before notices existed: no row at all.
    CatalogueNotice.objects.filter(catalogue=catalogue).delete()
    assert publication.latest_notice(catalogue) is None
    notice = publication.ensure_notice(catalogue, 1)
    assert notice.status == CatalogueNotice.Status.DONE and notice.version == 1
    again = publication.ensure_notice(catalogue)
    assert (again.pk, again.sha256) == (notice.pk, notice.sha256)
    assert AuditEvent.objects.filter(action="catalogue:notice_issued").count() == 1
    with pytest.raises(ValueError):
        publication.ensure_notice(catalogue, 2)


def test_the_render_notices_command_renders_the_pending_notices_of_a_catalogue(cast_factory):
    mine, other = published(cast_factory()), published(cast_factory())
    out, err = io.StringIO(), io.StringIO()
    call_command("render_notices", "--catalogue", str(mine.pk), stdout=out, stderr=err)
    assert "已生成 1 份" in out.getvalue()
    assert CatalogueNotice.objects.get(catalogue=mine).status == CatalogueNotice.Status.DONE
    assert CatalogueNotice.objects.get(catalogue=other).status == CatalogueNotice.Status.PENDING
    status = io.StringIO()
    call_command("render_notices", "--status", stdout=status)
    assert CatalogueNotice.objects.get(catalogue=mine).sha256 in status.getvalue()
    CatalogueNotice.objects.filter(catalogue=other).delete()  # published before notices existed
    out = io.StringIO()
    call_command("render_notices", "--all-versions", stdout=out, stderr=io.StringIO())
    assert "已生成 1 份" in out.getvalue()
    assert CatalogueNotice.objects.get(catalogue=other).status == CatalogueNotice.Status.DONE


def test_a_render_killed_midway_is_found_and_requeued(cast):
    from datetime import timedelta

    from django.utils import timezone

    catalogue = published(cast)
    notice = CatalogueNotice.objects.get(catalogue=catalogue)
    # What a worker killed during the render leaves: RENDERING, no file, no hash, no event.
    CatalogueNotice.objects.filter(pk=notice.pk).update(
        status=CatalogueNotice.Status.RENDERING, attempts=1, started_at=timezone.now() - timedelta(hours=1)
    )
    assert publication.recover_stalled() == [notice]
    notice.refresh_from_db()
    assert notice.status == CatalogueNotice.Status.PENDING and "中断" in notice.error
    assert notice_tasks(notice).count() == 2
    (done,) = publication.render_pending(catalogue)
    assert done.status == CatalogueNotice.Status.DONE


def test_notice_wording_helpers():
    assert publication.chinese_date(date(2026, 3, 4)) == "2026年3月4日"
    assert publication.chinese_date(date(2026, 3, 4), numerals=True) == "二〇二六年三月四日"
    assert publication.chinese_date(date(2026, 12, 20), numerals=True) == "二〇二六年十二月二十日"
    assert publication.chinese_date(date(2030, 10, 31), numerals=True) == "二〇三〇年十月三十一日"
    assert publication.chinese_date(None) == ""


def test_the_title_follows_the_published_form(cast_factory):
    cast = cast_factory(code="hz", name="湖州市人民政府")
    catalogue = published(cast, names=NAMES[:1])
    expected = f"湖州市人民政府关于印发湖州市{catalogue.year}年度重大行政决策事项目录的通知"
    assert publication.notice_title(catalogue) == expected
