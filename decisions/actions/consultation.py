"""Actions of public participation, hearing, expert review and risk assessment (第十四条至第二十四条; T6a–T9).

PP, HEARING, EX and RA are sub-stages of the one state CONSULTATION (P1): their rows are not decision
steps in lifecycle.STEPS, so each action names its roles, the state and the sub-stage record's statuses
itself. `tid` is kept as a label on the forms of a B5 row; on the closing forms (T7, T7b, T8, T9) it
also lets the page show that row's conditions. Every refusal comes from decisions/services/consultation.py.
"""

import dataclasses
from functools import cached_property

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from decisions import lifecycle, personal
from decisions.actions import DATE_INPUT, OPEN, PENDING_OR_OPEN, ActionForm, UploadField, action
from decisions.actions.initiation import QUESTION_LABELS, yes_no
from decisions.calendar import calendar_days_between, localdate
from decisions.models import (
    CommentPeriod,
    DocumentType,
    DraftVersion,
    ExpertMember,
    HearingParticipant,
    RiskAssessment,
    RiskLevel,
    Role,
    Stage,
    StageStatus,
)
from decisions.rules import consultation as rules
from decisions.rules import in_language
from decisions.rules.facts import param
from decisions.rules.initiation import TRIGGER_QUESTIONS
from decisions.services import consultation, documents

CONSULTING = [lifecycle.CONSULTATION]
LEAD = [Role.UNDERTAKING_LEAD]
PENDING = (StageStatus.PENDING,)
CLOSED = tuple(rules.CLOSED)
ZJ_ARTICLE_7 = "《浙江省重大行政决策程序规定》第七条"


def substage_action(name, stage, statuses, *, roles=LEAD, **kwargs):
    """Register an action offered while the decision is in CONSULTATION and `stage`'s record has `statuses`."""
    return action(name, roles=roles, states=CONSULTING, stage=stage, stage_statuses=statuses, **kwargs)


def text(label, help_text="", required=True, rows=3):
    return forms.CharField(
        label=label, help_text=help_text, required=required, widget=forms.Textarea(attrs={"rows": rows})
    )


def day(label, help_text="", required=True):
    return forms.DateField(label=label, help_text=help_text, required=required, widget=DATE_INPUT)


def checkbox(label, help_text="", initial=False):
    return forms.BooleanField(label=label, help_text=help_text, required=False, initial=initial)


def shown(value):
    """Return a date (or the Asia/Shanghai date of a timestamp, P4) as the forms print it."""
    return f"{localdate(value):%Y-%m-%d}" if value else "—"


class ConsultationForm(ActionForm):
    """Base of this area's forms: a page that says where the sub-stage stands, and fields grouped by case."""

    page_template = "decisions/actions/consultation/action.html"
    # (legend, field names): fields filled only in one case, shown together under what that case is.
    groups = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.notes = self.describe()

    def describe(self):
        """Return the lines that tell the clerk where the records stand (nothing here decides anything)."""
        return []

    @property
    def sections(self):
        """Return the visible fields in order as (legend, fields); consecutive fields of one group share a legend."""
        legends = {name: legend for legend, names in self.groups for name in names}
        sections = []
        for field in self.visible_fields():
            legend = legends.get(field.name)
            if sections and legend is not None and sections[-1][0] == legend:
                sections[-1][1].append(field)
            else:
                sections.append((legend, [field]))
        return sections


class SubstageForm(ConsultationForm):
    """An action on the sub-stage its placement names."""

    @property
    def stage(self):
        return self.placement.stage

    def record(self):
        return self.decision.current_record(self.stage)

    def describe(self):
        return STAGE_NOTES[self.stage](self.record())


def participation_notes(record):
    if record is None:
        return []
    notes = []
    if record.methods:
        methods = in_language("、", ", ").join(gettext(rules.PP_METHODS.get(m, m)) for m in record.methods)
        notes.append(_("已记录的参与方式：%(methods)s") % {"methods": methods})
    for period in record.comment_periods.order_by("id"):
        notes.append(_("征求意见公告：%(period)s") % {"period": period_label(period)})
    return notes


def hearing_notes(record):
    hearing = rules.hearing_of(record)
    if hearing is None:
        return []
    notes = [
        _(
            "听证会：%(date)s，%(place)s；听证公告 %(notice)s，遴选办法 %(method)s，遴选 %(selected)s，名单公布 %(listed)s"
        )
        % {
            "date": shown(hearing.hearing_date),
            "place": hearing.place,
            "notice": shown(hearing.notice_published_on),
            "method": shown(hearing.selection_method_published_on) if hearing.participants_selected else _("不遴选"),
            "selected": shown(hearing.selection_done_on) if hearing.participants_selected else "—",
            "listed": shown(hearing.participant_list_published_on),
        }
    ]
    for participant in hearing.participants.order_by("id"):
        if participant.delivery_date is None:
            notes.append(_("参加人 %(name)s：未登记材料送达") % {"name": participant.name})
            continue
        notes.append(
            _("参加人 %(name)s：材料于 %(date)s 送达，距听证会 %(days)d 日")
            % {
                "name": participant.name,
                "date": shown(participant.delivery_date),
                "days": calendar_days_between(participant.delivery_date, hearing.hearing_date),
            }
        )
    return notes


def expert_notes(record):
    if record is None:
        return []
    modes = [ExpertMember.Mode(m).label for m in record.methods or [] if m in ExpertMember.Mode.values]
    notes = [_("论证方式：%(mode)s") % {"mode": modes[-1]}] if modes else []
    for member in record.experts.select_related("opinion").order_by("id"):
        opinion = member.opinion
        if opinion is None:
            state = _("未提交书面意见")
        else:
            state = _("书面意见%(signed)s%(sealed)s") % {
                "signed": _("已署名") if opinion.signed else _("未署名"),
                "sealed": (_("、已盖章") if opinion.sealed else _("、未盖章")) if member.is_agency else "",
            }
        kind = _("专业机构") if member.is_agency else _("专家")
        dissent = _("，持不同意见") if member.holds_dissenting_view else ""
        notes.append(
            _("%(name)s(%(kind)s%(dissent)s)：%(state)s")
            % {"name": member.name, "kind": kind, "dissent": dissent, "state": state}
        )
    return notes


def risk_notes(record):
    assessment = rules.latest_assessment(record)
    if assessment is None:
        return []
    note = _("已提交风险评估：%(assessment)s") % {"assessment": assessment_label(assessment)}
    if assessment.stale_marked_at:
        note += str(_("(已标记失效：%(reason)s)") % {"reason": assessment.stale_reason})
    return [note]


STAGE_NOTES = {
    Stage.PP: participation_notes,
    Stage.HEARING: hearing_notes,
    Stage.EX: expert_notes,
    Stage.RA: risk_notes,
}


# -- opening a sub-stage (P1) ----------------------------------------------------------------------


class OpenSubstageForm(SubstageForm):
    def run(self, user):
        return consultation.open_substage(user, self.decision, self.stage)


@substage_action("open-participation", Stage.PP, PENDING, label=_("开始公众参与"), article="第十四条")
class OpenParticipationForm(OpenSubstageForm):
    """Open PP: comment notices, forums and the other ways of hearing the public follow (第十四条)."""


@substage_action(
    "open-hearing", Stage.HEARING, PENDING, roles=[Role.HEARING_ORG], label=_("开始组织听证"), article="第十六条"
)
class OpenHearingForm(OpenSubstageForm):
    """Open HEARING, while public participation is in progress (a hearing is one of its ways)."""


@substage_action("open-expert-review", Stage.EX, PENDING, label=_("开始专家论证"), article="第十九条、第二十条")
class OpenExpertReviewForm(OpenSubstageForm):
    """Open EX; under the sequential order only after PP is closed (P1)."""


@substage_action(
    "open-risk-assessment",
    Stage.RA,
    PENDING,
    roles=[Role.UNDERTAKING_LEAD, Role.RISK_ASSESSOR],
    label=_("开始风险评估"),
    article="第二十二条",
)
class OpenRiskAssessmentForm(OpenSubstageForm):
    """Open RA, by the lead unit or the unit responsible for the assessment (第二十二条)."""


# -- T6a: not triggered ---------------------------------------------------------------------------

OTHER_LAW_LEVELS = (("", "—"), ("法律", _("法律")), ("行政法规", _("行政法规")))
OTHER_LAW_FIELDS = ("other_law_instrument", "other_law_level", "other_law_article", "other_law_document")
OTHER_LAW_GROUP = (_("以“法律、行政法规另有规定的程序”为由时填写(第三条第二款)"), OTHER_LAW_FIELDS)


class NotTriggeredForm(SubstageForm):
    """T6a: close the sub-stage NOT_TRIGGERED with one of the reason codes B6 allows for it."""

    reason_code = forms.ChoiceField(label=_("不履行该程序的理由"), widget=forms.RadioSelect)
    reason_text = text(_("理由说明"))
    other_law_instrument = forms.CharField(label=_("另有程序规定的法律或行政法规名称"), max_length=200, required=False)
    other_law_level = forms.ChoiceField(
        label=_("该文件的层级"),
        choices=OTHER_LAW_LEVELS,
        required=False,
        help_text=_("只有法律、行政法规规定的程序可以替代；规章不能替代(第三条第二款)"),
    )
    other_law_article = forms.CharField(label=_("规定该程序的条款"), max_length=60, required=False)
    other_law_document = UploadField(
        DocumentType.OTHER_LAW_CITATION, label=_("其他法律程序依据(条文摘录等)"), required=False
    )
    reason_help = ""
    groups = (OTHER_LAW_GROUP,)
    supplies = frozenset({"REASON_REQUIRED", "OTHER_LAW_CITATION_MISSING"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        codes = rules.NOT_TRIGGERED_CODES[self.stage]
        field = self.fields["reason_code"]
        field.choices = [(code, _(rules.REASON_LABELS[code])) for code in codes]
        if len(codes) == 1:
            field.initial = codes[0]
        self.fields["reason_text"].help_text = self.reason_help

    def arguments(self):
        data = self.cleaned_data
        return {
            "reason_code": data["reason_code"],
            "reason_text": data["reason_text"],
            "other_law_instrument": data["other_law_instrument"],
            "other_law_level": data["other_law_level"],
            "other_law_article": data["other_law_article"],
        }

    def run(self, user):
        return consultation.close_not_triggered(
            user, self.decision, self.stage, documents=self.uploads(), **self.arguments()
        )


@substage_action(
    "not-triggered-participation",
    Stage.PP,
    PENDING_OR_OPEN,
    label=_("认定公众参与未触发(其他法律另有程序)"),
    tid="T6a",
    article="第三条第二款、第十四条",
    danger=True,
)
class ParticipationNotTriggeredForm(NotTriggeredForm):
    reason_help = _("公众参与适用于所有决策事项，只有法律、行政法规另行规定了程序的才不履行；听证随之一并办结")


@substage_action(
    "not-triggered-hearing",
    Stage.HEARING,
    PENDING_OR_OPEN,
    label=_("不举行听证(认定未触发)"),
    tid="T6a",
    article="第十六条",
    danger=True,
)
class HearingNotTriggeredForm(NotTriggeredForm):
    reason_help = _(
        "法律、法规、规章要求听证的，或(浙江)存在重大分歧、涉及重大利益调整的，应当举行听证，不能认定未触发"
    )


@substage_action(
    "not-triggered-expert-review",
    Stage.EX,
    PENDING_OR_OPEN,
    label=_("不组织专家论证(认定未触发)"),
    tid="T6a",
    article="第十九条",
    danger=True,
)
class ExpertReviewNotTriggeredForm(NotTriggeredForm):
    reason_help = _("简要说明为什么事项的专业性、技术性不强(第十九条)")


@substage_action(
    "not-triggered-risk-assessment",
    Stage.RA,
    PENDING_OR_OPEN,
    label=_("不进行风险评估(认定未触发)"),
    tid="T6a",
    article="第二十二条",
    danger=True,
)
class RiskAssessmentNotTriggeredForm(NotTriggeredForm):
    prior_assessment_level = forms.ChoiceField(
        label=_("已有评估的风险等级"), choices=(("", "—"), *RiskLevel.choices), required=False
    )
    prior_assessment = UploadField(DocumentType.PRIOR_ASSESSMENT, label=_("已有的风险评估报告"), required=False)
    reason_help = _("以“不会造成不利影响”为由的，须分别说明社会稳定、公共安全等方面的情况(第二十二条第一款)")
    groups = (
        (
            _("以“已按有关规定评估，不作重复评估”为由时填写(第二十二条第二款)"),
            ("prior_assessment_level", "prior_assessment"),
        ),
        OTHER_LAW_GROUP,
    )
    supplies = NotTriggeredForm.supplies | {"PRIOR_ASSESSMENT_REFERENCE_MISSING"}
    field_order = ["reason_code", "reason_text", "prior_assessment_level", "prior_assessment"]

    def arguments(self):
        return {**super().arguments(), "prior_assessment_level": self.cleaned_data["prior_assessment_level"]}


# -- T6b: waivers ---------------------------------------------------------------------------------


class WaiverForm(SubstageForm):
    """T6b: the lead unit records a waiver; the stage keeps its status until approval and sign-off."""

    reason_code = forms.ChoiceField(label=_("免予履行的法定情形"), widget=forms.RadioSelect)
    legal_basis = text(
        _("法律依据(文件名称及条款)"),
        _("例如：《中华人民共和国保守国家秘密法》第九条；《重大行政决策程序暂行条例》第十四条"),
        rows=2,
    )
    evidence = UploadField(DocumentType.WAIVER_EVIDENCE, label=_("证明材料"), required=False)
    supplies = frozenset({"WAIVER_BASIS_MISSING"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        codes = rules.WAIVER_CODES[self.stage]
        field = self.fields["reason_code"]
        field.choices = [(code, _(rules.REASON_LABELS[code])) for code in codes]
        if len(codes) == 1:
            field.initial = codes[0]
        field.help_text = _("依法不予公开的由政府办公室批准；浙江第七条紧急情形由法律顾问或公职律师批准")

    def run(self, user):
        data = self.cleaned_data
        return consultation.record_waiver(
            user,
            self.decision,
            self.stage,
            reason_code=data["reason_code"],
            legal_basis=data["legal_basis"],
            evidence=self.upload("evidence"),
        )


@substage_action(
    "waiver-participation",
    Stage.PP,
    PENDING_OR_OPEN,
    label=_("登记依法免予公众参与"),
    tid="T6b",
    article=f"第十四条；{ZJ_ARTICLE_7}",
    danger=True,
)
class ParticipationWaiverForm(WaiverForm):
    """Waive PP (依法不予公开, or the Zhejiang urgent exception); the hearing goes with it."""


@substage_action(
    "waiver-expert-review",
    Stage.EX,
    PENDING_OR_OPEN,
    label=_("登记依法免予专家论证"),
    tid="T6b",
    article=ZJ_ARTICLE_7,
    danger=True,
)
class ExpertReviewWaiverForm(WaiverForm):
    """Waive EX under the Zhejiang urgent exception only."""


@substage_action(
    "waiver-risk-assessment",
    Stage.RA,
    PENDING_OR_OPEN,
    label=_("登记依法免予风险评估"),
    tid="T6b",
    article=ZJ_ARTICLE_7,
    danger=True,
)
class RiskAssessmentWaiverForm(WaiverForm):
    """Waive RA under the Zhejiang urgent exception only."""


class WaiverStageForm(ConsultationForm):
    """Choose the sub-stage whose waiver is acted on; the waivers waiting for this action are listed."""

    stage = forms.ChoiceField(label=_("环节"), widget=forms.RadioSelect)
    approved = False  # list waivers already approved (sign-off) or still waiting for approval

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["stage"]
        field.choices = [(stage, Stage(stage).label) for stage in rules.WAIVER_CODES]
        if self.waiting:
            field.initial = self.waiting[0][0]

    @cached_property
    def waiting(self):
        """Return (stage, waiver) for the latest waiver of each open sub-stage that waits for this action."""
        found = []
        for stage in rules.WAIVER_CODES:
            record = self.decision.current_record(stage)
            if record is None or record.status not in PENDING_OR_OPEN:
                continue
            waivers = record.waivers.filter(approved_at__isnull=not self.approved).select_related("recorded_by")
            found += [(stage, waiver) for waiver in waivers.order_by("-id")[:1]]
        return found

    def describe(self):
        waiting = [
            _("%(stage)s：%(code)s，依据 %(basis)s(登记人 %(by)s)")
            % {
                "stage": Stage(stage).label,
                "code": gettext(rules.REASON_LABELS.get(waiver.reason_code, waiver.reason_code)),
                "basis": waiver.legal_basis,
                "by": waiver.recorded_by.get_full_name() or waiver.recorded_by.get_username(),
            }
            for stage, waiver in self.waiting
        ]
        return waiting or [self.nothing_waiting]


@action(
    "approve-waiver",
    label=_("批准免予程序"),
    tid="T6b",
    roles=consultation.WAIVER_APPROVERS,
    states=CONSULTING,
    article=f"第十四条；{ZJ_ARTICLE_7}",
)
class ApproveWaiverForm(WaiverStageForm):
    nothing_waiting = _("目前没有待批准的免予程序")

    def run(self, user):
        return consultation.approve_waiver(user, self.decision, self.cleaned_data["stage"])


@action(
    "sign-off-waiver",
    label=_("签署免予程序，办结该环节"),
    tid="T6b",
    roles=LEAD,
    states=CONSULTING,
    article=f"第十四条；{ZJ_ARTICLE_7}",
)
class SignOffWaiverForm(WaiverStageForm):
    approved = True
    nothing_waiting = _("目前没有已批准、待签署的免予程序")

    def run(self, user):
        return consultation.sign_off_waiver(user, self.decision, self.cleaned_data["stage"])


# -- T6c: reopen ----------------------------------------------------------------------------------


class ReopenForm(SubstageForm):
    """T6c: reopen a closed sub-stage as a new record; the closed one stays on file."""

    reason = text(_("重新开启的理由"))
    draft_version = forms.ModelChoiceField(
        label=_("据以重新开启的草案版本"),
        queryset=DraftVersion.objects.none(),
        required=False,
        empty_label=_("(不涉及新的草案版本)"),
    )
    stale_result = forms.CharField(
        label=_("已失效的结论"),
        max_length=300,
        required=False,
        help_text=_("已完成的环节，须注明新的草案版本或已失效的结论(第二十七条第(二)项)"),
    )
    supplies = frozenset({"REASON_REQUIRED"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["draft_version"]
        field.queryset = self.decision.draft_versions.order_by("-number")
        field.label_from_instance = lambda version: (
            _("第%(n)d稿(%(at)s)")
            % {
                "n": version.number,
                "at": shown(version.created_at),
            }
        )
        record = self.record()
        if record is not None and record.draft_version_id:
            field.help_text = _("该环节按第%(n)d稿办理") % {"n": record.draft_version.number}

    def run(self, user):
        data = self.cleaned_data
        return consultation.reopen(
            user,
            self.decision,
            self.stage,
            reason=data["reason"],
            draft_version=data["draft_version"],
            stale_result=data["stale_result"],
        )


REOPEN_ARTICLE = "第二十七条第(二)项"


@substage_action(
    "reopen-participation", Stage.PP, CLOSED, label=_("重新开启公众参与"), tid="T6c", article=REOPEN_ARTICLE
)
class ReopenParticipationForm(ReopenForm):
    """Reopen PP; the hearing reopens with it."""


@substage_action("reopen-hearing", Stage.HEARING, CLOSED, label=_("重新开启听证"), tid="T6c", article=REOPEN_ARTICLE)
class ReopenHearingForm(ReopenForm):
    """Reopen HEARING; a completed PP reopens with it."""


@substage_action(
    "reopen-expert-review", Stage.EX, CLOSED, label=_("重新开启专家论证"), tid="T6c", article=REOPEN_ARTICLE
)
class ReopenExpertReviewForm(ReopenForm):
    """Reopen EX."""


@substage_action(
    "reopen-risk-assessment", Stage.RA, CLOSED, label=_("重新开启风险评估"), tid="T6c", article=REOPEN_ARTICLE
)
class ReopenRiskAssessmentForm(ReopenForm):
    """Reopen RA."""


# -- the T6 questionnaire after T6 (P11) ------------------------------------------------------------


@action(
    "trigger-answers",
    label=_("变更程序触发问卷答案"),
    roles=LEAD,
    states=CONSULTING,
    article="第十四条、第十六条、第十九条、第二十二条",
)
class TriggerAnswersForm(ConsultationForm):
    hearing_law_instrument = forms.CharField(label=_("要求听证的法律文件"), max_length=200, required=False)
    hearing_law_article = forms.CharField(label=_("要求听证的条款"), max_length=60, required=False)
    confidential_basis = text(_("不予公开的法律依据"), required=False, rows=2)
    reason = text(
        _("变更理由"),
        _(
            "取消法定听证，或(浙江)取消重大分歧、重大利益调整的，须说明理由，听证已开始或完成后不能取消；"
            "认定未触发的环节与新答案不符的，将重新开启"
        ),
        required=False,
        rows=2,
    )
    supplies = frozenset({"REASON_REQUIRED", "TRIGGER_QUESTIONNAIRE_INCOMPLETE"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        asked = set(TRIGGER_QUESTIONS)
        if rules.zj_hearing_rule(self.decision):
            asked.add("major_interest_readjustment")  # the Zhejiang hearing rule (P11)
        questions = {}
        for name in (q for q in QUESTION_LABELS if q in asked):
            label, help_text = QUESTION_LABELS[name]
            questions[name] = yes_no(label, help_text)
            questions[name].initial = getattr(self.decision, name)
        self.fields = {**questions, **self.fields}
        for name in ("hearing_law_instrument", "hearing_law_article", "confidential_basis"):
            self.fields[name].initial = getattr(self.decision, name)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("hearing_required_by_law") and not (
            cleaned.get("hearing_law_instrument") and cleaned.get("hearing_law_article")
        ):
            self.add_error("hearing_law_instrument", _("法律、法规、规章要求听证的，须写明文件名称和条款"))
        if cleaned.get("confidential_by_law") and not cleaned.get("confidential_basis"):
            self.add_error("confidential_basis", _("依法不予公开的，须写明法律依据"))
        return cleaned

    def run(self, user):
        answers = {name: self.cleaned_data[name] for name in consultation.ANSWER_FIELDS if name in self.fields}
        return consultation.update_trigger_answers(user, self.decision, reason=self.cleaned_data["reason"], **answers)


# -- T7: public participation -------------------------------------------------------------------------

# Public comment and the hearing are recorded by their own forms (notice published, hearing completed).
METHOD_CHOICES = [
    (code, _(label)) for code, label in rules.PP_METHODS.items() if code not in ("PUBLIC_COMMENT", "HEARING")
]


@substage_action("participation-methods", Stage.PP, OPEN, label=_("记录公众参与方式"), article="第十四条")
class ParticipationMethodsForm(SubstageForm):
    methods = forms.MultipleChoiceField(
        label=_("听取意见的方式"),
        choices=METHOD_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("向社会公开征求意见在发布公告时、听证会在完成听证时自动记录"),
    )
    method_record = UploadField(
        DocumentType.PP_METHOD_RECORD, label=_("座谈会纪要、走访记录、问卷或民意调查结果等"), required=False
    )

    def run(self, user):
        return consultation.record_participation_methods(
            user, self.decision, self.cleaned_data["methods"], documents=self.uploads()
        )


def period_label(period):
    days = rules.comment_period_days(period)
    state = _("已发布") if period.published_at else _("未发布")
    return _("%(start)s 至 %(end)s(%(days)s日，%(state)s)") % {
        "start": shown(period.publish_date),
        "end": shown(period.deadline_date),
        "days": days,
        "state": state,
    }


class CommentNoticeForm(SubstageForm):
    """The content of a public-comment notice (第十五条): channels, draft and explanation, how and by when."""

    channels = forms.MultipleChoiceField(
        label=_("发布途径"), choices=CommentPeriod.Channel.choices, widget=forms.CheckboxSelectMultiple
    )
    other_channel_text = forms.CharField(
        label=_("其他途径说明"), max_length=200, required=False, help_text=_("选择“其他”时填写")
    )
    publish_date = day(_("发布日期"), _("公告在所列途径上首次刊载的日期"))
    deadline_date = day(_("意见截止日期"))
    includes_draft = checkbox(_("公告附决策草案"), initial=True)
    includes_explanation = checkbox(_("公告附起草说明"), initial=True)
    how_to_comment = text(_("提出意见的方式"), _("如网站留言、电子邮件、信函地址"), rows=2)
    shortening_reason = text(_("缩短期限的理由"), required=False, rows=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        days = param(self.decision, "comment_period_min_days")
        self.fields["deadline_date"].help_text = _(
            "截止日当天24时前仍可提出意见；期限自发布日次日起算，一般不少于%(days)d日(第十五条)"
        ) % {"days": days}
        self.fields["shortening_reason"].help_text = _(
            "期限少于%(days)d日的，须在公告中说明缩短理由；公告发布后不能再补充(第十五条)"
        ) % {"days": days}

    def clean(self):
        cleaned = super().clean()
        published, deadline = cleaned.get("publish_date"), cleaned.get("deadline_date")
        if published and deadline and deadline <= published:
            self.add_error("deadline_date", _("截止日期须晚于发布日期"))
        if CommentPeriod.Channel.OTHER in (cleaned.get("channels") or []) and not cleaned.get("other_channel_text"):
            self.add_error("other_channel_text", _("选择“其他”途径的，须说明是什么途径"))
        return cleaned

    def notice(self):
        data = self.cleaned_data
        return {
            "channels": data["channels"],
            "publish_date": data["publish_date"],
            "deadline_date": data["deadline_date"],
            "includes_draft": data["includes_draft"],
            "includes_explanation": data["includes_explanation"],
            "how_to_comment": data["how_to_comment"],
            "other_channel_text": data["other_channel_text"],
            "shortening_reason": data["shortening_reason"],
        }


NOTICE_SUPPLIES = frozenset({"COMMENT_NOTICE_INCOMPLETE", "COMMENT_PERIOD_TOO_SHORT_NO_REASON"})


@substage_action("comment-notice", Stage.PP, OPEN, label=_("发布公开征求意见公告"), tid="T7a", article="第十五条")
class PublishCommentNoticeForm(CommentNoticeForm):
    comment_notice = UploadField(DocumentType.COMMENT_NOTICE, label=_("公告文本"), required=False)
    publication_proof = UploadField(
        DocumentType.PUBLICATION_PROOF, label=_("发布证明(网页快照或报纸版面)"), required=False
    )
    supplies = NOTICE_SUPPLIES

    def run(self, user):
        return consultation.publish_comment_notice(user, self.decision, documents=self.uploads(), **self.notice())


@substage_action(
    "comment-notice-draft",
    Stage.PP,
    OPEN,
    label=_("拟订公开征求意见公告(暂不发布)"),
    tid="T7a",
    article="第十五条",
)
class PrepareCommentNoticeForm(CommentNoticeForm):
    supplies = NOTICE_SUPPLIES

    def run(self, user):
        return consultation.prepare_comment_notice(user, self.decision, **self.notice())


class CommentPeriodChoiceForm(SubstageForm):
    """Choose one of the public-comment notices of the live PP record."""

    period = forms.ModelChoiceField(
        label=_("征求意见公告"), queryset=CommentPeriod.objects.none(), widget=forms.RadioSelect
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        record = self.record()
        field = self.fields["period"]
        if record is not None:
            field.queryset = record.comment_periods.order_by("id")
        field.label_from_instance = period_label
        unpublished = [p for p in field.queryset if p.published_at is None]
        if unpublished:
            field.initial = unpublished[-1].pk


@substage_action(
    "comment-notice-shortening-reason",
    Stage.PP,
    OPEN,
    label=_("填写缩短征求意见期限的理由"),
    tid="T7a",
    article="第十五条",
)
class ShorteningReasonForm(CommentPeriodChoiceForm):
    reason = text(_("缩短期限的理由"), _("须在公告发布前写明，并在公告中说明；发布后不能补充或修改(第十五条)"))
    supplies = frozenset({"COMMENT_PERIOD_TOO_SHORT_NO_REASON"})

    def run(self, user):
        data = self.cleaned_data
        return consultation.set_shortening_reason(user, self.decision, data["period"], data["reason"])


@substage_action(
    "comment-notice-published",
    Stage.PP,
    OPEN,
    label=_("标记征求意见公告已发布"),
    tid="T7a",
    article="第十五条",
)
class MarkCommentNoticePublishedForm(CommentPeriodChoiceForm):
    comment_notice = UploadField(DocumentType.COMMENT_NOTICE, label=_("已发布的公告文本"), required=False)
    publication_proof = UploadField(
        DocumentType.PUBLICATION_PROOF, label=_("发布证明(网页快照或报纸版面)"), required=False
    )
    supplies = NOTICE_SUPPLIES

    def run(self, user):
        return consultation.mark_comment_notice_published(
            user, self.decision, self.cleaned_data["period"], documents=self.uploads()
        )


@substage_action("comment-period-extension", Stage.PP, OPEN, label=_("延长征求意见期限"), tid="T7a", article="第十五条")
class ExtendCommentPeriodForm(SubstageForm):
    deadline_date = day(_("新的截止日期"))
    comment_notice = UploadField(DocumentType.COMMENT_NOTICE, label=_("重新发布的公告文本"), required=False)
    publication_proof = UploadField(
        DocumentType.PUBLICATION_PROOF, label=_("重新发布的证明(网页快照或报纸版面)"), required=False
    )
    supplies = frozenset({"COMMENT_NOTICE_INCOMPLETE"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.last_deadline = rules.last_deadline(self.record())
        if self.last_deadline is not None:
            self.fields["deadline_date"].help_text = _("原截止日期：%(date)s；延长后的期限仍自首次发布日起算") % {
                "date": shown(self.last_deadline)
            }

    def clean_deadline_date(self):
        deadline = self.cleaned_data["deadline_date"]
        if self.last_deadline is not None and deadline <= self.last_deadline:
            raise forms.ValidationError(
                _("新的截止日期须晚于原截止日期 %(date)s"), code="order", params={"date": shown(self.last_deadline)}
            )
        return deadline

    def run(self, user):
        return consultation.extend_comment_period(
            user, self.decision, deadline_date=self.cleaned_data["deadline_date"], documents=self.uploads()
        )


class ParticipationDocumentsMixin(forms.Form):
    """The records that close public participation (第十四条第三款、第十八条)."""

    specific_group = UploadField(
        DocumentType.SPECIFIC_GROUP_CONSULTATION,
        label=_("与人民团体、社会组织、群众代表的沟通协商记录(涉及特定群体利益时)"),
        required=False,
    )
    opinion_summary = UploadField(
        DocumentType.OPINION_SUMMARY,
        label=_("意见汇总"),
        required=False,
        help_text=_("征求意见期限届满后形成，涵盖截止日前收到的全部意见(第十八条)"),
    )
    adoption_statement = UploadField(DocumentType.ADOPTION_STATEMENT, label=_("意见采纳情况说明"), required=False)


@substage_action(
    "participation-records",
    Stage.PP,
    OPEN,
    roles=documents.STAGE_UPLOADERS[Stage.PP],
    label=_("上传公众参与材料"),
    article="第十四条、第十八条",
)
class ParticipationRecordsForm(ParticipationDocumentsMixin, SubstageForm):
    method_record = UploadField(
        DocumentType.PP_METHOD_RECORD, label=_("座谈会纪要、走访记录、问卷或民意调查结果等"), required=False
    )
    publication_proof = UploadField(DocumentType.PUBLICATION_PROOF, label=_("征求意见公告的发布证明"), required=False)
    field_order = ["method_record", "publication_proof", "specific_group", "opinion_summary", "adoption_statement"]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not any(cleaned.get(name) for name in self.fields):
            raise forms.ValidationError(_("请至少上传一份材料"), code="nothing")
        return cleaned

    def run(self, user):
        return [documents.upload(user, self.decision, Stage.PP, upload) for upload in self.uploads()]


@substage_action(
    "complete-participation", Stage.PP, OPEN, label=_("完成公众参与"), tid="T7", article="第十四条至第十八条"
)
class CompleteParticipationForm(ParticipationDocumentsMixin, SubstageForm):
    supplies = frozenset({"DOSSIER_ITEM_MISSING", "SPECIFIC_GROUP_CONSULTATION_MISSING"})

    def run(self, user):
        return consultation.complete_public_participation(user, self.decision, documents=self.uploads())


# -- T7b: hearing ---------------------------------------------------------------------------------

HEARING_ORG = [Role.HEARING_ORG]


def hearing_of(decision):
    return rules.hearing_of(decision.current_record(Stage.HEARING))


def check_hearing_dates(form, hearing_date, dates, field=None):
    """Add an error for each publication date not in order with the others and the hearing (第十六条).

    `field` names the form field to blame when only the hearing date is being changed.
    """
    notice, method, selected, listed = (
        dates.get(name)
        for name in (
            "notice_published_on",
            "selection_method_published_on",
            "selection_done_on",
            "participant_list_published_on",
        )
    )
    if field is None and method and selected and selected <= method:
        form.add_error("selection_done_on", _("遴选须在遴选办法公布之后"))
    if hearing_date is None:
        return
    for name, value, message in (
        ("notice_published_on", notice, _("听证公告须在听证会之前发布")),
        ("selection_method_published_on", method, _("遴选办法须在听证会之前公布")),
        ("participant_list_published_on", listed, _("参加人名单须在听证会之前公布")),
    ):
        if value and value >= hearing_date:
            form.add_error(field or name, message)
    if selected and selected > hearing_date:
        form.add_error(field or "selection_done_on", _("遴选须在听证会之前完成"))


class HearingForm(SubstageForm):
    """A hearing action; knows the hearing registered on the live HEARING record, if any."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hearing = hearing_of(self.decision)

    def lead_days_help(self):
        return _("听证会材料应当于听证会%(days)d日前送达听证参加人，以回执日期为准(第十六条)") % {
            "days": param(self.decision, "hearing_material_lead_days")
        }


class HearingDetailsForm(HearingForm):
    """The publications 第十六条 asks for before the hearing, with their dates."""

    participants_selected = yes_no(_("是否遴选听证参加人"), _("遴选的，须在遴选前公布遴选办法"))
    notice_published_on = day(_("听证公告发布日期"), _("公告须载明决策草案及其说明、听证时间和地点"), required=False)
    selection_method_published_on = day(_("遴选办法公布日期"), required=False)
    selection_done_on = day(_("遴选日期"), required=False)
    participant_list_published_on = day(_("参加人名单公布日期"), required=False)
    notice = UploadField(DocumentType.HEARING_NOTICE, label=_("听证公告"), required=False)
    selection_method = UploadField(DocumentType.HEARING_SELECTION_METHOD, label=_("遴选办法"), required=False)
    participant_list = UploadField(DocumentType.HEARING_PARTICIPANT_LIST, label=_("参加人名单"), required=False)


@substage_action("schedule-hearing", Stage.HEARING, OPEN, roles=HEARING_ORG, label=_("登记听证会"), article="第十六条")
class ScheduleHearingForm(HearingDetailsForm):
    hearing_date = day(_("听证日期"))
    place = forms.CharField(label=_("听证地点"), max_length=200)
    field_order = ["hearing_date", "place", "participants_selected"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants_selected"].initial = True
        self.fields["hearing_date"].help_text = self.lead_days_help()

    def clean(self):
        cleaned = super().clean()
        check_hearing_dates(self, cleaned.get("hearing_date"), cleaned)
        return cleaned

    def run(self, user):
        data = self.cleaned_data
        return consultation.schedule_hearing(
            user,
            self.decision,
            hearing_date=data["hearing_date"],
            place=data["place"],
            participants_selected=data["participants_selected"],
            notice_published_on=data["notice_published_on"],
            selection_method_published_on=data["selection_method_published_on"],
            selection_done_on=data["selection_done_on"],
            participant_list_published_on=data["participant_list_published_on"],
            documents=self.uploads(),
        )


@substage_action(
    "update-hearing",
    Stage.HEARING,
    OPEN,
    roles=HEARING_ORG,
    label=_("补充听证公告、遴选和名单信息"),
    article="第十六条",
)
class UpdateHearingForm(HearingDetailsForm):
    place = forms.CharField(label=_("听证地点"), max_length=200)
    field_order = ["place", "participants_selected"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.hearing is not None:
            for name in consultation.HEARING_FIELDS:
                self.fields[name].initial = getattr(self.hearing, name)
            self.fields["place"].help_text = _("听证日期：%(date)s(改期请用“听证会改期”)") % {
                "date": shown(self.hearing.hearing_date)
            }

    def changes(self):
        return {name: self.cleaned_data[name] for name in consultation.HEARING_FIELDS if name in self.changed_data}

    def clean(self):
        cleaned = super().clean()
        if self.hearing is not None:
            check_hearing_dates(self, self.hearing.hearing_date, cleaned)
        if not self.errors and not self.changes() and not self.uploads():
            raise forms.ValidationError(_("没有修改任何内容"), code="nothing")
        return cleaned

    def run(self, user):
        return consultation.update_hearing(user, self.decision, documents=self.uploads(), **self.changes())


@substage_action("hearing-date", Stage.HEARING, OPEN, roles=HEARING_ORG, label=_("听证会改期"), article="第十六条")
class ChangeHearingDateForm(HearingForm):
    hearing_date = day(_("新的听证日期"))
    reason = text(_("改期理由"), rows=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        note = _("改期后按新日期重新核对每位参加人的材料送达日期。")
        if self.hearing is not None:
            note = _("原听证日期：%(date)s。") % {"date": shown(self.hearing.hearing_date)} + str(note)
        self.fields["hearing_date"].help_text = str(note) + str(self.lead_days_help())

    def clean_hearing_date(self):
        hearing_date = self.cleaned_data["hearing_date"]
        if self.hearing is not None and hearing_date == self.hearing.hearing_date:
            raise forms.ValidationError(_("新的听证日期与原日期相同"), code="same")
        return hearing_date

    def clean(self):
        cleaned = super().clean()
        if self.hearing is not None and cleaned.get("hearing_date"):
            dates = {name: getattr(self.hearing, name) for name in consultation.HEARING_FIELDS}
            check_hearing_dates(self, cleaned["hearing_date"], dates, field="hearing_date")
        return cleaned

    def run(self, user):
        data = self.cleaned_data
        return consultation.change_hearing_date(
            user, self.decision, hearing_date=data["hearing_date"], reason=data["reason"]
        )


class DeliveryForm(HearingForm):
    """The materials' delivery to a participant: the date on the receipt and the receipt (P13)."""

    delivery_date = day(_("材料送达日期(回执上的日期)"))
    receipt = UploadField(DocumentType.HEARING_RECEIPT, label=_("送达回执(签收、邮寄记录或已读回执)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivery_date"].help_text = self.lead_days_help()

    def clean_delivery_date(self):
        delivered = self.cleaned_data["delivery_date"]
        if delivered and self.hearing is not None and delivered > self.hearing.hearing_date:
            raise forms.ValidationError(
                _("送达日期不能晚于听证日期 %(date)s"), code="order", params={"date": shown(self.hearing.hearing_date)}
            )
        return delivered


@substage_action(
    "hearing-participant",
    Stage.HEARING,
    OPEN,
    roles=HEARING_ORG,
    label=_("添加听证参加人"),
    article="第十六条",
)
class AddHearingParticipantForm(DeliveryForm):
    participant_name = forms.CharField(label=_("参加人姓名或名称"), max_length=200)
    # Personal information (个人信息保护法): only what is needed to reach the participant; stored encrypted.
    phone = forms.CharField(label=_("联系电话"), required=False, max_length=30, help_text=_("个人信息：需要时才填"))
    email = forms.CharField(label=_("电子邮箱"), required=False, max_length=254, help_text=_("个人信息：需要时才填"))
    id_number = forms.CharField(label=_("身份证号"), required=False, max_length=18, help_text=_("个人信息：需要时才填"))
    field_order = ["participant_name", "phone", "email", "id_number"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivery_date"].required = False
        self.fields["receipt"].required = False
        self.fields["receipt"].help_text = _("材料已送达的，与送达日期一并填写；也可稍后登记")

    def clean(self):
        cleaned = super().clean()
        if not self.errors and bool(cleaned.get("delivery_date")) != bool(cleaned.get("receipt")):
            missing = "receipt" if cleaned.get("delivery_date") else "delivery_date"
            self.add_error(missing, _("送达日期与送达回执须一并填写"))
        contact = personal.normalised_contact(*(cleaned.get(name, "") for name in personal.CONTACT_FIELDS))
        for field, problem in personal.contact_problems(contact):
            self.add_error(field, problem)
        return cleaned

    def run(self, user):
        data = self.cleaned_data
        return consultation.add_hearing_participant(
            user,
            self.decision,
            name=data["participant_name"],
            delivery_date=data["delivery_date"],
            receipt=self.upload("receipt"),
            **{name: data[name] for name in personal.CONTACT_FIELDS},
        )


def participant_label(participant):
    if participant.delivery_date:
        return _("%(name)s(已送达 %(date)s)") % {"name": participant.name, "date": shown(participant.delivery_date)}
    return _("%(name)s(未登记送达)") % {"name": participant.name}


@substage_action(
    "hearing-delivery",
    Stage.HEARING,
    OPEN,
    roles=HEARING_ORG,
    label=_("登记听证材料送达回执"),
    article="第十六条",
)
class RecordDeliveryForm(DeliveryForm):
    participant = forms.ModelChoiceField(
        label=_("听证参加人"), queryset=HearingParticipant.objects.none(), widget=forms.RadioSelect
    )
    field_order = ["participant"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["participant"]
        if self.hearing is not None:
            field.queryset = self.hearing.participants.order_by("id")
        field.label_from_instance = participant_label

    def run(self, user):
        data = self.cleaned_data
        return consultation.record_delivery(
            user,
            self.decision,
            data["participant"],
            delivery_date=data["delivery_date"],
            receipt=self.upload("receipt"),
        )


@substage_action("complete-hearing", Stage.HEARING, OPEN, label=_("完成听证"), tid="T7b", article="第十六条、第十七条")
class CompleteHearingForm(SubstageForm):
    hearing_record = UploadField(DocumentType.HEARING_RECORD, label=_("听证会记录"))
    record_signed = checkbox(_("听证参加人已确认记录并签字"), _("听证参加人确认听证会记录并签字(第十七条第(三)项)"))
    hearing_report = UploadField(DocumentType.HEARING_REPORT, label=_("听证报告"), required=False)
    supplies = frozenset({"DOSSIER_ITEM_MISSING", "HEARING_RECORD_UNSIGNED"})

    def run(self, user):
        record = dataclasses.replace(self.upload("hearing_record"), signed=self.cleaned_data["record_signed"])
        return consultation.complete_hearing(user, self.decision, documents=[record, *self.uploads("hearing_report")])


# -- T8: expert review ----------------------------------------------------------------------------


@substage_action("expert-review-mode", Stage.EX, OPEN, label=_("确定专家论证方式"), article="第二十条")
class ExpertReviewModeForm(SubstageForm):
    mode = forms.ChoiceField(label=_("论证方式"), choices=ExpertMember.Mode.choices, widget=forms.RadioSelect)
    selection_record = UploadField(
        DocumentType.EXPERT_SELECTION,
        label=_("专家遴选记录"),
        required=False,
        help_text=_("说明专业性、代表性和中立性，并注意选择持不同意见的专家(第二十条)"),
    )
    commission_contract = UploadField(
        DocumentType.COMMISSION_CONTRACT, label=_("委托合同(委托咨询论证时)"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        record = self.record()
        methods = (record.methods if record is not None else None) or []
        current = [m for m in methods if m in ExpertMember.Mode.values]
        if current:
            self.fields["mode"].initial = current[-1]

    def run(self, user):
        return consultation.set_expert_review_mode(
            user, self.decision, self.cleaned_data["mode"], documents=self.uploads()
        )


@substage_action("add-expert", Stage.EX, OPEN, label=_("添加论证专家或专业机构"), article="第二十条")
class AddExpertForm(SubstageForm):
    expert_name = forms.CharField(label=_("专家姓名或机构名称"), max_length=200)
    organisation_name = forms.CharField(label=_("所在单位"), max_length=200, required=False)
    expertise = forms.CharField(label=_("专业领域"), max_length=200, required=False)
    is_agency = checkbox(_("专业机构"), _("专业机构的书面意见须署名并盖章"))
    holds_dissenting_view = checkbox(_("持不同意见"))
    no_interest_declared = checkbox(
        _("已声明与决策事项无直接利害关系"), _("不得选择与决策事项有直接利害关系的专家、专业机构(第二十条)")
    )
    declaration = UploadField(DocumentType.EXPERT_DECLARATION, label=_("无直接利害关系声明"))
    supplies = frozenset({"EXPERT_CONFLICT_OF_INTEREST"})

    def run(self, user):
        data = self.cleaned_data
        return consultation.add_expert(
            user,
            self.decision,
            name=data["expert_name"],
            declaration=self.upload("declaration"),
            no_interest_declared=data["no_interest_declared"],
            organisation_name=data["organisation_name"],
            field=data["expertise"],
            is_agency=data["is_agency"],
            holds_dissenting_view=data["holds_dissenting_view"],
        )


def expert_label(member):
    kind = _("专业机构") if member.is_agency else _("专家")
    state = _("已提交意见") if member.opinion_id else _("未提交意见")
    return _("%(name)s(%(kind)s，%(state)s)") % {"name": member.name, "kind": kind, "state": state}


@substage_action(
    "expert-opinion",
    Stage.EX,
    OPEN,
    roles=consultation.OPINION_UPLOADERS,
    label=_("上传专家论证意见"),
    article="第十九条",
)
class ExpertOpinionForm(SubstageForm):
    member = forms.ModelChoiceField(
        label=_("论证专家或专业机构"), queryset=ExpertMember.objects.none(), widget=forms.RadioSelect
    )
    opinion = UploadField(DocumentType.EXPERT_OPINION, label=_("书面论证意见"))
    signed = checkbox(_("意见已署名"))
    sealed = checkbox(_("意见已盖章"), _("专业机构的意见须署名并盖章(第十九条第二款)"))
    supplies = frozenset({"EXPERT_OPINION_UNSIGNED"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        record = self.record()
        field = self.fields["member"]
        if record is not None:
            field.queryset = record.experts.order_by("id")
        field.label_from_instance = expert_label

    def run(self, user):
        data = self.cleaned_data
        opinion = dataclasses.replace(self.upload("opinion"), signed=data["signed"], sealed=data["sealed"])
        return consultation.upload_expert_opinion(user, self.decision, data["member"], opinion)


@substage_action(
    "complete-expert-review", Stage.EX, OPEN, label=_("完成专家论证"), tid="T8", article="第十九条、第二十条"
)
class CompleteExpertReviewForm(SubstageForm):
    adoption_statement = UploadField(
        DocumentType.EXPERT_ADOPTION_STATEMENT,
        label=_("专家意见采纳情况说明"),
        required=False,
        help_text=_("提请审议时须附(第二十九条第(三)项)"),
    )
    commission_contract = UploadField(
        DocumentType.COMMISSION_CONTRACT, label=_("委托合同(委托咨询论证时)"), required=False
    )
    supplies = frozenset({"DOSSIER_ITEM_MISSING"})

    def run(self, user):
        return consultation.complete_expert_review(user, self.decision, documents=self.uploads())


# -- T9: risk assessment ---------------------------------------------------------------------------


class RiskDocumentsMixin(forms.Form):
    mitigation_plan = UploadField(
        DocumentType.RISK_MITIGATION_PLAN, label=_("风险防范化解方案(中风险时须附)"), required=False
    )
    commission_contract = UploadField(
        DocumentType.COMMISSION_CONTRACT, label=_("委托合同(委托第三方评估时)"), required=False
    )


@substage_action(
    "risk-assessment",
    Stage.RA,
    OPEN,
    roles=consultation.ASSESSORS,
    label=_("提交风险评估报告"),
    article="第二十二条、第二十三条",
)
class RiskAssessmentForm(RiskDocumentsMixin, SubstageForm):
    level = forms.ChoiceField(label=_("风险等级"), choices=RiskLevel.choices, widget=forms.RadioSelect)
    risk_points = text(_("风险点"), required=False)
    prevention_measures = text(_("防范措施"), required=False)
    contingency_plan = text(_("处置预案"), required=False)
    departments_heard = checkbox(_("已听取有关部门意见"))
    third_party = checkbox(_("委托第三方评估"))
    report = UploadField(DocumentType.RISK_REPORT, label=_("风险评估报告"), required=False)
    plan = UploadField(DocumentType.RISK_PLAN, label=_("风险评估方案"), required=False)
    evidence = UploadField(
        DocumentType.RISK_EVIDENCE, label=_("评估过程材料(舆情跟踪、重点走访、会商分析等)"), required=False
    )
    department_opinions = UploadField(DocumentType.DEPARTMENT_OPINIONS, label=_("有关部门意见"), required=False)
    supplies = frozenset({"RISK_REPORT_INCOMPLETE", "DOSSIER_ITEM_MISSING"})
    groups = (
        (
            _("风险评估报告须明确风险点，提出防范措施和处置预案，并听取有关部门意见(第二十三条)"),
            ("risk_points", "prevention_measures", "contingency_plan", "departments_heard"),
        ),
    )
    field_order = [
        "level",
        "risk_points",
        "prevention_measures",
        "contingency_plan",
        "departments_heard",
        "third_party",
        "report",
        "plan",
        "evidence",
        "department_opinions",
        "mitigation_plan",
        "commission_contract",
    ]

    def run(self, user):
        data = self.cleaned_data
        others = [name for name, field in self.fields.items() if isinstance(field, UploadField) and name != "report"]
        return consultation.record_risk_assessment(
            user,
            self.decision,
            level=data["level"],
            risk_points=data["risk_points"],
            prevention_measures=data["prevention_measures"],
            contingency_plan=data["contingency_plan"],
            departments_heard=data["departments_heard"],
            third_party=data["third_party"],
            report=self.upload("report"),
            documents=self.uploads(*others),
        )


@substage_action(
    "complete-risk-assessment",
    Stage.RA,
    OPEN,
    label=_("完成风险评估"),
    tid="T9",
    article="第二十二条、第二十三条",
)
class CompleteRiskAssessmentForm(RiskDocumentsMixin, SubstageForm):
    supplies = frozenset({"DOSSIER_ITEM_MISSING", "RISK_MITIGATION_PLAN_MISSING"})

    def run(self, user):
        return consultation.complete_risk_assessment(user, self.decision, documents=self.uploads())


def assessment_label(assessment):
    return _("%(level)s，第%(n)d稿，%(at)s") % {
        "level": assessment.get_level_display(),
        "n": assessment.draft_version.number,
        "at": shown(assessment.recorded_at),
    }


@action(
    "assessment-stale",
    label=_("标记风险评估失效"),
    roles=consultation.ASSESSORS,
    states=rules.BEFORE_APPROVE_STATES,
    stage=Stage.RA,
    stage_statuses=(StageStatus.IN_PROGRESS, StageStatus.DONE),
    article="第二十四条",
    danger=True,
)
class MarkAssessmentStaleForm(SubstageForm):
    assessment = forms.ModelChoiceField(
        label=_("风险评估"),
        queryset=RiskAssessment.objects.none(),
        required=False,
        empty_label=_("最新的风险评估"),
    )
    reason = text(_("失效理由"), _("本轮集体讨论作出同意决定前，评估单位可以说明理由标记评估失效"))
    supplies = frozenset({"REASON_REQUIRED"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["assessment"]
        field.queryset = self.decision.risk_assessments.filter(stale_marked_at__isnull=True).select_related(
            "draft_version"
        )
        field.label_from_instance = assessment_label

    def run(self, user):
        data = self.cleaned_data
        return consultation.mark_assessment_stale(
            user, self.decision, reason=data["reason"], assessment=data["assessment"]
        )
