"""The 意见采纳情况说明 of public participation (第十八条、第三十二条; B8 item 4), rendered from the comments ledger.

`adoption_statement_pdf(summary, on=None) -> bytes` renders `decisions.services.comments.adoption_summary()`
(or what `prepare_adoption_statement()` returned) as a PDF/A-3b document: the title
关于《…》公开征求意见采纳情况的说明, the notice's period and channels, the figures by disposition and a
table of every comment with the commenter as consented (匿名/某单位 otherwise), its disposition and
reason. Nothing is stored here: reports.adoption_views stores it on the PP record through the
document service, where T7 finds it.
"""

from django.utils import timezone

from decisions.calendar import localdate
from reports.pdf import render_template
from reports.publication import chinese_date

TEMPLATE = "reports/adoption_statement.html"


def statement_context(summary, on=None):
    """Return the template context of the statement: the summary with its dates written in Chinese."""
    on = on or localdate(timezone.now())
    periods = [
        {**p, "from": chinese_date(p["publish_date"]), "to": chinese_date(p["deadline_date"])}
        for p in summary["periods"]
    ]
    answered = summary["total"] - summary["counts"]["PENDING"]
    return {
        **summary,
        "periods": periods,
        "answered": answered,
        "figures": [f for f in summary["figures"] if f["code"] != "PENDING" or f["count"]],
        "date": chinese_date(on),
    }


def adoption_statement_pdf(summary, on=None):
    """Render the adoption statement as PDF/A bytes dated `on` (default: today in Asia/Shanghai)."""
    return render_template(TEMPLATE, statement_context(summary, on))


def filename(summary):
    """Return the stored file's name: adoption-statement-<reference>.pdf."""
    return f"adoption-statement-{summary['reference']}.pdf"
