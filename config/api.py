"""The API's URLs (/api/v1/…), its OpenAPI 3 schema (/api/schema/) and browsable docs (/api/docs/).

Each part keeps its own API views (decisions/api, catalog/api.py, reports/api.py); this file only
mounts them, as config/urls.py mounts the pages.
"""

from csp.constants import SELF
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from catalog import api as catalogue_api
from decisions.api import public as decision_public_api
from decisions.api import views as decision_api
from decisions.models import Comment, HearingParticipant
from reports import api as report_api

decision_patterns = [
    path("decisions/", decision_api.DecisionList.as_view(), name="decisions"),
    path("decisions/<str:reference>/", decision_api.DecisionDetail.as_view(), name="decision"),
    path("decisions/<str:reference>/stage-records/", decision_api.StageRecordList.as_view(), name="stage-records"),
    path("decisions/<str:reference>/documents/", decision_api.DocumentList.as_view(), name="documents"),
    path("decisions/<str:reference>/signoffs/", decision_api.SignOffList.as_view(), name="signoffs"),
    path("decisions/<str:reference>/audit-events/", decision_api.AuditEventList.as_view(), name="audit-events"),
    path("decisions/<str:reference>/comments/", decision_api.CommentList.as_view(), name="comments"),
    path(
        "decisions/<str:reference>/comments/<int:pk>/reveal/",
        decision_api.RevealContact.as_view(model=Comment),
        name="comment-reveal",
    ),
    path(
        "decisions/<str:reference>/comments/<int:pk>/erase/",
        decision_api.EraseContact.as_view(model=Comment),
        name="comment-erase",
    ),
    path(
        "decisions/<str:reference>/hearing-participants/<int:pk>/reveal/",
        decision_api.RevealContact.as_view(model=HearingParticipant),
        name="hearing-participant-reveal",
    ),
    path(
        "decisions/<str:reference>/hearing-participants/<int:pk>/erase/",
        decision_api.EraseContact.as_view(model=HearingParticipant),
        name="hearing-participant-erase",
    ),
    path("decisions/<str:reference>/dossiers/", report_api.DossierList.as_view(), name="dossiers"),
    path("decisions/<str:reference>/actions/", decision_api.ActionList.as_view(), name="actions"),
    *(
        path(f"decisions/<str:reference>/actions/{name}/", view.as_view(), name=f"action-{name}")
        for name, view in decision_api.action_views()
    ),
    path("documents/<int:pk>/file/", decision_api.DocumentFile.as_view(), name="document-file"),
    path("dossiers/<int:pk>/file/", report_api.DossierFile.as_view(), name="dossier-file"),
    path("exports/", report_api.ExportList.as_view(), name="exports"),
    path("exports/<int:pk>/", report_api.ExportDetail.as_view(), name="export"),
    path("exports/<int:pk>/file/", report_api.ExportFile.as_view(), name="export-file"),
]

catalogue_patterns = [
    path("catalogues/", catalogue_api.CatalogueList.as_view(), name="catalogues"),
    path("catalogues/<int:pk>/", catalogue_api.CatalogueDetail.as_view(), name="catalogue"),
    path("catalogues/<int:pk>/entries/", catalogue_api.EntryList.as_view(), name="entries"),
    path("catalogues/<int:pk>/adjustments/", catalogue_api.AdjustmentList.as_view(), name="adjustments"),
    path("catalogues/<int:pk>/steps/<slug:name>/", catalogue_api.CatalogueStep.as_view(), name="catalogue-step"),
    path("adjustments/<int:pk>/steps/<slug:name>/", catalogue_api.AdjustmentStep.as_view(), name="adjustment-step"),
]

public_patterns = [
    path("public/decisions/", decision_public_api.PublishedDecisionList.as_view(), name="public-decisions"),
    path(
        "public/decisions/<str:reference>/", decision_public_api.PublicDecisionDetail.as_view(), name="public-decision"
    ),
    path("public/consultations/", decision_public_api.OpenConsultationList.as_view(), name="public-consultations"),
    path(
        "public/consultations/<int:pk>/comments/",
        decision_public_api.OnlineComment.as_view(),
        name="public-comment",
    ),
    path("public/catalogues/", catalogue_api.PublicCatalogueList.as_view(), name="public-catalogues"),
    path("public/catalogues/<int:pk>/", catalogue_api.PublicCatalogueDetail.as_view(), name="public-catalogue"),
    path(
        "public/catalogues/<int:pk>/versions/<int:version>/",
        catalogue_api.PublicCatalogueDetail.as_view(),
        name="public-catalogue-version",
    ),
]

urlpatterns = [
    path("v1/", include(decision_patterns + catalogue_patterns + public_patterns)),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    # Swagger UI with its start-up script at its own URL (?script), not inline, under the site's CSP unchanged
    path(
        "docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[AllowAny]), name="docs"
    ),
    # ReDoc without Google Fonts (templates/api/redoc.html); it builds its search index in a Web Worker made from a
    # blob: URL and shows Redocly's logo from its CDN (absent offline), which only this page allows
    path(
        "redoc/",
        csp_update({"worker-src": [SELF, "blob:"], "img-src": ["https://cdn.redoc.ly"]})(
            SpectacularRedocView.as_view(
                url_name="api:schema", permission_classes=[AllowAny], template_name="api/redoc.html"
            )
        ),
        name="redoc",
    ),
]


def not_found(request, exception=None):
    """404 for a URL no route matches: JSON under /api/ (as every API answer), the site's page elsewhere."""
    from django.http import JsonResponse
    from django.views import defaults

    from decisions.api.errors import simple

    if request.path.startswith("/api/"):
        return JsonResponse(simple("NOT_FOUND", "未找到", "Not found"), status=404)
    return defaults.page_not_found(request, exception)
