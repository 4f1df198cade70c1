"""The workflow's own records: one viewflow process per decision, and who heads each unit (for escalation)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from decisions.models import Decision, Organisation


class DecisionProcess(Process):
    """The viewflow process that routes one decision's tasks (办理流程). The decision's lifecycle is the legal truth."""

    decision = models.OneToOneField(
        Decision, verbose_name=_("决策事项"), on_delete=models.PROTECT, related_name="process"
    )

    class Meta:
        verbose_name = _("决策办理流程")
        verbose_name_plural = _("决策办理流程")

    def __str__(self):
        return f"{self.decision.reference} {self.decision.title}"


class UnitHead(models.Model):
    """The head of a unit (单位负责人): the second person an overdue task is escalated to."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="heads"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("负责人"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("单位负责人")
        verbose_name_plural = _("单位负责人")
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="unique_unit_head")]

    def __str__(self):
        return f"{self.organisation} · {self.user}"
