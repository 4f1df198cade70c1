"""Running the sub-stages: public participation and comment (T7, T7a), hearing (T7b), expert review (T8),
risk assessment (T9); 第十四条至第二十四条."""

from datetime import date, timedelta

import pytest

from decisions.models import (
    AuditEvent,
    CommentPeriod,
    Decision,
    Document,
    DocumentType,
    ExpertMember,
    Hearing,
    HearingParticipant,
    RiskAssessment,
    Role,
    SignOff,
    Stage,
    StageRecord,
    StageStatus,
)
from decisions.rules import ProcedureRefused
from decisions.services import consultation
from decisions.walkthrough import consultation as consult_walk
from decisions.walkthrough import doc
from decisions.walkthrough import initiation as walk

MODELS = (
    AuditEvent,
    StageRecord,
    Document,
    SignOff,
    CommentPeriod,
    Hearing,
    HearingParticipant,
    ExpertMember,
    RiskAssessment,
)
HOW = "通过政府网站留言或电子邮件提出意见"


def consulting(cast, **answers):
    return walk.draft(cast, walk.initiate(cast, walk.propose(cast)), answers=answers)


def snapshot(decision):
    d = Decision.objects.get(pk=decision.pk)
    records = list(
        StageRecord.objects.filter(decision=d).order_by("id").values_list("id", "stage", "status", "methods")
    )
    periods = list(CommentPeriod.objects.order_by("id").values_list("id", "shortening_reason", "published_at"))
    hearings = list(Hearing.objects.order_by("id").values_list("id", "hearing_date", "record_signed"))
    stale = list(RiskAssessment.objects.order_by("id").values_list("id", "stale_marked_at"))
    return d.state, records, periods, hearings, stale, [m.objects.count() for m in MODELS]


def refused(code, decision, call, *args, **kwargs):
    before = snapshot(decision)
    with pytest.raises(ProcedureRefused) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.message()
    assert snapshot(decision) == before
    return caught.value


def status(decision, stage):
    return Decision.objects.get(pk=decision.pk).current_record(stage).status


def record(decision, stage):
    return Decision.objects.get(pk=decision.pk).current_record(stage)


def today():
    return consultation.today()


@pytest.fixture
def lead(open_cast):
    return open_cast[Role.UNDERTAKING_LEAD]


@pytest.fixture
def in_pp(open_cast, lead):
    """A decision with PP open."""
    decision = consulting(open_cast)
    consultation.open_substage(lead, decision, Stage.PP)
    return decision


def publish(lead, decision, publish_date, deadline_date, **extra):
    kwargs = {
        "channels": ["GOV_WEBSITE"],
        "how_to_comment": HOW,
        "documents": [doc(DocumentType.COMMENT_NOTICE), doc(DocumentType.PUBLICATION_PROOF)],
        **extra,
    }
    return consultation.publish_comment_notice(
        lead, decision, publish_date=publish_date, deadline_date=deadline_date, **kwargs
    )


def finish_pp(open_cast, lead, decision, **kwargs):
    consultation.close_not_triggered(
        lead, decision, Stage.HEARING, reason_code="OPTIONAL_NOT_HELD", reason_text="未要求听证"
    )
    return consultation.complete_public_participation(
        lead, decision, documents=[doc(DocumentType.OPINION_SUMMARY), doc(DocumentType.ADOPTION_STATEMENT)], **kwargs
    )


# -- T7a: the public-comment notice ------------------------------------------------------------------


def test_a_thirty_day_notice_on_the_government_website_passes(open_cast, lead, in_pp):
    # Scenario 12: 2025-03-01 to 2025-03-31 is 30 days (start day not counted, P4).
    period = publish(lead, in_pp, date(2025, 3, 1), date(2025, 3, 31))
    assert period.published_at is not None
    assert period.warnings == []
    assert "PUBLIC_COMMENT" in record(in_pp, Stage.PP).methods
    finish_pp(open_cast, lead, in_pp)
    assert status(in_pp, Stage.PP) == StageStatus.DONE


def test_a_fifteen_day_notice_without_a_reason_is_refused(lead, in_pp):
    # Scenario 13.
    refusal = refused(
        "COMMENT_PERIOD_TOO_SHORT_NO_REASON", in_pp, publish, lead, in_pp, date(2025, 3, 1), date(2025, 3, 16)
    )
    assert refusal.failures[0].rule.citation == "《重大行政决策程序暂行条例》第十五条"


def test_a_twenty_nine_day_notice_is_too_short(lead, in_pp):
    refused("COMMENT_PERIOD_TOO_SHORT_NO_REASON", in_pp, publish, lead, in_pp, date(2025, 3, 1), date(2025, 3, 30))


def test_a_shortened_notice_with_its_reason_lets_participation_close_once_it_ends(open_cast, lead, in_pp):
    # Scenario 15.
    deadline = today() - timedelta(days=1)
    period = publish(
        lead, in_pp, deadline - timedelta(days=20), deadline, shortening_reason="因情况紧急，征求意见期限缩短为20日"
    )
    assert consultation.procedure_statement(in_pp)[0]["comment_periods"][0]["days"] == 20
    assert period.shortening_reason.startswith("因情况紧急")
    finish_pp(open_cast, lead, in_pp)
    assert status(in_pp, Stage.PP) == StageStatus.DONE


def test_participation_cannot_close_while_comments_are_accepted_until_midnight_of_the_deadline(open_cast, lead, in_pp):
    publish(lead, in_pp, today() - timedelta(days=30), today())
    consultation.close_not_triggered(
        lead, in_pp, Stage.HEARING, reason_code="OPTIONAL_NOT_HELD", reason_text="未要求听证"
    )
    refused(
        "COMMENT_PERIOD_OPEN",
        in_pp,
        consultation.complete_public_participation,
        lead,
        in_pp,
        documents=[doc(DocumentType.OPINION_SUMMARY), doc(DocumentType.ADOPTION_STATEMENT)],
    )


def test_an_opinion_summary_made_before_the_deadline_does_not_cover_all_comments(open_cast, lead, in_pp):
    deadline = today() - timedelta(days=1)
    publish(lead, in_pp, deadline - timedelta(days=30), deadline)
    consultation.close_not_triggered(
        lead, in_pp, Stage.HEARING, reason_code="OPTIONAL_NOT_HELD", reason_text="未要求听证"
    )
    consultation.record_participation_methods(
        lead, in_pp, ["FORUM"], documents=[doc(DocumentType.OPINION_SUMMARY), doc(DocumentType.ADOPTION_STATEMENT)]
    )
    summary = record(in_pp, Stage.PP).documents.get(doc_type=DocumentType.OPINION_SUMMARY)
    early = summary.uploaded_at - timedelta(days=3)
    Document.objects.filter(pk=summary.pk).update(uploaded_at=early)  # made while comments were still coming in
    refused("COMMENT_PERIOD_OPEN", in_pp, consultation.complete_public_participation, lead, in_pp)


def test_the_shortening_reason_is_given_before_publication_and_locked_after(lead, in_pp):
    period = consultation.prepare_comment_notice(
        lead,
        in_pp,
        channels=["GOV_NEW_MEDIA"],
        how_to_comment=HOW,
        publish_date=date(2025, 3, 1),
        deadline_date=date(2025, 3, 16),
    )
    refused(
        "COMMENT_PERIOD_TOO_SHORT_NO_REASON", in_pp, consultation.mark_comment_notice_published, lead, in_pp, period
    )
    consultation.set_shortening_reason(lead, in_pp, period, "因汛期临近，情况紧急，缩短为15日")
    published = consultation.mark_comment_notice_published(
        lead, in_pp, period, documents=[doc(DocumentType.COMMENT_NOTICE)]
    )
    assert published.notice_document.doc_type == DocumentType.COMMENT_NOTICE
    refused(
        "COMMENT_PERIOD_TOO_SHORT_NO_REASON", in_pp, consultation.set_shortening_reason, lead, in_pp, period, "补充说明"
    )


def test_a_reason_cannot_be_added_after_a_short_notice_was_published(lead, in_pp):
    period = publish(lead, in_pp, date(2025, 3, 1), date(2025, 3, 31))
    refused(
        "COMMENT_PERIOD_TOO_SHORT_NO_REASON",
        in_pp,
        consultation.set_shortening_reason,
        lead,
        in_pp,
        period,
        "事后补充的理由",
    )


@pytest.mark.parametrize(
    "change",
    [
        {"includes_draft": False},
        {"includes_explanation": False},
        {"how_to_comment": ""},
        {"channels": []},
        {"channels": ["WECHAT"]},
        {"channels": ["OTHER"]},
        {"deadline_date": date(2025, 2, 28)},
    ],
)
def test_an_incomplete_notice_is_refused(lead, in_pp, change):
    kwargs = {"publish_date": date(2025, 3, 1), "deadline_date": date(2025, 3, 31), **change}
    refused(
        "COMMENT_NOTICE_INCOMPLETE",
        in_pp,
        publish,
        lead,
        in_pp,
        kwargs.pop("publish_date"),
        kwargs.pop("deadline_date"),
        **kwargs,
    )


def test_a_notice_on_no_named_channel_is_published_with_a_warning(lead, in_pp):
    period = publish(
        lead, in_pp, date(2025, 3, 1), date(2025, 3, 31), channels=["OTHER"], other_channel_text="社区公告栏"
    )
    assert [w.code for w in period.warnings] == ["COMMENT_CHANNEL_NOT_NAMED"]
    event = AuditEvent.objects.filter(action="comment_notice:publish").latest("seq")
    assert event.payload["warnings"] == ["COMMENT_CHANNEL_NOT_NAMED"]


def test_a_notice_is_published_only_while_participation_is_in_progress(open_cast, lead):
    decision = consulting(open_cast)
    refused("STATE_PREREQUISITE_MISSING", decision, publish, lead, decision, date(2025, 3, 1), date(2025, 3, 31))


def test_an_extension_keeps_the_original_publish_date_and_moves_the_last_deadline(open_cast, lead, in_pp):
    start = today() - timedelta(days=40)
    first = publish(lead, in_pp, start, start + timedelta(days=30))
    refused(
        "COMMENT_NOTICE_INCOMPLETE",
        in_pp,
        consultation.extend_comment_period,
        lead,
        in_pp,
        deadline_date=start + timedelta(days=30),
    )
    extended = consultation.extend_comment_period(
        lead, in_pp, deadline_date=today(), documents=[doc(DocumentType.COMMENT_NOTICE)]
    )
    assert (extended.publish_date, extended.deadline_date, extended.extends) == (start, today(), first)
    consultation.close_not_triggered(lead, in_pp, Stage.HEARING, reason_code="OPTIONAL_NOT_HELD", reason_text="x")
    refused(
        "COMMENT_PERIOD_OPEN",
        in_pp,
        consultation.complete_public_participation,
        lead,
        in_pp,
        documents=[doc(DocumentType.OPINION_SUMMARY), doc(DocumentType.ADOPTION_STATEMENT)],
    )


def test_an_extension_runs_from_the_original_date_so_a_short_notice_keeps_its_reason(lead, in_pp):
    start = date(2025, 3, 1)
    publish(lead, in_pp, start, date(2025, 3, 11), shortening_reason="情况紧急，缩短为10日")
    extended = consultation.extend_comment_period(lead, in_pp, deadline_date=date(2025, 3, 21))
    assert extended.shortening_reason == "情况紧急，缩短为10日"
    assert consultation.procedure_statement(in_pp)[0]["comment_periods"][-1]["days"] == 20


def test_an_extension_needs_a_published_notice(lead, in_pp):
    refused(
        "COMMENT_NOTICE_INCOMPLETE",
        in_pp,
        consultation.extend_comment_period,
        lead,
        in_pp,
        deadline_date=date(2025, 3, 31),
    )


def test_a_profile_may_set_a_longer_minimum_period(cast_factory, profile_variant):
    cast = cast_factory(profile=profile_variant("huzhou", catalogue_required=False, comment_period_min_days=45).code)
    decision = consulting(cast)
    consultation.open_substage(cast[Role.UNDERTAKING_LEAD], decision, Stage.PP)
    refused(
        "COMMENT_PERIOD_TOO_SHORT_NO_REASON",
        decision,
        publish,
        cast[Role.UNDERTAKING_LEAD],
        decision,
        date(2025, 3, 1),
        date(2025, 3, 31),
    )


# -- T7: closing public participation --------------------------------------------------------------


def test_participation_needs_at_least_one_method(open_cast, lead, in_pp):
    consultation.close_not_triggered(lead, in_pp, Stage.HEARING, reason_code="OPTIONAL_NOT_HELD", reason_text="x")
    refusal = refused(
        "DOSSIER_ITEM_MISSING",
        in_pp,
        consultation.complete_public_participation,
        lead,
        in_pp,
        documents=[doc(DocumentType.OPINION_SUMMARY), doc(DocumentType.ADOPTION_STATEMENT)],
    )
    assert "第十四条" in refusal.failures[0].rule.citation


def test_unknown_participation_methods_are_refused(lead, in_pp):
    refused("DOSSIER_ITEM_MISSING", in_pp, consultation.record_participation_methods, lead, in_pp, ["LOBBYING"])


@pytest.mark.parametrize(
    ("missing", "code"),
    [
        (DocumentType.OPINION_SUMMARY, "DOSSIER_ITEM_MISSING"),
        (DocumentType.ADOPTION_STATEMENT, "DOSSIER_ITEM_MISSING"),
        (DocumentType.SPECIFIC_GROUP_CONSULTATION, "SPECIFIC_GROUP_CONSULTATION_MISSING"),
        (DocumentType.PUBLICATION_PROOF, "DOSSIER_ITEM_MISSING"),
    ],
)
def test_participation_closes_only_with_its_records(open_cast, lead, missing, code):
    decision = consulting(open_cast, affects_specific_group=True)
    consultation.open_substage(lead, decision, Stage.PP)
    deadline = today() - timedelta(days=1)
    proof = [] if missing == DocumentType.PUBLICATION_PROOF else [doc(DocumentType.PUBLICATION_PROOF)]
    publish(lead, decision, deadline - timedelta(days=30), deadline, documents=proof)
    consultation.close_not_triggered(lead, decision, Stage.HEARING, reason_code="OPTIONAL_NOT_HELD", reason_text="x")
    needed = [DocumentType.OPINION_SUMMARY, DocumentType.ADOPTION_STATEMENT, DocumentType.SPECIFIC_GROUP_CONSULTATION]
    uploads = [doc(t) for t in needed if t != missing]
    refused(code, decision, consultation.complete_public_participation, lead, decision, documents=uploads)
    if missing != DocumentType.PUBLICATION_PROOF:
        consultation.complete_public_participation(lead, decision, documents=uploads + [doc(missing)])
        assert status(decision, Stage.PP) == StageStatus.DONE


def test_participation_waits_for_the_hearing_record(open_cast, lead, in_pp):
    consultation.record_participation_methods(lead, in_pp, ["FORUM", "WRITTEN"])
    refused(
        "HEARING_REQUIRED",
        in_pp,
        consultation.complete_public_participation,
        lead,
        in_pp,
        documents=[doc(DocumentType.OPINION_SUMMARY), doc(DocumentType.ADOPTION_STATEMENT)],
    )


def test_a_hearing_named_as_a_method_must_have_been_held(open_cast, lead, in_pp):
    consultation.record_participation_methods(lead, in_pp, ["HEARING"])
    consultation.close_not_triggered(lead, in_pp, Stage.HEARING, reason_code="OPTIONAL_NOT_HELD", reason_text="x")
    refused(
        "HEARING_REQUIRED",
        in_pp,
        consultation.complete_public_participation,
        lead,
        in_pp,
        documents=[doc(DocumentType.OPINION_SUMMARY), doc(DocumentType.ADOPTION_STATEMENT)],
    )


def test_participation_is_signed_off_by_the_lead(open_cast, in_pp):
    consult_walk.participate(open_cast, in_pp)
    signoff = record(in_pp, Stage.PP).signoffs.get()
    assert (signoff.user, signoff.role) == (open_cast[Role.UNDERTAKING_LEAD], "UNDERTAKING_LEAD")
    assert {d["type"] for d in signoff.manifest["documents"]} >= {"OPINION_SUMMARY", "ADOPTION_STATEMENT"}


# -- T7b: the hearing -------------------------------------------------------------------------------


@pytest.fixture
def in_hearing(open_cast, lead, in_pp):
    """A decision whose hearing is open and scheduled two days ago, notices in order, no participant yet."""
    organiser = open_cast[Role.HEARING_ORG]
    consultation.open_substage(organiser, in_pp, Stage.HEARING)
    held = today() - timedelta(days=2)
    consultation.schedule_hearing(
        organiser,
        in_pp,
        hearing_date=held,
        place="听证室",
        notice_published_on=held - timedelta(days=30),
        selection_method_published_on=held - timedelta(days=25),
        selection_done_on=held - timedelta(days=20),
        participant_list_published_on=held - timedelta(days=15),
        documents=[
            doc(DocumentType.HEARING_NOTICE),
            doc(DocumentType.HEARING_SELECTION_METHOD),
            doc(DocumentType.HEARING_PARTICIPANT_LIST),
        ],
    )
    return in_pp


def add(open_cast, decision, name, days_before, receipt=True):
    hearing = record(decision, Stage.HEARING).hearing
    return consultation.add_hearing_participant(
        open_cast[Role.HEARING_ORG],
        decision,
        name=name,
        delivery_date=hearing.hearing_date - timedelta(days=days_before) if days_before is not None else None,
        receipt=doc(DocumentType.HEARING_RECEIPT, name) if receipt else None,
    )


SIGNED_RECORD = [doc(DocumentType.HEARING_RECORD, signed=True)]


def test_a_hearing_held_in_order_closes_and_counts_as_a_participation_method(open_cast, lead, in_hearing):
    add(open_cast, in_hearing, "甲", 7)  # exactly 7 days before: enough (第十六条)
    add(open_cast, in_hearing, "乙", 12)
    consultation.complete_hearing(lead, in_hearing, documents=SIGNED_RECORD)
    hearing_record = record(in_hearing, Stage.HEARING)
    assert hearing_record.status == StageStatus.DONE
    assert hearing_record.hearing.record_signed is True
    assert hearing_record.signoffs.get().user == lead
    assert "HEARING" in record(in_hearing, Stage.PP).methods


def test_materials_delivered_six_days_before_are_late(open_cast, lead, in_hearing):
    add(open_cast, in_hearing, "甲", 10)
    add(open_cast, in_hearing, "乙", 6)
    refused(
        "HEARING_MATERIALS_LATE", in_hearing, consultation.complete_hearing, lead, in_hearing, documents=SIGNED_RECORD
    )


@pytest.mark.parametrize(("days_before", "receipt"), [(10, False), (None, True)])
def test_a_participant_without_a_receipt_fails_the_delivery_check(open_cast, lead, in_hearing, days_before, receipt):
    add(open_cast, in_hearing, "甲", days_before, receipt=receipt)
    refused(
        "HEARING_MATERIALS_LATE", in_hearing, consultation.complete_hearing, lead, in_hearing, documents=SIGNED_RECORD
    )


def test_a_late_delivery_can_be_put_right_with_the_receipt_of_a_new_delivery(open_cast, lead, in_hearing):
    participant = add(open_cast, in_hearing, "甲", None, receipt=False)
    hearing = record(in_hearing, Stage.HEARING).hearing
    consultation.record_delivery(
        open_cast[Role.HEARING_ORG],
        in_hearing,
        participant,
        delivery_date=hearing.hearing_date - timedelta(days=8),
        receipt=doc(DocumentType.HEARING_RECEIPT),
    )
    consultation.complete_hearing(lead, in_hearing, documents=SIGNED_RECORD)
    assert status(in_hearing, Stage.HEARING) == StageStatus.DONE


def test_moving_the_hearing_re_runs_the_delivery_check(open_cast, lead, in_hearing):
    add(open_cast, in_hearing, "甲", 8)
    hearing = record(in_hearing, Stage.HEARING).hearing
    moved = consultation.change_hearing_date(
        open_cast[Role.HEARING_ORG],
        in_hearing,
        hearing_date=hearing.hearing_date - timedelta(days=2),
        reason="场地调整",
    )
    assert [p.name for p in moved.late_participants] == ["甲"]
    refused(
        "HEARING_MATERIALS_LATE", in_hearing, consultation.complete_hearing, lead, in_hearing, documents=SIGNED_RECORD
    )
    refused(
        "REASON_REQUIRED",
        in_hearing,
        consultation.change_hearing_date,
        open_cast[Role.HEARING_ORG],
        in_hearing,
        hearing_date=hearing.hearing_date,
        reason="",
    )


def test_a_hearing_record_not_signed_by_the_participants_is_refused(open_cast, lead, in_hearing):
    add(open_cast, in_hearing, "甲", 10)
    refused(
        "HEARING_RECORD_UNSIGNED",
        in_hearing,
        consultation.complete_hearing,
        lead,
        in_hearing,
        documents=[doc(DocumentType.HEARING_RECORD, signed=False)],
    )


@pytest.mark.parametrize(
    "change",
    [
        {"notice_published_on": None},
        {"notice_published_on": "hearing"},
        {"selection_method_published_on": "selection"},
        {"selection_done_on": None},
        {"participant_list_published_on": "hearing"},
    ],
)
def test_each_publication_must_come_before_the_hearing(open_cast, lead, in_hearing, change):
    add(open_cast, in_hearing, "甲", 10)
    hearing = record(in_hearing, Stage.HEARING).hearing
    values = {"hearing": hearing.hearing_date, "selection": hearing.selection_done_on}
    fields = {k: values.get(v, v) for k, v in change.items()}
    consultation.update_hearing(open_cast[Role.HEARING_ORG], in_hearing, **fields)
    refused(
        "DOSSIER_ITEM_MISSING", in_hearing, consultation.complete_hearing, lead, in_hearing, documents=SIGNED_RECORD
    )


def test_participants_not_selected_need_no_selection_method(open_cast, lead, in_hearing):
    add(open_cast, in_hearing, "甲", 10)
    consultation.update_hearing(
        open_cast[Role.HEARING_ORG],
        in_hearing,
        participants_selected=False,
        selection_method_published_on=None,
        selection_done_on=None,
    )
    consultation.complete_hearing(lead, in_hearing, documents=SIGNED_RECORD)
    assert status(in_hearing, Stage.HEARING) == StageStatus.DONE


def test_a_hearing_without_participants_or_not_yet_held_cannot_close(open_cast, lead, in_hearing):
    refused(
        "DOSSIER_ITEM_MISSING", in_hearing, consultation.complete_hearing, lead, in_hearing, documents=SIGNED_RECORD
    )
    add(open_cast, in_hearing, "甲", 10)
    consultation.change_hearing_date(
        open_cast[Role.HEARING_ORG], in_hearing, hearing_date=today() + timedelta(days=3), reason="延期"
    )
    refused(
        "DOSSIER_ITEM_MISSING", in_hearing, consultation.complete_hearing, lead, in_hearing, documents=SIGNED_RECORD
    )


def test_a_hearing_is_scheduled_once_and_only_while_open(open_cast, lead, in_hearing):
    refused(
        "STATE_PREREQUISITE_MISSING",
        in_hearing,
        consultation.schedule_hearing,
        open_cast[Role.HEARING_ORG],
        in_hearing,
        hearing_date=today(),
        place="另一地点",
    )


def test_a_short_hearing_notice_is_a_warning(open_cast, lead, in_pp):
    organiser = open_cast[Role.HEARING_ORG]
    consultation.open_substage(organiser, in_pp, Stage.HEARING)
    held = today() - timedelta(days=1)
    consultation.schedule_hearing(
        organiser,
        in_pp,
        hearing_date=held,
        place="听证室",
        participants_selected=False,
        notice_published_on=held - timedelta(days=5),
        participant_list_published_on=held - timedelta(days=3),
        documents=[doc(DocumentType.HEARING_NOTICE), doc(DocumentType.HEARING_PARTICIPANT_LIST)],
    )
    add(open_cast, in_pp, "甲", 7)
    consultation.complete_hearing(lead, in_pp, documents=SIGNED_RECORD)
    event = AuditEvent.objects.filter(action="hearing:record_signed").latest("seq")
    assert event.payload["warnings"] == ["HEARING_NOTICE_SHORT"]


def test_a_required_hearing_is_held_through_the_walkthrough(open_cast):
    decision = consulting(open_cast, major_disagreement=True)
    consult_walk.participate(open_cast, decision)
    assert status(decision, Stage.HEARING) == StageStatus.DONE
    assert record(decision, Stage.HEARING).hearing.participants.count() == 3


# -- T8: expert review ---------------------------------------------------------------------------


@pytest.fixture
def in_ex(open_cast, lead):
    decision = consulting(open_cast, highly_technical=True)
    consult_walk.participate(open_cast, decision)
    consultation.open_substage(lead, decision, Stage.EX)
    consultation.set_expert_review_mode(lead, decision, "WRITTEN", documents=[doc(DocumentType.EXPERT_SELECTION)])
    return decision


def expert(lead, decision, name="专家", **extra):
    extra.setdefault("declaration", doc(DocumentType.EXPERT_DECLARATION, name))
    return consultation.add_expert(lead, decision, name=name, **extra)


ADOPTION = [doc(DocumentType.EXPERT_ADOPTION_STATEMENT)]


@pytest.mark.parametrize(
    "extra", [{"declaration": None}, {"no_interest_declared": False}, {"has_direct_interest": True}]
)
def test_an_expert_without_a_no_interest_declaration_is_not_added(lead, in_ex, extra):
    refused("EXPERT_CONFLICT_OF_INTEREST", in_ex, expert, lead, in_ex, **extra)


@pytest.mark.parametrize(
    ("is_agency", "signed", "sealed", "expected"),
    [
        (False, False, False, "EXPERT_OPINION_UNSIGNED"),
        (True, True, False, "EXPERT_OPINION_UNSIGNED"),
        (True, False, True, "EXPERT_OPINION_UNSIGNED"),
        (False, True, False, None),
        (True, True, True, None),
    ],
)
def test_written_opinions_are_signed_and_an_agencys_is_sealed(
    open_cast, lead, in_ex, is_agency, signed, sealed, expected
):
    # Scenario 21 (第十九条第二款).
    member = expert(lead, in_ex, is_agency=is_agency, holds_dissenting_view=True)
    consultation.upload_expert_opinion(
        open_cast[Role.EXPERT], in_ex, member, doc(DocumentType.EXPERT_OPINION, signed=signed, sealed=sealed)
    )
    if expected:
        refused(expected, in_ex, consultation.complete_expert_review, lead, in_ex, documents=ADOPTION)
    else:
        consultation.complete_expert_review(lead, in_ex, documents=ADOPTION)
        assert status(in_ex, Stage.EX) == StageStatus.DONE
        assert record(in_ex, Stage.EX).signoffs.get().user == lead


def test_expert_review_needs_a_mode_the_panel_and_the_adoption_statement(open_cast, lead):
    decision = consulting(open_cast)
    consult_walk.participate(open_cast, decision)
    consultation.open_substage(lead, decision, Stage.EX)
    refusal = refused("DOSSIER_ITEM_MISSING", decision, consultation.complete_expert_review, lead, decision)
    assert refusal.failures[0].rule.name == "expert_mode_recorded"
    consultation.set_expert_review_mode(lead, decision, "MEETING")
    refusal = refused("DOSSIER_ITEM_MISSING", decision, consultation.complete_expert_review, lead, decision)
    assert refusal.failures[0].rule.name == "expert_panel_recorded"
    member = expert(lead, decision, holds_dissenting_view=True)
    consultation.set_expert_review_mode(lead, decision, "MEETING", documents=[doc(DocumentType.EXPERT_SELECTION)])
    consultation.upload_expert_opinion(lead, decision, member, doc(DocumentType.EXPERT_OPINION, signed=True))
    refusal = refused("DOSSIER_ITEM_MISSING", decision, consultation.complete_expert_review, lead, decision)
    assert refusal.failures[0].rule.name == "expert_adoption_attached"


def test_written_consultation_needs_an_opinion_from_every_expert(open_cast, lead, in_ex):
    first = expert(lead, in_ex, "甲", holds_dissenting_view=True)
    expert(lead, in_ex, "乙")
    consultation.upload_expert_opinion(
        open_cast[Role.EXPERT], in_ex, first, doc(DocumentType.EXPERT_OPINION, signed=True)
    )
    refusal = refused(
        "DOSSIER_ITEM_MISSING", in_ex, consultation.complete_expert_review, lead, in_ex, documents=ADOPTION
    )
    assert refusal.failures[0].rule.name == "expert_opinions_present"


def test_a_commissioned_review_needs_the_contract(open_cast, lead, in_ex):
    consultation.set_expert_review_mode(lead, in_ex, "COMMISSIONED")
    member = expert(lead, in_ex, "研究院", is_agency=True, holds_dissenting_view=True)
    consultation.upload_expert_opinion(
        open_cast[Role.EXPERT], in_ex, member, doc(DocumentType.EXPERT_OPINION, signed=True, sealed=True)
    )
    refused("DOSSIER_ITEM_MISSING", in_ex, consultation.complete_expert_review, lead, in_ex, documents=ADOPTION)
    consultation.complete_expert_review(lead, in_ex, documents=ADOPTION + [doc(DocumentType.COMMISSION_CONTRACT)])
    assert record(in_ex, Stage.EX).methods == ["COMMISSIONED"]


def test_a_panel_without_a_dissenting_view_closes_with_a_warning(open_cast, lead, in_ex):
    member = expert(lead, in_ex)
    consultation.upload_expert_opinion(
        open_cast[Role.EXPERT], in_ex, member, doc(DocumentType.EXPERT_OPINION, signed=True)
    )
    consultation.complete_expert_review(lead, in_ex, documents=ADOPTION)
    assert status(in_ex, Stage.EX) == StageStatus.DONE
    event = AuditEvent.objects.filter(decision_id_ref=in_ex.pk, action="stage:warnings").get()
    assert event.payload["warnings"] == ["EXPERT_NO_DISSENTING_VIEW"]


def test_an_unsigned_loose_opinion_on_the_record_is_also_refused(open_cast, lead, in_ex):
    from decisions.services import documents

    member = expert(lead, in_ex, holds_dissenting_view=True)
    consultation.upload_expert_opinion(
        open_cast[Role.EXPERT], in_ex, member, doc(DocumentType.EXPERT_OPINION, signed=True)
    )
    documents.upload(open_cast[Role.EXPERT], in_ex, Stage.EX, doc(DocumentType.EXPERT_OPINION, "补充意见"))
    refused("EXPERT_OPINION_UNSIGNED", in_ex, consultation.complete_expert_review, lead, in_ex, documents=ADOPTION)


# -- T9: risk assessment ------------------------------------------------------------------------------


@pytest.fixture
def in_ra(open_cast, lead):
    decision = consulting(open_cast, stability_or_safety_impact=True)
    consult_walk.participate(open_cast, decision)
    consult_walk.skip_expert_review(open_cast, decision)
    consultation.open_substage(open_cast[Role.RISK_ASSESSOR], decision, Stage.RA)
    return decision


RA_DOCS = [doc(DocumentType.RISK_PLAN), doc(DocumentType.RISK_EVIDENCE), doc(DocumentType.DEPARTMENT_OPINIONS)]


def assess(open_cast, decision, **change):
    kwargs = {
        "level": "LOW",
        "risk_points": "部分群体可能不满",
        "prevention_measures": "政策解读",
        "contingency_plan": "信访快速处置",
        "departments_heard": True,
        "report": doc(DocumentType.RISK_REPORT),
        "documents": RA_DOCS,
        **change,
    }
    return consultation.record_risk_assessment(open_cast[Role.RISK_ASSESSOR], decision, **kwargs)


@pytest.mark.parametrize(
    "change",
    [
        {"contingency_plan": ""},
        {"risk_points": ""},
        {"prevention_measures": " "},
        {"departments_heard": False},
        {"level": ""},
        {"level": "SEVERE"},
        {"report": None},
        {"documents": RA_DOCS[:2]},
    ],
)
def test_an_incomplete_risk_report_is_refused(open_cast, in_ra, change):
    # Scenario 25 (第二十三条).
    refused("RISK_REPORT_INCOMPLETE", in_ra, assess, open_cast, in_ra, **change)


def test_risk_assessment_without_a_complete_report_cannot_close(open_cast, lead, in_ra):
    refused("RISK_REPORT_INCOMPLETE", in_ra, consultation.complete_risk_assessment, lead, in_ra)


def test_a_risk_assessment_is_pinned_to_the_current_draft_and_closes_with_its_level(open_cast, lead, in_ra):
    from decisions.services import documents

    documents.add_draft_version(lead, in_ra, doc(DocumentType.DRAFT, "v2"), change_summary="修改")
    assessment = assess(open_cast, in_ra)
    assert assessment.draft_version.number == 2
    assert assessment.assessor == open_cast.third_party
    assert record(in_ra, Stage.RA).draft_version.number == 1  # the record is pinned when it opened
    consultation.complete_risk_assessment(lead, in_ra)
    ra = record(in_ra, Stage.RA)
    assert (ra.status, ra.outcome) == (StageStatus.DONE, "LOW")
    assert ra.signoffs.get().role == "UNDERTAKING_LEAD"


def test_a_medium_risk_needs_the_mitigation_plan(open_cast, lead, in_ra):
    assess(open_cast, in_ra, level="MEDIUM")
    refused("RISK_MITIGATION_PLAN_MISSING", in_ra, consultation.complete_risk_assessment, lead, in_ra)
    consultation.complete_risk_assessment(lead, in_ra, documents=[doc(DocumentType.RISK_MITIGATION_PLAN)])
    assert record(in_ra, Stage.RA).outcome == "MEDIUM"


def test_a_profile_may_drop_the_medium_mitigation_plan(cast_factory, profile_variant):
    cast = cast_factory(
        profile=profile_variant("huzhou", catalogue_required=False, risk_medium_requires_mitigation_plan=False).code
    )
    decision = consulting(cast)
    consult_walk.consult(cast, decision, risk_level="MEDIUM")
    assert status(decision, Stage.RA) == StageStatus.DONE


def test_a_high_risk_assessment_still_closes_the_gate_is_at_scheduling(open_cast, lead, in_ra):
    assess(open_cast, in_ra, level="HIGH")
    consultation.complete_risk_assessment(lead, in_ra)
    assert record(in_ra, Stage.RA).outcome == "HIGH"


def test_a_third_party_assessment_needs_the_contract(open_cast, lead, in_ra):
    assess(open_cast, in_ra, third_party=True)
    refused("DOSSIER_ITEM_MISSING", in_ra, consultation.complete_risk_assessment, lead, in_ra)
    consultation.complete_risk_assessment(lead, in_ra, documents=[doc(DocumentType.COMMISSION_CONTRACT)])
    assert status(in_ra, Stage.RA) == StageStatus.DONE


@pytest.mark.parametrize("missing", [DocumentType.RISK_PLAN, DocumentType.RISK_EVIDENCE])
def test_risk_assessment_closes_with_its_plan_and_evidence(open_cast, lead, in_ra, missing):
    assess(open_cast, in_ra, documents=[d for d in RA_DOCS if d.doc_type != missing])
    refused("DOSSIER_ITEM_MISSING", in_ra, consultation.complete_risk_assessment, lead, in_ra)


def test_the_assessor_marks_an_assessment_stale_with_a_reason_and_a_new_one_is_needed(open_cast, lead, in_ra):
    assess(open_cast, in_ra)
    assessor = open_cast[Role.RISK_ASSESSOR]
    refused("REASON_REQUIRED", in_ra, consultation.mark_assessment_stale, assessor, in_ra, reason="")
    stale = consultation.mark_assessment_stale(assessor, in_ra, reason="补助对象范围调整，原评估不再适用")
    assert stale.stale_marked_by == assessor
    refused("RISK_ASSESSMENT_STALE", in_ra, consultation.complete_risk_assessment, lead, in_ra)
    refused("STATE_PREREQUISITE_MISSING", in_ra, consultation.mark_assessment_stale, assessor, in_ra, reason="再次")
    assess(open_cast, in_ra, level="MEDIUM")
    consultation.complete_risk_assessment(lead, in_ra, documents=[doc(DocumentType.RISK_MITIGATION_PLAN)])
    assert status(in_ra, Stage.RA) == StageStatus.DONE


def test_a_done_assessment_marked_stale_is_reopened_and_assessed_again(open_cast, lead):
    decision = consulting(open_cast)
    consult_walk.consult(open_cast, decision)
    consultation.mark_assessment_stale(open_cast[Role.RISK_ASSESSOR], decision, reason="情况发生变化")
    consultation.reopen(lead, decision, Stage.RA, reason="风险评估结论失效", stale_result="风险评估报告(低风险)")
    consult_walk.assess_risk(open_cast, decision, level="MEDIUM")
    statement = {e["stage"]: e for e in consultation.procedure_statement(Decision.objects.get(pk=decision.pk))}
    assert (statement["RA"]["risk_level"], statement["RA"]["reopened"]) == ("MEDIUM", True)
    assert RiskAssessment.objects.filter(decision=decision).count() == 2


def test_an_assessment_cannot_be_marked_stale_outside_the_runs_before_approval(open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    refused(
        "STATE_PREREQUISITE_MISSING",
        decision,
        consultation.mark_assessment_stale,
        open_cast[Role.RISK_ASSESSOR],
        decision,
        reason="理由",
    )
