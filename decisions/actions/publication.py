"""Actions after the meeting's approval: the report to the party committee and its reply, T21a, T21, T22."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from decisions import lifecycle
from decisions.actions import DATE_INPUT, ActionForm, UploadField, action, lazy_format
from decisions.actions.initiation import yes_no
from decisions.models import DocumentType, Role, Stage
from decisions.profiles import PUBLICATION_CHANNEL_LABELS
from decisions.rules import publication as rules
from decisions.services import publication

PROOF_PREFIX = "proof_"


def not_in_future(value):
    if value is not None and value > timezone.localdate():
        raise forms.ValidationError(_("日期不得晚于今日"), code="future")


def date_field(label, help_text=""):
    return forms.DateField(
        label=label,
        widget=DATE_INPUT,
        initial=timezone.localdate,
        validators=[not_in_future],
        help_text=help_text,
    )


@action(
    "party-report",
    label=_("记录向党委请示报告"),
    roles=[Role.PARTY_LIAISON],
    states=[lifecycle.DECIDED],
    article="第三十一条",
)
class PartyReportForm(ActionForm):
    document = UploadField(DocumentType.PARTY_REPORT, label=_("请示报告"))
    reported_on = date_field(_("报告日期"), _("请示报告报送党委的日期"))

    def run(self, user):
        return publication.record_party_report(
            user, self.decision, document=self.upload("document"), reported_on=self.cleaned_data["reported_on"]
        )


@action(
    "party-reply",
    label=_("记录党委答复"),
    roles=[Role.PARTY_LIAISON],
    states=[lifecycle.DECIDED],
    article="第三十一条",
)
class PartyReplyForm(ActionForm):
    agrees = yes_no(_("党委是否同意"), _("不同意的，由政府办公室退回修改，重新提交会议审议"))
    document = UploadField(DocumentType.PARTY_REPLY, label=_("党委答复"))
    reply_on = date_field(_("答复日期"))

    def run(self, user):
        data = self.cleaned_data
        return publication.record_party_reply(
            user, self.decision, document=self.upload("document"), reply_on=data["reply_on"], agrees=data["agrees"]
        )


@action("return-after-party-reply", label=_("党委不同意，退回修改"), tid="T21a", danger=True)
class ReturnAfterPartyReplyForm(ActionForm):
    reason = forms.CharField(
        label=_("退回修改的理由"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("写明党委答复的主要意见；修改后须重新提交会议审议并再次请示报告"),
    )
    supplies = frozenset({"REASON_REQUIRED"})

    def run(self, user):
        return publication.return_after_party_reply(user, self.decision, reason=self.cleaned_data["reason"])


@action("publish", label=_("公布决策"), tid="T21")
class PublishForm(ActionForm):
    """T21: the channels the profile names for this kind of organ, each with its proof (第三十二条)."""

    channels = forms.MultipleChoiceField(label=_("公布渠道"), required=False, widget=forms.CheckboxSelectMultiple)
    final_decision = UploadField(DocumentType.FINAL_DECISION, label=_("决策文件(正式印发文本)"))
    public_concern = forms.BooleanField(label=_("社会广泛关注"), required=False)
    highly_technical = forms.BooleanField(label=_("专业性、技术性较强"), required=False)
    interpretation = UploadField(
        DocumentType.INTERPRETATION,
        label=_("政策解读"),
        required=False,
        help_text=_("社会广泛关注或专业性、技术性较强的，须说明公众意见、专家论证意见的采纳情况(第三十二条)"),
    )
    supplies = frozenset({"PUBLICATION_CHANNELS_MISSING", "NPC_REPORT_MISSING"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        required = rules.required_channels(self.decision) or []
        channels = self.fields["channels"]
        channels.choices = [(code, _(PUBLICATION_CHANNEL_LABELS.get(code, code))) for code in required]
        channels.initial = list(required)
        if required:
            channels.help_text = _("按规则配置，本机关的决策须通过以上全部渠道公布")
        else:
            channels.help_text = _("规则配置尚未为此类决策机关设定公布渠道，暂不能公布")
        proofs = {
            f"{PROOF_PREFIX}{code}": UploadField(
                DocumentType.CHANNEL_PROOF,
                label=lazy_format(_("“%(channel)s”公布证明"), channel=label),
                required=False,
                help_text=_("公报期号页、网页截图或报纸版面"),
            )
            for code, label in channels.choices
        }
        order = ["channels", *proofs, "final_decision", "public_concern", "highly_technical", "interpretation"]
        fields = {**self.fields, **proofs}
        # A flag already raised at T6 stays raised: the service never clears it.
        for name in ("public_concern", "highly_technical"):
            if getattr(self.decision, name):
                fields[name].initial = True
                fields[name].disabled = True
        if self.decision.requires_npc_report:
            fields["npc_report"] = UploadField(
                DocumentType.NPC_REPORT,
                label=_("向本级人大常委会报告的材料"),
                required=False,
                help_text=_("须向人大常委会报告的事项，出台前须有报告记录(第八条)；会议阶段已上传的无需重复"),
            )
            order.append("npc_report")
        self.fields = {name: fields[name] for name in order}

    def clean(self):
        cleaned = super().clean()
        chosen = set(cleaned.get("channels") or [])
        for code, label in self.fields["channels"].choices:
            name = f"{PROOF_PREFIX}{code}"
            if name in self.errors:
                continue
            if code in chosen and not cleaned.get(name):
                self.add_error(name, _("已勾选“%(channel)s”，须上传该渠道的公布证明") % {"channel": label})
            elif code not in chosen and cleaned.get(name):
                self.add_error(name, _("未勾选“%(channel)s”：请勾选该渠道，或不上传此证明") % {"channel": label})
        return cleaned

    def run(self, user):
        data = self.cleaned_data
        channels = list(data["channels"])
        return publication.publish(
            user,
            self.decision,
            channels=channels,
            proofs={code: self.upload(f"{PROOF_PREFIX}{code}") for code in channels},
            final_decision=self.upload("final_decision"),
            interpretation=self.upload("interpretation"),
            npc_report=self.upload("npc_report") if "npc_report" in self.fields else None,
            public_concern=data["public_concern"],
            highly_technical=data["highly_technical"],
        )


@action(
    "record-not-public",
    label=_("记录依法不予公开的依据"),
    roles=[Role.GOV_OFFICE],
    states=[lifecycle.DECIDED],
    article="第三十二条",
)
class RecordNotPublicForm(ActionForm):
    legal_basis = forms.CharField(
        label=_("不予公开的法律依据"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("写明法律文件名称和条款；记录后须由政府办公室另一名工作人员审核并印发"),
    )
    evidence = UploadField(DocumentType.NOT_PUBLIC_BASIS, label=_("不予公开的依据材料"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.decision.confidential_basis:
            self.fields["legal_basis"].initial = self.decision.confidential_basis  # as answered at T6

    def run(self, user):
        return publication.record_not_public(
            user, self.decision, legal_basis=self.cleaned_data["legal_basis"], evidence=self.upload("evidence")
        )


@action("issue-not-public", label=_("审核不予公开并印发执行"), tid="T22")
class IssueNotPublicForm(ActionForm):
    final_decision = UploadField(DocumentType.FINAL_DECISION, label=_("决策文件(正式印发文本)"))
    supplies = frozenset({"NPC_REPORT_MISSING"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        record = self.decision.current_record(Stage.PUB)
        waiver = None
        if record is not None and not record.is_closed:
            pending = record.waivers.filter(reason_code=rules.CONFIDENTIAL_BY_LAW, approved_by__isnull=True)
            waiver = pending.select_related("recorded_by").order_by("-id").first()
        self.fields["final_decision"].help_text = (
            _("待审核的不予公开依据：%(basis)s(记录人：%(user)s)。须由记录人以外的政府办公室工作人员审核印发")
            % {"basis": waiver.legal_basis, "user": waiver.recorded_by.get_full_name() or waiver.recorded_by}
            if waiver is not None
            else _("须先记录依法不予公开的依据，再由另一名政府办公室工作人员审核印发")
        )
        if self.decision.requires_npc_report:
            self.fields["npc_report"] = UploadField(
                DocumentType.NPC_REPORT,
                label=_("向本级人大常委会报告的材料"),
                required=False,
                help_text=_("须向人大常委会报告的事项，出台前须有报告记录(第八条)"),
            )

    def run(self, user):
        return publication.issue_not_public(
            user,
            self.decision,
            final_decision=self.upload("final_decision"),
            npc_report=self.upload("npc_report") if "npc_report" in self.fields else None,
        )
