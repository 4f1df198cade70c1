"""Forms of the public comments ledger (公众意见台账, 第十八条): record one comment, import a ledger file,
answer many comments at once. The ledger itself is read on its own page (decisions.ledger)."""

from django import forms
from django.conf import settings
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from decisions import lifecycle
from decisions.actions import DATE_INPUT, OPEN, ActionForm, RecordsField, action, lazy_format
from decisions.models import Comment, Role, Stage
from decisions.personal import email_problem, id_number_problem, phone_problem
from decisions.rules.consultation import comment_periods
from decisions.services import comments as ledger_services
from decisions.services.consultation import today

# Offered to the lead unit while public participation is in progress (第十八条).
LEDGER = {
    "roles": [Role.UNDERTAKING_LEAD],
    "states": [lifecycle.CONSULTATION],
    "stage": Stage.PP,
    "stage_statuses": OPEN,
    "article": "第十八条",
}
# The public's own online form records its comments itself; a clerk records what came by the other channels.
CLERK_CHANNELS = [(value, label) for value, label in Comment.Channel.choices if value != Comment.Channel.ONLINE_FORM]
ANSWER_CHOICES = [(value, Comment.Disposition(value).label) for value in ledger_services.ANSWERS]
SHOWN_PROBLEMS = 200  # a file wrong on every row still gives a page that can be read


def optional(label, help_text="", max_length=None):
    return forms.CharField(label=label, required=False, max_length=max_length, help_text=help_text)


def _checked(value, problem):
    message = problem(value)
    if message:
        raise forms.ValidationError(message, code="invalid")
    return value


@action("comment-add", label=_("登记公众意见"), **LEDGER)
class AddCommentForm(ActionForm):
    text = forms.CharField(label=_("意见内容"), widget=forms.Textarea(attrs={"rows": 5}))
    commenter_name = forms.CharField(label=_("提出人"), max_length=200, help_text=_("匿名来信可填“匿名”"))
    name_public = forms.BooleanField(label=_("提出人同意公开姓名"), required=False)
    commenter_organisation = optional(_("单位"), max_length=200)
    received_on = forms.DateField(label=_("收到日期"), widget=DATE_INPUT)
    channel = forms.ChoiceField(label=_("渠道"), choices=CLERK_CHANNELS)
    period = forms.ModelChoiceField(
        label=_("所回应的征求意见公告"),
        queryset=None,
        required=False,
        empty_label=_("按收到日期自动对应"),
    )
    phone = optional(_("联系电话"), _("个人信息：渠道提供了才填"), 30)
    email = optional(_("电子邮箱"), _("个人信息：渠道提供了才填"), 254)
    id_number = optional(_("身份证号"), _("个人信息：渠道提供了才填"), 18)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = today()
        self.fields["period"].queryset = comment_periods(self.decision.current_record(Stage.PP))

    def clean_phone(self):
        return _checked(self.cleaned_data["phone"], phone_problem)

    def clean_email(self):
        return _checked(self.cleaned_data["email"], email_problem)

    def clean_id_number(self):
        return _checked(self.cleaned_data["id_number"], id_number_problem)

    def run(self, user):
        return ledger_services.add_comment(user, self.decision, **self.cleaned_data)


@action("comment-import", label=_("导入公众意见台账(Excel/CSV)"), **LEDGER)
class ImportCommentsForm(ActionForm):
    file = forms.FileField(
        label=_("意见台账文件"),
        help_text=_("Excel 工作簿(.xlsx)或 CSV(UTF-8 或 GB18030)，按模板的列名填写；任何一行有误时整个文件都不导入"),
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > settings.JUECE_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("文件超过上传大小上限"), code="file_size")
        uploaded.seek(0)
        self.content = uploaded.read()
        preview = ledger_services.parse_comments(uploaded.name, self.content)
        if preview.errors:
            shown = [forms.ValidationError(str(p), code="row") for p in preview.errors[:SHOWN_PROBLEMS]]
            if len(preview.errors) > SHOWN_PROBLEMS:
                more = len(preview.errors) - SHOWN_PROBLEMS
                shown.append(forms.ValidationError(_("另有 %(n)d 处错误未列出") % {"n": more}, code="more"))
            raise forms.ValidationError(shown)
        return uploaded

    def run(self, user):
        return ledger_services.import_comments(user, self.decision, self.cleaned_data["file"].name, self.content)


class SuggestionsInput(forms.TextInput):
    """A text input offering ready-made texts the user picks and then edits (an HTML datalist, no script)."""

    def __init__(self, suggestions, list_id, attrs=None):
        super().__init__({**(attrs or {}), "list": list_id})
        self.suggestions, self.list_id = suggestions, list_id

    def render(self, name, value, attrs=None, renderer=None):
        options = format_html_join("", '<option value="{}"></option>', ((text,) for text in self.suggestions))
        datalist = format_html('<datalist id="{}">{}</datalist>', self.list_id, options)
        return super().render(name, value, attrs, renderer) + datalist


class PendingCommentField(RecordsField):
    def label_from_instance(self, comment):
        text = comment.text if len(comment.text) <= 60 else comment.text[:60] + "…"
        return _("%(seq)s. %(text)s（%(channel)s，%(date)s）") % {
            "seq": comment.seq,
            "text": text,
            "channel": comment.get_channel_display(),
            "date": f"{comment.received_on:%Y-%m-%d}",
        }


@action("comment-answer", label=_("答复公众意见(可批量)"), **LEDGER)
class AnswerCommentsForm(ActionForm):
    comments = PendingCommentField(label=_("待研究的意见"), queryset=None, widget=forms.CheckboxSelectMultiple)
    disposition = forms.ChoiceField(label=_("采纳情况"), choices=ANSWER_CHOICES, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("理由"),
        widget=SuggestionsInput(ledger_services.REASON_TEMPLATES, "comment-reason-templates"),
        help_text=lazy_format(
            _("可从常用理由中选择后修改：%(templates)s；“第X条”须改为草案的具体条款"),
            templates="、".join(ledger_services.REASON_TEMPLATES),
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        record = self.decision.current_record(Stage.PP)
        pending = record.comments.filter(disposition=Comment.Disposition.PENDING) if record else Comment.objects.none()
        self.fields["comments"].queryset = pending.order_by("seq")

    def run(self, user):
        data = self.cleaned_data
        return ledger_services.answer(
            user, self.decision, list(data["comments"]), disposition=data["disposition"], reason=data["reason"]
        )


LEDGER_ACTIONS = (AddCommentForm, ImportCommentsForm, AnswerCommentsForm)
