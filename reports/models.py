"""Rendered dossiers (案卷): one PDF per stage record, and the decision's archive dossier (B8, 第33条).

A dossier row is requested in the transaction that signs off its stage and is rendered later by
the `pdf` worker. Once DONE it never changes: regenerating makes a new version that supersedes it.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from decisions.models import Decision, SignOff, StageRecord


def dossier_upload_to(instance, filename):
    # Content-addressed, like documents: a stored dossier can never be overwritten.
    return f"dossiers/{instance.decision_id}/{instance.sha256[:2]}/{instance.sha256}.pdf"


class Dossier(models.Model):
    """One version of a rendered PDF dossier, with its SHA-256 and what it renders."""

    class Kind(models.TextChoices):
        STAGE = "STAGE", _("环节案卷")
        ARCHIVE = "ARCHIVE", _("归档案卷")

    class Status(models.TextChoices):
        PENDING = "PENDING", _("排队中")
        RENDERING = "RENDERING", _("生成中")
        DONE = "DONE", _("已生成")
        FAILED = "FAILED", _("生成失败")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="dossiers")
    stage_record = models.ForeignKey(
        StageRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="dossiers"
    )
    # The sign-off whose manifest this dossier renders (its SHA-256 is the embedded JSON's).
    signoff = models.ForeignKey(SignOff, null=True, blank=True, on_delete=models.PROTECT, related_name="dossiers")
    version = models.PositiveIntegerField(_("版本"), default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(_("重新生成理由"), max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(_("错误"), blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    file = models.FileField(upload_to=dossier_upload_to, max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("案卷")
        verbose_name_plural = _("案卷")
        ordering = ["decision", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage_record", "version"],
                condition=models.Q(stage_record__isnull=False),
                name="unique_stage_dossier_version",
            ),
            models.UniqueConstraint(
                fields=["kind", "decision", "version"],
                condition=models.Q(stage_record__isnull=True),
                name="unique_decision_dossier_version",
            ),
        ]

    def __str__(self):
        part = self.stage_record.get_stage_display() if self.stage_record_id else self.get_kind_display()
        return f"{self.decision.reference} {part} v{self.version} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        # A rendered dossier is a record: it is never changed, only superseded by a new version.
        if self.pk and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == self.Status.DONE:
                raise PermissionError("a rendered dossier cannot be changed; regenerate a new version")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("dossiers are never deleted")

    @property
    def filename(self):
        part = self.stage_record.stage if self.stage_record_id else "ARCHIVE"
        suffix = f"-{self.stage_record.round}" if self.stage_record_id and self.stage_record.round else ""
        return f"{self.decision.reference}-{self.stage_record_id or 0:06d}-{part}{suffix}-v{self.version}.pdf"


def export_upload_to(instance, filename):
    return f"exports/{instance.requested_by_id}/{instance.pk}-{filename}"


class BundleExport(models.Model):
    """An auditor export (审计导出包) requested from the UI, made by the worker, with its progress."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("排队中")
        RUNNING = "RUNNING", _("导出中")
        DONE = "DONE", _("已完成")
        FAILED = "FAILED", _("失败")

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    catalogue = models.ForeignKey(
        "catalog.AnnualCatalogue", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    label = models.CharField(max_length=300, blank=True)
    file = models.FileField(upload_to=export_upload_to, max_length=300, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("审计导出")
        verbose_name_plural = _("审计导出")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision__isnull=False) ^ models.Q(catalogue__isnull=False),
                name="export_of_a_decision_or_a_catalogue",
            )
        ]

    def __str__(self):
        return f"{self.subject} ({self.get_status_display()})"

    @property
    def subject(self):
        return self.decision.reference if self.decision_id else str(self.catalogue)

    @property
    def percent(self):
        return int(100 * self.done / self.total) if self.total else (100 if self.status == self.Status.DONE else 0)


def notice_upload_to(instance, filename):
    # Content-addressed, like dossiers: a stored notice can never be overwritten.
    return f"notices/{instance.catalogue_id}/{instance.sha256[:2]}/{instance.sha256}.pdf"


class CatalogueNotice(models.Model):
    """The publication notice (公布通知) of one version of an annual catalogue, rendered as PDF (B8 item 1, B9).

    Requested in the transaction that publishes the version and rendered by the `pdf` worker.
    Once DONE it never changes and is never deleted: its SHA-256 is in the audit chain.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", _("排队中")
        RENDERING = "RENDERING", _("生成中")
        DONE = "DONE", _("已生成")
        FAILED = "FAILED", _("生成失败")

    catalogue = models.ForeignKey(
        "catalog.AnnualCatalogue", verbose_name=_("年度决策事项目录"), on_delete=models.PROTECT, related_name="notices"
    )
    version = models.PositiveIntegerField(_("目录版本"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(_("错误"), blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    file = models.FileField(upload_to=notice_upload_to, max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("目录公布通知")
        verbose_name_plural = _("目录公布通知")
        ordering = ["catalogue", "version"]
        constraints = [
            models.UniqueConstraint(fields=["catalogue", "version"], name="unique_catalogue_notice_version"),
        ]

    def __str__(self):
        return f"{self.catalogue} 第{self.version}版公布通知 ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        # A rendered notice is a published record: it is never changed.
        if self.pk and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == self.Status.DONE:
                raise PermissionError("a rendered catalogue notice cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("catalogue notices are never deleted")

    @property
    def filename(self):
        return f"catalogue-{self.catalogue.year}-{self.catalogue_id}-v{self.version}.pdf"
