from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("decisions/<str:reference>/dossiers/", views.decision_dossiers, name="decision_dossiers"),
    path("decisions/<str:reference>/export/", views.export_decision, name="export_decision"),
    path("dossiers/<int:pk>.pdf", views.dossier_file, name="dossier_file"),
    path("catalogues/<int:pk>/export/", views.export_catalogue, name="export_catalogue"),
    path("exports/", views.export_index, name="exports"),
    path("exports/<int:pk>/", views.export_detail, name="export"),
    path("exports/<int:pk>/progress/", views.export_progress, name="export_progress"),
    path("exports/<int:pk>/bundle.zip", views.export_file, name="export_file"),
]
