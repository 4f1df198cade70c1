"""The year-end completion report (年度重大行政决策事项目录完成情况报告, procedure.md B9, P21), as a PDF.

PUBLISHED → YEAR_END_REPORTED needs the completion report published. The office downloads
this draft, has it signed and sealed, publishes it and uploads the signed copy as `report`
to catalog.services.report_year_end. The report is generated from catalog.dashboard, so it
shows the numbers the dashboard shows on the same day:

* `year_end_report_context(catalogue, today=None) -> dict`: the template's data
  (`progress`: a CatalogueProgress; `phase_chart`, `coverage_chart`: SVG; `title`, `catalogue` …).
* `year_end_report_pdf(catalogue, today=None) -> bytes`: the PDF/A-3b (embedded CJK font).
* `year_end_report_filename(catalogue) -> str`: a download name for it.
"""

from catalog import charts, dashboard
from catalog.models import AnnualCatalogue
from reports.pdf import render_template

TEMPLATE = "reports/year_end_report.html"


def report_title(catalogue):
    return f"{catalogue.organ.name}{catalogue.year}年度重大行政决策事项目录完成情况报告"


def year_end_report_context(catalogue, today=None):
    """Return what the report prints, from the dashboard of `catalogue` on `today` (Asia/Shanghai)."""
    catalogue = AnnualCatalogue.objects.select_related("organ").get(pk=catalogue.pk)
    progress = dashboard.catalogue_progress(catalogue, today)
    in_progress = next(s.count for s in progress.year_end if s.code == "IN_PROGRESS")
    disposed = sum(d.count for d in progress.dispositions)
    return {
        "title": report_title(catalogue),
        "catalogue": catalogue,
        "progress": progress,
        "undisposed": in_progress - disposed,
        "phase_chart": charts.phase_chart(progress.phases),
        "coverage_chart": charts.coverage_chart(progress.coverage),
    }


def year_end_report_pdf(catalogue, today=None):
    """Return the year-end completion report of `catalogue` as PDF bytes (to be signed, then uploaded)."""
    return render_template(TEMPLATE, year_end_report_context(catalogue, today))


def year_end_report_filename(catalogue):
    return f"{catalogue.organ.name}{catalogue.year}年度目录完成情况报告.pdf"


__all__ = ["year_end_report_context", "year_end_report_pdf", "year_end_report_filename", "report_title"]
