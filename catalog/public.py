"""The public's pages (no login): published catalogues, their versions and what changed, each listed
decision's public progress, and a citizen's written proposal (第十条). Nothing unpublished is read here:
every query starts from a published catalogue version."""

from django.core.cache import cache
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext

from catalog import dashboard, versions
from catalog.forms import PublicProposalForm
from catalog.models import AnnualCatalogue, CatalogueState
from decisions import public as decisions_public
from decisions.accounts.policy import request_address
from decisions.models import Decision, Organisation
from decisions.rules import ProcedureRefused, source_language
from decisions.services import initiation

PUBLISHED_STATES = (CatalogueState.PUBLISHED, CatalogueState.YEAR_END_REPORTED, CatalogueState.CLOSED)
# A citizen may send this many proposals per address per hour (a brake on floods, not on people).
PROPOSALS_PER_HOUR = 5


def published():
    return AnnualCatalogue.objects.filter(state__in=PUBLISHED_STATES, version__gte=1)


def catalogue_index(request):
    catalogues = (
        published()
        .select_related("organ")
        .annotate(adjustment_count=Count("adjustments", distinct=True))
        .order_by("-year", "organ__level", "organ__name")
    )
    return render(request, "catalog/public/index.html", {"catalogues": catalogues})


def catalogue_page(request, pk, version=None):
    catalogue = get_object_or_404(published().select_related("organ"), pk=pk)
    shown = catalogue.version if version is None else version
    if not 1 <= shown <= catalogue.version:
        raise Http404("no such version")
    entries = list(
        catalogue.entries_at(shown)
        .select_related("lead_unit", "decision")
        .prefetch_related("co_units")
        .order_by("seq_no")
    )
    readable = decisions_public.readable_ids([e.decision_id for e in entries if e.decision_id])
    rows = [
        {
            "entry": e,
            "phase": dashboard.PHASE_LABELS[dashboard.phase_of(e.decision.state if e.decision_id else None)],
            # The decision's own public page, once it is published or open for comment.
            "public_reference": e.decision.reference if e.decision_id in readable else "",
        }
        for e in entries
    ]
    context = {
        "catalogue": catalogue,
        "version": shown,
        "rows": rows,
        "versions": versions.versions(catalogue),
        "changes": versions.changes(catalogue, shown) if shown > 1 else None,
    }
    return render(request, "catalog/public/catalogue.html", context)


def _address(request):
    return request_address(request) or "unknown"


def proposal_form(request, code):
    """A citizen's written proposal to a government (第十条第一款第(四)项); the receipt gives its number."""
    organ = get_object_or_404(Organisation, code=code, kind=Organisation.Kind.GOVERNMENT)
    form = PublicProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data.get("website"):
            return redirect("public:catalogues")  # a bot filled the hidden field
        key = f"juece:public-proposal:{_address(request)}"
        sent = cache.get(key, 0)
        if sent >= PROPOSALS_PER_HOUR:
            form.add_error(None, gettext("提交过于频繁，请一小时后再试。"))
        else:
            data = form.cleaned_data
            try:
                with source_language():
                    decision = initiation.register_proposal(
                        None,
                        organ,
                        title=data["title"],
                        source_type=Decision.SourceType.CITIZEN,
                        proposer_name=data["proposer_name"],
                        category=data["category"],
                        **form.proposal_values(),
                    )
            except ProcedureRefused as refused:
                for failure in refused.failures:
                    form.add_error(
                        None,
                        gettext("%(message)s（%(article)s）")
                        % {"message": failure.text, "article": failure.rule.citation},
                    )
            else:
                cache.set(key, sent + 1, 3600)
                return render(request, "catalog/public/receipt.html", {"organ": organ, "decision": decision})
    return render(request, "catalog/public/proposal.html", {"organ": organ, "form": form})


urlpatterns = [
    path("catalogues/", catalogue_index, name="catalogues"),
    path("catalogues/<int:pk>/", catalogue_page, name="catalogue"),
    path("catalogues/<int:pk>/v<int:version>/", catalogue_page, name="catalogue_version"),
    path("proposals/<slug:code>/", proposal_form, name="proposal"),
]
