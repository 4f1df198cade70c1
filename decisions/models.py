"""The decision record: organisations, roles, rule profiles, decisions, stage records,
documents, sign-offs and the audit chain (《重大行政决策程序暂行条例》, procedure.md B3).

State fields are written only by decisions/lifecycle.py; every other change goes
through decisions/services.py so that it is checked and audited.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, FSMModelMixin

from decisions.fields import EncryptedTextField
from decisions.lifecycle import DecisionLifecycle, StageRecordLifecycle


class Role(models.TextChoices):
    """Roles of B1; a user holds them per organisation."""

    GOV_OFFICE = "GOV_OFFICE", _("政府办公室")
    CHIEF = "CHIEF", _("行政首长")
    MEETING_MEMBER = "MEETING_MEMBER", _("会议组成人员")
    UNDERTAKING_LEAD = "UNDERTAKING_LEAD", _("牵头承办单位")
    UNDERTAKING_CO = "UNDERTAKING_CO", _("协办单位")
    LEGAL_REVIEWER = "LEGAL_REVIEWER", _("合法性审查部门")
    LEGAL_ADVISER = "LEGAL_ADVISER", _("法律顾问/公职律师")
    RISK_ASSESSOR = "RISK_ASSESSOR", _("风险评估单位")
    EXPERT = "EXPERT", _("专家/专业机构")
    HEARING_ORG = "HEARING_ORG", _("听证组织单位")
    PARTY_LIAISON = "PARTY_LIAISON", _("党委请示报告经办")
    EXECUTOR = "EXECUTOR", _("决策执行单位")
    POST_EVALUATOR = "POST_EVALUATOR", _("决策后评估单位")
    ARCHIVIST = "ARCHIVIST", _("档案管理")
    SUPERVISOR = "SUPERVISOR", _("监督/审计(只读)")
    PUBLIC = "PUBLIC", _("公众")


class Organisation(models.Model):
    """A government (决策机关) or one of its departments, or an outside body."""

    class Kind(models.TextChoices):
        GOVERNMENT = "GOVERNMENT", _("人民政府")
        DEPARTMENT = "DEPARTMENT", _("政府部门")
        OTHER = "OTHER", _("其他单位(第三方)")

    class Level(models.TextChoices):
        PROVINCE = "PROVINCE", _("省级")
        CITY = "CITY", _("市级")
        COUNTY = "COUNTY", _("县(区)级")
        TOWNSHIP = "TOWNSHIP", _("乡镇(街道)")

    name = models.CharField(_("名称"), max_length=200, unique=True)
    short_name = models.CharField(_("简称"), max_length=60, blank=True)
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    level = models.CharField(_("层级"), max_length=20, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    legality_review_dept = models.ForeignKey(
        "self",
        verbose_name=_("负责合法性审查的部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    profile_code = models.CharField(_("适用规则"), max_length=40, default="national")
    meeting_members_total = models.PositiveIntegerField(_("会议组成人员总数"), default=0)

    class Meta:
        verbose_name = _("机关/单位")
        verbose_name_plural = _("机关/单位")
        ordering = ["level", "name"]

    def __str__(self):
        return self.name

    @property
    def organ_type(self):
        """Return the organ type of P15: government, department or township."""
        if self.kind == self.Kind.GOVERNMENT and self.level == self.Level.TOWNSHIP:
            return "township"
        return "government" if self.kind == self.Kind.GOVERNMENT else "department"

    def ancestors(self):
        """Return this organisation's parents, nearest first."""
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


class RoleAssignment(models.Model):
    """A user holds a role at an organisation (B1)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="role_assignments")
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        constraints = [models.UniqueConstraint(fields=["user", "organisation", "role"], name="unique_role_assignment")]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"


class RuleProfile(models.Model):
    """One version of a rule profile (B2): parameters a city may change without code."""

    code = models.CharField(_("规则代码"), max_length=40)
    version = models.PositiveIntegerField(_("版本"))
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    params = models.JSONField(_("参数(已合并上级)"))
    sources = models.JSONField(_("依据"), default=dict, blank=True)
    effective_from = models.DateTimeField(_("生效时间"), default=timezone.now)

    class Meta:
        verbose_name = _("规则配置")
        verbose_name_plural = _("规则配置")
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="unique_profile_version")]
        ordering = ["code", "-version"]

    def __str__(self):
        return f"{self.code} v{self.version}"

    def param(self, name):
        return self.params[name]

    def for_organ(self, name, organ):
        """Return a per-organ-type parameter (P15), or None when the profile leaves it unset."""
        return (self.params.get(name) or {}).get(organ.organ_type)


class WorkingCalendarYear(models.Model):
    """A year whose State Council holiday notice (国务院办公厅关于…部分节假日安排的通知) is loaded."""

    year = models.PositiveIntegerField(_("年度"), primary_key=True)
    notice = models.CharField(_("通知文号/标题"), max_length=200)
    source = models.CharField(_("数据来源"), max_length=200, blank=True)
    loaded_at = models.DateTimeField(_("载入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("工作日历年度")
        verbose_name_plural = _("工作日历年度")
        ordering = ["year"]

    def __str__(self):
        return str(self.year)


class CalendarDay(models.Model):
    """A day that differs from the weekday rule: a statutory day off or a make-up working day (调休)."""

    class Kind(models.TextChoices):
        OFF = "OFF", _("法定节假日/休息日")
        WORK = "WORK", _("调休上班日")

    date = models.DateField(_("日期"), primary_key=True)
    year = models.ForeignKey(WorkingCalendarYear, on_delete=models.CASCADE, related_name="days")
    kind = models.CharField(_("类别"), max_length=4, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("节假日/调休日")
        verbose_name_plural = _("节假日/调休日")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.name}"


class DecisionState(models.TextChoices):
    """Decision states of B4."""

    PROPOSED = "PROPOSED", pgettext_lazy("decision state", "建议")
    DECLINED = "DECLINED", pgettext_lazy("decision state", "不予启动")
    LISTED = "LISTED", pgettext_lazy("decision state", "列入目录")
    INITIATED = "INITIATED", pgettext_lazy("decision state", "启动")
    DRAFTING = "DRAFTING", pgettext_lazy("decision state", "草案拟订")
    CONSULTATION = "CONSULTATION", pgettext_lazy("decision state", "公众参与/专家论证/风险评估")
    LEGAL_REVIEW_SUBMITTED = "LEGAL_REVIEW_SUBMITTED", pgettext_lazy("decision state", "送请合法性审查")
    LEGAL_REVIEW_RETURNED = "LEGAL_REVIEW_RETURNED", pgettext_lazy("decision state", "退回/补充")
    LEGAL_REVIEW_IN_PROGRESS = "LEGAL_REVIEW_IN_PROGRESS", pgettext_lazy("decision state", "审查中")
    LEGAL_REVIEW_DONE = "LEGAL_REVIEW_DONE", pgettext_lazy("decision state", "审查意见已出具")
    REVISING = "REVISING", pgettext_lazy("decision state", "根据意见修改")
    READY_FOR_MEETING = "READY_FOR_MEETING", pgettext_lazy("decision state", "提请审议")
    SCHEDULED = "SCHEDULED", pgettext_lazy("decision state", "列入会议")
    DECIDED = "DECIDED", pgettext_lazy("decision state", "作出决定")
    DEFERRED = "DEFERRED", pgettext_lazy("decision state", "暂缓")
    REJECTED = "REJECTED", pgettext_lazy("decision state", "不同意")
    PUBLISHED = "PUBLISHED", pgettext_lazy("decision state", "公布")
    ISSUED_NOT_PUBLIC = "ISSUED_NOT_PUBLIC", pgettext_lazy("decision state", "依法不予公开")
    IMPLEMENTING = "IMPLEMENTING", pgettext_lazy("decision state", "执行")
    SUSPENDED = "SUSPENDED", pgettext_lazy("decision state", "中止执行")
    POST_EVALUATION = "POST_EVALUATION", pgettext_lazy("decision state", "决策后评估")
    ADJUSTING = "ADJUSTING", pgettext_lazy("decision state", "重大调整")
    STOPPED = "STOPPED", pgettext_lazy("decision state", "停止执行")
    WITHDRAWN = "WITHDRAWN", pgettext_lazy("decision state", "撤出目录/撤回")
    NOT_APPLICABLE = "NOT_APPLICABLE", pgettext_lazy("decision state", "不适用")
    ARCHIVED = "ARCHIVED", pgettext_lazy("decision state", "归档完成")


class Stage(models.TextChoices):
    """Stages declared once; each has its stage records (B3, B8)."""

    INITIATION = "INITIATION", _("决策启动")
    DRAFTING = "DRAFTING", _("草案拟订")
    PP = "PP", _("公众参与")
    HEARING = "HEARING", _("听证")
    EX = "EX", _("专家论证")
    RA = "RA", _("风险评估")
    LR = "LR", _("合法性审查")
    CD = "CD", _("集体讨论决定")
    PARTY_REPORT = "PARTY_REPORT", _("向党委请示报告")
    PUB = "PUB", _("决策公布")
    IMPL = "IMPL", _("决策执行")
    PE = "PE", _("决策后评估")
    ADJ = "ADJ", _("决策调整/停止")
    ARC = "ARC", _("归档")


class StageStatus(models.TextChoices):
    PENDING = "PENDING", _("未开始")
    IN_PROGRESS = "IN_PROGRESS", _("进行中")
    DONE = "DONE", _("已完成")
    NOT_TRIGGERED = "NOT_TRIGGERED", _("未触发")
    WAIVED = "WAIVED", _("依法免予")


CLOSED_STAGE_STATUSES = (StageStatus.DONE, StageStatus.NOT_TRIGGERED, StageStatus.WAIVED)


class Decision(DecisionLifecycle, FSMModelMixin, models.Model):
    """A major administrative decision (重大行政决策事项) from proposal to archive."""

    class SourceType(models.TextChoices):
        LEADER = "LEADER", _("决策机关领导人员提出")
        DEPARTMENT = "DEPARTMENT", _("政府工作部门提出")
        LOWER_GOVERNMENT = "LOWER_GOVERNMENT", _("下一级人民政府提出")
        NPC_CPPCC = "NPC_CPPCC", _("人大代表建议/政协委员提案")
        CITIZEN = "CITIZEN", _("公民、法人或其他组织书面建议")
        CATALOGUE_COMPILATION = "CATALOGUE_COMPILATION", _("目录编制")

    class Category(models.TextChoices):
        PUBLIC_POLICY = "3-1", _("第三条第一款(一) 重大公共政策和措施")
        PLAN = "3-2", _("第三条第一款(二) 重要规划")
        RESOURCES = "3-3", _("第三条第一款(三) 重要自然和文化资源")
        PUBLIC_PROJECT = "3-4", _("第三条第一款(四) 重大公共建设项目")
        OTHER = "3-5", _("第三条第一款(五) 其他重大事项")

    class ApplicabilityReason(models.TextChoices):
        MACRO_CONTROL = "MACRO_CONTROL", _("财政政策、货币政策等宏观调控决策")
        LEGISLATION = "LEGISLATION", _("政府立法决策")
        EMERGENCY_RESPONSE = "EMERGENCY_RESPONSE", _("突发事件应急处置决策")

    reference = models.CharField(_("决策编号"), max_length=40, unique=True)
    organ = models.ForeignKey(
        Organisation, verbose_name=_("决策机关"), on_delete=models.PROTECT, related_name="decisions"
    )
    title = models.CharField(_("决策事项名称"), max_length=300)
    state = FSMField(_("状态"), default=DecisionState.PROPOSED, choices=DecisionState.choices, protected=True)
    profile = models.ForeignKey(RuleProfile, verbose_name=_("适用规则版本"), on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("事项类别"), max_length=4, choices=Category.choices, blank=True)

    # 第10条: who proposed it, and the fields a department or lower government must give.
    source_type = models.CharField(_("建议来源"), max_length=30, choices=SourceType.choices)
    proposer_type = models.CharField(_("提出主体类别"), max_length=30, choices=SourceType.choices, blank=True)
    proposer_name = models.CharField(_("提出单位/人"), max_length=200, blank=True)
    problem = models.TextField(_("拟解决的主要问题"), blank=True)
    reasons_and_basis = models.TextField(_("建议理由和依据"), blank=True)
    preliminary_plan = models.TextField(_("解决问题的初步方案"), blank=True)
    necessity = models.TextField(_("必要性"), blank=True)
    feasibility = models.TextField(_("可行性"), blank=True)
    applicability_reason = models.CharField(
        _("不适用理由"), max_length=30, choices=ApplicabilityReason.choices, blank=True
    )
    closing_reason = models.TextField(_("终结理由"), blank=True)

    # 第11条: undertaking units.
    lead_unit = models.ForeignKey(
        Organisation, verbose_name=_("牵头承办单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lead_unit_change_reason = models.TextField(_("承办单位与目录不一致的理由"), blank=True)
    co_units = models.ManyToManyField(Organisation, verbose_name=_("协办单位"), blank=True, related_name="co_decisions")

    # Trigger questionnaire (T6, B6). None means "not answered yet".
    affects_specific_group = models.BooleanField(_("涉及特定群体利益"), null=True)
    public_concern = models.BooleanField(_("社会普遍关注"), null=True)
    highly_technical = models.BooleanField(_("专业性、技术性较强"), null=True)
    stability_or_safety_impact = models.BooleanField(_("可能影响社会稳定、公共安全等"), null=True)
    market_affecting = models.BooleanField(_("涉及市场主体经济活动"), null=True)
    confidential_by_law = models.BooleanField(_("依法不予公开"), null=True)
    confidential_basis = models.TextField(_("不予公开的法律依据"), blank=True)
    direct_vital_interest = models.BooleanField(_("涉及群众切身利益"), null=True)
    major_disagreement = models.BooleanField(_("存在较大分歧"), null=True)
    major_interest_readjustment = models.BooleanField(_("涉及重大利益调整"), null=True)
    hearing_required_by_law = models.BooleanField(_("法律、法规、规章要求听证"), null=True)
    hearing_law_instrument = models.CharField(_("要求听证的法律文件"), max_length=200, blank=True)
    hearing_law_article = models.CharField(_("要求听证的条款"), max_length=60, blank=True)
    requires_npc_report = models.BooleanField(_("须向人大常委会报告"), default=False)
    exploratory_reform = models.BooleanField(_("探索性改革事项"), default=False)
    exploratory_statement = models.TextField(_("国家尚无明确规定的说明"), blank=True)

    # After the decision (P16).
    in_force_version = models.ForeignKey(
        "DraftVersion",
        verbose_name=_("现行有效文本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    suspended = models.BooleanField(_("中止执行"), default=False)
    executor = models.ForeignKey(
        Organisation, verbose_name=_("决策执行单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    report_every_months = models.PositiveSmallIntegerField(_("执行情况报告周期(月)"), null=True, blank=True)
    first_report_due = models.DateField(_("首次报告日期"), null=True, blank=True)
    supersedes = models.ForeignKey(
        "self", verbose_name=_("取代的决策"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("重大行政决策")
        verbose_name_plural = _("重大行政决策")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.reference} {self.title}"

    @property
    def current_draft(self):
        return self.draft_versions.order_by("-number").first()

    def current_record(self, stage):
        """Return the live (not superseded) record of a stage, or None."""
        live = getattr(self, "_live_records", None)
        if live is not None:
            return live.get(stage)
        return self.stage_records.filter(stage=stage, superseded_by__isnull=True).order_by("-id").first()

    def with_live_records(self):
        """For a page that only reads: fetch the live record of every stage in one query, and let current_record
        answer from it (the decision page asks it dozens of times). Never on an instance a service changes."""
        records = self.stage_records.filter(superseded_by__isnull=True).order_by("id")
        self._live_records = {record.stage: record for record in records}  # the newest of a stage wins
        return self


class DraftVersion(models.Model):
    """A numbered version of the decision draft (决策草案); opinions are pinned to one."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="draft_versions")
    number = models.PositiveIntegerField(_("版本号"))
    document = models.ForeignKey("Document", null=True, on_delete=models.PROTECT, related_name="+")
    change_summary = models.TextField(_("修改说明"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    adopted_at_meeting = models.BooleanField(_("会议审定文本"), default=False)
    # Recorded by the LEGAL_REVIEWER (T16, T17): does this version change anything 第27条 reviews?
    substantive_change = models.BooleanField(_("实质性修改"), null=True)
    substantive_change_reason = models.TextField(_("判断理由"), blank=True)
    implements_opinion = models.BooleanField(_("已落实审查意见"), null=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    # T16a: the sub-stages this version did not re-run, each with the justification for keeping its closure.
    kept_closures = models.JSONField(_("保留原办理结果的环节及理由"), default=dict, blank=True)

    class Meta:
        verbose_name = _("草案版本")
        verbose_name_plural = _("草案版本")
        constraints = [models.UniqueConstraint(fields=["decision", "number"], name="unique_draft_number")]
        ordering = ["decision", "number"]

    def __str__(self):
        return f"v{self.number}"


class StageRecord(StageRecordLifecycle, FSMModelMixin, models.Model):
    """One stage's record, pinned to the draft it judged; closed records are never edited."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="stage_records")
    stage = models.CharField(_("环节"), max_length=20, choices=Stage.choices)
    status = FSMField(_("状态"), default=StageStatus.PENDING, choices=StageStatus.choices, protected=True)
    draft_version = models.ForeignKey(DraftVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    round = models.PositiveIntegerField(_("轮次"), null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("结论"), max_length=40, blank=True)
    reason_code = models.CharField(_("理由代码"), max_length=60, blank=True)
    reason_text = models.TextField(_("理由"), blank=True)
    # 第3条第2款 first sentence: the 法律/行政法规 whose own procedure replaces this stage.
    other_law_instrument = models.CharField(max_length=200, blank=True)
    other_law_level = models.CharField(max_length=20, blank=True)
    other_law_article = models.CharField(max_length=60, blank=True)
    prior_assessment_level = models.CharField(max_length=10, blank=True)
    methods = models.JSONField(_("方式"), default=list, blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    reopen_reason = models.TextField(blank=True)
    frozen_at = models.DateTimeField(_("冻结时间"), null=True, blank=True)
    frozen_reason = models.CharField(max_length=200, blank=True)
    # B6 cascade: the PP record whose NOT_TRIGGERED/WAIVED closure also closed this HEARING record.
    closed_with = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="cascaded_records"
    )
    # T6b: the approved Waiver that closed this record (PP's row is shared by its HEARING child).
    waiver = models.ForeignKey("Waiver", null=True, blank=True, on_delete=models.PROTECT, related_name="closed_records")

    class Meta:
        verbose_name = _("环节记录")
        verbose_name_plural = _("环节记录")
        ordering = ["decision", "id"]

    def __str__(self):
        suffix = f" #{self.round}" if self.round else ""
        return f"{self.decision.reference} {self.get_stage_display()}{suffix} {self.get_status_display()}"

    @property
    def is_closed(self):
        return self.status in CLOSED_STAGE_STATUSES or self.frozen_at is not None


class Waiver(models.Model):
    """A lawful exception that closes a required stage as WAIVED (B6)."""

    stage_record = models.ForeignKey(StageRecord, on_delete=models.PROTECT, related_name="waivers")
    reason_code = models.CharField(max_length=40)
    legal_basis = models.TextField(_("法律依据(文件及条款)"))
    evidence = models.ForeignKey("Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_role = models.CharField(max_length=30, choices=Role.choices)
    recorded_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    approved_role = models.CharField(max_length=30, choices=Role.choices, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("免予程序")
        verbose_name_plural = _("免予程序")

    def __str__(self):
        return f"{self.reason_code}: {self.legal_basis[:40]}"


def document_upload_to(instance, filename):
    # Content-addressed: a stored file can never be overwritten by a later upload.
    return f"documents/{instance.decision_id or 'catalogue'}/{instance.sha256[:2]}/{instance.sha256}/{filename}"


class DocumentType(models.TextChoices):
    """Record types of B8."""

    PROPOSAL = "PROPOSAL", _("决策建议")
    STUDY_OPINION = "STUDY_OPINION", _("研究论证意见")
    START_DECISION = "START_DECISION", _("启动决定(领导批示或会议纪要)")
    DECLINE_RECORD = "DECLINE_RECORD", _("不予启动决定")
    RESEARCH_REPORT = "RESEARCH_REPORT", _("调研报告")
    LAW_POLICY_LIST = "LAW_POLICY_LIST", _("法律法规政策梳理清单")
    COST_BENEFIT = "COST_BENEFIT", _("成本效益分析")
    ALTERNATIVE_OPTIONS = "ALTERNATIVE_OPTIONS", _("备选方案")
    CONSULTATION_RECORD = "CONSULTATION_RECORD", _("部门协商记录及分歧说明")
    DRAFT = "DRAFT", _("决策草案")
    DRAFT_EXPLANATION = "DRAFT_EXPLANATION", _("起草说明")
    PP_METHOD_RECORD = "PP_METHOD_RECORD", _("公众参与方式记录")
    COMMENT_NOTICE = "COMMENT_NOTICE", _("公开征求意见公告")
    PUBLICATION_PROOF = "PUBLICATION_PROOF", _("发布证明(网页快照/报纸版面)")
    SPECIFIC_GROUP_CONSULTATION = "SPECIFIC_GROUP_CONSULTATION", _("特定群体意见征询记录")
    OPINION_SUMMARY = "OPINION_SUMMARY", _("意见汇总")
    ADOPTION_STATEMENT = "ADOPTION_STATEMENT", _("意见采纳情况说明")
    HEARING_NOTICE = "HEARING_NOTICE", _("听证公告")
    HEARING_SELECTION_METHOD = "HEARING_SELECTION_METHOD", _("听证参加人遴选办法")
    HEARING_PARTICIPANT_LIST = "HEARING_PARTICIPANT_LIST", _("听证参加人名单")
    HEARING_RECEIPT = "HEARING_RECEIPT", _("听证材料送达回执")
    HEARING_RECORD = "HEARING_RECORD", _("听证会记录")
    HEARING_REPORT = "HEARING_REPORT", _("听证报告")
    EXPERT_SELECTION = "EXPERT_SELECTION", _("专家遴选记录")
    EXPERT_DECLARATION = "EXPERT_DECLARATION", _("无利害关系声明")
    EXPERT_OPINION = "EXPERT_OPINION", _("专家论证意见")
    COMMISSION_CONTRACT = "COMMISSION_CONTRACT", _("委托合同")
    EXPERT_ADOPTION_STATEMENT = "EXPERT_ADOPTION_STATEMENT", _("专家意见采纳情况说明")
    RISK_PLAN = "RISK_PLAN", _("风险评估方案")
    RISK_EVIDENCE = "RISK_EVIDENCE", _("风险评估过程材料")
    DEPARTMENT_OPINIONS = "DEPARTMENT_OPINIONS", _("有关部门意见")
    RISK_REPORT = "RISK_REPORT", _("风险评估报告")
    RISK_MITIGATION_PLAN = "RISK_MITIGATION_PLAN", _("风险防范化解方案")
    PRIOR_ASSESSMENT = "PRIOR_ASSESSMENT", _("已有风险评估报告")
    SUBMISSION_LETTER = "SUBMISSION_LETTER", _("送审函")
    LEGAL_BASIS_LIST = "LEGAL_BASIS_LIST", _("法律依据清单")
    PROCEDURE_STATEMENT = "PROCEDURE_STATEMENT", _("履行决策法定程序的说明")
    FAIR_COMPETITION_REVIEW = "FAIR_COMPETITION_REVIEW", _("公平竞争审查意见")
    RETURN_NOTICE = "RETURN_NOTICE", _("退回/补充材料通知")
    LEGAL_ADVISER_OPINION = "LEGAL_ADVISER_OPINION", _("法律顾问/公职律师法律意见")
    LEGALITY_OPINION = "LEGALITY_OPINION", _("合法性审查意见书")
    LEGAL_RISK_STATEMENT = "LEGAL_RISK_STATEMENT", _("法律风险提示")
    EXPLORATORY_STATEMENT = "EXPLORATORY_STATEMENT", _("探索性改革事项说明")
    MODIFICATION_STATEMENT = "MODIFICATION_STATEMENT", _("修改情况说明")
    DELIBERATION_REQUEST = "DELIBERATION_REQUEST", _("提请审议请示")
    MEETING_NOTICE = "MEETING_NOTICE", _("会议通知及议程")
    MINUTES = "MINUTES", _("会议纪要")
    NPC_REPORT = "NPC_REPORT", _("向人大常委会报告")
    PARTY_REPORT = "PARTY_REPORT", _("向党委请示报告")
    PARTY_REPLY = "PARTY_REPLY", _("党委答复")
    FINAL_DECISION = "FINAL_DECISION", _("决策文件")
    CHANNEL_PROOF = "CHANNEL_PROOF", _("公布渠道证明")
    INTERPRETATION = "INTERPRETATION", _("政策解读")
    NOT_PUBLIC_BASIS = "NOT_PUBLIC_BASIS", _("不予公开依据")
    WAIVER_EVIDENCE = "WAIVER_EVIDENCE", _("免予程序证明材料")
    OTHER_LAW_CITATION = "OTHER_LAW_CITATION", _("其他法律程序依据")
    EXECUTOR_DESIGNATION = "EXECUTOR_DESIGNATION", _("执行单位确定文件")
    EXECUTION_REPORT = "EXECUTION_REPORT", _("执行情况报告")
    ISSUE_REPORT = "ISSUE_REPORT", _("执行问题报告")
    SUSPENSION_DECISION = "SUSPENSION_DECISION", _("中止执行决定")
    IMPLEMENTATION_CLOSURE = "IMPLEMENTATION_CLOSURE", _("执行终结记录")
    PE_START_DECISION = "PE_START_DECISION", _("后评估启动决定")
    PE_PLAN = "PE_PLAN", _("后评估方案")
    PE_PARTICIPATION = "PE_PARTICIPATION", _("公众及人大政协参与记录")
    PE_REPORT = "PE_REPORT", _("后评估报告")
    ADJUSTMENT_DECISION = "ADJUSTMENT_DECISION", _("调整决定")
    STOP_DECISION = "STOP_DECISION", _("停止执行决定")
    ARCHIVE_INDEX = "ARCHIVE_INDEX", _("归档目录")
    HANDOVER_RECORD = "HANDOVER_RECORD", _("移交记录")
    OTHER = "OTHER", _("其他材料")


class Document(models.Model):
    """An uploaded record with its SHA-256; after its stage closes it is only superseded."""

    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="documents")
    stage_record = models.ForeignKey(
        StageRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    doc_type = models.CharField(_("材料类型"), max_length=40, choices=DocumentType.choices)
    title = models.CharField(_("标题"), max_length=300)
    file = models.FileField(_("文件"), upload_to=document_upload_to, max_length=400)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    signed = models.BooleanField(_("已署名"), default=False)
    sealed = models.BooleanField(_("已盖章"), default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_role = models.CharField(max_length=30, choices=Role.choices)
    uploaded_at = models.DateTimeField(default=timezone.now)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    supersede_reason = models.TextField(blank=True)
    # 国密: SM3 of the file beside its SHA-256 (empty when stored under the intl profile).
    digest_sm3 = models.CharField(max_length=64, blank=True)
    # Seal: keyed MAC of the sealed fields (decisions/seals.py); empty: stored before seals existed.
    record_mac = models.CharField(max_length=128, blank=True)
    record_mac_algorithm = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("材料")
        verbose_name_plural = _("材料")
        ordering = ["id"]

    def __str__(self):
        return f"{self.get_doc_type_display()}: {self.title}"

    @staticmethod
    def hash_bytes(content):
        return hashlib.sha256(content).hexdigest()


class CommentPeriod(models.Model):
    """A public-comment notice (公开征求意见, 第15条); dates per P13."""

    class Channel(models.TextChoices):
        GOV_WEBSITE = "GOV_WEBSITE", _("政府网站")
        GOV_NEW_MEDIA = "GOV_NEW_MEDIA", _("政务新媒体")
        NEWSPAPER = "NEWSPAPER", _("报刊")
        RADIO = "RADIO", _("广播")
        TV = "TV", _("电视")
        OTHER = "OTHER", _("其他(说明)")

    stage_record = models.ForeignKey(StageRecord, on_delete=models.PROTECT, related_name="comment_periods")
    channels = models.JSONField(_("发布渠道"), default=list)
    other_channel_text = models.CharField(max_length=200, blank=True)
    includes_draft = models.BooleanField(_("公布草案"), default=False)
    includes_explanation = models.BooleanField(_("公布起草说明"), default=False)
    how_to_comment = models.TextField(_("提出意见的方式"), blank=True)
    publish_date = models.DateField(_("发布日期"))
    deadline_date = models.DateField(_("截止日期"))
    shortening_reason = models.TextField(_("缩短期限理由"), blank=True)
    published_at = models.DateTimeField(_("标记发布时间"), null=True, blank=True)
    notice_document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # P13: a republished or extended notice keeps the original publish_date and points to the notice it extends.
    extends = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="extensions")

    class Meta:
        verbose_name = _("公开征求意见")
        verbose_name_plural = _("公开征求意见")

    def __str__(self):
        return f"征求意见 {self.publish_date}—{self.deadline_date}"


class Hearing(models.Model):
    """A hearing (听证会, 第16–17条)."""

    stage_record = models.OneToOneField(StageRecord, on_delete=models.PROTECT, related_name="hearing")
    notice_published_on = models.DateField(_("听证公告发布日期"), null=True, blank=True)
    participants_selected = models.BooleanField(_("遴选听证参加人"), default=True)
    selection_method_published_on = models.DateField(_("遴选办法公布日期"), null=True, blank=True)
    selection_done_on = models.DateField(_("遴选日期"), null=True, blank=True)
    participant_list_published_on = models.DateField(_("参加人名单公布日期"), null=True, blank=True)
    hearing_date = models.DateField(_("听证日期"))
    place = models.CharField(_("地点"), max_length=200)
    record_signed = models.BooleanField(_("听证记录经参加人签字确认"), default=False)

    class Meta:
        verbose_name = _("听证会")
        verbose_name_plural = _("听证会")

    def __str__(self):
        return f"听证会 {self.hearing_date} {self.place}"


class HearingParticipant(models.Model):
    hearing = models.ForeignKey(Hearing, on_delete=models.PROTECT, related_name="participants")
    name = models.CharField(_("姓名/名称"), max_length=200)
    # Personal information (个人信息保护法): encrypted at rest, masked until revealed (decisions.personal).
    phone = EncryptedTextField(_("联系电话"), blank=True)
    email = EncryptedTextField(_("电子邮箱"), blank=True)
    id_number = EncryptedTextField(_("身份证号"), blank=True)
    delivery_date = models.DateField(_("材料送达日期(回执)"), null=True, blank=True)
    receipt = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("听证参加人")
        verbose_name_plural = _("听证参加人")

    def __str__(self):
        return self.name


class ExpertMember(models.Model):
    """An expert or agency on the panel (第19–20条)."""

    class Mode(models.TextChoices):
        MEETING = "MEETING", _("论证会")
        WRITTEN = "WRITTEN", _("书面咨询")
        COMMISSIONED = "COMMISSIONED", _("委托咨询论证")

    stage_record = models.ForeignKey(StageRecord, on_delete=models.PROTECT, related_name="experts")
    name = models.CharField(_("姓名/机构名称"), max_length=200)
    organisation_name = models.CharField(_("所在单位"), max_length=200, blank=True)
    field = models.CharField(_("专业领域"), max_length=200, blank=True)
    is_agency = models.BooleanField(_("专业机构"), default=False)
    holds_dissenting_view = models.BooleanField(_("持不同意见"), default=False)
    no_interest_declared = models.BooleanField(_("已声明无直接利害关系"), default=False)
    declaration = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    opinion = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("论证专家")
        verbose_name_plural = _("论证专家")

    def __str__(self):
        return self.name


class RiskLevel(models.TextChoices):
    HIGH = "HIGH", _("高风险")
    MEDIUM = "MEDIUM", _("中风险")
    LOW = "LOW", _("低风险")


class RiskAssessment(models.Model):
    """A risk assessment report (风险评估报告, 第22–23条), pinned to a draft version."""

    stage_record = models.ForeignKey(StageRecord, on_delete=models.PROTECT, related_name="risk_assessments")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="risk_assessments")
    draft_version = models.ForeignKey(DraftVersion, on_delete=models.PROTECT, related_name="+")
    assessor = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    third_party = models.BooleanField(_("第三方评估"), default=False)
    level = models.CharField(_("风险等级"), max_length=10, choices=RiskLevel.choices)
    risk_points = models.TextField(_("风险点"), blank=True)
    prevention_measures = models.TextField(_("防范措施"), blank=True)
    contingency_plan = models.TextField(_("处置预案"), blank=True)
    departments_heard = models.BooleanField(_("已听取有关部门意见"), default=False)
    report = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    stale_reason = models.TextField(_("失效理由"), blank=True)
    stale_marked_at = models.DateTimeField(null=True, blank=True)
    stale_marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("风险评估")
        verbose_name_plural = _("风险评估")
        ordering = ["id"]

    def __str__(self):
        return f"{self.get_level_display()} (v{self.draft_version.number})"


class LegalityReview(models.Model):
    """One legality-review round (合法性审查, 第25–28条), or the review of a stop (T28)."""

    class Subject(models.TextChoices):
        DRAFT = "DRAFT", _("决策草案")
        STOP = "STOP", _("停止执行")

    class Outcome(models.TextChoices):
        LAWFUL = "LAWFUL", _("合法")
        LAWFUL_WITH_MODIFICATIONS = "LAWFUL_WITH_MODIFICATIONS", _("修改后合法")
        UNLAWFUL = "UNLAWFUL", _("不合法")
        EXPLORATORY_LEGAL_RISK_DISCLOSED = "EXPLORATORY_LEGAL_RISK_DISCLOSED", _("探索性改革，明示法律风险")

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="legality_reviews")
    stage_record = models.OneToOneField(
        StageRecord, null=True, on_delete=models.PROTECT, related_name="legality_review"
    )
    round = models.PositiveIntegerField(_("轮次"))
    subject = models.CharField(max_length=10, choices=Subject.choices, default=Subject.DRAFT)
    draft_version = models.ForeignKey(DraftVersion, null=True, on_delete=models.PROTECT, related_name="+")
    reviewer_dept = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    submitted_on = models.DateField(_("收件日期"))
    complete_on = models.DateField(_("材料齐全日期"), null=True, blank=True)
    returned_on = models.DateField(null=True, blank=True)
    return_reason = models.TextField(_("退回/补充理由"), blank=True)
    outcome = models.CharField(_("审查结论"), max_length=40, choices=Outcome.choices, blank=True)
    authority = models.TextField(_("决策权限"), blank=True)
    procedure = models.TextField(_("决策程序"), blank=True)
    content = models.TextField(_("决策内容"), blank=True)
    legal_risk_statement = models.TextField(_("法律风险提示"), blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    closed_without_opinion = models.CharField(max_length=200, blank=True)
    stale_reason = models.TextField(blank=True)
    stale_marked_at = models.DateTimeField(null=True, blank=True)
    stale_marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    # Seal: keyed MAC of the sealed fields (decisions/seals.py); empty: not issued, or before seals.
    record_mac = models.CharField(max_length=128, blank=True)
    record_mac_algorithm = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("合法性审查")
        verbose_name_plural = _("合法性审查")
        ordering = ["decision", "round"]

    def __str__(self):
        return f"{self.decision.reference} 第{self.round}轮 {self.get_outcome_display() or '审查中'}"


class Meeting(models.Model):
    """A 常务会议 or 全体会议 of the decision organ (第30条)."""

    class Type(models.TextChoices):
        EXECUTIVE = "EXECUTIVE", _("常务会议")
        PLENARY = "PLENARY", _("全体会议")
        THEMATIC = "THEMATIC", _("专题会议")
        MAYORS_OFFICE = "MAYORS_OFFICE", _("市(县)长办公会议")
        CIRCULATION = "CIRCULATION", _("传阅")

    organ = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="meetings")
    meeting_type = models.CharField(_("会议类型"), max_length=20, choices=Type.choices)
    title = models.CharField(_("会议名称"), max_length=200)
    date = models.DateField(_("会议日期"))
    members_total = models.PositiveIntegerField(_("组成人员总数"))
    members_present = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("会议")
        verbose_name_plural = _("会议")
        ordering = ["-date"]

    def __str__(self):
        return f"{self.title}({self.date})"


class AgendaItem(models.Model):
    """A decision (or a stop) on a meeting's agenda; its CD record closes with the outcome."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="agenda_items")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="agenda_items")
    stage_record = models.OneToOneField(StageRecord, null=True, on_delete=models.PROTECT, related_name="agenda_item")
    subject = models.CharField(max_length=10, choices=LegalityReview.Subject.choices, default="DRAFT")
    time_override_reason = models.TextField(_("审查时间不足的说明"), blank=True)
    time_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    time_override_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # B2a: an override holds only for the meeting date it was recorded and acknowledged for.
    time_override_at = models.DateTimeField(null=True, blank=True)
    time_override_for_date = models.DateField(_("说明针对的会议日期"), null=True, blank=True)
    time_override_acknowledged_at = models.DateTimeField(null=True, blank=True)
    # P4: the legality-review working-day count at scheduling, and whether the calendar was provisional.
    review_working_days = models.PositiveIntegerField(_("审查工作日数"), null=True, blank=True)
    review_days_provisional = models.BooleanField(_("工作日数为暂定"), default=False)
    review_complete_on = models.DateField(_("计算起点(材料齐全日期)"), null=True, blank=True)
    # P4: when the year's notice is loaded, a provisional count is re-run; both counts are kept.
    review_working_days_rechecked = models.PositiveIntegerField(_("复核后的审查工作日数"), null=True, blank=True)
    review_rechecked_at = models.DateTimeField(null=True, blank=True)
    removed_reason = models.TextField(blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")

    def __str__(self):
        return f"{self.meeting} · {self.decision.reference}"


class Position(models.TextChoices):
    APPROVE = "APPROVE", pgettext_lazy("meeting position", "同意")
    REJECT = "REJECT", pgettext_lazy("meeting position", "不同意")
    MODIFY = "MODIFY", pgettext_lazy("meeting position", "修改")
    DEFER = "DEFER", pgettext_lazy("meeting position", "暂缓")
    REDISCUSS = "REDISCUSS", pgettext_lazy("meeting position", "再次讨论")
    NO_OPINION = "NO_OPINION", pgettext_lazy("meeting position", "无意见")


class MeetingStatement(models.Model):
    """A member's statement at the meeting, in speaking order; dissent is kept verbatim (第30条)."""

    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="statements")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveIntegerField(_("发言顺序"))
    position = models.CharField(_("意见"), max_length=20, choices=Position.choices)
    text = models.TextField(_("发言内容"), blank=True)
    is_chief = models.BooleanField(_("行政首长"), default=False)

    class Meta:
        verbose_name = _("会议发言")
        verbose_name_plural = _("会议发言")
        ordering = ["agenda_item", "seq"]
        constraints = [models.UniqueConstraint(fields=["agenda_item", "seq"], name="unique_statement_seq")]

    def __str__(self):
        return f"{self.seq}. {self.member} {self.get_position_display()}"


class CollectiveOutcome(models.Model):
    """The chief's decision on an agenda item (集体讨论决定)."""

    class Controllability(models.TextChoices):
        CONTROLLABLE = "CONTROLLABLE", _("风险可控")
        NOT_CONTROLLABLE = "NOT_CONTROLLABLE", _("风险不可控")

    agenda_item = models.OneToOneField(AgendaItem, on_delete=models.PROTECT, related_name="outcome")
    outcome = models.CharField(_("决定"), max_length=20, choices=Position.choices)
    controllability_judgement = models.CharField(max_length=20, choices=Controllability.choices, blank=True)
    chief_differs_from_majority = models.BooleanField(default=False)
    chief_reason = models.TextField(_("行政首长说明理由"), blank=True)
    amendments = models.TextField(_("会议修改的文字"), blank=True)
    superseded_by_party_reply = models.BooleanField(default=False)
    superseded_reason = models.TextField(_("党委不同意后退回修改的理由"), blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    # P10: the text adopted with the wording amended at the meeting (APPROVE only).
    adopted_version = models.ForeignKey(DraftVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    # Seal: keyed MAC of the sealed fields (decisions/seals.py); empty: recorded before seals existed.
    record_mac = models.CharField(max_length=128, blank=True)
    record_mac_algorithm = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("集体讨论决定")
        verbose_name_plural = _("集体讨论决定")

    def __str__(self):
        return f"{self.agenda_item} → {self.get_outcome_display()}"


class PartyReport(models.Model):
    """A 请示报告 to the party committee and its reply (第31条), recorded by PARTY_LIAISON."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="party_reports")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    reported_on = models.DateField(_("报告日期"))
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reply_document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reply_on = models.DateField(_("答复日期"), null=True, blank=True)
    reply_agrees = models.BooleanField(_("同意"), null=True)
    reply_recorded_at = models.DateTimeField(null=True, blank=True)
    outcome = models.ForeignKey(CollectiveOutcome, on_delete=models.PROTECT, related_name="party_reports")
    stage_record = models.ForeignKey(
        StageRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="party_reports"
    )

    class Meta:
        verbose_name = _("党委请示报告")
        verbose_name_plural = _("党委请示报告")
        ordering = ["id"]

    def __str__(self):
        return f"{self.decision.reference} 请示报告 {self.reported_on}"


class Publication(models.Model):
    """Publication (第32条) or lawful issue without publication."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="publications")
    channels = models.JSONField(_("公布渠道"), default=list)
    published_at = models.DateTimeField(default=timezone.now)
    not_public_basis = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    stage_record = models.OneToOneField(
        StageRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="publication"
    )
    draft_version = models.ForeignKey(DraftVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    final_document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    interpretation_document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proofs = models.JSONField(_("各渠道公布证明"), default=dict, blank=True)  # channel code -> Document id
    # Seal: keyed MAC of the sealed fields (decisions/seals.py); empty: recorded before seals existed.
    record_mac = models.CharField(max_length=128, blank=True)
    record_mac_algorithm = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("决策公布")
        verbose_name_plural = _("决策公布")

    def __str__(self):
        return f"{self.decision.reference} 公布 {self.published_at:%Y-%m-%d}"


class Suspension(models.Model):
    """The chief's urgent suspension (中止执行, 第37条)."""

    class Situation(models.TextChoices):
        PROBLEM = "PROBLEM", _("执行中发现重大问题")
        MAJOR_CHANGE = "MAJOR_CHANGE", _("客观情况发生重大变化")
        FORCE_MAJEURE = "FORCE_MAJEURE", _("不可抗力")

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="suspensions")
    situation = models.CharField(max_length=20, choices=Situation.choices)
    urgent = models.BooleanField(default=False)
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=20, blank=True)  # RESUME | STOP | ADJUSTED_PUBLISHED
    end_reason = models.TextField(blank=True)
    # T25: a resume keeps the decision unchanged, so the version in force at suspension is kept.
    in_force_version = models.ForeignKey(DraftVersion, null=True, on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("中止执行")
        verbose_name_plural = _("中止执行")

    def __str__(self):
        return f"{self.decision.reference} 中止执行 {self.at:%Y-%m-%d}"


class DecisionAdjustment(models.Model):
    """A major adjustment (重大调整, 第37条) re-running the procedure on a new draft."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="adjustments")
    reason = models.TextField()
    new_draft_version = models.ForeignKey(DraftVersion, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    closed_as = models.CharField(max_length=20, blank=True)  # ADOPTED | REJECTED | ABANDONED
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.TextField(blank=True)
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("决策调整")
        verbose_name_plural = _("决策调整")

    def __str__(self):
        return f"{self.decision.reference} 调整 {self.at:%Y-%m-%d}"


class StopDecision(models.Model):
    """A stop of execution through the legal procedure (T28)."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="stops")
    reason = models.TextField()
    legality_review = models.ForeignKey(LegalityReview, on_delete=models.PROTECT, related_name="+")
    collective_outcome = models.ForeignKey(CollectiveOutcome, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self):
        return f"{self.decision.reference} 停止执行 {self.at:%Y-%m-%d}"


class PostEvaluation(models.Model):
    """A post-evaluation (决策后评估, 第36条)."""

    class Trigger(models.TextChoices):
        BELOW_EXPECTATION = "1", _("(一) 明显未达到预期效果")
        MANY_OPINIONS = "2", _("(二) 公民、法人或者其他组织提出较多意见")
        ORGAN_DEEMS_NECESSARY = "3", _("(三) 决策机关认为有必要")

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="post_evaluations")
    trigger = models.CharField(max_length=1, choices=Trigger.choices)
    evaluator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    commissioned = models.BooleanField(_("委托第三方"), default=False)
    # 第36条第2款: the units excluded as pre-decision assessors, as checked at T26.
    independence_check = models.JSONField(_("独立性审查"), default=dict, blank=True)
    plan_public_participation = models.BooleanField(_("方案含公众参与"), default=False)
    plan_npc_cppcc_participation = models.BooleanField(_("方案含人大代表、政协委员等参与"), default=False)
    stage_record = models.ForeignKey(StageRecord, null=True, on_delete=models.PROTECT, related_name="+")
    conclusion = models.TextField(_("决策机关结论"), blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.decision.reference} 后评估 {self.started_at:%Y-%m-%d}"


class ImplementationClosure(models.Model):
    """The end of implementation (P16)."""

    class Reason(models.TextChoices):
        COMPLETED = "COMPLETED", _("执行完毕")
        EXPIRED = "EXPIRED", _("有效期届满")
        REPLACED = "REPLACED", _("被新决策取代")
        OTHER = "OTHER", _("其他")

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="implementation_closure")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.decision.reference} {self.get_reason_display()}"


class HandoverTask(models.Model):
    """A co-unit's hand-over of its records for one closed stage (P18, B10)."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="handover_tasks")
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    stage_record = models.ForeignKey(StageRecord, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "stage_record"], name="unique_handover")]

    def __str__(self):
        return f"{self.decision.reference} {self.unit} 移交"


class AppendOnly(models.Model):
    """A row written once: the application never updates or deletes it (B10, P8)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError(f"{self._meta.verbose_name} is append-only and cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{self._meta.verbose_name} is append-only and cannot be deleted")


class SignOff(AppendOnly):
    """Who signed what, in which role, when (P8). Never edited, never deleted."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="signoffs")
    stage_record = models.ForeignKey(StageRecord, null=True, on_delete=models.PROTECT, related_name="signoffs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=30, choices=Role.choices)
    at = models.DateTimeField(default=timezone.now)
    subject = models.CharField(_("签署事项"), max_length=200)
    manifest = models.JSONField(_("签署内容清单"))
    content_sha256 = models.CharField(max_length=64)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    # 国密: SM3 of the same canonical manifest (empty when signed under the intl profile).
    content_sm3 = models.CharField(max_length=64, blank=True)
    # 不可否认性 (decisions/signing.py): the signer's signature over the manifest's digest, with the algorithm and
    # a copy of the public key, so that a bundle verifies offline; empty when sign-offs are not signed.
    signature = models.TextField(blank=True)
    signature_algorithm = models.CharField(max_length=20, blank=True)
    signing_key = models.ForeignKey(
        "SigningKey", null=True, blank=True, on_delete=models.PROTECT, related_name="signoffs"
    )
    signer_public_key = models.TextField(blank=True)
    # Keyed MAC of the row (audit key, the profile's MAC), checked by `manage.py verify_audit`.
    record_mac = models.CharField(max_length=128, blank=True)
    record_mac_algorithm = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("签署")
        verbose_name_plural = _("签署")
        ordering = ["id"]

    def __str__(self):
        return f"{self.subject} · {self.user} · {self.at:%Y-%m-%d %H:%M}"


class AuditEventQuerySet(models.QuerySet):
    """Audit events are appended, never changed or deleted in bulk either (三员分立: no role edits the log)."""

    def update(self, **kwargs):
        raise PermissionError("audit events are append-only: a queryset of them cannot be updated")

    def delete(self):
        raise PermissionError("audit events are append-only: a queryset of them cannot be deleted")


class AuditEventManager(models.Manager.from_queryset(AuditEventQuerySet)):
    def _purge_exported(self, seqs):
        """Delete the events numbered `seqs` and return how many went: for the retention purge only
        (decisions/audit_retention.py), which has checked that they were exported, anchored and are past
        retention. Nothing else calls it.
        """
        queryset = self.get_queryset().filter(seq__in=list(seqs))
        return queryset._raw_delete(queryset.db)


class AuditEvent(AppendOnly):
    """One link of the append-only, MAC-chained audit trail (第33条; B10)."""

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=150)
    role = models.CharField(max_length=30, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60)
    decision_id_ref = models.BigIntegerField(null=True, db_index=True)
    payload = models.JSONField()
    algorithm = models.CharField(max_length=20)
    prev_mac = models.CharField(max_length=128)
    mac = models.CharField(max_length=128)

    objects = AuditEventManager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["seq"]

    def __str__(self):
        return f"#{self.seq} {self.action}"


class ChainHead(models.Model):
    """The single row writers lock to append to the audit chain in order."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_mac = models.CharField(max_length=128, blank=True)
    head_mac = models.CharField(max_length=128, blank=True)
    # The MAC algorithm of head_mac (decisions/crypto.py); heads written before profiles existed used HMAC-SHA256.
    head_algorithm = models.CharField(max_length=20, default="HMAC-SHA256")

    def __str__(self):
        return f"chain head #{self.last_seq}"


class AuditArchive(AppendOnly):
    """One export of the audit chain (审计归档): events first_seq..last_seq as JSON lines, with its manifest.

    Archives follow each other without a gap; `prev_mac` is the MAC the first archived event links to.
    """

    first_seq = models.PositiveBigIntegerField(unique=True)
    last_seq = models.PositiveBigIntegerField(unique=True)
    event_count = models.PositiveBigIntegerField()
    prev_mac = models.CharField(max_length=128)
    last_mac = models.CharField(max_length=128)
    until = models.DateTimeField(_("截至"))
    sha256 = models.CharField(max_length=64)
    sm3 = models.CharField(max_length=64)
    file = models.FileField(_("归档文件"), max_length=255)
    manifest = models.FileField(_("清单"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("审计归档")
        verbose_name_plural = _("审计归档")
        ordering = ["first_seq"]

    def __str__(self):
        return f"audit archive #{self.first_seq}–{self.last_seq}"


class AuditAnchor(AppendOnly):
    """Where purged events were (审计锚点): the run first_seq..seq, exported to `archive` and then removed.

    `mac` is the MAC of event `seq`, which the next remaining event links to; `anchor_mac` (keyed, of
    `algorithm`) binds the run, that MAC and the archive's digest, so nobody without the key moves an anchor.
    """

    first_seq = models.PositiveBigIntegerField(unique=True)
    seq = models.PositiveBigIntegerField(unique=True)
    mac = models.CharField(max_length=128)
    algorithm = models.CharField(max_length=20)
    anchor_mac = models.CharField(max_length=128)
    archive = models.ForeignKey(AuditArchive, on_delete=models.PROTECT, related_name="anchors")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("审计锚点")
        verbose_name_plural = _("审计锚点")
        ordering = ["first_seq"]

    def __str__(self):
        return f"audit anchor #{self.first_seq}–{self.seq}"


class FormSubmission(models.Model):
    """A form of the pages, sent once: its one-time token, so that sending it again does not repeat its effect."""

    token = models.UUIDField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=60)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("表单提交")
        verbose_name_plural = _("表单提交")

    def __str__(self):
        return f"{self.action} {self.token}"


class Comment(models.Model):
    """One comment received in public participation (公众意见台账, 第十八条): answered, never deleted."""

    class Channel(models.TextChoices):
        WEBSITE = "WEBSITE", _("网站留言")
        EMAIL = "EMAIL", _("电子邮件")
        LETTER = "LETTER", _("信函")
        FORUM = "FORUM", _("座谈会")
        HEARING = "HEARING", _("听证会")
        QUESTIONNAIRE = "QUESTIONNAIRE", _("问卷")
        PHONE = "PHONE", _("电话")
        ONLINE_FORM = "ONLINE_FORM", _("网上意见表")
        OTHER = "OTHER", _("其他")

    class Disposition(models.TextChoices):
        PENDING = "PENDING", _("待研究")
        ADOPTED = "ADOPTED", _("采纳")
        PARTLY_ADOPTED = "PARTLY_ADOPTED", _("部分采纳")
        NOT_ADOPTED = "NOT_ADOPTED", _("不采纳")

    stage_record = models.ForeignKey(StageRecord, on_delete=models.PROTECT, related_name="comments")
    period = models.ForeignKey(
        CommentPeriod,
        verbose_name=_("征求意见公告"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="comments",
    )
    seq = models.PositiveIntegerField(_("序号"))
    received_on = models.DateField(_("收到日期"))
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    text = models.TextField(_("意见内容"))
    # Personal information (个人信息保护法): only what the channel gave; contact details encrypted at rest and
    # masked for every reader until the lead unit reveals them, each time audited (decisions.personal).
    commenter_name = models.CharField(_("提出人"), max_length=200)
    commenter_organisation = models.CharField(_("单位"), max_length=200, blank=True)
    phone = EncryptedTextField(_("联系电话"), blank=True)
    email = EncryptedTextField(_("电子邮箱"), blank=True)
    id_number = EncryptedTextField(_("身份证号"), blank=True)
    name_public = models.BooleanField(_("同意公开姓名"), default=False)
    disposition = models.CharField(
        _("采纳情况"), max_length=20, choices=Disposition.choices, default=Disposition.PENDING
    )
    reason = models.TextField(_("理由"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    answered_role = models.CharField(max_length=30, choices=Role.choices, blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    import_batch = models.UUIDField(_("导入批次"), null=True, blank=True, db_index=True)
    # Empty when the commenter sent the comment through the online form (线上参与平台): no staff member recorded it.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The online form's one-time token: the same form sent twice records one comment, and its receipt finds it.
    online_token = models.UUIDField(_("线上提交凭证"), null=True, blank=True, unique=True, editable=False)
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("公众意见")
        verbose_name_plural = _("公众意见台账")
        ordering = ["stage_record", "seq"]
        constraints = [models.UniqueConstraint(fields=["stage_record", "seq"], name="unique_comment_seq")]

    def __str__(self):
        return f"意见 {self.seq}（{self.get_disposition_display()}）"

    def delete(self, *args, **kwargs):
        raise PermissionError("公众意见是决策记录的一部分，不得删除 (comments are never deleted)")


class SigningKey(models.Model):
    """A signer's registered public key (不可否认性); the private key stays in the UKey or the signing service.

    Revoking sets `revoked_at`: the key signs nothing afterwards, and what it signed stays verifiable.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signing_keys")
    algorithm = models.CharField(_("签名算法"), max_length=20)
    public_key = models.TextField(_("公钥"))  # base64 of the raw key (Ed25519 32 bytes, SM2 04‖x‖y)
    fingerprint = models.CharField(_("公钥指纹"), max_length=64, unique=True)  # SHA-256 of the raw key
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("签名公钥")
        verbose_name_plural = _("签名公钥")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "algorithm"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_signing_key_per_algorithm",
            )
        ]

    def __str__(self):
        return f"{self.user} {self.algorithm} {self.fingerprint[:16]}"
