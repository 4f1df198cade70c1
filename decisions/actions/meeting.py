"""Actions of the collective decision (集体讨论决定, 第二十四条、第二十六条、第三十条): meetings and attendance,
the agenda (T19, T19a) with the legality-review time override, statements, the outcome (T20), T20a, T20b."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from decisions import lifecycle
from decisions.actions import DATE_INPUT, ActionForm, RecordsField, UploadField, action
from decisions.models import AgendaItem, CollectiveOutcome, DocumentType, Meeting, Position, Role
from decisions.rules import meeting as rules
from decisions.rules.facts import param
from decisions.services import legality
from decisions.services import meeting as service

DECIDING_CHOICES = [(p, Position(p).label) for p in rules.DECIDING_POSITIONS]


def person(user):
    return user.get_full_name() or user.first_name or user.username


def meeting_members(organ):
    """The organ's chief and meeting members: who may be present and speak (第三十条)."""
    return (
        get_user_model()
        .objects.filter(role_assignments__organisation=organ, role_assignments__role__in=service.MEETING_ROLES)
        .distinct()
        .order_by("id")
    )


def upcoming_meetings(organ, *also):
    """The organ's meetings on or after today (Asia/Shanghai), and the meetings named in `also`."""
    ids = [m.pk for m in also if m is not None]
    meetings = Meeting.objects.filter(organ=organ, date__gte=timezone.localdate())
    if ids:
        meetings = meetings | Meeting.objects.filter(pk__in=ids)
    return meetings.order_by("date", "id")


def meeting_label(meeting):
    return _("%(date)s %(type)s：%(title)s") % {
        "date": f"{meeting.date:%Y-%m-%d}",
        "type": Meeting.Type(meeting.meeting_type).label,
        "title": meeting.title,
    }


class MeetingField(forms.ModelChoiceField):
    """A meeting of the organ, labelled with what the form wants the clerk to see beside it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("会议"))
        kwargs.setdefault("empty_label", _("请选择会议"))
        super().__init__(queryset=Meeting.objects.none(), **kwargs)
        self.describe = meeting_label

    def label_from_instance(self, obj):
        return self.describe(obj)


class MemberField(RecordsField):
    def label_from_instance(self, obj):
        return person(obj)


class SpeakerField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person(obj)


def textarea(label, *, required=True, rows=3, help_text="", strip=True):
    return forms.CharField(
        label=label,
        required=required,
        strip=strip,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
    )


def clock_label(decision, meeting):
    """The meeting, with the legality review's working days up to its date (第二十六条; P4)."""
    count, complete_on = legality.review_clock(decision, meeting.date)
    label = meeting_label(meeting)
    if complete_on is None:
        return label
    minimum = param(decision, "legality_review_min_working_days")
    days = _("审查工作日 %(n)d 个") % {"n": count.days}
    if count.provisional:
        days += _("(暂定)")
    if count.days < minimum:
        days += _("，不足 %(min)d 个") % {"min": minimum}
    return _("%(meeting)s（%(days)s）") % {"meeting": label, "days": days}


def clock_help(decision):
    """Say from which date the review clock counts and the minimum, or that there is no opinion yet."""
    _count, complete_on = legality.review_clock(decision, timezone.localdate())
    if complete_on is None:
        return _("尚无合法性审查意见(材料齐全日期)，无法计算审查时间")
    return _(
        "合法性审查材料齐全日期 %(day)s；材料齐全之日至会议日期之间一般不少于 %(min)d 个工作日(第二十六条)，"
        "各次会议的工作日数见选项"
    ) % {"day": complete_on.isoformat(), "min": param(decision, "legality_review_min_working_days")}


def agenda_note(decision):
    item = rules.live_item(decision)
    if item is None:
        return []
    note = _("已列入：%(meeting)s") % {"meeting": meeting_label(item.meeting)}
    if item.review_working_days is not None:
        note += _("；列入时审查工作日 %(n)d 个") % {"n": item.review_working_days}
    return [note]


class MeetingForm(ActionForm):
    """An action of the collective decision, whose page says which meeting the decision is on."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.notes = agenda_note(self.decision)


# -- meetings ------------------------------------------------------------------------------------


@action(
    "create-meeting",
    label=_("安排决策机关会议"),
    roles=[Role.GOV_OFFICE],
    # Before scheduling a draft (T19), and to discuss a stop of execution (T28 (b)) while a text is in force.
    states=[lifecycle.READY_FOR_MEETING, lifecycle.DEFERRED, *lifecycle.IN_FORCE_STATES],
    article="第三十条",
)
class CreateMeetingForm(MeetingForm):
    meeting_type = forms.ChoiceField(
        label=_("会议类型"),
        choices=Meeting.Type.choices,
        initial=Meeting.Type.EXECUTIVE,
        help_text=_("决策草案应当经决策机关常务会议或者全体会议讨论(第三十条)"),
    )
    title = forms.CharField(label=_("会议名称"), max_length=200)
    date = forms.DateField(label=_("会议日期"), widget=DATE_INPUT)
    members_present = MemberField(
        label=_("出席的会议组成人员"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("可在会后据实更正出席情况"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organ = self.decision.organ
        self.fields["members_present"].queryset = meeting_members(organ)
        # A suggestion for the record's own text: the meeting's name is kept in Chinese, like every record.
        self.fields["title"].initial = f"{organ.short_name or organ.name}常务会议"

    def run(self, user):
        data = self.cleaned_data
        return service.create_meeting(
            user,
            self.decision.organ,
            meeting_type=data["meeting_type"],
            title=data["title"],
            date=data["date"],
            members_present=list(data["members_present"]),
        )


@action(
    "record-attendance",
    label=_("记录会议出席情况"),
    roles=[Role.GOV_OFFICE],
    states=[lifecycle.READY_FOR_MEETING, lifecycle.SCHEDULED],
    article="第三十条",
)
class RecordAttendanceForm(MeetingForm):
    meeting = MeetingField()
    members_present = MemberField(
        label=_("出席的会议组成人员"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("出席人数须超过组成人员总数的一半方可作出决定"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        item = rules.live_item(self.decision)
        on = item.meeting if item is not None else None
        self.fields["meeting"].queryset = upcoming_meetings(self.decision.organ, on)
        self.fields["members_present"].queryset = meeting_members(self.decision.organ)
        if on is not None:
            self.fields["meeting"].initial = on.pk
            self.fields["members_present"].initial = list(on.members_present.values_list("pk", flat=True))

    def run(self, user):
        data = self.cleaned_data
        return service.record_attendance(user, data["meeting"], list(data["members_present"]))


# -- the legality-review time override (第二十六条 "一般") ------------------------------------------


@action(
    "record-time-override",
    label=_("说明合法性审查时间不足的理由"),
    roles=[Role.GOV_OFFICE],
    states=service.OVERRIDE_STATES,
    article="第二十六条",
)
class RecordTimeOverrideForm(MeetingForm):
    meeting = MeetingField()
    reason = textarea(
        _("审查时间不足 7 个工作日的理由"),
        help_text=_("仅对所选会议的日期有效；会议改期的须重新说明，并经合法性审查部门确认"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["meeting"]
        field.queryset = upcoming_meetings(self.decision.organ)
        field.describe = lambda meeting: clock_label(self.decision, meeting)
        field.help_text = clock_help(self.decision)

    def run(self, user):
        data = self.cleaned_data
        return service.record_time_override(user, self.decision, meeting=data["meeting"], reason=data["reason"])


@action(
    "acknowledge-time-override",
    label=_("确认审查时间不足的说明"),
    roles=[Role.LEGAL_REVIEWER],
    states=service.OVERRIDE_STATES,
    article="第二十六条",
)
class AcknowledgeTimeOverrideForm(MeetingForm):
    meeting = MeetingField(help_text=_("选项中列出政府办公室就该次会议说明的理由"))

    @classmethod
    def in_place(cls, decision):
        """Offered once the office has explained a short review for some meeting and nobody acknowledged it."""
        waiting = AgendaItem.objects.filter(
            decision=decision, stage_record__isnull=True, removed_at__isnull=True, time_override_acknowledged_at=None
        ).exclude(time_override_reason="")
        return super().in_place(decision) and waiting.exists()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["meeting"]
        field.queryset = upcoming_meetings(self.decision.organ)
        field.describe = self.describe

    def describe(self, meeting):
        item = rules.pending_item(self.decision, meeting)
        reason = item.time_override_reason if item is not None else ""
        said = _("说明：%(reason)s") % {"reason": reason} if reason else _("尚未说明理由")
        return f"{clock_label(self.decision, meeting)} — {said}"

    def run(self, user):
        return service.acknowledge_time_override(user, self.decision, meeting=self.cleaned_data["meeting"])


# -- T19, T19a -----------------------------------------------------------------------------------


@action("schedule-for-meeting", label=_("列入会议议题"), tid="T19")
class ScheduleForMeetingForm(MeetingForm):
    meeting = MeetingField(label=_("会议"))
    deliberation_request = UploadField(
        DocumentType.DELIBERATION_REQUEST, label=_("提请审议请示"), required=False, help_text=_("会议决定前须上传")
    )
    meeting_notice = UploadField(
        DocumentType.MEETING_NOTICE, label=_("会议通知及议程"), required=False, help_text=_("会议决定前须上传")
    )
    supplies = frozenset({"MEETING_TYPE_NOT_ALLOWED"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["meeting"]
        field.queryset = upcoming_meetings(self.decision.organ)
        field.describe = lambda meeting: clock_label(self.decision, meeting)
        field.help_text = clock_help(self.decision)

    def run(self, user):
        return service.schedule_for_meeting(
            user, self.decision, meeting=self.cleaned_data["meeting"], documents=self.uploads()
        )


@action("unschedule", label=_("撤出会议议题"), tid="T19a", danger=True)
class UnscheduleForm(MeetingForm):
    reason = textarea(_("撤出议题的理由"), rows=2, help_text=_("如会议取消、议题调整"))
    supplies = frozenset({"REASON_REQUIRED"})

    def run(self, user):
        return service.unschedule(user, self.decision, reason=self.cleaned_data["reason"])


# -- statements and the outcome (T20) -------------------------------------------------------------


def statement_notes(decision):
    """The statements recorded so far on the live agenda item, in speaking order."""
    item = rules.live_item(decision)
    if item is None:
        return []
    present = item.meeting.members_present.count()
    notes = [
        _("出席 %(present)d 人，组成人员 %(total)d 人") % {"present": present, "total": item.meeting.members_total}
    ]
    for s in item.statements.select_related("member").order_by("seq"):
        chief = _("(行政首长)") if s.is_chief else ""
        notes.append(
            _("%(seq)s. %(member)s%(chief)s：%(position)s — %(text)s")
            % {
                "seq": s.seq,
                "member": person(s.member),
                "chief": chief,
                "position": s.get_position_display(),
                "text": s.text,
            }
        )
    return notes


@action(
    "record-statement",
    label=_("记录会议发言"),
    roles=[Role.GOV_OFFICE],
    states=[lifecycle.SCHEDULED],
    article="第三十条",
)
class RecordStatementForm(MeetingForm):
    member = SpeakerField(label=_("发言人"), queryset=get_user_model().objects.none(), empty_label=_("请选择发言人"))
    position = forms.ChoiceField(label=_("意见"), choices=Position.choices, widget=forms.RadioSelect)
    text = textarea(
        _("发言内容"),
        required=False,
        rows=4,
        strip=False,
        help_text=_("按发言原话记录；不同意见如实载明(第三十条)"),
    )
    is_chief = forms.BooleanField(
        label=_("行政首长的最后发言"), required=False, help_text=_("行政首长在其他组成人员之后最后发表意见")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        item = rules.live_item(self.decision)
        if item is not None:
            self.fields["member"].queryset = item.meeting.members_present.order_by("id")
        self.notes += statement_notes(self.decision)

    def run(self, user):
        data = self.cleaned_data
        return service.record_statement(
            user,
            self.decision,
            member=data["member"],
            position=data["position"],
            text=data["text"],
            is_chief=data["is_chief"],
        )


@action("record-meeting-outcome", label=_("记录会议决定"), tid="T20")
class RecordMeetingOutcomeForm(MeetingForm):
    outcome = forms.ChoiceField(
        label=_("会议决定"),
        choices=DECIDING_CHOICES,
        widget=forms.RadioSelect,
        help_text=_("以行政首长最后发表的意见为准"),
    )
    chief_reason = textarea(_("行政首长说明的理由"), required=False, rows=2)
    amendments = textarea(
        _("会议修改的文字"),
        required=False,
        rows=3,
        help_text=_("决定“同意”并在会上修改文字的，逐项载明修改内容，并上传审定文本"),
    )
    adopted_draft = UploadField(DocumentType.DRAFT, label=_("会议审定文本"), required=False)
    minutes = UploadField(DocumentType.MINUTES, label=_("会议纪要"))
    deliberation_request = UploadField(
        DocumentType.DELIBERATION_REQUEST, label=_("提请审议请示"), required=False, help_text=_("列入议题时未上传的")
    )
    meeting_notice = UploadField(
        DocumentType.MEETING_NOTICE, label=_("会议通知及议程"), required=False, help_text=_("列入议题时未上传的")
    )
    supplies = frozenset({"CHIEF_REASON_MISSING", "RISK_NOT_CONTROLLABLE"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        d = self.decision
        if rules.judgement_required(d):
            self.fields["controllability_judgement"] = forms.ChoiceField(
                label=_("决策机关对风险可控性的判断"),
                choices=CollectiveOutcome.Controllability.choices,
                required=False,
                widget=forms.RadioSelect,
                help_text=_("已开展风险评估的须作出判断；认为风险不可控的，不能作出“同意”的决定(第二十四条)"),
            )
            self.order_fields(["outcome", "controllability_judgement"])
        item = rules.live_item(d) if d.state == lifecycle.SCHEDULED else None
        chief = rules.chief_statement(item) if item is not None else None
        if chief is not None and chief.position in rules.DECIDING_POSITIONS:
            self.fields["outcome"].initial = chief.position
            if rules.chief_differs_from_majority(item, chief.position):
                self.fields["chief_reason"].help_text = _(
                    "按已记录的发言，行政首长的决定与会议组成人员多数人的意见不一致，须说明理由(第三十条)"
                )
        if not self.fields["chief_reason"].help_text:
            self.fields["chief_reason"].help_text = _("行政首长的决定与多数人意见不一致的，须填写(第三十条)")
        self.notes += statement_notes(d)

    def clean(self):
        cleaned = super().clean()
        amended, adopted = (cleaned.get("amendments") or "").strip(), cleaned.get("adopted_draft")
        if adopted and cleaned.get("outcome") not in (None, Position.APPROVE):
            self.add_error("adopted_draft", _("只有“同意”的决定才上传会议审定文本；其他修改应作“修改”的决定"))
        elif amended and not adopted:
            self.add_error("adopted_draft", _("会议修改了文字的，须上传审定文本"))
        elif adopted and not amended:
            self.add_error("amendments", _("上传审定文本的，须逐项载明会议修改的文字"))
        return cleaned

    def run(self, user):
        data = self.cleaned_data
        return service.record_meeting_outcome(
            user,
            self.decision,
            outcome=data["outcome"],
            controllability_judgement=data.get("controllability_judgement") or "",
            chief_reason=data["chief_reason"],
            amendments=data["amendments"],
            adopted_draft=self.upload("adopted_draft"),
            documents=self.uploads("minutes", "deliberation_request", "meeting_notice"),
        )


# -- T20a, T20b ----------------------------------------------------------------------------------


@action("bring-back-after-deferral", label=_("暂缓后重新提请审议"), tid="T20a")
class BringBackAfterDeferralForm(MeetingForm):
    def run(self, user):
        return service.bring_back_after_deferral(user, self.decision)


@action("pull-back-for-revision", label=_("撤回修改或重新评估"), tid="T20b", danger=True)
class PullBackForRevisionForm(MeetingForm):
    reason = textarea(
        _("撤回的理由"),
        rows=2,
        help_text=_("如风险等级为高须调整草案后重新评估、审查意见失效、暂缓后须修改草案"),
    )
    supplies = frozenset({"REASON_REQUIRED"})

    def run(self, user):
        return service.pull_back_for_revision(user, self.decision, reason=self.cleaned_data["reason"])
