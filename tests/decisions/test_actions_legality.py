"""The forms of legality review, through the pages (decisions/actions/legality.py).

The undertaking unit sends its draft with the materials of 第二十六条 and checks the procedure-performance
statement the system generated; the reviewer accepts or returns it, a legal adviser gives an opinion, the
reviewer issues its own; a refusal names the rule and its article and writes nothing."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from decisions import actions, progress
from decisions.actions import legality as legality_actions  # imported: registers the forms
from decisions.models import Decision, Document, DocumentType, LegalityReview, Role, Stage, StageRecord
from decisions.permissions import roles_for
from decisions.rules import legality as rules
from decisions.services import documents, legality
from decisions.walkthrough import consultation as walk_consultation
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import legality as walk_legal
from decisions.walkthrough import pdf_bytes

pytestmark = pytest.mark.django_db
Outcome = LegalityReview.Outcome
OPINION = {
    "authority": "属于本级人民政府法定职权范围",
    "procedure": "已依法履行公众参与、专家论证、风险评估程序",
    "content": "内容符合法律、法规、规章和国家政策",
}


def pdf(name="材料.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(name), content_type="application/pdf")


def act(decision, name):
    return reverse("decisions:act", args=[decision.reference, name])


def fresh(decision):
    return Decision.objects.get(pk=decision.pk)


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


def errors(response):
    return " ".join(response.context["form"].non_field_errors())


def consulted(cast, **answers):
    """A decision in CONSULTATION with PP, HEARING, EX and RA closed, taken there by the walkthroughs."""
    decision = walk.draft(cast, walk.initiate(cast, walk.propose(cast)), answers or None)
    walk_consultation.consult(cast, decision, expert=False)
    return fresh(decision)


def post(client, cast, role, decision, name, data=None):
    client.force_login(cast[role])
    return client.post(act(decision, name), data or {})


def submission(**extra):
    return {
        "submission_letter": pdf("送审函.pdf"),
        "legal_basis_list": pdf("法律依据清单.pdf"),
        "procedure_statement": pdf("履行决策法定程序的说明.pdf"),
        "received_on": days_ago(30).isoformat(),
        **extra,
    }


def submit(client, cast, decision, **extra):
    return post(client, cast, Role.UNDERTAKING_LEAD, decision, "submit-for-legality-review", submission(**extra))


def in_review(client, cast, decision):
    assert submit(client, cast, decision).status_code == 302
    assert post(client, cast, Role.LEGAL_REVIEWER, decision, "accept-submission").status_code == 302
    return fresh(decision)


def advise(client, cast, decision):
    response = post(
        client, cast, Role.LEGAL_ADVISER, decision, "legal-adviser-opinion", {"opinion": pdf("法律意见.pdf")}
    )
    assert response.status_code == 302
    return response


def issue(client, cast, decision, outcome=Outcome.LAWFUL, **extra):
    data = {"outcome": outcome, **OPINION, "opinion_document": pdf("合法性审查意见书.pdf"), **extra}
    return post(client, cast, Role.LEGAL_REVIEWER, decision, "issue-legality-opinion", data)


def new_draft(client, cast, decision):
    data = {"draft": pdf("草案修改稿.pdf"), "change_summary": "根据审查意见修改"}
    assert post(client, cast, Role.UNDERTAKING_LEAD, decision, "draft-version", data).status_code == 302


def test_a_draft_goes_from_submission_to_the_meeting_through_the_forms(client, open_cast):
    decision = consulted(open_cast)
    client.force_login(open_cast[Role.UNDERTAKING_LEAD])
    page = client.get(act(decision, "submit-for-legality-review"))
    assert page.status_code == 200 and page.context["in_place"]
    text = page.content.decode()
    # The generated statement is on the form for the unit to check against its own (第二十六条).
    assert "履行决策法定程序的情况" in text and "事项为补助标准调整，不涉及专业性、技术性较强的问题" in text
    assert "低风险" in text and open_cast.justice.name in text
    assert [e["stage"] for e in page.context["form"].statement] == ["PP", "HEARING", "EX", "RA"]

    response = submit(client, open_cast, decision)
    assert response.status_code == 302 and response["Location"] == reverse(
        "decisions:detail", args=[decision.reference]
    )
    decision = fresh(decision)
    assert decision.state == "LEGAL_REVIEW_SUBMITTED"
    record = decision.current_record(Stage.LR)
    assert {"SUBMISSION_LETTER", "LEGAL_BASIS_LIST", "PROCEDURE_STATEMENT"} <= set(
        record.documents.values_list("doc_type", flat=True)
    )

    assert post(client, open_cast, Role.LEGAL_REVIEWER, decision, "accept-submission").status_code == 302
    review = rules.current_review(decision)
    assert fresh(decision).state == "LEGAL_REVIEW_IN_PROGRESS" and review.complete_on == days_ago(30)

    advise(client, open_cast, decision)
    opinion = record.documents.get(doc_type=DocumentType.LEGAL_ADVISER_OPINION)
    assert opinion.uploaded_role == Role.LEGAL_ADVISER and opinion.signed

    assert issue(client, open_cast, decision).status_code == 302
    review.refresh_from_db()
    assert fresh(decision).state == "LEGAL_REVIEW_DONE"
    assert (review.outcome, review.authority) == (Outcome.LAWFUL, OPINION["authority"])
    assert record.documents.get(doc_type=DocumentType.LEGALITY_OPINION).sealed

    assert post(client, open_cast, Role.UNDERTAKING_LEAD, decision, "proceed-to-meeting").status_code == 302
    assert fresh(decision).state == "READY_FOR_MEETING"


def test_a_submission_without_its_procedure_statement_names_the_field_and_saves_nothing(client, open_cast):
    decision = consulted(open_cast)
    before = Document.objects.filter(decision=decision).count()
    response = submit(client, open_cast, decision, procedure_statement="", received_on="2025-13-45")
    assert response.status_code == 200
    form_errors = response.context["form"].errors
    assert set(form_errors) == {"procedure_statement", "received_on"}
    decision = fresh(decision)
    assert decision.state == "CONSULTATION" and decision.current_record(Stage.LR) is None
    assert Document.objects.filter(decision=decision).count() == before


def test_an_exploratory_reform_flagged_at_submission_needs_its_statement_at_the_field(client, open_cast):
    decision = consulted(open_cast)
    response = submit(client, open_cast, decision, exploratory_reform="on")
    assert list(response.context["form"].errors) == ["exploratory_statement"]
    assert fresh(decision).state == "CONSULTATION"
    response = submit(
        client,
        open_cast,
        decision,
        exploratory_reform="on",
        exploratory_statement="国家尚无明确规定，本事项属于探索性改革",
        exploratory_document=pdf("探索性改革事项说明.pdf"),
    )
    assert response.status_code == 302
    decision = fresh(decision)
    assert decision.exploratory_reform and decision.exploratory_statement.startswith("国家尚无明确规定")


def test_a_market_affecting_draft_is_asked_for_its_fair_competition_review_at_submission(client, open_cast):
    decision = consulted(open_cast, market_affecting=True)
    client.force_login(open_cast[Role.UNDERTAKING_LEAD])
    assert "fair_competition_review" in client.get(act(decision, "submit-for-legality-review")).context["form"].fields
    assert list(submit(client, open_cast, decision).context["form"].errors) == ["fair_competition_review"]
    response = submit(client, open_cast, decision, fair_competition_review=pdf("公平竞争审查意见.pdf"))
    assert response.status_code == 302 and fresh(decision).state == "LEGAL_REVIEW_SUBMITTED"


def test_scenario_33_without_the_procedure_statement_the_reviewer_can_only_return_it(client, open_cast):
    decision = consulted(open_cast)
    assert submit(client, open_cast, decision).status_code == 302
    statement = fresh(decision).current_record(Stage.LR).documents.get(doc_type=DocumentType.PROCEDURE_STATEMENT)
    documents.delete(open_cast[Role.UNDERTAKING_LEAD], statement)

    # Before the reviewer tries: the accept page shows the missing statement as what stops it, with its article.
    client.force_login(open_cast[Role.LEGAL_REVIEWER])
    page = client.get(reverse("decisions:act", args=[decision.reference, "accept-submission"]))
    blockers = {c.code for c in page.context["conditions"] if c.state == "blocker"}
    assert "PROCEDURE_STATEMENT_MISSING" in blockers
    steps = progress.next_steps(fresh(decision), {Role.LEGAL_REVIEWER})
    assert "PROCEDURE_STATEMENT_MISSING" in {c.code for s in steps if s.tid == "T13" for c in s.hard_blockers}

    response = post(client, open_cast, Role.LEGAL_REVIEWER, decision, "accept-submission")
    assert response.status_code == 409
    assert "PROCEDURE_STATEMENT_MISSING" in errors(response) and "第二十六条" in errors(response)
    assert fresh(decision).state == "LEGAL_REVIEW_SUBMITTED"
    assert rules.current_review(decision).complete_on is None  # the clock did not start

    response = post(client, open_cast, Role.LEGAL_REVIEWER, decision, "return-submission", {"reason": " "})
    assert list(response.context["form"].errors) == ["reason"]
    data = {"reason": "缺少履行决策法定程序的说明", "return_notice": pdf("退回通知.pdf")}
    assert post(client, open_cast, Role.LEGAL_REVIEWER, decision, "return-submission", data).status_code == 302
    decision = fresh(decision)
    assert decision.state == "LEGAL_REVIEW_RETURNED"
    assert rules.current_review(decision).return_reason == "缺少履行决策法定程序的说明"


def test_a_returned_submission_is_resubmitted_with_the_missing_item_and_the_clock_restarts(client, open_cast):
    decision = consulted(open_cast)
    assert submit(client, open_cast, decision).status_code == 302
    statement = fresh(decision).current_record(Stage.LR).documents.get(doc_type=DocumentType.PROCEDURE_STATEMENT)
    documents.delete(open_cast[Role.UNDERTAKING_LEAD], statement)
    data = {"reason": "缺少履行决策法定程序的说明", "returned_on": days_ago(20).isoformat()}
    assert post(client, open_cast, Role.LEGAL_REVIEWER, decision, "return-submission", data).status_code == 302

    client.force_login(open_cast[Role.UNDERTAKING_LEAD])
    page = client.get(act(decision, "resubmit")).content.decode()
    assert "缺少履行决策法定程序的说明" in page  # the reviewer's reason is on the unit's form
    response = post(client, open_cast, Role.UNDERTAKING_LEAD, decision, "resubmit", {})
    assert response.status_code == 409 and "DOSSIER_ITEM_MISSING" in errors(response)
    data = {"procedure_statement": pdf("履行决策法定程序的说明.pdf"), "received_on": days_ago(15).isoformat()}
    assert post(client, open_cast, Role.UNDERTAKING_LEAD, decision, "resubmit", data).status_code == 302
    assert fresh(decision).state == "LEGAL_REVIEW_SUBMITTED"
    assert post(client, open_cast, Role.LEGAL_REVIEWER, decision, "accept-submission").status_code == 302
    review = rules.current_review(decision)
    assert (review.round, review.complete_on) == (1, days_ago(15))

    data = {"reason": "请补充风险评估报告附件", "returned_on": days_ago(10).isoformat()}
    assert post(client, open_cast, Role.LEGAL_REVIEWER, decision, "request-supplement", data).status_code == 302
    review.refresh_from_db()
    assert fresh(decision).state == "LEGAL_REVIEW_RETURNED" and review.complete_on is None


def test_scenario_35_an_opinion_without_a_legal_advisers_opinion_is_refused_citing_article_28(client, open_cast):
    decision = in_review(client, open_cast, consulted(open_cast))
    before = Document.objects.filter(decision=decision).count()
    client.force_login(open_cast[Role.LEGAL_REVIEWER])
    page = client.get(act(decision, "issue-legality-opinion")).content.decode()
    assert "本轮已有法律顾问/公职律师法律意见 0 份" in page
    response = issue(client, open_cast, decision)
    assert response.status_code == 409
    assert "LEGAL_ADVISER_OPINION_MISSING" in errors(response) and "第二十八条" in errors(response)
    assert fresh(decision).state == "LEGAL_REVIEW_IN_PROGRESS"
    assert Document.objects.filter(decision=decision).count() == before
    assert rules.current_review(decision).outcome == ""


def test_an_opinion_form_missing_a_finding_or_the_risk_statement_names_the_fields(client, open_cast):
    decision = in_review(client, open_cast, consulted(open_cast))
    advise(client, open_cast, decision)
    response = issue(client, open_cast, decision, Outcome.EXPLORATORY_LEGAL_RISK_DISCLOSED, content="")
    assert set(response.context["form"].errors) == {"content", "legal_risk_statement"}
    response = issue(client, open_cast, decision, "PROBABLY_FINE")
    assert list(response.context["form"].errors) == ["outcome"]
    assert fresh(decision).state == "LEGAL_REVIEW_IN_PROGRESS"
    assert not StageRecord.objects.filter(decision=decision, stage=Stage.LR, status="DONE").exists()


def test_an_exploratory_outcome_on_a_decision_not_flagged_is_refused_by_the_rule(client, open_cast):
    decision = in_review(client, open_cast, consulted(open_cast))
    advise(client, open_cast, decision)
    response = issue(
        client, open_cast, decision, Outcome.EXPLORATORY_LEGAL_RISK_DISCLOSED, legal_risk_statement="存在法律风险"
    )
    assert response.status_code == 409
    assert "EXPLORATORY_NOT_FLAGGED" in errors(response) and "第二十五条第二款" in errors(response)


def test_an_unlawful_opinion_sends_the_draft_back_and_only_a_new_round_on_a_new_draft_follows(client, open_cast):
    decision = in_review(client, open_cast, consulted(open_cast))
    advise(client, open_cast, decision)
    assert issue(client, open_cast, decision, Outcome.UNLAWFUL).status_code == 302
    decision = fresh(decision)
    assert decision.state == "REVISING"

    data = {"modification_statement": pdf("修改情况说明.pdf")}
    response = post(client, open_cast, Role.UNDERTAKING_LEAD, decision, "confirm-modifications", data)
    assert response.status_code == 409 and "LEGALITY_UNLAWFUL" in errors(response)
    response = post(client, open_cast, Role.UNDERTAKING_LEAD, decision, "resubmit-new-round", submission())
    assert response.status_code == 409 and "LEGALITY_UNLAWFUL" in errors(response) and "第二十五条" in errors(response)

    new_draft(client, open_cast, decision)
    data = {"substantive_change": "True", "reason": "修改涉及决策内容的合法性", "touches_article_27": "on"}
    assert post(client, open_cast, Role.LEGAL_REVIEWER, decision, "assess-revised-draft", data).status_code == 302
    assert fresh(decision).current_draft.substantive_change is True

    response = post(client, open_cast, Role.UNDERTAKING_LEAD, decision, "resubmit-new-round", submission())
    assert response.status_code == 302
    decision = fresh(decision)
    review = rules.current_review(decision)
    assert decision.state == "LEGAL_REVIEW_SUBMITTED"
    assert (review.round, review.draft_version.number) == (2, 2)


def test_a_draft_modified_as_the_opinion_asked_goes_to_the_meeting_once_the_reviewer_confirms_it(client, open_cast):
    decision = in_review(client, open_cast, consulted(open_cast))
    advise(client, open_cast, decision)
    assert issue(client, open_cast, decision, Outcome.LAWFUL_WITH_MODIFICATIONS).status_code == 302
    new_draft(client, open_cast, decision)
    data = {"modification_statement": pdf("修改情况说明.pdf")}
    response = post(client, open_cast, Role.UNDERTAKING_LEAD, decision, "confirm-modifications", data)
    assert response.status_code == 409 and "MODIFICATION_NOT_CONFIRMED" in errors(response)

    response = post(client, open_cast, Role.LEGAL_REVIEWER, decision, "assess-revised-draft", {"reason": "文字调整"})
    assert list(response.context["form"].errors) == ["substantive_change"]
    data = {"substantive_change": "False", "implements_opinion": "True", "reason": "文字调整，已落实审查意见"}
    assert post(client, open_cast, Role.LEGAL_REVIEWER, decision, "assess-revised-draft", data).status_code == 302

    client.force_login(open_cast[Role.UNDERTAKING_LEAD])
    assert "非实质性修改" in client.get(act(decision, "confirm-modifications")).content.decode()
    data = {"modification_statement": pdf("修改情况说明.pdf")}
    assert post(client, open_cast, Role.UNDERTAKING_LEAD, decision, "confirm-modifications", data).status_code == 302
    assert fresh(decision).state == "READY_FOR_MEETING"


def test_re_running_a_procedure_needs_a_reason_for_each_one_kept(client, open_cast):
    decision = in_review(client, open_cast, consulted(open_cast))
    advise(client, open_cast, decision)
    assert issue(client, open_cast, decision, Outcome.UNLAWFUL).status_code == 302
    data = {"rerun_stages": ["RA"], "draft": pdf("草案修改稿.pdf"), "keep_PP": "公众参与针对的内容未改变"}
    response = post(client, open_cast, Role.UNDERTAKING_LEAD, decision, "rerun-procedures", data)
    assert response.status_code == 409
    assert "REASON_REQUIRED" in errors(response) and "第二十七条第(二)项" in errors(response)
    assert fresh(decision).state == "REVISING" and fresh(decision).draft_versions.count() == 1

    data.update(draft=pdf("草案修改稿.pdf"), keep_HEARING="随公众参与保留", keep_EX="不涉及专业性问题，仍未触发")
    assert post(client, open_cast, Role.UNDERTAKING_LEAD, decision, "rerun-procedures", data).status_code == 302
    decision = fresh(decision)
    assert decision.state == "CONSULTATION" and decision.current_draft.number == 2
    assert decision.current_record(Stage.RA).status == "PENDING"
    assert decision.current_record(Stage.PP).status == "DONE"


def test_an_opinion_its_reviewer_marks_stale_stops_the_draft_going_to_the_meeting(client, open_cast):
    decision = consulted(open_cast)
    walk_legal.review(open_cast, decision)
    response = post(client, open_cast, Role.LEGAL_REVIEWER, decision, "mark-opinion-stale", {"reason": ""})
    assert list(response.context["form"].errors) == ["reason"]
    data = {"reason": "上位法已修改"}
    assert post(client, open_cast, Role.LEGAL_REVIEWER, decision, "mark-opinion-stale", data).status_code == 302
    response = post(client, open_cast, Role.UNDERTAKING_LEAD, decision, "proceed-to-meeting")
    assert response.status_code == 409 and "LEGALITY_OPINION_STALE" in errors(response)
    assert fresh(decision).state == "LEGAL_REVIEW_DONE"


def test_the_legality_forms_are_offered_where_their_step_belongs_and_to_their_roles(open_cast):
    decision = consulted(open_cast)
    offered = {a.name for a in actions.offered_actions(decision, {Role.UNDERTAKING_LEAD})}
    assert "submit-for-legality-review" in offered and "proceed-to-meeting" not in offered
    walk_legal.submit(open_cast, decision)
    decision = fresh(decision)
    reviewer = {a.name for a in actions.offered_actions(decision, {Role.LEGAL_REVIEWER})}
    assert {"accept-submission", "return-submission"} <= reviewer and "issue-legality-opinion" not in reviewer
    decision = legality.accept_submission(open_cast[Role.LEGAL_REVIEWER], decision)
    adviser = {a.name for a in actions.offered_actions(fresh(decision), {Role.LEGAL_ADVISER})}
    assert "legal-adviser-opinion" in adviser


AREA = sorted(name for name, form in actions.load().items() if form.__module__ == legality_actions.__name__)


def test_every_legality_form_opens_at_each_point_of_the_review(client, open_cast):
    decision = consulted(open_cast)
    reviewer = open_cast[Role.LEGAL_REVIEWER]
    steps = [
        lambda: None,
        lambda: walk_legal.submit(open_cast, decision),
        lambda: legality.accept_submission(reviewer, decision),
        lambda: walk_legal.issue(open_cast, decision, Outcome.LAWFUL_WITH_MODIFICATIONS),
        lambda: walk_legal.revise(open_cast, decision),
    ]
    for step in steps:
        step()
        decision = fresh(decision)
        for name in AREA:
            client.force_login(open_cast[actions.REGISTRY[name].placement.roles[0]])
            assert client.get(act(decision, name)).status_code == 200, (decision.state, name)
    assert decision.state == "REVISING"


def test_each_legality_form_is_refused_to_every_role_it_is_not_for_on_a_decision_under_review(client, open_cast):
    # One decision for the whole table: building one per role would cost more than the table itself.
    decision = in_review(client, open_cast, consulted(open_cast))
    answers = set()
    for role in [r for r in Role.values if r != Role.PUBLIC and open_cast[r] is not None]:
        client.force_login(open_cast[role])
        held = roles_for(open_cast[role], decision)
        for name in AREA:
            form = actions.REGISTRY[name]
            response = client.get(act(decision, name))
            answers.add(response.status_code)
            if held & set(form.placement.roles):
                assert response.status_code == 200, (role, name)
            else:
                assert response.status_code == 403, (role, name)
                assert client.post(act(decision, name), {}).status_code == 403, (role, name)
    assert answers == {200, 403}
