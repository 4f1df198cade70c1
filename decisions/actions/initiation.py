"""Actions from the start decision to the first draft: T2a, T3b, T4, T5, drafting records, draft versions, T6."""

from django import forms
from django.utils.translation import gettext_lazy as _

from decisions import lifecycle
from decisions.actions import ActionForm, RecordsField, UploadField, action
from decisions.models import DocumentType, Organisation, Role
from decisions.rules.facts import param
from decisions.rules.initiation import TRIGGER_QUESTIONS
from decisions.services import documents, initiation

YES_NO = ((True, _("是")), (False, _("否")))


def units_of(organ):
    """The organ's departments: who may undertake a decision (第十一条)."""
    return Organisation.objects.filter(parent=organ, kind=Organisation.Kind.DEPARTMENT).order_by("name")


def yes_no(label, help_text=""):
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value in (True, "True", "true", "1"),
        widget=forms.RadioSelect,
        help_text=help_text,
    )


@action("decline", label=_("决策机关决定不予启动"), tid="T2a", danger=True)
class DeclineForm(ActionForm):
    reason = forms.CharField(label=_("不予启动的理由"), widget=forms.Textarea(attrs={"rows": 3}))
    record = UploadField(DocumentType.DECLINE_RECORD, label=_("不予启动决定(领导批示或会议纪要)"))

    def run(self, user):
        return initiation.decline(user, self.decision, reason=self.cleaned_data["reason"], documents=self.uploads())


class StartForm(ActionForm):
    """T4 / T3b: the organ's start decision names the lead unit and co-units (第十一条)."""

    lead_unit = forms.ModelChoiceField(label=_("牵头承办单位"), queryset=Organisation.objects.none())
    co_units = RecordsField(
        label=_("协办单位"), queryset=Organisation.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    lead_unit_change_reason = forms.CharField(
        label=_("与目录所列承办单位不一致的理由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("另行确定承办单位时必填(P18)"),
    )
    start_decision = UploadField(DocumentType.START_DECISION, label=_("启动决定(领导批示或会议纪要)"))
    study_opinion = UploadField(DocumentType.STUDY_OPINION, label=_("研究论证意见"))
    supplies = frozenset({"LEAD_UNIT_MISSING", "REASON_REQUIRED"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        units = units_of(self.decision.organ)
        self.fields["lead_unit"].queryset = units
        self.fields["co_units"].queryset = units
        listed = self.decision.catalogue_entries.exclude(lead_unit=None).order_by("-id").first()
        if listed is not None:
            self.fields["lead_unit"].initial = listed.lead_unit_id
            self.fields["lead_unit"].help_text = _("目录所列承办单位：%(unit)s") % {"unit": listed.lead_unit.name}

    def clean(self):
        cleaned = super().clean()
        lead, co = cleaned.get("lead_unit"), cleaned.get("co_units") or []
        if lead is not None and lead in co:
            self.add_error("co_units", _("牵头承办单位不能同时作为协办单位"))
        return cleaned

    def arguments(self):
        data = self.cleaned_data
        return {
            "lead_unit": data["lead_unit"],
            "co_units": list(data["co_units"]),
            "lead_unit_change_reason": data["lead_unit_change_reason"],
            "documents": self.uploads(),
        }


@action("initiate", label=_("决策启动，确定承办单位"), tid="T4")
class InitiateForm(StartForm):
    def run(self, user):
        return initiation.initiate(user, self.decision, **self.arguments())


@action("start-without-catalogue", label=_("不经目录启动决策"), tid="T3b")
class StartWithoutCatalogueForm(StartForm):
    def run(self, user):
        return initiation.start_without_catalogue(user, self.decision, **self.arguments())


@action("start-drafting", label=_("开始拟订决策草案"), tid="T5")
class StartDraftingForm(ActionForm):
    def run(self, user):
        return initiation.start_drafting(user, self.decision)


@action(
    "drafting-records",
    label=_("上传草案拟订材料"),
    roles=[Role.UNDERTAKING_LEAD, Role.UNDERTAKING_CO],
    states=[lifecycle.DRAFTING],
    article="第十二条、第十三条",
)
class DraftingRecordsForm(ActionForm):
    research_report = UploadField(DocumentType.RESEARCH_REPORT, label=_("调研报告"), required=False)
    law_policy_list = UploadField(
        DocumentType.LAW_POLICY_LIST, label=_("法律、法规、规章和政策梳理清单"), required=False
    )
    consultation_record = UploadField(
        DocumentType.CONSULTATION_RECORD, label=_("部门协商记录及分歧说明(第十三条)"), required=False
    )
    draft_explanation = UploadField(DocumentType.DRAFT_EXPLANATION, label=_("起草说明"), required=False)
    cost_benefit = UploadField(DocumentType.COST_BENEFIT, label=_("成本效益分析(根据需要)"), required=False)
    alternative_options = UploadField(
        DocumentType.ALTERNATIVE_OPTIONS, label=_("备选方案(存在较大分歧时)"), required=False
    )

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not any(cleaned.get(name) for name in self.fields):
            raise forms.ValidationError(_("请至少上传一份材料"), code="nothing")
        return cleaned

    def run(self, user):
        return initiation.upload_drafting_documents(user, self.decision, self.uploads())


@action(
    "draft-version",
    label=_("提交决策草案新版本"),
    roles=[Role.UNDERTAKING_LEAD],
    states=[
        lifecycle.DRAFTING,
        lifecycle.CONSULTATION,
        lifecycle.LEGAL_REVIEW_RETURNED,
        lifecycle.REVISING,
        lifecycle.DEFERRED,
    ],
    article="第十二条",
)
class DraftVersionForm(ActionForm):
    draft = UploadField(DocumentType.DRAFT, label=_("决策草案"))
    change_summary = forms.CharField(
        label=_("修改说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=_("第一稿可写“初稿”")
    )

    def run(self, user):
        return documents.add_draft_version(
            user, self.decision, self.upload("draft"), change_summary=self.cleaned_data["change_summary"]
        )


# The trigger questionnaire of T6 (B6), in the order an undertaking unit thinks about it.
QUESTION_LABELS = {
    "affects_specific_group": (
        _("是否涉及特定群体利益"),
        _("是：须听取有关人民团体、社会组织和群众代表意见(第十四条第三款)"),
    ),
    "public_concern": (_("是否社会普遍关注"), _("是：公布时须作解读(第三十二条)")),
    "direct_vital_interest": (_("是否直接涉及群众切身利益"), ""),
    "major_disagreement": (_("是否存在较大分歧"), ""),
    "hearing_required_by_law": (_("法律、法规、规章是否要求听证"), _("是：须填写文件名称和条款(第十六条)")),
    "highly_technical": (_("是否专业性、技术性较强"), _("是：须组织专家论证(第十九条)")),
    "stability_or_safety_impact": (
        _("实施是否可能对社会稳定、公共安全等方面造成不利影响"),
        _("是：须进行风险评估(第二十二条)"),
    ),
    "market_affecting": (_("是否涉及市场主体经济活动"), _("是：须进行公平竞争审查(第二十九条)")),
    "confidential_by_law": (_("是否属于依法不予公开的决策事项"), _("是：须写明法律依据(第十四条、第三十二条)")),
    "major_interest_readjustment": (_("是否涉及重大利益调整"), _("浙江规则：与“较大分歧”之一为是即须听证")),
}


@action("open-consultation", label=_("决策草案形成，进入公众参与、专家论证、风险评估"), tid="T6")
class OpenConsultationForm(ActionForm):
    hearing_law_instrument = forms.CharField(label=_("要求听证的法律文件"), max_length=200, required=False)
    hearing_law_article = forms.CharField(label=_("要求听证的条款"), max_length=60, required=False)
    confidential_basis = forms.CharField(
        label=_("不予公开的法律依据"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    exploratory_reform = forms.BooleanField(label=_("探索性改革事项(国家尚无明确规定)"), required=False)
    exploratory_statement = forms.CharField(
        label=_("国家尚无明确规定的说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    requires_npc_report = forms.BooleanField(label=_("出台前须向本级人大常委会报告(第八条)"), required=False)
    research_report = UploadField(DocumentType.RESEARCH_REPORT, label=_("调研报告"), required=False)
    law_policy_list = UploadField(DocumentType.LAW_POLICY_LIST, label=_("法律法规政策梳理清单"), required=False)
    consultation_record = UploadField(DocumentType.CONSULTATION_RECORD, label=_("部门协商记录"), required=False)
    draft_explanation = UploadField(DocumentType.DRAFT_EXPLANATION, label=_("起草说明"), required=False)
    supplies = frozenset({"TRIGGER_QUESTIONNAIRE_INCOMPLETE", "REASON_REQUIRED"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        asked = set(TRIGGER_QUESTIONS)
        if param(self.decision, "hearing_mandatory_rule") == "zj_flags":
            asked.add("major_interest_readjustment")  # the Zhejiang hearing rule (P11)
        questions = [q for q in QUESTION_LABELS if q in asked]
        for name in reversed(questions):
            label, help_text = QUESTION_LABELS[name]
            field = yes_no(label, help_text)
            current = getattr(self.decision, name, None)
            if current is not None:
                field.initial = current
            self.fields = {name: field, **self.fields}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("hearing_required_by_law") and not (
            cleaned.get("hearing_law_instrument") and cleaned.get("hearing_law_article")
        ):
            self.add_error("hearing_law_instrument", _("法律、法规、规章要求听证的，须写明文件名称和条款"))
        if cleaned.get("confidential_by_law") and not cleaned.get("confidential_basis"):
            self.add_error("confidential_basis", _("依法不予公开的，须写明法律依据"))
        if cleaned.get("exploratory_reform") and not cleaned.get("exploratory_statement"):
            self.add_error("exploratory_statement", _("探索性改革事项须说明国家尚无明确规定的情况"))
        return cleaned

    def run(self, user):
        answers = {
            name: value
            for name, value in self.cleaned_data.items()
            if name in initiation.QUESTIONNAIRE_FIELDS and not isinstance(self.fields[name], UploadField)
        }
        return initiation.open_consultation(user, self.decision, answers=answers, documents=self.uploads())
