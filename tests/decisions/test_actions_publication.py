"""The forms after the meeting's approval, through the pages (decisions/actions/publication.py).

The party liaison records the 请示报告 and the reply; the office publishes on the channels the rule
profile names, each with its proof, or a lawful withholding recorded by one office user is issued by
another. A refusal names its rule and article and leaves nothing behind."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from decisions.actions import publication as publication_actions
from decisions.models import (
    CollectiveOutcome,
    Decision,
    Document,
    DocumentType,
    PartyReport,
    Publication,
    Role,
    Waiver,
)
from decisions.profiles import PUBLICATION_CHANNEL_LABELS
from decisions.walkthrough import consultation as walk_consultation
from decisions.walkthrough import initiation as walk_init
from decisions.walkthrough import legality as walk_legal
from decisions.walkthrough import meeting as walk
from decisions.walkthrough import pdf_bytes
from tests.records import record_events

pytestmark = pytest.mark.django_db

HUZHOU_CHANNELS = ["GAZETTE", "GOV_WEBSITE", "LOCAL_NEWSPAPER", "ZJ_SERVICE_PORTAL"]


def pdf(name="材料.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(name), content_type="application/pdf")


def act(decision, name):
    return reverse("decisions:act", args=[decision.reference, name])


def fresh(decision):
    return Decision.objects.get(pk=decision.pk)


def approve(cast):
    """Return a decision the meeting approved (DECIDED), EX and RA closed as not triggered."""
    decision = walk_init.draft(cast, walk_init.initiate(cast, walk_init.propose(cast)))
    walk_consultation.consult(cast, decision, expert=False, risk=False)
    walk_legal.review(cast, decision)
    return walk.decide(cast, walk_legal.to_ready_for_meeting(cast, decision))


@pytest.fixture
def decided(open_cast):
    return approve(open_cast)


def saved(decision):
    """What a refused or invalid form must leave unchanged."""
    d = fresh(decision)
    return (
        d.state,
        d.in_force_version_id,
        d.public_concern,
        Document.objects.filter(decision=d).count(),
        Publication.objects.filter(decision=d).count(),
        PartyReport.objects.filter(decision=d).count(),
        Waiver.objects.filter(stage_record__decision=d).count(),
        record_events().count(),
    )


def report_to_party(client, cast, decision, agrees=True):
    client.force_login(cast[Role.PARTY_LIAISON])
    today = str(timezone.localdate())
    response = client.post(act(decision, "party-report"), {"document": pdf("请示报告.pdf"), "reported_on": today})
    assert response.status_code == 302
    response = client.post(
        act(decision, "party-reply"),
        {"agrees": str(agrees), "document": pdf("党委答复.pdf"), "reply_on": today},
    )
    assert response.status_code == 302


def publication_data(channels, **extra):
    return {
        "channels": list(channels),
        **{f"proof_{code}": pdf(f"{code.lower()}.pdf") for code in channels},
        "final_decision": pdf("决策文件.pdf"),
        **extra,
    }


def errors_of(response):
    return " ".join(response.context["form"].non_field_errors())


def test_the_liaison_reports_an_agreeing_reply_and_the_office_publishes_on_the_profiles_channels(
    client, open_cast, decided
):
    report_to_party(client, open_cast, decided)
    report = PartyReport.objects.get(decision=decided)
    assert report.reply_agrees is True and report.document.doc_type == DocumentType.PARTY_REPORT
    client.force_login(open_cast[Role.GOV_OFFICE])
    form = client.get(act(decided, "publish")).context["form"]
    assert [code for code, _label in form.fields["channels"].choices] == HUZHOU_CHANNELS  # 浙江: 政务服务网 too
    assert form.fields["channels"].initial == HUZHOU_CHANNELS
    assert [name for name in form.fields if name.startswith("proof_")] == [f"proof_{c}" for c in HUZHOU_CHANNELS]
    assert PUBLICATION_CHANNEL_LABELS["ZJ_SERVICE_PORTAL"] in str(form.fields["proof_ZJ_SERVICE_PORTAL"].label)
    response = client.post(act(decided, "publish"), publication_data(HUZHOU_CHANNELS))
    assert response.status_code == 302
    decision = fresh(decided)
    assert decision.state == "PUBLISHED" and decision.in_force_version == decision.current_draft
    publication = Publication.objects.get(decision=decision)
    assert publication.channels == HUZHOU_CHANNELS
    proofs = Document.objects.filter(pk__in=publication.proofs.values())
    assert set(publication.proofs) == set(HUZHOU_CHANNELS)
    assert {d.doc_type for d in proofs} == {DocumentType.CHANNEL_PROOF}
    assert publication.final_document.doc_type == DocumentType.FINAL_DECISION


def test_publishing_without_a_party_report_is_refused_citing_article_31_and_saves_nothing(client, open_cast, decided):
    before = saved(decided)
    client.force_login(open_cast[Role.GOV_OFFICE])
    response = client.post(act(decided, "publish"), publication_data(HUZHOU_CHANNELS))
    assert response.status_code == 409
    errors = errors_of(response)
    assert "PARTY_REPORT_MISSING" in errors and "第三十一条" in errors
    assert saved(decided) == before


def test_the_form_offers_the_channels_the_profile_names_and_an_unticked_one_is_refused(
    client, cast_factory, profile_variant
):
    profile = profile_variant(
        "huzhou", catalogue_required=False, publication_channels={"government": ["GAZETTE", "GOV_WEBSITE"]}
    )
    cast = cast_factory(profile=profile.code)
    decision = walk.report_to_party(cast, approve(cast))
    client.force_login(cast[Role.GOV_OFFICE])
    form = client.get(act(decision, "publish")).context["form"]
    assert [code for code, _label in form.fields["channels"].choices] == ["GAZETTE", "GOV_WEBSITE"]
    before = saved(decision)
    response = client.post(act(decision, "publish"), publication_data(["GAZETTE"]))
    assert response.status_code == 409
    errors = errors_of(response)
    assert "PUBLICATION_CHANNELS_MISSING" in errors and "第三十二条" in errors
    assert saved(decision) == before
    assert client.post(act(decision, "publish"), publication_data(["GAZETTE", "GOV_WEBSITE"])).status_code == 302
    assert fresh(decision).state == "PUBLISHED"


def test_a_ticked_channel_without_its_proof_and_a_proof_for_an_unticked_one_are_refused_at_their_fields(
    client, open_cast, decided
):
    decision = walk.report_to_party(open_cast, decided)
    before = saved(decision)
    client.force_login(open_cast[Role.GOV_OFFICE])
    data = {
        "channels": ["GAZETTE", "GOV_WEBSITE", "ZJ_SERVICE_PORTAL"],
        "proof_GOV_WEBSITE": pdf(),
        "proof_ZJ_SERVICE_PORTAL": pdf(),
        "proof_LOCAL_NEWSPAPER": pdf(),
        "final_decision": pdf("决策文件.pdf"),
    }
    response = client.post(act(decision, "publish"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"proof_GAZETTE", "proof_LOCAL_NEWSPAPER"}
    assert "须上传该渠道的公布证明" in str(errors["proof_GAZETTE"])
    assert "未勾选" in str(errors["proof_LOCAL_NEWSPAPER"])
    assert saved(decision) == before


def test_raising_public_concern_at_publication_asks_for_the_interpretation(client, open_cast, decided):
    decision = walk.report_to_party(open_cast, decided)
    before = saved(decision)
    client.force_login(open_cast[Role.GOV_OFFICE])
    response = client.post(act(decision, "publish"), publication_data(HUZHOU_CHANNELS, public_concern="on"))
    assert response.status_code == 409
    errors = errors_of(response)
    assert "DOSSIER_ITEM_MISSING" in errors and "政策解读" in errors and "第三十二条" in errors
    assert saved(decision) == before  # the flag raised in the form is not kept either
    data = publication_data(HUZHOU_CHANNELS, public_concern="on", interpretation=pdf("政策解读.pdf"))
    assert client.post(act(decision, "publish"), data).status_code == 302
    decision = fresh(decision)
    assert decision.state == "PUBLISHED" and decision.public_concern is True
    publication = Publication.objects.get(decision=decision)
    assert publication.interpretation_document.doc_type == DocumentType.INTERPRETATION
    # Once raised the flag is shown ticked and cannot be cleared in the form.
    assert publication_actions.PublishForm(decision=decision, user=None).fields["public_concern"].disabled


def test_a_disagreeing_reply_blocks_publication_and_sends_the_decision_back_for_revision(client, open_cast, decided):
    report_to_party(client, open_cast, decided, agrees=False)
    client.force_login(open_cast[Role.GOV_OFFICE])
    refused = client.post(act(decided, "publish"), publication_data(HUZHOU_CHANNELS))
    assert refused.status_code == 409 and "PARTY_REPLY_NOT_AGREED" in errors_of(refused)
    response = client.post(act(decided, "return-after-party-reply"), {"reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    assert fresh(decided).state == "DECIDED"
    response = client.post(act(decided, "return-after-party-reply"), {"reason": "党委要求进一步论证补助标准"})
    assert response.status_code == 302
    assert fresh(decided).state == "REVISING"
    approval = CollectiveOutcome.objects.get(agenda_item__decision=decided, outcome="APPROVE")
    assert approval.superseded_by_party_reply and approval.superseded_reason == "党委要求进一步论证补助标准"


def test_withholding_recorded_by_one_office_user_is_issued_by_another_and_not_by_the_recorder(
    client, open_cast, decided
):
    decision = walk.report_to_party(open_cast, decided)
    client.force_login(open_cast[Role.GOV_OFFICE])
    response = client.post(
        act(decision, "record-not-public"), {"legal_basis": walk.NOT_PUBLIC_BASIS, "evidence": pdf("不予公开依据.pdf")}
    )
    assert response.status_code == 302
    before = saved(decision)
    response = client.post(act(decision, "issue-not-public"), {"final_decision": pdf("决策文件.pdf")})
    assert response.status_code == 409
    errors = errors_of(response)
    assert "WAIVER_APPROVER_INVALID" in errors and "另一名工作人员" in errors
    assert saved(decision) == before
    client.force_login(open_cast.extra["gov_office_2"])
    page = client.get(act(decision, "issue-not-public"))
    assert walk.NOT_PUBLIC_BASIS in page.content.decode()  # the approver sees what is being approved
    response = client.post(act(decision, "issue-not-public"), {"final_decision": pdf("决策文件.pdf")})
    assert response.status_code == 302
    decision = fresh(decision)
    assert decision.state == "ISSUED_NOT_PUBLIC" and decision.in_force_version is not None
    publication = Publication.objects.get(decision=decision)
    assert publication.channels == [] and publication.not_public_basis == walk.NOT_PUBLIC_BASIS
    waiver = Waiver.objects.get(stage_record__decision=decision)
    assert waiver.recorded_by == open_cast[Role.GOV_OFFICE] and waiver.approved_by == open_cast.extra["gov_office_2"]


def test_a_party_report_dated_tomorrow_or_without_its_document_is_refused_at_its_fields(client, open_cast, decided):
    before = saved(decided)
    client.force_login(open_cast[Role.PARTY_LIAISON])
    tomorrow = str(timezone.localdate() + timedelta(days=1))
    response = client.post(act(decided, "party-report"), {"reported_on": tomorrow})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "日期不得晚于今日" in str(errors["reported_on"]) and "document" in errors
    response = client.post(act(decided, "party-reply"), {"document": pdf(), "reply_on": str(timezone.localdate())})
    assert "agrees" in response.context["form"].errors  # agreeing or not must be said
    assert saved(decided) == before


def test_the_party_report_is_the_liaisons_and_publication_the_offices(client, open_cast, decided):
    client.force_login(open_cast[Role.GOV_OFFICE])
    assert client.get(act(decided, "party-report")).status_code == 403
    client.force_login(open_cast[Role.PARTY_LIAISON])
    assert client.get(act(decided, "party-report")).status_code == 200
    assert client.post(act(decided, "publish"), publication_data(HUZHOU_CHANNELS)).status_code == 403
    assert fresh(decided).state == "DECIDED"
