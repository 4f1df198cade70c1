from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from reports import adoption_views, views

urlpatterns = [
    path("", views.export_index, name="index"),
    path("decisions/<str:reference>/dossiers/", views.decision_dossiers, name="decision_dossiers"),
    path("decisions/<str:reference>/export/", views.export_decision, name="export_decision"),
    path(
        "decisions/<str:reference>/adoption-statement/",
        adoption_views.generate_adoption_statement,
        name="adoption_statement",
    ),
    path("dossiers/<int:pk>.pdf", views.dossier_file, name="dossier_file"),
    path("catalogues/<int:pk>/export/", views.export_catalogue, name="export_catalogue"),
    path("catalogues/<int:pk>/notice-v<int:version>.pdf", views.catalogue_notice, name="catalogue_notice"),
    path("catalogues/<int:pk>/year-end-report.pdf", views.year_end_report, name="year_end_report"),
    path("exports/", views.export_index, name="exports"),
    path("exports/<int:pk>/", views.export_detail, name="export"),
    path("exports/<int:pk>/progress/", views.export_progress, name="export_progress"),
    path("exports/<int:pk>/bundle.zip", views.export_file, name="export_file"),
]


class ReportsApp(Application):
    """案卷与审计导出: stage and archive dossiers, auditor bundles, catalogue documents."""

    title = _("案卷与审计导出")
    icon = "inventory_2"
    app_name = "reports"
    menu_template_name = "reports/web/menu.html"
    urlpatterns = urlpatterns
