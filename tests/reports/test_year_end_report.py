"""The year-end completion report (年度重大行政决策事项目录完成情况报告, B9 PUBLISHED → YEAR_END_REPORTED)."""

import io
import re
import subprocess

import pypdf
import pytest

from catalog import services
from catalog.models import CatalogueAdjustment
from decisions.services.common import Upload
from reports import yearend
from tests.catalog.conftest import Kit


def text_of(content):
    reader = pypdf.PdfReader(io.BytesIO(content))
    # A long title wraps: compare without the line breaks and spaces the layout puts in.
    return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in reader.pages))


@pytest.fixture
def reported(cast):
    """A published catalogue: one entry decided, one in progress marked CARRY_OVER, one removed by adjustment."""
    kit = Kit(cast)
    decided, running, removed = (
        kit.proposal(t) for t in ("关于调整公交票价的决策", "老旧小区改造实施方案", "撤出的事项")
    )
    catalogue = kit.build("PUBLISHED", decisions=[decided, running, removed])
    kit.advance(decided, "DECIDED")
    entry = catalogue.entries_at().get(decision=removed)
    kit.adjustment_at(catalogue, "PUBLISHED", CatalogueAdjustment.Kind.REMOVE, entry=entry, reason="情况发生变化")
    catalogue.refresh_from_db()
    services.set_year_end_disposition(kit.office, catalogue, catalogue.entries_at().get(decision=running), "CARRY_OVER")
    return kit, catalogue


def test_the_report_reads_back_with_its_title_entries_and_statuses(reported, tmp_path):
    kit, catalogue = reported
    content = yearend.year_end_report_pdf(catalogue, kit.today)
    assert content.startswith(b"%PDF-")
    text = text_of(content)
    assert f"{kit.cast.organ.name}{kit.year}年度重大行政决策事项目录完成情况报告" in text
    for words in ("关于调整公交票价的决策", "老旧小区改造实施方案", "已决策", "办理中", "结转下一年度", "撤出的事项"):
        assert words in text, words
    assert "情况发生变化" in text  # the adjustment's reason
    assert "目录覆盖率" in text and "100%" in text

    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in listing.splitlines() if "CJK" in line]
    assert cjk and all(" yes yes yes " in line for line in cjk)


def test_the_report_context_is_the_dashboard_of_the_day(reported):
    kit, catalogue = reported
    context = yearend.year_end_report_context(catalogue, kit.today)
    progress = context["progress"]
    assert [(e.name, e.year_end_status, e.year_end_disposition) for e in progress.entries] == [
        ("关于调整公交票价的决策", "DECIDED", ""),
        ("老旧小区改造实施方案", "IN_PROGRESS", "CARRY_OVER"),
    ]
    assert progress.removed == 1 and context["undisposed"] == 0
    assert str(context["phase_chart"]).startswith("<svg") and "共 2 项" in str(context["phase_chart"])
    assert yearend.year_end_report_filename(catalogue) == f"{kit.cast.organ.name}{kit.year}年度目录完成情况报告.pdf"


def test_the_signed_report_is_what_the_office_uploads_at_year_end(reported):
    kit, catalogue = reported
    content = yearend.year_end_report_pdf(catalogue, kit.today)
    signed = Upload(doc_type="OTHER", name="report.pdf", content=content, title="年度完成情况报告", signed=True)
    services.report_year_end(kit.office, catalogue, report=signed, published_on=kit.today)
    catalogue.refresh_from_db()
    assert catalogue.state == "YEAR_END_REPORTED"
