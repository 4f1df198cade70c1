"""Rules of the party report and of publication (第八条、第三十一条、第三十二条; T21, T21a, T22).

The 请示报告 (第31条) is tied to the APPROVE outcome it reports: after a disagreeing reply
(T21a) that outcome is superseded and a new meeting needs a new report (P27), and in a
re-run after a major adjustment (T27) the first run's report does not count.
"""

from datetime import timedelta

from decisions import calendar
from decisions.models import CollectiveOutcome, DocumentType, LegalityReview, PartyReport, Position, Role, Stage
from decisions.profiles import PUBLICATION_CHANNEL_LABELS
from decisions.rules import rule
from decisions.rules.facts import filled, has_document, live_record, param

CONFIDENTIAL_BY_LAW = "CONFIDENTIAL_BY_LAW"


# -- facts --------------------------------------------------------------------------------------


def current_approval(decision):
    """Return the APPROVE outcome now standing for the decision (not superseded by a party reply), or None."""
    return (
        CollectiveOutcome.objects.filter(
            agenda_item__decision=decision,
            agenda_item__subject=LegalityReview.Subject.DRAFT,
            outcome=Position.APPROVE,
            superseded_by_party_reply=False,
        )
        .select_related("agenda_item__meeting", "agenda_item__stage_record")
        .order_by("-id")
        .first()
    )


def current_report(decision):
    """Return the 请示报告 on the standing APPROVE outcome, or None."""
    approval = current_approval(decision)
    if approval is None:
        return None
    return PartyReport.objects.filter(outcome=approval).select_related("stage_record").order_by("-id").first()


def pub_record(ctx):
    """The PUB record a step works on: the one the service opened, else the live one."""
    record = ctx.get("pub_record")
    return record if record is not None else live_record(ctx.decision, Stage.PUB)


def run_records(ctx):
    """The stage records of this run after the meeting: the approving CD record, PARTY_REPORT, PUB."""
    approval = current_approval(ctx.decision)
    report = current_report(ctx.decision)
    records = [
        approval.agenda_item.stage_record if approval else None,
        report.stage_record if report else None,
        pub_record(ctx),
    ]
    return [r for r in records if r is not None]


def pending_waiver(ctx):
    """Return the not yet approved CONFIDENTIAL_BY_LAW waiver on the PUB record, or None."""
    record = pub_record(ctx)
    if record is None:
        return None
    return record.waivers.filter(reason_code=CONFIDENTIAL_BY_LAW, approved_by__isnull=True).order_by("-id").first()


def required_channels(decision):
    return decision.profile.for_organ("publication_channels", decision.organ)


# -- party report (第三十一条) -------------------------------------------------------------------


@rule(
    "PARTY_REPORT_MISSING",
    "第三十一条",
    "重大行政决策出台前应当按照规定向同级党委请示报告；须先记录请示报告",
    "The decision must be reported to the party committee (请示报告) before it is issued",
)
def party_report_recorded(ctx):
    report = current_report(ctx.decision)
    return report is not None and report.recorded_at <= ctx.now and report.reported_on <= ctx.today


@rule(
    "PARTY_REPLY_MISSING",
    "第三十一条; P9",
    "须记录同级党委对请示报告的答复",
    "The party committee's reply must be recorded",
)
def party_reply_recorded(ctx):
    if not param(ctx.decision, "party_reply_required"):
        return True
    report = current_report(ctx.decision)
    return report is not None and report.reply_agrees is not None


@rule(
    "PARTY_REPLY_NOT_AGREED",
    "第三十一条; P9",
    "同级党委答复不同意，不得公布或印发",
    "The party committee did not agree: the decision may not be published or issued",
)
def party_reply_agrees(ctx):
    report = current_report(ctx.decision)
    return report is None or report.reply_agrees is not False


@rule(
    "NPC_REPORT_MISSING",
    "第八条",
    "须向本级人大常委会报告的事项，出台前须有报告记录",
    "A decision to be reported to the people's congress standing committee needs that report on record",
)
def npc_report_recorded(ctx):
    if not ctx.decision.requires_npc_report:
        return True
    return any(has_document(record, DocumentType.NPC_REPORT) for record in run_records(ctx))


PARTY_AND_NPC = [party_report_recorded, party_reply_recorded, party_reply_agrees, npc_report_recorded]


# -- T21 ----------------------------------------------------------------------------------------


@rule(
    "PROFILE_NOT_CONFIGURED",
    "P15",
    "规则配置尚未为此类决策机关(部门、乡镇)设定公布渠道",
    "The rule profile does not set the publication channels for this kind of organ",
)
def channels_configured(ctx):
    return required_channels(ctx.decision) is not None


@rule(
    "PUBLICATION_CHANNELS_MISSING",
    "第三十二条",
    "决策应当通过本级人民政府公报和政府网站以及在本行政区域内发行的报纸等途径及时公布(以规则配置的渠道为准)",
    "The decision must be published through every channel the profile requires (gazette, website, local newspaper …)",
)
def channels_cover_profile(ctx):
    required = required_channels(ctx.decision)
    if required is None:
        return True
    return set(required) <= set(ctx.get("channels") or [])


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十二条",
    "社会广泛关注或专业性、技术性较强的决策，须附说明公众意见、专家论证意见采纳情况的政策解读",
    "A decision of wide public concern or high technicality needs an interpretation explaining how public and "
    "expert opinions were adopted",
)
def interpretation_attached(ctx):
    d = ctx.decision
    if not (d.public_concern or d.highly_technical):
        return True
    return has_document(pub_record(ctx), DocumentType.INTERPRETATION)


@rule(
    "DOSSIER_ITEM_MISSING",
    "第三十三条; B8",
    "须上传决策文件(正式印发文本)",
    "The final decision document must be attached",
)
def final_decision_attached(ctx):
    return has_document(pub_record(ctx), DocumentType.FINAL_DECISION)


def _channel_proof(code, label):
    @rule(
        "DOSSIER_ITEM_MISSING",
        "第三十二条; B8",
        f"须上传“{label}”的公布证明",
        f"The proof of publication through {code} must be attached",
        name=f"proof_{code.lower()}",
    )
    def check(ctx):
        if code not in (ctx.get("channels") or []):
            return True
        proof = (ctx.get("proof_docs") or {}).get(code)
        return proof is not None and proof.doc_type == DocumentType.CHANNEL_PROOF

    return check


CHANNEL_PROOFS = [_channel_proof(code, label) for code, label in PUBLICATION_CHANNEL_LABELS.items()]


def working_days_since_meeting(ctx):
    """Return the working days from the day after the approving meeting up to and including today (P23)."""
    approval = current_approval(ctx.decision)
    if approval is None:
        return None
    return calendar.working_days_between(approval.agenda_item.meeting.date, ctx.today + timedelta(days=1))


@rule(
    "PUBLICATION_NOT_TIMELY",
    "第三十二条; P23",
    "自会议决定之日起已超过规则配置的工作日数，决策应当及时公布",
    "More working days than the profile's warning limit have passed since the meeting: publish promptly",
    warning=True,
)
def published_promptly(ctx):
    count = working_days_since_meeting(ctx)
    return count is None or count.days <= param(ctx.decision, "publication_warn_working_days")


T21 = [
    *PARTY_AND_NPC,
    channels_configured,
    channels_cover_profile,
    interpretation_attached,
    final_decision_attached,
    *CHANNEL_PROOFS,
    published_promptly,
]


# -- T21a ---------------------------------------------------------------------------------------


@rule(
    "PARTY_REPLY_MISSING",
    "第三十一条; P27",
    "须先记录同级党委不同意的答复及其文件",
    "The party committee's disagreeing reply and its document must be recorded first",
    name="disagreeing_reply_recorded",
)
def disagreeing_reply_recorded(ctx):
    report = current_report(ctx.decision)
    return report is not None and report.reply_agrees is False and report.reply_document_id is not None


@rule(
    "REASON_REQUIRED", "第三十一条; P27", "退回修改须说明理由", "Sending the decision back for revision needs a reason"
)
def return_reason_given(ctx):
    return filled(ctx.get("reason"))


T21A = [disagreeing_reply_recorded, return_reason_given]


# -- T22 ----------------------------------------------------------------------------------------


@rule(
    "WAIVER_BASIS_MISSING",
    "第三十二条",
    "依法不予公开的，须记录所依据的法律文件及条款并附证明材料",
    "Withholding publication needs the legal basis (instrument and article) and its evidence on record",
)
def not_public_basis_recorded(ctx):
    waiver = pending_waiver(ctx)
    return waiver is not None and filled(waiver.legal_basis) and waiver.evidence_id is not None


@rule(
    "WAIVER_APPROVER_INVALID",
    "P12; B6",
    "依法不予公开须由政府办公室另一名工作人员审核同意(记录人不得自行审核)",
    "Another government-office user than the one who recorded it must approve withholding publication",
)
def not_public_approver_valid(ctx):
    waiver = pending_waiver(ctx)
    if waiver is None:
        return True
    return ctx.role == Role.GOV_OFFICE and ctx.actor is not None and ctx.actor.pk != waiver.recorded_by_id


T22 = [not_public_basis_recorded, not_public_approver_valid, *PARTY_AND_NPC, final_decision_attached]
