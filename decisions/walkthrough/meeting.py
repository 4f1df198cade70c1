"""Take a decision from READY_FOR_MEETING through the meeting, the party report and publication (T19–T22).

`decide` holds an executive meeting with every member present, records the members'
statements and the chief's last, and records the outcome; `report_to_party` records the
请示报告 and the reply; `publish` and `issue_not_public` end in PUBLISHED or ISSUED_NOT_PUBLIC.
"""

from django.utils import timezone

from decisions import lifecycle
from decisions.models import CollectiveOutcome, DocumentType, Meeting, Position, Role
from decisions.profiles import PUBLICATION_CHANNEL_LABELS
from decisions.rules import meeting as meeting_rules
from decisions.rules import publication as publication_rules
from decisions.services import meeting, publication
from decisions.walkthrough import doc

NOT_PUBLIC_BASIS = "《中华人民共和国保守国家秘密法》第十三条；《重大行政决策程序暂行条例》第三十二条"
DISSENT_TEXT = "我不同意。{name}认为该方案对财政负担估计不足，建议暂缓，并请记录在案。"


def hold_meeting(cast, *, meeting_type=Meeting.Type.EXECUTIVE, date=None, present=None, title=None):
    """Create a meeting of the organ with the chief and every member present (unless `present` is given)."""
    members = [cast[Role.CHIEF], *cast.extra["members"]] if present is None else list(present)
    date = date or timezone.localdate()
    return meeting.create_meeting(
        cast[Role.GOV_OFFICE],
        cast.organ,
        meeting_type=meeting_type,
        title=title or f"{cast.organ.short_name or cast.organ.name}常务会议",
        date=date,
        members_present=members,
    )


def schedule(cast, decision, *, meeting_obj=None, **meeting_options):
    """T19: put the decision on a (new) meeting's agenda with the request for deliberation and the notice."""
    meeting_obj = meeting_obj or hold_meeting(cast, **meeting_options)
    return meeting.schedule_for_meeting(
        cast[Role.GOV_OFFICE],
        decision,
        meeting=meeting_obj,
        documents=[
            doc(DocumentType.DELIBERATION_REQUEST, "提请审议请示"),
            doc(DocumentType.MEETING_NOTICE, "会议通知"),
        ],
    )


def statements(cast, decision, outcome, *, dissent=0, chief_text=None):
    """Record each present member's statement (`dissent` of them against), then the chief's, last."""
    item = meeting_rules.live_item(decision)
    chief = cast[Role.CHIEF]
    others = [m for m in item.meeting.members_present.order_by("pk") if m.pk != chief.pk]
    against = Position.REJECT if outcome != Position.REJECT else Position.APPROVE
    for n, member in enumerate(others):
        if n < dissent:
            position, text = against, DISSENT_TEXT.format(name=member.first_name or member.username)
        else:
            position, text = outcome, "同意承办单位的汇报意见。"
        meeting.record_statement(cast[Role.GOV_OFFICE], decision, member=member, position=position, text=text)
    if item.meeting.members_present.filter(pk=chief.pk).exists():
        meeting.record_statement(
            cast[Role.GOV_OFFICE],
            decision,
            member=chief,
            position=outcome,
            is_chief=True,
            text=chief_text or f"综合大家意见，决定：{Position(outcome).label}。",
        )
    return item


def decide(
    cast,
    decision,
    outcome=Position.APPROVE,
    *,
    dissent=0,
    controllability=None,
    chief_reason="",
    amendments="",
    adopted_draft=None,
    **meeting_options,
):
    """T19 (from READY_FOR_MEETING) and T20: the meeting discusses the draft and the chief decides."""
    decision.refresh_from_db()
    if decision.state == lifecycle.READY_FOR_MEETING:
        decision = schedule(cast, decision, **meeting_options)
    statements(cast, decision, outcome, dissent=dissent)
    if controllability is None:
        needed = meeting_rules.judgement_required(decision)
        controllability = CollectiveOutcome.Controllability.CONTROLLABLE if needed else ""
    if amendments and adopted_draft is None:
        adopted_draft = doc(DocumentType.DRAFT, "会议审定文本")
    return meeting.record_meeting_outcome(
        cast[Role.GOV_OFFICE],
        decision,
        outcome=outcome,
        controllability_judgement=controllability,
        chief_reason=chief_reason,
        amendments=amendments,
        adopted_draft=adopted_draft,
        documents=[doc(DocumentType.MINUTES, "会议纪要")],
    )


def report_to_party(cast, decision, agrees=True):
    """Record the 请示报告 (第三十一条) and, where the profile asks for one, the committee's reply."""
    liaison = cast[Role.PARTY_LIAISON]
    today = timezone.localdate()
    publication.record_party_report(
        liaison, decision, document=doc(DocumentType.PARTY_REPORT, "请示报告"), reported_on=today
    )
    if decision.profile.params.get("party_reply_required") or not agrees:
        publication.record_party_reply(
            liaison, decision, document=doc(DocumentType.PARTY_REPLY, "党委答复"), reply_on=today, agrees=agrees
        )
    decision.refresh_from_db()
    return decision


def _ensure_reported(cast, decision):
    if publication_rules.current_report(decision) is None:
        report_to_party(cast, decision)


def _npc(decision):
    return doc(DocumentType.NPC_REPORT, "向人大常委会报告") if decision.requires_npc_report else None


def publish(cast, decision, channels=None):
    """T21: publish on every channel the profile requires, with proofs, the final text and an interpretation."""
    decision.refresh_from_db()
    _ensure_reported(cast, decision)
    channels = list(channels or publication_rules.required_channels(decision) or [])
    proofs = {c: doc(DocumentType.CHANNEL_PROOF, PUBLICATION_CHANNEL_LABELS[c]) for c in channels}
    interpretation = (
        doc(DocumentType.INTERPRETATION, "政策解读") if decision.public_concern or decision.highly_technical else None
    )
    return publication.publish(
        cast[Role.GOV_OFFICE],
        decision,
        channels=channels,
        proofs=proofs,
        final_decision=doc(DocumentType.FINAL_DECISION, "决策文件"),
        interpretation=interpretation,
        npc_report=_npc(decision),
    )


def issue_not_public(cast, decision, basis=NOT_PUBLIC_BASIS):
    """T22: one office user records the legal basis for withholding, a second approves and issues."""
    decision.refresh_from_db()
    _ensure_reported(cast, decision)
    publication.record_not_public(
        cast[Role.GOV_OFFICE], decision, legal_basis=basis, evidence=doc(DocumentType.NOT_PUBLIC_BASIS, "不予公开依据")
    )
    return publication.issue_not_public(
        cast.extra["gov_office_2"],
        decision,
        final_decision=doc(DocumentType.FINAL_DECISION, "决策文件"),
        npc_report=_npc(decision),
    )
