from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("案卷与导出")

    def ready(self):
        from decisions.signals import stage_signed_off
        from reports import dossiers, fonts  # noqa: F401  (fonts registers the CJK font check)

        stage_signed_off.connect(dossiers.on_stage_signed_off, dispatch_uid="reports.request_stage_dossier")
