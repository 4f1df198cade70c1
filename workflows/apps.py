from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("办理流程与待办")

    def ready(self):
        from decisions.signals import decision_changed
        from workflows import sync

        decision_changed.connect(sync.on_decision_changed, dispatch_uid="workflows.sync")
