"""The page action that makes the 意见采纳情况说明 from the comments ledger and stores it on the PP record.

`decisions` never imports `reports` (docs/architecture.md), so the action lives here: it asks
decisions.services.comments for the checked summary, renders it (reports.adoption) and stores the PDF
through decisions.services.documents.upload as the PP record's ADOPTION_STATEMENT, where T7 finds it.
All of it runs in one transaction that keeps the decision locked, so the stored statement is the
ledger as it stands; sent twice, the form acts once (its one-time token, decisions.views).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from decisions.actions import AlreadySubmitted
from decisions.models import Decision, DocumentType, Role, Stage
from decisions.permissions import NotPermitted, require_role
from decisions.rules import ProcedureRefused, active_language, in_language, source_language
from decisions.services import comments, documents
from decisions.services.common import Upload
from decisions.views import submit_once
from reports import adoption
from reports.fonts import MissingCJKFont

ACTION = "adoption-statement"
TITLE_MAX = 300  # Document.title


@login_required
@require_POST
def generate_adoption_statement(request, reference):
    """Render the ledger's adoption statement and store it on the PP record (the lead unit only, PP in progress)."""
    decision = get_object_or_404(Decision.objects.select_related("organ", "lead_unit"), reference=reference)
    try:
        require_role(request.user, decision, [Role.UNDERTAKING_LEAD])
    except NotPermitted as refused:
        raise PermissionDenied(in_language(str(refused), refused.message("en"))) from refused

    def make():
        summary = comments.prepare_adoption_statement(request.user, decision)
        upload = Upload(
            doc_type=DocumentType.ADOPTION_STATEMENT,
            name=adoption.filename(summary),
            content=adoption.adoption_statement_pdf(summary),
            title=summary["statement_title"][:TITLE_MAX],
        )
        return documents.upload(request.user, decision, Stage.PP, upload)

    try:
        with source_language():  # the statement is an official document: Chinese whatever the page's language
            document = submit_once(request, decision, ACTION, make)
    except AlreadySubmitted:
        messages.info(request, gettext("采纳情况说明已经生成过，未重复生成。"))
    except ProcedureRefused as refused:
        messages.error(
            request, gettext("未能生成采纳情况说明：\n%(reasons)s") % {"reasons": refused.message(active_language())}
        )
    except MissingCJKFont as missing:
        messages.error(request, str(missing))
    else:
        messages.success(request, gettext("已生成并存入公众参与材料：%(title)s") % {"title": document.title})
    return redirect("decisions:comments", reference=decision.reference)
