from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("案卷与导出")

    def ready(self):
        from catalog.signals import catalogue_published
        from decisions.signals import stage_signed_off
        from reports import dossiers, fonts, publication  # noqa: F401  (fonts registers the CJK font check)

        stage_signed_off.connect(dossiers.on_stage_signed_off, dispatch_uid="reports.request_stage_dossier")
        catalogue_published.connect(publication.on_catalogue_published, dispatch_uid="reports.request_catalogue_notice")
