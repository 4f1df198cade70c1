"""Actions of legality review (合法性审查, 第二十五条至第二十八条): T10–T18, the legal adviser's opinion and
the reviewer's judgements on a revised draft and on its own opinion."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from decisions import lifecycle
from decisions.actions import DATE_INPUT, ActionForm, UploadField, action
from decisions.actions.initiation import yes_no
from decisions.models import DocumentType, LegalityReview, RiskLevel, Role, Stage
from decisions.rules import legality as rules
from decisions.services import consultation, documents, legality

Outcome = LegalityReview.Outcome
TEMPLATE = "decisions/actions/legality/action.html"
SUB_STAGE_CHOICES = [(stage, Stage(stage).label) for stage in rules.SUB_STAGES]


def textarea(label, *, required=True, rows=3, help_text=""):
    return forms.CharField(
        label=label, required=required, widget=forms.Textarea(attrs={"rows": rows}), help_text=help_text
    )


def received_on_field(label):
    return forms.DateField(
        label=label,
        required=False,
        widget=DATE_INPUT,
        help_text=_("合法性审查部门收到材料的日期；不填为今天。审查时间自受理的材料收件日期次日起算(第二十六条)"),
    )


def draft_note(decision):
    current = decision.current_draft
    if current is None:
        return _("尚无决策草案")
    return _("现行决策草案：第 %(n)d 稿") % {"n": current.number}


def review_note(decision):
    """Say where the current round stands: its number, receipt date, clock start and last return."""
    review = rules.current_review(decision)
    if review is None:
        return []
    notes = [
        _("第 %(round)d 轮审查，收件日期 %(day)s") % {"round": review.round, "day": review.submitted_on.isoformat()}
    ]
    if review.complete_on:
        notes.append(_("材料齐全日期 %(day)s，审查时间自次日起算") % {"day": review.complete_on.isoformat()})
    if review.return_reason:
        notes.append(_("审查部门退回/要求补充的理由：%(reason)s") % {"reason": review.return_reason})
    return notes


def opinion_note(decision):
    opinion = rules.latest_opinion(decision)
    if opinion is None:
        return []
    pinned = opinion.draft_version.number if opinion.draft_version_id else "—"
    notes = [
        _("最近一次审查意见：第 %(round)d 轮，%(outcome)s，审查的是第 %(n)s 稿")
        % {"round": opinion.round, "outcome": opinion.get_outcome_display(), "n": pinned}
    ]
    if opinion.stale_marked_at:
        notes.append(_("审查部门已标记该意见失效：%(reason)s") % {"reason": opinion.stale_reason})
    return notes


def _shown(label):
    return gettext(label) if label else label


def _readable(entry):
    """Add the labels a clerk reads to one entry of the generated procedure statement."""
    level, cascade = entry.get("risk_level"), entry.get("cascade_from")
    waiver = entry.get("waiver")
    return {
        **entry,
        # The statement keeps its labels in Chinese (it is recorded at submission); the page shows them translated.
        "status_label": _shown(entry.get("status_label")),
        "reason_label": _shown(entry.get("reason_label")),
        "waiver": {**waiver, "label": gettext(waiver["label"])} if waiver else waiver,
        "risk_label": RiskLevel(level).label if level in RiskLevel.values else "",
        "cascade_label": Stage(cascade).label if cascade in Stage.values else "",
    }


class LegalityForm(ActionForm):
    """An action of legality review, whose page says where the round and the draft stand."""

    page_template = TEMPLATE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.notes = [draft_note(self.decision), *review_note(self.decision), *opinion_note(self.decision)]


# -- T10 / T16: a submission opens a round ---------------------------------------------------------


class SubmissionForm(LegalityForm):
    """The materials of 第二十六条 and the generated procedure-performance statement for the unit to check."""

    submission_letter = UploadField(DocumentType.SUBMISSION_LETTER, label=_("送审函"))
    legal_basis_list = UploadField(DocumentType.LEGAL_BASIS_LIST, label=_("决策草案的法律依据清单"))
    procedure_statement = UploadField(
        DocumentType.PROCEDURE_STATEMENT,
        label=_("履行决策法定程序的说明"),
        help_text=_(
            "须载明公众参与、听证、专家论证、风险评估各环节的办理情况、理由或免予依据及所依据的草案版本；请与本页系统依记录生成的情况核对"
        ),
    )
    exploratory_reform = forms.BooleanField(label=_("探索性改革事项(国家尚无明确规定)"), required=False)
    exploratory_statement = textarea(
        _("国家尚无明确规定的说明"), required=False, rows=2, help_text=_("探索性改革事项必填(第二十五条第二款)")
    )
    exploratory_document = UploadField(
        DocumentType.EXPLORATORY_STATEMENT, label=_("探索性改革事项说明(文件)"), required=False
    )
    received_on = received_on_field(_("收件日期"))
    supplies = frozenset({"PROCEDURE_STATEMENT_MISSING", "FAIR_COMPETITION_REVIEW_MISSING", "REASON_REQUIRED"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        d = self.decision
        if d.market_affecting:
            # 第二十九条第(一)项: asked at submission already, so the package is complete later.
            self.fields["fair_competition_review"] = UploadField(
                DocumentType.FAIR_COMPETITION_REVIEW,
                label=_("公平竞争审查意见"),
                help_text=_("决策事项涉及市场主体经济活动，须附公平竞争审查意见(第二十九条第(一)项)"),
            )
            self.order_fields(
                ["submission_letter", "legal_basis_list", "procedure_statement", "fair_competition_review"]
            )
        self.fields["exploratory_reform"].initial = d.exploratory_reform
        self.fields["exploratory_statement"].initial = d.exploratory_statement
        self.statement = [_readable(entry) for entry in consultation.procedure_statement(d)]
        reviewer = d.organ.legality_review_dept
        if reviewer is not None:
            self.notes.append(_("送审至：%(dept)s") % {"dept": reviewer.name})

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("exploratory_reform") and not (cleaned.get("exploratory_statement") or "").strip():
            self.add_error("exploratory_statement", _("探索性改革事项须说明国家尚无明确规定的情况"))
        return cleaned

    def arguments(self):
        data = self.cleaned_data
        flagged = data["exploratory_reform"]
        return {
            "documents": self.uploads(),
            "received_on": data["received_on"],
            "exploratory_reform": flagged,
            "exploratory_statement": data["exploratory_statement"] if flagged else None,
        }


@action("submit-for-legality-review", label=_("送请合法性审查"), tid="T10")
class SubmitForLegalityReviewForm(SubmissionForm):
    def run(self, user):
        return legality.submit_for_legality_review(user, self.decision, **self.arguments())


@action("resubmit-new-round", label=_("修改后重新送审(新一轮审查)"), tid="T16")
class ResubmitNewRoundForm(SubmissionForm):
    def run(self, user):
        return legality.resubmit_new_round(user, self.decision, **self.arguments())


# -- T11 / T13a: return; T12: resubmit; T13: accept -----------------------------------------------


class ReturnForm(LegalityForm):
    reason = textarea(_("退回或要求补充的理由"), help_text=_("请逐项列明所缺材料或需要补正的内容(第二十六条)"))
    return_notice = UploadField(DocumentType.RETURN_NOTICE, label=_("退回/补充材料通知"), required=False)
    returned_on = forms.DateField(label=_("退回日期"), required=False, widget=DATE_INPUT, help_text=_("不填为今天"))
    supplies = frozenset({"REASON_REQUIRED"})

    def arguments(self):
        return {
            "reason": self.cleaned_data["reason"],
            "documents": self.uploads(),
            "returned_on": self.cleaned_data["returned_on"],
        }


@action("return-submission", label=_("退回送审材料或要求补充"), tid="T11")
class ReturnSubmissionForm(ReturnForm):
    def run(self, user):
        return legality.return_submission(user, self.decision, **self.arguments())


@action("request-supplement", label=_("审查中要求补充材料"), tid="T13a")
class RequestSupplementForm(ReturnForm):
    def run(self, user):
        return legality.request_supplement(user, self.decision, **self.arguments())


@action("resubmit", label=_("补充材料后重新报送"), tid="T12")
class ResubmitForm(LegalityForm):
    """T12: the items the reviewer named; what is already on record need not be sent again."""

    legal_basis_list = UploadField(DocumentType.LEGAL_BASIS_LIST, label=_("法律依据清单"), required=False)
    procedure_statement = UploadField(
        DocumentType.PROCEDURE_STATEMENT, label=_("履行决策法定程序的说明"), required=False
    )
    submission_letter = UploadField(DocumentType.SUBMISSION_LETTER, label=_("送审函"), required=False)
    draft_explanation = UploadField(DocumentType.DRAFT_EXPLANATION, label=_("起草说明"), required=False)
    consultation_record = UploadField(
        DocumentType.CONSULTATION_RECORD, label=_("部门协商记录及分歧说明(第十三条)"), required=False
    )
    adoption_statement = UploadField(DocumentType.ADOPTION_STATEMENT, label=_("公众意见采纳情况说明"), required=False)
    expert_adoption_statement = UploadField(
        DocumentType.EXPERT_ADOPTION_STATEMENT, label=_("专家意见采纳情况说明"), required=False
    )
    risk_report = UploadField(DocumentType.RISK_REPORT, label=_("风险评估报告"), required=False)
    prior_assessment = UploadField(
        DocumentType.PRIOR_ASSESSMENT, label=_("已有风险评估报告(依其他规定已评估的)"), required=False
    )
    fair_competition_review = UploadField(
        DocumentType.FAIR_COMPETITION_REVIEW, label=_("公平竞争审查意见"), required=False
    )
    received_on = received_on_field(_("重新报送的收件日期"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.decision.market_affecting:
            del self.fields["fair_competition_review"]

    def run(self, user):
        return legality.resubmit(
            user, self.decision, documents=self.uploads(), received_on=self.cleaned_data["received_on"]
        )


@action("accept-submission", label=_("材料齐全，受理审查"), tid="T13")
class AcceptSubmissionForm(LegalityForm):
    def run(self, user):
        return legality.accept_submission(user, self.decision)


# -- 第二十八条: the legal adviser's opinion; T14: the opinion -------------------------------------


@action(
    "legal-adviser-opinion",
    label=_("提交法律顾问/公职律师法律意见"),
    roles=[Role.LEGAL_ADVISER],
    states=[lifecycle.LEGAL_REVIEW_IN_PROGRESS],
    article="第二十八条",
)
class LegalAdviserOpinionForm(LegalityForm):
    opinion = UploadField(
        DocumentType.LEGAL_ADVISER_OPINION,
        signed=True,
        label=_("法律意见书(署名)"),
        help_text=_("由法律顾问或公职律师署名"),
    )

    def run(self, user):
        return documents.upload(user, self.decision, Stage.LR, self.upload("opinion"))


@action("issue-legality-opinion", label=_("出具合法性审查意见"), tid="T14")
class IssueLegalityOpinionForm(LegalityForm):
    outcome = forms.ChoiceField(label=_("审查结论"), choices=Outcome.choices, widget=forms.RadioSelect)
    authority = textarea(_("决策权限(第二十七条第(一)项)"), help_text=_("是否符合决策机关的法定权限"))
    procedure = textarea(
        _("决策程序(第二十七条第(二)项)"), help_text=_("是否履行了公众参与、专家论证、风险评估等法定程序")
    )
    content = textarea(_("决策内容(第二十七条第(三)项)"), help_text=_("是否符合有关法律、法规、规章和国家政策"))
    legal_risk_statement = textarea(
        _("法律风险提示"),
        required=False,
        help_text=_("结论为“探索性改革，明示法律风险”的必填；将列入提请审议材料(第二十五条第二款)"),
    )
    opinion_document = UploadField(DocumentType.LEGALITY_OPINION, sealed=True, label=_("合法性审查意见书(盖章)"))
    legal_risk_document = UploadField(DocumentType.LEGAL_RISK_STATEMENT, label=_("法律风险提示(文件)"), required=False)
    supplies = frozenset({"LEGALITY_OPINION_INCOMPLETE", "EXPLORATORY_NOT_FLAGGED"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.decision.exploratory_reform:
            self.fields["clear_exploratory_reform"] = forms.BooleanField(
                label=_("取消探索性改革事项标记"),
                required=False,
                help_text=_("审查认为国家已有明确规定的，可取消承办单位的标记(P17)"),
            )
        advisers = rules.adviser_opinions(rules.round_record(self.decision)).count()
        self.notes.append(_("本轮已有法律顾问/公职律师法律意见 %(n)d 份(第二十八条)") % {"n": advisers})

    def clean(self):
        cleaned = super().clean()
        exploratory = cleaned.get("outcome") == Outcome.EXPLORATORY_LEGAL_RISK_DISCLOSED
        if exploratory and not (cleaned.get("legal_risk_statement") or "").strip():
            self.add_error("legal_risk_statement", _("明示法律风险的结论须载明法律风险提示"))
        return cleaned

    def run(self, user):
        data = self.cleaned_data
        return legality.issue_legality_opinion(
            user,
            self.decision,
            outcome=data["outcome"],
            authority=data["authority"],
            procedure=data["procedure"],
            content=data["content"],
            legal_risk_statement=data["legal_risk_statement"],
            clear_exploratory_reform=data.get("clear_exploratory_reform", False),
            documents=self.uploads(),
        )


# -- the reviewer's judgements -------------------------------------------------------------------


@action(
    "assess-revised-draft",
    label=_("对修改后的草案作出判断"),
    roles=[Role.LEGAL_REVIEWER],
    states=[lifecycle.REVISING],
    article="第二十七条、第二十八条",
)
class AssessRevisedDraftForm(LegalityForm):
    substantive_change = yes_no(
        _("是否属于实质性修改"), _("是：须重新送审(新一轮审查)；否：可经确认后提请审议(第二十八条)")
    )
    reason = textarea(_("判断理由"), rows=2)
    implements_opinion = forms.TypedChoiceField(
        label=_("是否已落实审查意见"),
        choices=(("", _("不适用")), ("True", _("是")), ("False", _("否"))),
        coerce=lambda value: value == "True",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("审查结论为“修改后合法”的，须确认修改后的草案已落实审查意见"),
    )
    touches_article_27 = forms.BooleanField(
        label=_("修改涉及决策权限、程序或内容合法性(第二十七条所列事项)"),
        required=False,
        help_text=_("涉及的，应当认定为实质性修改"),
    )

    def run(self, user):
        data = self.cleaned_data
        return legality.record_draft_assessment(
            user,
            self.decision,
            substantive_change=data["substantive_change"],
            reason=data["reason"],
            implements_opinion=data["implements_opinion"],
            touches_article_27=data["touches_article_27"],
        )


@action(
    "mark-opinion-stale",
    label=_("标记审查意见失效"),
    roles=[Role.LEGAL_REVIEWER],
    states=legality.STALE_MARKABLE_STATES,
    article="第二十七条",
    danger=True,
)
class MarkOpinionStaleForm(LegalityForm):
    reason = textarea(
        _("失效理由"), rows=2, help_text=_("如上位法修改、情况发生重大变化；标记后须重新审查方可提请审议")
    )

    def run(self, user):
        return legality.mark_opinion_stale(user, self.decision, reason=self.cleaned_data["reason"])


# -- T16a: re-run procedures -----------------------------------------------------------------------


@action("rerun-procedures", label=_("重新履行公众参与、专家论证或风险评估程序"), tid="T16a")
class RerunProceduresForm(LegalityForm):
    rerun_stages = forms.MultipleChoiceField(
        label=_("需要重新履行的环节"),
        choices=SUB_STAGE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("重新履行公众参与的，听证一并重新办理"),
    )
    keep_PP = textarea(_("公众参与不重新履行的理由"), required=False, rows=2)
    keep_HEARING = textarea(_("听证不重新办理的理由"), required=False, rows=2)
    keep_EX = textarea(_("专家论证不重新履行的理由"), required=False, rows=2)
    keep_RA = textarea(_("风险评估不重新履行的理由"), required=False, rows=2)
    draft = UploadField(DocumentType.DRAFT, label=_("修改后的决策草案"))
    change_summary = textarea(_("修改说明"), required=False, rows=2)
    reason = textarea(
        _("重新履行程序的原因"), required=False, rows=2, help_text=_("如根据审查意见、会议修改决定或撤回修改")
    )
    supplies = frozenset({"REASON_REQUIRED"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for stage in rules.SUB_STAGES:
            self.fields[f"keep_{stage}"].help_text = _(
                "未勾选重新履行的环节须说明保留原办理结果的理由(第二十七条第(二)项)"
            )

    def run(self, user):
        data = self.cleaned_data
        rerun = set(data["rerun_stages"])
        return legality.rerun_procedures(
            user,
            self.decision,
            rerun_stages=rerun,
            keep_justification={stage: data[f"keep_{stage}"] for stage in rules.SUB_STAGES if stage not in rerun},
            draft=self.upload("draft"),
            change_summary=data["change_summary"],
            reason=data["reason"],
        )


# -- T17 / T18: to the meeting ---------------------------------------------------------------------


@action("confirm-modifications", label=_("修改经审查部门确认，提请审议"), tid="T17")
class ConfirmModificationsForm(LegalityForm):
    modification_statement = UploadField(
        DocumentType.MODIFICATION_STATEMENT,
        label=_("修改情况说明"),
        help_text=_("根据审查意见(或会议意见)作出修改的情况(第二十八条)"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        version = rules.modified_version(self.decision)
        if version is None:
            self.notes.append(_("审查意见出具后尚无修改后的新版草案"))
        elif version.substantive_change is None:
            self.notes.append(_("第 %(n)d 稿尚待合法性审查部门作出判断") % {"n": version.number})
        else:
            self.notes.append(
                _("合法性审查部门对第 %(n)d 稿的判断：%(kind)s；理由：%(reason)s")
                % {
                    "n": version.number,
                    "kind": _("实质性修改") if version.substantive_change else _("非实质性修改"),
                    "reason": version.substantive_change_reason,
                }
            )

    def run(self, user):
        return legality.confirm_modifications(user, self.decision, documents=self.uploads())


@action("proceed-to-meeting", label=_("审查意见为合法，提请审议"), tid="T18")
class ProceedToMeetingForm(LegalityForm):
    def run(self, user):
        return legality.proceed_to_meeting(user, self.decision)
