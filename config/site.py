"""juece's viewflow frontend: one Site whose applications are the parts people work in."""

from django.utils.translation import gettext_lazy as _
from viewflow.urls import Site

from catalog.views import CatalogueApp
from decisions.views import DecisionApp
from reports.urls import ReportsApp
from workflows.views import WorkflowsApp

site = Site(
    title=_("juece 重大行政决策"),
    primary_color="#9f1d20",
    secondary_color="#1f4e79",
    menu_template_name="juece/site_menu.html",  # viewflow's own says "Applications" untranslated
    viewsets=[WorkflowsApp(), DecisionApp(), CatalogueApp(), ReportsApp()],
)
