"""The annual catalogue of major decisions (年度重大行政决策事项目录, 第3条第3款; procedure.md B9).

A catalogue has versions: the original publication is version 1 and each published
adjustment makes the next. An entry row belongs to the versions it was valid in;
its `key` stays the same across versions, so history is kept, never rewritten.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin

from catalog.lifecycle import AdjustmentLifecycle, CatalogueLifecycle, EntryLifecycle
from decisions.models import Decision, Document, Organisation, RuleProfile


class CatalogueState(models.TextChoices):
    COLLECTING = "COLLECTING", _("征集中")
    COMPILED = "COMPILED", _("已汇总")
    VETTED = "VETTED", _("已审核")
    GOV_APPROVED = "GOV_APPROVED", _("政府已审定")
    PARTY_CONSENTED = "PARTY_CONSENTED", _("党委已同意")
    PUBLISHED = "PUBLISHED", _("已公布")
    YEAR_END_REPORTED = "YEAR_END_REPORTED", _("已年终报告")
    CLOSED = "CLOSED", _("已关闭")


class AnnualCatalogue(CatalogueLifecycle, FSMModelMixin, models.Model):
    """One organ's catalogue for one year."""

    organ = models.ForeignKey(
        Organisation, verbose_name=_("决策机关"), on_delete=models.PROTECT, related_name="catalogues"
    )
    year = models.PositiveIntegerField(_("年度"))
    title = models.CharField(_("标题"), max_length=200)
    state = FSMField(_("状态"), default=CatalogueState.COLLECTING, choices=CatalogueState.choices, protected=True)
    version = models.PositiveIntegerField(_("现行版本"), default=0)
    profile = models.ForeignKey(RuleProfile, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    notice_number = models.CharField(_("公布文号"), max_length=100, blank=True)
    notice_date = models.DateField(_("公布日期"), null=True, blank=True)
    notice_url = models.URLField(_("公布网址"), blank=True)
    return_reason = models.TextField(_("退回理由"), blank=True)
    year_end_reported_at = models.DateTimeField(_("年度完成情况报告公布时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("年度决策事项目录")
        verbose_name_plural = _("年度决策事项目录")
        ordering = ["-year", "organ"]

    def __str__(self):
        return self.title

    def entries_at(self, version=None):
        """Return the entry rows valid in `version` (default: the current published version)."""
        version = self.version if version is None else version
        return self.entries.filter(valid_from__lte=version).filter(
            models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=version)
        )

    def draft_entries(self):
        """Return the entries being compiled, before the first publication."""
        return self.entries.filter(valid_to__isnull=True)

    def current_entries(self):
        """Return the entries of the newest version: the compiled rows before publication."""
        return self.entries_at() if self.version else self.draft_entries()

    def documents_of(self, kind):
        """Return the catalogue's own records of `kind` (not those of its adjustments), oldest first."""
        return self.documents.filter(kind=kind, adjustment__isnull=True).order_by("id")

    def is_published(self):
        return self.state in (CatalogueState.PUBLISHED, CatalogueState.YEAR_END_REPORTED, CatalogueState.CLOSED)

    def has_party_consent(self):
        """Return True if the catalogue is published with the party committee's consent on record (第3条第3款, T3)."""
        if not self.is_published():
            return False
        if not self.profile.params.get("catalogue_requires_party_consent", True):
            return True
        return self.documents_of(CatalogueDocument.Kind.PARTY_CONSENT).exists()

    def authorises_withdrawal(self, decision):
        """Return True if this may withdraw `decision` by T29 (a published removal, or a year-end REMOVE_PENDING)."""
        from catalog.rules import withdrawal_source_valid

        return withdrawal_source_valid(self, decision)


class CatalogueDocument(models.Model):
    """A record of the catalogue's own procedure (B8 item 1)."""

    class Kind(models.TextChoices):
        CALL_FOR_PROPOSALS = "CALL_FOR_PROPOSALS", _("征集通知")
        COMPILED_LIST = "COMPILED_LIST", _("汇总清单")
        VETTING_OPINION = "VETTING_OPINION", _("审核意见")
        GOV_APPROVAL = "GOV_APPROVAL", _("政府审定(会议纪要或批复)")
        PARTY_CONSENT = "PARTY_CONSENT", _("党委同意文件")
        PARTY_NON_CONSENT = "PARTY_NON_CONSENT", _("党委不同意或要求修改")
        PUBLICATION_NOTICE = "PUBLICATION_NOTICE", _("公布通知")
        PROPOSAL_FORM = "PROPOSAL_FORM", _("建议项目表")
        ADJUSTMENT_PROPOSAL = "ADJUSTMENT_PROPOSAL", _("调整申请")
        ADJUSTMENT_REVIEW = "ADJUSTMENT_REVIEW", _("调整审核记录")
        YEAR_END_REPORT = "YEAR_END_REPORT", _("年度完成情况报告")

    catalogue = models.ForeignKey(AnnualCatalogue, on_delete=models.PROTECT, related_name="documents")
    adjustment = models.ForeignKey(
        "CatalogueAdjustment", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    entry_key = models.UUIDField(_("目录事项"), null=True, blank=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    issued_by = models.CharField(_("出具机关"), max_length=200, blank=True)
    issued_on = models.DateField(_("日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("目录材料")
        verbose_name_plural = _("目录材料")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.document.title}"


class RequiredProcedure(models.TextChoices):
    """履行程序要求 as published; LR and CD are required whatever the entry says (P12)."""

    PP = "PP", _("公众参与")
    HEARING = "HEARING", _("听证")
    EX = "EX", _("专家论证")
    RA = "RA", _("风险评估")
    LR = "LR", _("合法性审查")
    CD = "CD", _("集体讨论决定")


class CatalogueEntry(EntryLifecycle, models.Model):
    """One row of the catalogue in one or more versions (B9 entry fields)."""

    class YearEndDisposition(models.TextChoices):
        CARRY_OVER = "CARRY_OVER", _("结转下一年度")
        REMOVE_PENDING = "REMOVE_PENDING", _("拟撤出")

    class YearEndStatus(models.TextChoices):
        """Derived from the linked decision when the year-end report is made (B9, P21)."""

        DECIDED = "DECIDED", _("已决策")
        REJECTED = "REJECTED", _("未通过")
        WITHDRAWN = "WITHDRAWN", _("已撤出")
        IN_PROGRESS = "IN_PROGRESS", _("办理中")

    catalogue = models.ForeignKey(AnnualCatalogue, on_delete=models.PROTECT, related_name="entries")
    key = models.UUIDField(default=uuid.uuid4, db_index=True)
    valid_from = models.PositiveIntegerField(_("自版本"), default=1)
    valid_to = models.PositiveIntegerField(_("至版本(不含)"), null=True, blank=True)
    seq_no = models.PositiveIntegerField(_("序号"))
    name = models.CharField(_("决策事项名称"), max_length=300)
    main_content = models.TextField(_("主要内容"), blank=True)
    category = models.CharField(_("事项类别"), max_length=4, choices=Decision.Category.choices, blank=True)
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="catalogue_entries"
    )
    decision_body = models.CharField(_("决策主体"), max_length=200, blank=True)
    lead_unit = models.ForeignKey(
        Organisation, verbose_name=_("承办单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    co_units = models.ManyToManyField(Organisation, blank=True, related_name="+")
    legal_policy_basis = models.TextField(_("法律政策依据"), blank=True)
    required_procedures = models.JSONField(_("履行程序"), default=list, blank=True)
    planned_submission_from = models.DateField(_("计划提交起"), null=True, blank=True)
    planned_submission_to = models.DateField(_("计划提交止"), null=True, blank=True)
    planned_submission_text = models.CharField(_("拟提交审议时间"), max_length=100, blank=True)
    planned_completion = models.CharField(_("计划完成时间"), max_length=100, blank=True)
    proposer_type = models.CharField(_("提出主体类别"), max_length=30, choices=Decision.SourceType.choices, blank=True)
    # 第十条第(二)项 fields of the proposal form, handed to the decision compilation creates (P25).
    proposal_fields = models.JSONField(_("建议内容"), default=dict, blank=True)
    year_end_status = models.CharField(_("年终状态"), max_length=20, choices=YearEndStatus.choices, blank=True)
    year_end_disposition = models.CharField(
        _("年终处理"), max_length=20, choices=YearEndDisposition.choices, blank=True
    )
    remarks = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("目录事项")
        verbose_name_plural = _("目录事项")
        ordering = ["catalogue", "seq_no"]

    def __str__(self):
        return f"{self.seq_no}. {self.name}"

    def requires(self, stage):
        """Return True if the entry names `stage` among its required procedures."""
        return stage in (self.required_procedures or [])

    def history(self):
        """Return every row of this entry (same key), oldest version first: the adjustment history (B9)."""
        return CatalogueEntry.objects.filter(catalogue_id=self.catalogue_id, key=self.key).order_by("valid_from", "id")

    def adjustments(self):
        """Return the adjustments proposed on this entry, in order."""
        return CatalogueAdjustment.objects.filter(catalogue_id=self.catalogue_id, entry_key=self.key).order_by("id")


class AdjustmentState(models.TextChoices):
    PROPOSED = "PROPOSED", _("已提出")
    REVIEWED = "REVIEWED", _("已审核")
    GOV_APPROVED = "GOV_APPROVED", _("政府已同意")
    PARTY_CONSENTED = "PARTY_CONSENTED", _("党委已同意")
    PUBLISHED = "PUBLISHED", _("已公布")
    REJECTED = "REJECTED", _("未通过")


OPEN_ADJUSTMENT_STATES = (
    AdjustmentState.PROPOSED,
    AdjustmentState.REVIEWED,
    AdjustmentState.GOV_APPROVED,
    AdjustmentState.PARTY_CONSENTED,
)


class CatalogueAdjustment(AdjustmentLifecycle, FSMModelMixin, models.Model):
    """A change set to a published catalogue (目录调整, P20): add, remove or modify one entry."""

    class Kind(models.TextChoices):
        ADD = "ADD", _("新增")
        REMOVE = "REMOVE", _("撤出")
        MODIFY = "MODIFY", _("调整")

    catalogue = models.ForeignKey(AnnualCatalogue, on_delete=models.PROTECT, related_name="adjustments")
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    entry_key = models.UUIDField(_("目录事项"), null=True, blank=True, db_index=True)
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="catalogue_adjustments"
    )
    new_entry_data = models.JSONField(_("新的事项内容"), default=dict, blank=True)
    reason = models.TextField(_("调整理由"))
    state = FSMField(_("状态"), default=AdjustmentState.PROPOSED, choices=AdjustmentState.choices, protected=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    rejection_reason = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_version = models.PositiveIntegerField(null=True, blank=True)
    notice_number = models.CharField(max_length=100, blank=True)
    notice_date = models.DateField(null=True, blank=True)
    notice_url = models.URLField(blank=True)

    class Meta:
        verbose_name = _("目录调整")
        verbose_name_plural = _("目录调整")
        ordering = ["catalogue", "id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.reason[:30]}"

    @property
    def is_open(self):
        return self.state in OPEN_ADJUSTMENT_STATES

    def documents_of(self, kind):
        return self.documents.filter(kind=kind).order_by("id")

    def has_party_consent(self):
        """Return True if the adjustment is published with consent where the profile asks for it (P3, T3)."""
        if self.state != AdjustmentState.PUBLISHED:
            return False
        if not self.catalogue.profile.params.get("catalogue_adjustment_requires_party_consent", True):
            return True
        return self.documents_of(CatalogueDocument.Kind.PARTY_CONSENT).exists()

    def authorises_withdrawal(self, decision):
        """Return True if this may withdraw `decision` by T29 (a published removal, or a year-end REMOVE_PENDING)."""
        from catalog.rules import withdrawal_source_valid

        return withdrawal_source_valid(self, decision)


def catalogue_import_upload_to(instance, filename):
    # Named by content: the stored file is the one whose SHA-256 the import and its audit event record.
    return f"catalogue-imports/{instance.catalogue_id}/{instance.sha256}.xlsx"


class CatalogueImport(models.Model):
    """An Excel file of entries for a catalogue being collected: previewed, then committed by the worker.

    The preview checks every row and writes no entry; the commit (catalog/imports.py) adds all rows
    through the catalogue services, or none.
    """

    class Status(models.TextChoices):
        PREVIEWED = "PREVIEWED", _("已预览")
        QUEUED = "QUEUED", _("排队中")
        RUNNING = "RUNNING", _("导入中")
        DONE = "DONE", _("已导入")
        FAILED = "FAILED", _("导入失败")

    catalogue = models.ForeignKey(AnnualCatalogue, on_delete=models.PROTECT, related_name="imports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(_("文件"), upload_to=catalogue_import_upload_to, max_length=300, blank=True)
    original_name = models.CharField(_("原文件名"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    total = models.PositiveIntegerField(_("行数"), default=0)
    done = models.PositiveIntegerField(_("已导入行数"), default=0)
    # Each problem: {"sheet", "row", "column", "header", "message", "where"} (catalog.workbook.Problem).
    errors = models.JSONField(_("错误"), default=list, blank=True)
    warnings = models.JSONField(_("提示"), default=list, blank=True)
    error = models.TextField(_("失败原因"), blank=True)
    entries_created = models.PositiveIntegerField(_("新增事项数"), default=0)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("目录导入")
        verbose_name_plural = _("目录导入")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.original_name} → {self.catalogue} ({self.get_status_display()})"

    @property
    def percent(self):
        return int(100 * self.done / self.total) if self.total else (100 if self.status == self.Status.DONE else 0)
