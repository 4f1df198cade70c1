"""The forms from the start decision to the first draft, through the pages (decisions/actions/initiation.py).

A clerk starts a listed decision, drafts it and opens consultation without knowing an article number;
a form that is wrong says which field and why and saves nothing; sent twice it acts once."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog import walkthrough as catalogue_walk
from decisions import actions
from decisions.models import AuditEvent, Decision, Document, FormSubmission, Role
from decisions.permissions import roles_for
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import pdf_bytes

pytestmark = pytest.mark.django_db


def pdf(name="材料.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(name), content_type="application/pdf")


def act(decision, name):
    return reverse("decisions:act", args=[decision.reference, name])


@pytest.fixture
def listed(cast):
    decision = walk.propose(cast)
    catalogue_walk.publish_catalogue(cast, decisions=[decision])
    return Decision.objects.get(pk=decision.pk)


def start(client, cast, decision, **extra):
    client.force_login(cast[Role.GOV_OFFICE])
    data = {
        "lead_unit": cast.lead_unit.pk,
        "co_units": [cast.co_units[0].pk],
        "start_decision": pdf("启动决定.pdf"),
        "study_opinion": pdf("研究论证意见.pdf"),
        **extra,
    }
    return client.post(act(decision, "initiate"), data)


def test_the_office_starts_a_listed_decision_with_the_catalogues_unit_proposed(client, cast, listed):
    client.force_login(cast[Role.GOV_OFFICE])
    page = client.get(act(listed, "initiate"))
    assert page.status_code == 200
    assert page.context["form"].fields["lead_unit"].initial == cast.lead_unit.pk
    assert "目录所列承办单位" in page.content.decode()
    response = start(client, cast, listed)
    assert response.status_code == 302 and response["Location"] == reverse("decisions:detail", args=[listed.reference])
    listed.refresh_from_db()
    assert listed.state == "INITIATED" and listed.lead_unit == cast.lead_unit
    assert list(listed.co_units.all()) == [cast.co_units[0]]
    assert {d.doc_type for d in Document.objects.filter(decision=listed)} >= {"START_DECISION", "STUDY_OPINION"}


def test_a_form_without_its_start_decision_names_the_field_and_saves_nothing(client, cast, listed):
    documents = Document.objects.count()
    response = start(client, cast, listed, start_decision="")
    assert response.status_code == 200
    assert "start_decision" in response.context["form"].errors
    listed.refresh_from_db()
    assert listed.state == "LISTED" and Document.objects.count() == documents


def test_an_upload_of_a_type_not_accepted_is_refused_at_its_field(client, cast, listed):
    response = start(client, cast, listed, study_opinion=SimpleUploadedFile("脚本.exe", b"MZ..."))
    assert "不接受 .exe 文件" in str(response.context["form"].errors["study_opinion"])
    listed.refresh_from_db()
    assert listed.state == "LISTED"


def test_a_unit_named_other_than_the_catalogues_without_a_reason_is_refused_citing_the_rule(client, cast, listed):
    response = start(client, cast, listed, lead_unit=cast.co_units[1].pk, co_units=[])
    assert response.status_code == 409
    errors = " ".join(response.context["form"].non_field_errors())
    assert "REASON_REQUIRED" in errors and "第十一条" in errors
    listed.refresh_from_db()
    assert listed.state == "LISTED"


def test_sending_the_same_form_twice_starts_the_decision_once(client, cast, listed):
    client.force_login(cast[Role.GOV_OFFICE])
    token = str(client.get(act(listed, "initiate")).context["submission"])
    data = {"lead_unit": cast.lead_unit.pk, "submission": token}
    first = client.post(act(listed, "initiate"), {**data, "start_decision": pdf(), "study_opinion": pdf()})
    again = client.post(act(listed, "initiate"), {**data, "start_decision": pdf(), "study_opinion": pdf()})
    assert first.status_code == again.status_code == 302
    assert AuditEvent.objects.filter(action="transition:T4", decision_id_ref=listed.pk).count() == 1
    assert FormSubmission.objects.filter(token=token).count() == 1
    page = client.get(again["Location"]).content.decode()
    assert "已经提交过，未重复办理" in page


def test_a_refused_form_can_be_corrected_and_sent_again_with_the_same_token(client, cast, listed):
    client.force_login(cast[Role.GOV_OFFICE])
    token = str(client.get(act(listed, "initiate")).context["submission"])
    data = {"lead_unit": cast.co_units[1].pk, "submission": token, "start_decision": pdf(), "study_opinion": pdf()}
    assert client.post(act(listed, "initiate"), data).status_code == 409
    data.update(lead_unit_change_reason="市政府常务会议决定由该局牵头", start_decision=pdf(), study_opinion=pdf())
    assert client.post(act(listed, "initiate"), data).status_code == 302
    listed.refresh_from_db()
    assert listed.state == "INITIATED" and listed.lead_unit == cast.co_units[1]


def test_a_clerk_takes_a_started_decision_from_drafting_to_consultation_through_the_forms(client, cast, listed):
    start(client, cast, listed)
    client.force_login(cast[Role.UNDERTAKING_LEAD])
    assert client.post(act(listed, "start-drafting"), {}).status_code == 302
    response = client.post(
        act(listed, "drafting-records"),
        {
            "research_report": pdf("调研报告.pdf"),
            "law_policy_list": pdf("法律法规政策梳理清单.pdf"),
            "consultation_record": pdf("部门协商记录.pdf"),
            "draft_explanation": pdf("起草说明.pdf"),
        },
    )
    assert response.status_code == 302
    assert (
        client.post(act(listed, "draft-version"), {"draft": pdf("草案.pdf"), "change_summary": "初稿"}).status_code
        == 302
    )
    form = client.get(act(listed, "open-consultation")).context["form"]
    questions = [name for name, field in form.fields.items() if getattr(field.widget, "input_type", "") == "radio"]
    assert "hearing_required_by_law" in questions and "major_interest_readjustment" in questions  # huzhou asks it
    answers = dict.fromkeys(questions, "False")
    response = client.post(act(listed, "open-consultation"), {**answers, "hearing_required_by_law": "True"})
    assert "hearing_law_instrument" in response.context["form"].errors  # the law requiring it must be named
    response = client.post(act(listed, "open-consultation"), answers)
    assert response.status_code == 302
    listed.refresh_from_db()
    assert listed.state == "CONSULTATION" and listed.highly_technical is False


def test_a_step_taken_out_of_order_is_refused_with_the_rules_it_breaks_and_their_articles(client, cast, listed):
    client.force_login(cast[Role.UNDERTAKING_LEAD])
    page = client.get(act(listed, "open-consultation"))
    assert page.status_code == 200 and not page.context["in_place"] and "不在办理环节" in page.content.decode()
    form = page.context["form"]
    answers = {
        name: "False" for name, field in form.fields.items() if getattr(field.widget, "input_type", "") == "radio"
    }
    response = client.post(act(listed, "open-consultation"), answers)
    assert response.status_code == 409
    errors = " ".join(response.context["form"].non_field_errors())
    # P7 (1): the step's own rules, in table order, say why: no draft, no research (第十二条).
    assert "DOSSIER_ITEM_MISSING" in errors and "须形成决策草案" in errors and "第十二条" in errors
    listed.refresh_from_db()
    assert listed.state == "LISTED"


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.PUBLIC])
def test_every_action_is_refused_to_every_role_it_is_not_for(client, cast, listed, role):
    """Every registered form, against one role: shown to whoever holds one of its roles for the decision, else 403."""
    if cast[role] is None:
        pytest.skip("no such user in the cast")
    client.force_login(cast[role])
    held = roles_for(cast[role], listed)
    for name, form_class in sorted(actions.load().items()):
        response = client.get(act(listed, name))
        if held & set(form_class.placement.roles):
            assert response.status_code == 200, name
        else:
            assert response.status_code == 403, name
            assert client.post(act(listed, name), {}).status_code == 403, name
