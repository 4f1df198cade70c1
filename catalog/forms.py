"""Forms of the catalogue pages. They check the shape of the input (required, dates, files); the rules of
B9 are checked by the services, whose refusals the pages show beside the form."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from catalog import entries as entry_fields
from catalog.models import CatalogueAdjustment, CatalogueEntry, RequiredProcedure
from decisions.actions import RecordsField, check_file
from decisions.models import Decision, DocumentType, Organisation
from decisions.services.common import Upload

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def as_upload(uploaded, title="", doc_type=DocumentType.OTHER):
    """Turn a Django UploadedFile into the Upload the services store (content read once)."""
    if uploaded is None:
        return None
    return Upload(doc_type=doc_type, name=uploaded.name, content=uploaded.read(), title=title)


class FileField(forms.FileField):
    """An upload of a record, limited in type, size and content as the services are (B10)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", _("PDF、OFD、Word、WPS 或图片；不超过上传大小上限"))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        uploaded = super().clean(data, initial)
        if uploaded:
            check_file(uploaded)  # type, size and content, as the services check them
        return uploaded


class OpenCatalogueForm(forms.Form):
    organ = forms.ModelChoiceField(label=_("决策机关"), queryset=Organisation.objects.none())
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("标题"), max_length=200, required=False, help_text=_("留空则按机关和年度生成"))
    call_for_proposals = FileField(label=_("征集通知"))

    def __init__(self, *args, organs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organ"].queryset = organs


class EntryForm(forms.Form):
    """The fields of a catalogue entry (B9), as published (A5)."""

    name = forms.CharField(label=_("决策事项名称"), max_length=300)
    main_content = forms.CharField(label=_("主要内容"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    category = forms.ChoiceField(label=_("事项类别(第三条第一款)"), choices=Decision.Category.choices)
    decision_body = forms.CharField(label=_("决策主体"), max_length=200, required=False)
    lead_unit = forms.ModelChoiceField(label=_("承办单位"), queryset=Organisation.objects.none())
    co_units = RecordsField(
        label=_("协办单位"), queryset=Organisation.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    legal_policy_basis = forms.CharField(
        label=_("法律政策依据"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    required_procedures = forms.MultipleChoiceField(
        label=_("履行程序要求"),
        choices=RequiredProcedure.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("合法性审查、集体讨论决定无论是否勾选都必须履行"),
    )
    planned_submission_from = forms.DateField(label=_("计划提交审议(起)"), required=False, widget=DATE_INPUT)
    planned_submission_to = forms.DateField(label=_("计划提交审议(止)"), required=False, widget=DATE_INPUT)
    planned_submission_text = forms.CharField(
        label=_("拟提交审议时间(公布的表述)"), max_length=100, required=False, help_text=_("例如：8月份")
    )
    planned_completion = forms.CharField(label=_("计划完成时间"), max_length=100, required=False)
    proposer_type = forms.ChoiceField(
        label=_("提出主体类别"),
        choices=[("", "—")] + [c for c in Decision.SourceType.choices if c[0] in entry_fields.PROPOSER_TYPES],
        required=False,
    )
    remarks = forms.CharField(label=_("备注"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, organ, **kwargs):
        super().__init__(*args, **kwargs)
        units = Organisation.objects.filter(parent=organ).exclude(kind=Organisation.Kind.GOVERNMENT)
        self.fields["lead_unit"].queryset = units
        self.fields["co_units"].queryset = units

    def clean(self):
        data = super().clean()
        start, end = data.get("planned_submission_from"), data.get("planned_submission_to")
        if start and end and start > end:
            self.add_error("planned_submission_to", _("止日不能早于起日"))
        if not (start or end or data.get("planned_submission_text") or data.get("planned_completion")):
            self.add_error("planned_submission_text", _("请填写计划时间(拟提交审议时间或计划完成时间)"))
        return data

    def entry_values(self):
        """The cleaned data as the services' entry fields."""
        data = dict(self.cleaned_data)
        data["co_units"] = list(data.get("co_units") or [])
        return {k: v for k, v in data.items() if k in entry_fields.ENTRY_FIELDS}

    @classmethod
    def initial_from(cls, entry: CatalogueEntry):
        values = entry_fields.of_entry(entry)
        values.pop("proposal_fields", None)
        return values


class UploadForm(forms.Form):
    """One record of a step (征集通知、汇总清单、审核意见、政府审定 …)."""

    document = FileField(label=_("材料"))
    title = forms.CharField(label=_("材料标题"), max_length=200, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 3}))


class NonConsentForm(ReasonForm):
    document = FileField(label=_("党委意见材料"), required=False)
    issued_on = forms.DateField(label=_("日期"), required=False, widget=DATE_INPUT)
    issued_by = forms.CharField(label=_("出具机关"), max_length=200, required=False)


class ConsentForm(forms.Form):
    document = FileField(label=_("党委同意文件"))
    issued_on = forms.DateField(label=_("日期"), widget=DATE_INPUT)
    issued_by = forms.CharField(label=_("出具机关"), max_length=200, help_text=_("例如：中共湖州市委"))


class PublishForm(forms.Form):
    notice_number = forms.CharField(label=_("公布文号"), max_length=100, help_text=_("例如：湖政办发〔2026〕3号"))
    notice_date = forms.DateField(label=_("公布日期"), widget=DATE_INPUT)
    notice_url = forms.URLField(label=_("公布网址"), assume_scheme="https")
    document = FileField(label=_("公布通知"))


class YearEndForm(forms.Form):
    document = FileField(label=_("年度完成情况报告"), help_text=_("可先下载系统生成的报告，签章后上传"))
    published_on = forms.DateField(label=_("公布日期"), widget=DATE_INPUT)


class DispositionForm(forms.Form):
    disposition = forms.ChoiceField(label=_("年终处理"), choices=CatalogueEntry.YearEndDisposition.choices)


class AdjustmentForm(EntryForm):
    """Propose an adjustment: the kind, the reason, the entry it concerns and, for ADD/MODIFY, the new entry data."""

    kind = forms.ChoiceField(label=_("调整类别"), choices=CatalogueAdjustment.Kind.choices)
    entry = forms.ChoiceField(label=_("涉及的目录事项"), required=False)
    reason = forms.CharField(label=_("调整理由"), widget=forms.Textarea(attrs={"rows": 3}))
    document = FileField(label=_("调整申请材料"), required=False)

    field_order = ["kind", "entry", "reason", "document"]

    def __init__(self, *args, catalogue, **kwargs):
        super().__init__(*args, organ=catalogue.organ, **kwargs)
        self.catalogue = catalogue
        current = list(catalogue.entries_at().order_by("seq_no"))
        self.entries = {str(e.key): e for e in current}
        self.fields["entry"].choices = [("", "—")] + [(str(e.key), f"{e.seq_no}. {e.name}") for e in current]
        for name in list(self.fields):
            if name in entry_fields.ENTRY_FIELDS:
                self.fields[name].required = False  # only ADD and MODIFY carry entry data

    def clean(self):
        data = forms.Form.clean(self)
        kind = data.get("kind")
        if kind in (CatalogueAdjustment.Kind.REMOVE, CatalogueAdjustment.Kind.MODIFY) and not data.get("entry"):
            self.add_error("entry", _("撤出或调整须选择目录事项"))
        if kind == CatalogueAdjustment.Kind.ADD and not data.get("name"):
            self.add_error("name", _("新增事项须填写事项名称"))
        return data

    def adjustment_data(self):
        """The entry fields the adjustment carries: for MODIFY only those that differ from the entry."""
        kind = self.cleaned_data["kind"]
        if kind == CatalogueAdjustment.Kind.REMOVE:
            return {}
        values = self.entry_values()
        if kind == CatalogueAdjustment.Kind.ADD:
            return {k: v for k, v in values.items() if v not in (None, "", [])}
        current = entry_fields.of_entry(self.entries[self.cleaned_data["entry"]])
        changed = {}
        for name, value in values.items():
            if value in (None, "", []):
                continue
            old = current.get(name)
            if name == "co_units":
                if {u.pk for u in value} != {u.pk for u in old}:
                    changed[name] = value
            elif name == "required_procedures":
                if sorted(value) != sorted(old or []):
                    changed[name] = value
            elif value != old:
                changed[name] = value
        return changed


class ProposalForm(forms.Form):
    """A proposal (决策建议, 第十条) registered by a unit, the office or submitted by a citizen."""

    title = forms.CharField(label=_("建议事项名称"), max_length=300)
    source_type = forms.ChoiceField(label=_("建议来源"), choices=[])
    proposer_name = forms.CharField(label=_("建议人/单位"), max_length=200, required=False)
    category = forms.ChoiceField(label=_("事项类别"), choices=[("", "—"), *Decision.Category.choices], required=False)
    problem = forms.CharField(label=_("拟解决的主要问题"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    reasons_and_basis = forms.CharField(
        label=_("建议理由和依据"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    preliminary_plan = forms.CharField(
        label=_("解决问题的初步方案"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    necessity = forms.CharField(label=_("必要性"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    feasibility = forms.CharField(label=_("可行性"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, source_types=None, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = source_types or [
            t for t in Decision.SourceType.values if t != Decision.SourceType.CATALOGUE_COMPILATION
        ]
        self.fields["source_type"].choices = [c for c in Decision.SourceType.choices if c[0] in allowed]

    def proposal_values(self):
        data = self.cleaned_data
        return {k: data[k] for k in entry_fields.PROPOSAL_FIELDS if data.get(k)}


class PublicProposalForm(ProposalForm):
    """A citizen's written proposal (第十条第一款第(四)项): no contact details are collected (个人信息保护法: only what is needed)."""

    website = forms.CharField(required=False, widget=forms.HiddenInput)  # left empty by people, filled by bots

    def __init__(self, *args, **kwargs):
        super().__init__(*args, source_types=[Decision.SourceType.CITIZEN], **kwargs)
        del self.fields["source_type"]  # always a citizen's proposal here
        self.fields["proposer_name"].required = True
        self.fields["problem"].required = True
        self.fields["reasons_and_basis"].required = True


class NotApplicableForm(forms.Form):
    reason = forms.ChoiceField(label=_("不适用理由(第三条第二款)"), choices=Decision.ApplicabilityReason.choices)
    explanation = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}))


class ListProposalForm(EntryForm):
    """Move a registered proposal into a catalogue being collected."""

    catalogue = forms.ModelChoiceField(label=_("列入目录"), queryset=None)

    field_order = ["catalogue"]

    def __init__(self, *args, catalogues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["catalogue"].queryset = catalogues
        self.fields["proposer_type"].required = False


class ImportForm(forms.Form):
    workbook = forms.FileField(label=_("Excel 文件(.xlsx)"), help_text=_("请使用下载的模板；导入前会先预览并逐行检查"))

    def clean_workbook(self):
        uploaded = self.cleaned_data["workbook"]
        if uploaded.size > settings.JUECE_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("文件过大"))
        return uploaded
