"""Actions after publication: execution, suspension, post-evaluation, adjustment, stop, closure,
co-unit hand-over and archiving (第三十三条至第三十七条; T23–T30a)."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from decisions import lifecycle
from decisions.actions import DATE_INPUT, ActionForm, UploadField, action
from decisions.actions.initiation import units_of, yes_no
from decisions.actions.meeting import DECIDING_CHOICES
from decisions.models import (
    DocumentType,
    HandoverTask,
    ImplementationClosure,
    LegalityReview,
    Meeting,
    Organisation,
    Position,
    PostEvaluation,
    Role,
    RoleAssignment,
    Stage,
    Suspension,
)
from decisions.rules import implementation as rules
from decisions.rules import in_language
from decisions.services import implementation

# Where a decision text is in force: executing, suspended, under evaluation, or re-running an adjustment (P16).
IN_FORCE_OR_RERUN = (*lifecycle.IN_FORCE_STATES, *lifecycle.RERUN_STATES)
DEFAULT_REPORT_MONTHS = 6


def reason_field(label, help_text=""):
    return forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": 3}), help_text=help_text)


class InForceForm(ActionForm):
    """An action offered only while a decision text is in force (a first run before publication has none)."""

    @classmethod
    def in_place(cls, decision):
        in_force = decision.state in lifecycle.IN_FORCE_STATES or decision.in_force_version_id is not None
        return in_force and super().in_place(decision)


# -- T23 and the execution record (第三十四条、第三十五条) --------------------------------------------


@action("start-implementation", label=_("确定执行单位，组织执行"), tid="T23")
class StartImplementationForm(ActionForm):
    executor = forms.ModelChoiceField(label=_("决策执行单位"), queryset=Organisation.objects.none())
    report_every_months = forms.IntegerField(
        label=_("执行情况报告周期(月)"),
        min_value=1,
        max_value=60,
        initial=DEFAULT_REPORT_MONTHS,
        help_text=_("执行单位每隔几个月报告一次执行情况"),
    )
    first_report_due = forms.DateField(label=_("首次报告日期"), widget=DATE_INPUT)
    designation = UploadField(DocumentType.EXECUTOR_DESIGNATION, label=_("确定执行单位的文件"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["executor"].queryset = units_of(self.decision.organ)
        self.fields["executor"].initial = self.decision.lead_unit_id
        self.fields["first_report_due"].initial = rules.add_months(timezone.localdate(), DEFAULT_REPORT_MONTHS)

    def clean_first_report_due(self):
        due = self.cleaned_data["first_report_due"]
        if due < timezone.localdate():
            raise forms.ValidationError(_("首次报告日期不得早于今日"), code="past")
        return due

    def run(self, user):
        data = self.cleaned_data
        return implementation.start_implementation(
            user,
            self.decision,
            executor=data["executor"],
            report_every_months=data["report_every_months"],
            first_report_due=data["first_report_due"],
            documents=self.uploads(),
        )


@action(
    "execution-report",
    label=_("报送执行情况报告"),
    roles=[Role.EXECUTOR],
    states=IN_FORCE_OR_RERUN,
    article="第三十四条",
)
class ExecutionReportForm(InForceForm):
    report = UploadField(DocumentType.EXECUTION_REPORT, label=_("执行情况报告"))
    period = forms.CharField(label=_("报告期间"), max_length=60, required=False, help_text=_("例如：2026年上半年"))

    def run(self, user):
        return implementation.record_execution_report(
            user, self.decision, self.upload("report"), period=self.cleaned_data["period"]
        )


def situation_field(label):
    return forms.ChoiceField(label=label, choices=Suspension.Situation.choices, widget=forms.RadioSelect)


@action(
    "execution-issue",
    label=_("报告执行中发现的问题"),
    roles=[Role.EXECUTOR, Role.GOV_OFFICE],
    states=IN_FORCE_OR_RERUN,
    article="第三十五条",
)
class ExecutionIssueForm(InForceForm):
    situation = situation_field(_("情形"))
    description = forms.CharField(label=_("情况说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    report = UploadField(DocumentType.ISSUE_REPORT, label=_("问题报告"))

    def run(self, user):
        data = self.cleaned_data
        return implementation.record_issue(
            user, self.decision, self.upload("report"), situation=data["situation"], description=data["description"]
        )


# -- T24 suspend, T25 resume (第三十七条) ----------------------------------------------------------------


@action(
    "suspend",
    label=_("中止执行"),
    tid="T24",
    # In POST_EVALUATION or an adjustment's re-run, T24 only sets the flag (B7).
    states=[lifecycle.IMPLEMENTING, lifecycle.POST_EVALUATION, *lifecycle.RERUN_STATES],
    danger=True,
)
class SuspendForm(InForceForm):
    situation = situation_field(_("第三十五条所列情形"))
    urgent = yes_no(_("情况是否紧急"), _("情况紧急的，行政首长方可先决定中止执行(第三十七条)"))
    reason = reason_field(_("中止执行的理由"))
    document = UploadField(DocumentType.SUSPENSION_DECISION, label=_("中止执行决定"), required=False)

    @classmethod
    def in_place(cls, decision):
        return not decision.suspended and super().in_place(decision)

    def run(self, user):
        data = self.cleaned_data
        return implementation.suspend(
            user,
            self.decision,
            situation=data["situation"],
            urgent=data["urgent"],
            reason=data["reason"],
            documents=self.uploads(),
        )


@action(
    "resume",
    label=_("恢复执行"),
    tid="T25",
    states=[lifecycle.SUSPENDED, lifecycle.POST_EVALUATION, *lifecycle.RERUN_STATES],
)
class ResumeForm(ActionForm):
    reason = reason_field(_("恢复执行的理由"), _("恢复执行不改变决策内容；需要变更的，依法履行重大调整程序"))
    supplies = frozenset({"REASON_REQUIRED"})

    @classmethod
    def in_place(cls, decision):
        return (decision.state == lifecycle.SUSPENDED or decision.suspended) and super().in_place(decision)

    def run(self, user):
        return implementation.resume(user, self.decision, reason=self.cleaned_data["reason"])


# -- T26 post-evaluation (第三十六条) ---------------------------------------------------------------------


@action("start-post-evaluation", label=_("启动决策后评估"), tid="T26")
class StartPostEvaluationForm(ActionForm):
    trigger = forms.ChoiceField(label=_("启动情形"), choices=PostEvaluation.Trigger.choices, widget=forms.RadioSelect)
    evaluator = forms.ModelChoiceField(label=_("决策后评估单位"), queryset=Organisation.objects.none())
    commissioned = forms.BooleanField(label=_("委托专业机构、社会组织等第三方评估"), required=False)
    plan_public_participation = forms.BooleanField(label=_("评估方案安排听取社会公众意见"), required=False)
    plan_npc_cppcc_participation = forms.BooleanField(
        label=_("评估方案安排人大代表、政协委员、人民团体、基层组织、社会组织参与"), required=False
    )
    start_decision = UploadField(DocumentType.PE_START_DECISION, label=_("决策机关启动后评估的决定"))
    plan = UploadField(DocumentType.PE_PLAN, label=_("后评估方案"))
    supplies = frozenset({"POST_EVALUATOR_NOT_INDEPENDENT"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organ = self.decision.organ
        # The organ's departments and the bodies registered under it (decisions.permissions._within).
        registered = Q(parent=organ)
        if organ.legality_review_dept_id:
            registered |= Q(parent=organ.legality_review_dept_id)
        evaluator = self.fields["evaluator"]
        evaluator.queryset = Organisation.objects.filter(registered).order_by("kind", "name")
        grounds, _agencies = rules.pre_decision_assessors(self.decision)
        excluded = Organisation.objects.filter(pk__in=grounds).order_by("name").values_list("name", flat=True)
        if excluded:
            evaluator.help_text = _(
                "决策作出前承担主要论证评估工作的单位不得承担后评估(第三十六条第二款)：%(units)s"
            ) % {"units": in_language("、", ", ").join(excluded)}

    def run(self, user):
        data = self.cleaned_data
        return implementation.start_post_evaluation(
            user,
            self.decision,
            trigger=data["trigger"],
            evaluator=data["evaluator"],
            commissioned=data["commissioned"],
            plan_public_participation=data["plan_public_participation"],
            plan_npc_cppcc_participation=data["plan_npc_cppcc_participation"],
            documents=self.uploads(),
        )


@action(
    "post-evaluation-report",
    label=_("提交决策后评估报告"),
    roles=[Role.POST_EVALUATOR],
    states=[lifecycle.POST_EVALUATION],
    article="第三十六条",
)
class PostEvaluationReportForm(ActionForm):
    report = UploadField(DocumentType.PE_REPORT, label=_("决策后评估报告"))
    participation = UploadField(
        DocumentType.PE_PARTICIPATION,
        label=_("公众及人大代表、政协委员等参与评估的记录"),
        help_text=_("第三十六条第三款"),
    )

    def run(self, user):
        return implementation.submit_post_evaluation_report(user, self.decision, documents=self.uploads())


@action("close-post-evaluation", label=_("后评估结束，不作调整"), tid="T26a")
class ClosePostEvaluationForm(ActionForm):
    conclusion = reason_field(_("决策机关对评估报告的结论"), _("例如：决策效果良好，继续执行"))

    def run(self, user):
        return implementation.close_post_evaluation(user, self.decision, conclusion=self.cleaned_data["conclusion"])


# -- T27 adjust, T27b abandon (第三十七条) -----------------------------------------------------------------


@action("adjust", label=_("决定重大调整"), tid="T27")
class AdjustForm(ActionForm):
    reason = reason_field(_("调整理由"), _("例如：后评估报告建议、执行单位第三十五条报告"))
    draft = UploadField(DocumentType.DRAFT, label=_("调整后的决策草案"))
    change_summary = forms.CharField(label=_("修改说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    decision_document = UploadField(
        DocumentType.ADJUSTMENT_DECISION,
        label=_("调整决定(常务会议或全体会议纪要，或行政首长签署的决定)"),
        help_text=_("调整后须重新履行公众参与、专家论证、风险评估、合法性审查、集体讨论决定等程序"),
    )
    supplies = frozenset({"REASON_REQUIRED"})

    def run(self, user):
        data = self.cleaned_data
        return implementation.adjust(
            user,
            self.decision,
            reason=data["reason"],
            draft=self.upload("draft"),
            change_summary=data["change_summary"],
            documents=self.uploads("decision_document"),
        )


@action("abandon-adjustment", label=_("放弃调整，原决策继续执行"), tid="T27b", danger=True)
class AbandonAdjustmentForm(InForceForm):
    reason = reason_field(_("放弃调整的理由"))
    decision_document = UploadField(DocumentType.ADJUSTMENT_DECISION, label=_("决策机关放弃调整的决定"))
    supplies = frozenset({"REASON_REQUIRED"})

    def run(self, user):
        return implementation.abandon_adjustment(
            user, self.decision, reason=self.cleaned_data["reason"], documents=self.uploads()
        )


# -- T28 stop: the legality review of the stop, its meeting, the stop (第三十七条) ---------------------------


@action(
    "stop-review-document",
    label=_("上传停止执行的法律意见"),
    roles=[Role.LEGAL_ADVISER, Role.LEGAL_REVIEWER],
    states=IN_FORCE_OR_RERUN,
    article="第二十八条、第三十七条",
)
class StopReviewDocumentForm(InForceForm):
    opinion = UploadField(
        DocumentType.LEGAL_ADVISER_OPINION,
        label=_("法律顾问/公职律师关于停止执行的法律意见"),
        help_text=_("上传后即开始停止执行程序；随后由合法性审查部门出具审查意见"),
    )

    def run(self, user):
        return implementation.add_stop_review_document(user, self.decision, self.upload("opinion"))


@action(
    "stop-legality-opinion",
    label=_("出具停止执行的合法性审查意见"),
    roles=[Role.LEGAL_REVIEWER],
    states=IN_FORCE_OR_RERUN,
    article="第二十五条至第二十八条、第三十七条",
)
class StopLegalityOpinionForm(InForceForm):
    outcome = forms.ChoiceField(label=_("审查结论"), choices=LegalityReview.Outcome.choices, widget=forms.RadioSelect)
    authority = forms.CharField(label=_("决策权限"), widget=forms.Textarea(attrs={"rows": 2}))
    procedure = forms.CharField(label=_("决策程序"), widget=forms.Textarea(attrs={"rows": 2}))
    content = forms.CharField(label=_("决策内容"), widget=forms.Textarea(attrs={"rows": 2}))
    legal_risk_statement = forms.CharField(
        label=_("法律风险提示"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("仅探索性改革事项明示法律风险时填写"),
    )
    opinion = UploadField(DocumentType.LEGALITY_OPINION, label=_("合法性审查意见书"))
    adviser_opinion = UploadField(
        DocumentType.LEGAL_ADVISER_OPINION,
        label=_("法律顾问/公职律师法律意见"),
        required=False,
        help_text=_("已另行上传的无需重复(第二十八条)"),
    )

    def run(self, user):
        data = self.cleaned_data
        return implementation.record_stop_legality_opinion(
            user,
            self.decision,
            outcome=data["outcome"],
            authority=data["authority"],
            procedure=data["procedure"],
            content=data["content"],
            legal_risk_statement=data["legal_risk_statement"],
            documents=self.uploads(),
        )


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, meeting):
        return _("%(title)s(%(type)s，%(date)s)") % {
            "title": meeting.title,
            "type": meeting.get_meeting_type_display(),
            "date": f"{meeting.date:%Y-%m-%d}",
        }


class SpeakerChoiceField(forms.ModelChoiceField):
    chief_ids = frozenset()

    def label_from_instance(self, user):
        name = user.first_name or user.username
        return _("%(name)s(行政首长)") % {"name": name} if user.pk in self.chief_ids else name


STATEMENT_POSITIONS = [("", "—"), *Position.choices]
MIN_STATEMENT_ROWS = 3


@action(
    "stop-meeting-outcome",
    label=_("记录会议对停止执行的讨论决定"),
    roles=[Role.GOV_OFFICE],
    states=IN_FORCE_OR_RERUN,
    article="第三十条、第三十七条",
)
class StopMeetingOutcomeForm(InForceForm):
    """T28 (b): the meeting's statements in speaking order (the chief last), its outcome and minutes."""

    page_template = "decisions/actions/implementation/stop_meeting.html"

    meeting = MeetingChoiceField(
        label=_("会议"),
        queryset=Meeting.objects.none(),
        help_text=_("停止执行须经常务会议或者全体会议讨论(第三十条)；会议须先由政府办公室安排"),
    )
    outcome = forms.ChoiceField(
        label=_("会议决定"),
        choices=DECIDING_CHOICES,
        widget=forms.RadioSelect,
    )
    chief_reason = forms.CharField(
        label=_("行政首长说明的理由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("行政首长的决定与多数组成人员意见不一致的，须在会上说明理由(第三十条)"),
    )
    minutes = UploadField(DocumentType.MINUTES, label=_("会议纪要"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organ = self.decision.organ
        self.fields["meeting"].queryset = Meeting.objects.filter(organ=organ).order_by("-date", "-id")
        speakers = (
            get_user_model()
            .objects.filter(
                role_assignments__organisation=organ, role_assignments__role__in=[Role.CHIEF, Role.MEETING_MEMBER]
            )
            .distinct()
            .order_by("pk")
        )
        chief_ids = frozenset(
            RoleAssignment.objects.filter(organisation=organ, role=Role.CHIEF).values_list("user_id", flat=True)
        )
        self.rows = max(organ.meeting_members_total, speakers.count(), MIN_STATEMENT_ROWS)
        for n in range(1, self.rows + 1):
            labels = [
                text % {"n": n} for text in (_("第%(n)d位发言人"), _("第%(n)d位的意见"), _("第%(n)d位的发言内容"))
            ]
            # The rows are shown as a table without <label>s: each control carries its own name.
            member = SpeakerChoiceField(
                label=labels[0],
                queryset=speakers,
                required=False,
                widget=forms.Select(attrs={"aria-label": labels[0]}),
            )
            member.chief_ids = chief_ids
            self.fields[f"member_{n}"] = member
            self.fields[f"position_{n}"] = forms.ChoiceField(
                label=labels[1],
                choices=STATEMENT_POSITIONS,
                required=False,
                widget=forms.Select(attrs={"aria-label": labels[1]}),
            )
            self.fields[f"text_{n}"] = forms.CharField(
                label=labels[2],
                required=False,
                widget=forms.Textarea(attrs={"rows": 1, "aria-label": labels[2]}),
            )

    def statement_rows(self):
        """Return the bound (member, position, text) fields of each row, in speaking order."""
        return [(self[f"member_{n}"], self[f"position_{n}"], self[f"text_{n}"]) for n in range(1, self.rows + 1)]

    def other_fields(self):
        return [self[name] for name in ("outcome", "chief_reason", "minutes")]

    def clean(self):
        cleaned = super().clean()
        statements = []
        for n in range(1, self.rows + 1):
            member, position, text = (cleaned.get(f"{part}_{n}") for part in ("member", "position", "text"))
            if f"member_{n}" in self.errors or not (member or position or text):
                continue
            if member is None:
                self.add_error(f"member_{n}", _("请选择第%(n)d位发言人") % {"n": n})
            elif not position:
                self.add_error(f"position_{n}", _("请选择第%(n)d位发言人的意见") % {"n": n})
            else:
                statements.append({"member": member, "position": position, "text": text})
        if not statements and not self.errors:
            self.add_error("member_1", _("请按发言顺序填写出席会议的组成人员的发言，行政首长最后发言"))
        cleaned["statements"] = statements
        return cleaned

    def run(self, user):
        data = self.cleaned_data
        return implementation.record_stop_meeting_outcome(
            user,
            self.decision,
            meeting=data["meeting"],
            outcome=data["outcome"],
            statements=data["statements"],
            chief_reason=data["chief_reason"],
            documents=self.uploads(),
        )


@action(
    "abandon-stop",
    label=_("终止停止执行程序"),
    roles=[Role.GOV_OFFICE],
    states=IN_FORCE_OR_RERUN,
    article="第三十七条",
)
class AbandonStopForm(InForceForm):
    reason = reason_field(_("终止的理由"), _("决策机关不再停止执行的，原决策继续执行"))
    supplies = frozenset({"REASON_REQUIRED"})

    @classmethod
    def in_place(cls, decision):
        return super().in_place(decision) and rules.open_stop_record(decision) is not None

    def run(self, user):
        return implementation.abandon_stop(user, self.decision, reason=self.cleaned_data["reason"])


@action("stop", label=_("依法定程序停止执行"), tid="T28", danger=True)
class StopForm(InForceForm):
    reason = reason_field(_("停止执行的理由"))
    stop_decision = UploadField(DocumentType.STOP_DECISION, label=_("决策机关停止执行的决定"))
    supplies = frozenset({"REASON_REQUIRED"})

    def run(self, user):
        return implementation.stop(user, self.decision, reason=self.cleaned_data["reason"], documents=self.uploads())


# -- the end of implementation, hand-over and archive (第三十三条; P16, P18) ---------------------------------


@action(
    "implementation-closure",
    label=_("记录执行终结"),
    roles=[Role.GOV_OFFICE],
    states=[lifecycle.IMPLEMENTING],
    article="第三十四条",
)
class ImplementationClosureForm(ActionForm):
    reason = forms.ChoiceField(
        label=_("执行终结的原因"), choices=ImplementationClosure.Reason.choices, widget=forms.RadioSelect
    )
    document = UploadField(
        DocumentType.IMPLEMENTATION_CLOSURE,
        label=_("执行终结记录"),
        help_text=_("已到期的执行情况报告须先报送"),
    )

    def run(self, user):
        return implementation.record_implementation_closure(
            user, self.decision, reason=self.cleaned_data["reason"], documents=self.uploads()
        )


class HandoverTaskField(forms.ModelChoiceField):
    def label_from_instance(self, task):
        stage = Stage(task.stage_record.stage).label
        return _("%(unit)s · %(stage)s(%(date)s起)") % {
            "unit": task.unit.name,
            "stage": stage,
            "date": f"{timezone.localtime(task.created_at):%Y-%m-%d}",
        }


@action(
    "close-handover",
    label=_("接收协办单位移交材料"),
    roles=[Role.ARCHIVIST],
    article="第三十三条",
)
class CloseHandoverForm(ActionForm):
    task = HandoverTaskField(label=_("移交任务"), queryset=HandoverTask.objects.none())
    record = UploadField(DocumentType.HANDOVER_RECORD, label=_("移交记录"))

    @classmethod
    def in_place(cls, decision):
        # Also on a withdrawn, rejected or stopped decision: archiving waits for it (P7 (3)).
        return rules.open_handover_tasks(decision).exists() and super().in_place(decision)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["task"].queryset = (
            rules.open_handover_tasks(self.decision).select_related("unit", "stage_record").order_by("id")
        )

    def run(self, user):
        return implementation.close_handover_task(user, self.cleaned_data["task"], self.upload("record"))


class ArchiveForm(ActionForm):
    archive_index = UploadField(
        DocumentType.ARCHIVE_INDEX,
        label=_("归档目录"),
        help_text=_("列明各环节案卷；未进行的环节注明“未进行”"),
    )


@action("archive", label=_("归档"), tid="T30")
class ArchiveClosedForm(ArchiveForm):
    def run(self, user):
        return implementation.archive(user, self.decision, documents=self.uploads())


@action("archive-after-implementation", label=_("执行终结，归档"), tid="T30a")
class ArchiveAfterImplementationForm(ArchiveForm):
    def run(self, user):
        return implementation.archive_after_implementation(user, self.decision, documents=self.uploads())
