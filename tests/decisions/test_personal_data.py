"""Personal data of commenters and hearing participants (个人信息保护法; 等保 2.0 / 密评, issue 7).

Phone, e-mail and ID number are encrypted at rest, bound to their column, readable after a switch of crypto
profile; masked on every page, API answer and file for every role until the lead unit reveals one record,
each unmasking audited without the values; erased on request in place; never in public pages or error
reports; and the temporary files of uploads, dossiers and exports are gone once they are done with."""

import io
import json
import logging
import os
import tempfile
import zipfile
from datetime import timedelta

import pypdf
import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.log import AdminEmailHandler
from django.views.debug import get_default_exception_reporter_filter
from rest_framework.test import APIClient

from decisions import audit, crypto, personal
from decisions.crypto import CryptoError, EnvironmentKeyService
from decisions.models import AuditEvent, Comment, DocumentType, HearingParticipant, Role, Stage
from decisions.services import comments, consultation
from decisions.walkthrough import doc
from tests.decisions.test_comments import (
    EMAIL,
    ID_NUMBER,
    NAME,
    PHONE,
    add,
    add_personal,
    consulting,
    lead,
    ledger_url,
    received,
    xlsx,
)

pytestmark = pytest.mark.django_db

MASKED = ("138****5678", "a***@example.cn", "3301**********1234")
SECRETS = (PHONE, EMAIL, ID_NUMBER)
READERS = [r for r in Role.values if r != Role.PUBLIC]
PARTICIPANT_PHONE, PARTICIPANT_EMAIL = "13955556666", "zhou.participant@example.cn"


@pytest.fixture
def decision(open_cast):
    return consulting(open_cast)


def raw_contact(model, pk):
    """The stored columns, read past the ORM."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT phone, email, id_number FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def events(action, obj):
    return list(AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).order_by("seq"))


def with_participant(cast, decision, **contact):
    """Open the hearing of a decision in PP, schedule it and add one participant with `contact`."""
    organiser = cast[Role.HEARING_ORG]
    consultation.open_substage(organiser, decision, Stage.HEARING)
    held = consultation.today() - timedelta(days=2)
    consultation.schedule_hearing(
        organiser,
        decision,
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
    return consultation.add_hearing_participant(organiser, decision, name="居民代表周某", **contact)


# -- encrypted at rest -----------------------------------------------------------------------------------------


def test_the_database_holds_ciphertext_and_the_application_reads_the_phone(open_cast, decision):
    comment = add_personal(open_cast, decision)
    stored = raw_contact(Comment, comment.pk)
    assert all(value.startswith("juece-enc/1:AES-256-GCM:") for value in stored)
    assert not any(secret in value for value in stored for secret in SECRETS)
    assert not any(PHONE[-4:] in value for value in stored)  # not even the digits a mask shows
    again = Comment.objects.get(pk=comment.pk)
    assert (again.phone, again.email, again.id_number) == SECRETS
    # Two comments with the same phone store different tokens (a fresh nonce each time).
    other = add_personal(open_cast, decision)
    assert raw_contact(Comment, other.pk)[0] != stored[0]


def test_the_sql_sent_to_the_database_carries_no_contact_detail(open_cast, decision):
    with CaptureQueriesContext(connection) as queries:
        add_personal(open_cast, decision)
    sql = "\n".join(query["sql"] for query in queries.captured_queries)
    assert "decisions_comment" in sql and not [s for s in SECRETS if s in sql]


def test_a_token_moved_to_another_column_or_table_does_not_open(open_cast, decision):
    comment = add_personal(open_cast, decision)
    participant = with_participant(open_cast, decision, phone=PARTICIPANT_PHONE)
    phone_token, email_token, _id_token = raw_contact(Comment, comment.pk)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE decisions_comment SET email = %s WHERE id = %s", [phone_token, comment.pk])
        cursor.execute(
            "UPDATE decisions_hearingparticipant SET phone = %s WHERE id = %s", [phone_token, participant.pk]
        )
    with pytest.raises(CryptoError, match="decisions_comment.email"):
        Comment.objects.get(pk=comment.pk)
    with pytest.raises(CryptoError, match="decisions_hearingparticipant.phone"):
        HearingParticipant.objects.get(pk=participant.pk)
    # Put back where it belongs, it opens again.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE decisions_comment SET email = %s WHERE id = %s", [email_token, comment.pk])
    assert Comment.objects.get(pk=comment.pk).email == EMAIL


def test_a_token_changed_by_one_character_does_not_open(open_cast, decision):
    comment = add_personal(open_cast, decision)
    token = raw_contact(Comment, comment.pk)[0]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE decisions_comment SET phone = %s WHERE id = %s", [flipped, comment.pk])
    with pytest.raises(CryptoError):
        Comment.objects.get(pk=comment.pk)


def test_switching_to_the_gm_profile_keeps_old_values_readable_and_encrypts_new_ones_with_sm4(
    settings, open_cast, decision
):
    settings.JUECE_CRYPTO_PROFILE = "intl"
    before = add_personal(open_cast, decision)
    settings.JUECE_CRYPTO_PROFILE = "gm"
    after = add_personal(open_cast, decision, phone="13900001111")
    assert crypto.token_algorithm(raw_contact(Comment, before.pk)[0]) == "AES-256-GCM"
    assert all(crypto.token_algorithm(value) == "SM4-GCM" for value in raw_contact(Comment, after.pk))
    assert Comment.objects.get(pk=before.pk).phone == PHONE
    assert Comment.objects.get(pk=after.pk).phone == "13900001111"
    settings.JUECE_CRYPTO_PROFILE = "intl"  # and back: the 国密 values stay readable
    assert Comment.objects.get(pk=after.pk).id_number == ID_NUMBER


def test_encrypted_fields_refuse_to_be_searched(open_cast, decision):
    add_personal(open_cast, decision)
    from django.core.exceptions import FieldError

    with pytest.raises(FieldError, match="encrypted"):
        Comment.objects.filter(phone=PHONE).exists()
    assert Comment.objects.filter(phone__isnull=False).count() == 1


def test_the_data_migration_encrypts_plain_values_and_reverses(open_cast, decision):
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps

    step = import_module("decisions.migrations.0008_personal_data_encrypted")
    comment = add(open_cast, decision)
    with connection.cursor() as cursor:  # a row as it was before the migration: plain text
        cursor.execute(
            "UPDATE decisions_comment SET phone = %s, email = %s, id_number = '' WHERE id = %s",
            [PHONE, EMAIL, comment.pk],
        )
    # The steps use only the editor's connection; SQLite opens no schema editor inside the test's transaction.
    editor = SimpleNamespace(connection=connection)
    step.encrypt_existing(apps, editor)
    step.encrypt_existing(apps, editor)  # twice: a token is not encrypted again
    phone, email, id_number = raw_contact(Comment, comment.pk)
    assert phone.startswith("juece-enc/1:") and email.startswith("juece-enc/1:") and id_number == ""
    again = Comment.objects.get(pk=comment.pk)
    assert (again.phone, again.email) == (PHONE, EMAIL)
    step.decrypt_existing(apps, editor)
    assert raw_contact(Comment, comment.pk) == (PHONE, EMAIL, "")


# -- masked for everyone until revealed --------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_the_ledger_masks_contact_details_for_every_role_until_revealed(client, open_cast, decision, role):
    add_personal(open_cast, decision)
    client.force_login(open_cast[role])
    html = client.get(ledger_url(decision)).content.decode()
    assert NAME in html and all(value in html for value in MASKED)
    assert not [secret for secret in SECRETS if secret in html]
    assert ("查看完整信息" in html) is (role == Role.UNDERTAKING_LEAD)
    listed = api(open_cast[role]).get(f"/api/v1/decisions/{decision.reference}/comments/")
    assert listed.status_code == 200 and not [s for s in SECRETS if s.encode() in listed.content]
    assert listed.json()["results"][0]["phone"] == MASKED[0]


def test_the_lead_unit_reveals_one_comment_and_the_unmasking_is_audited_without_the_values(client, open_cast, decision):
    shown = add_personal(open_cast, decision)
    kept = add_personal(open_cast, decision, phone="13900001111", email="", id_number="")
    client.force_login(lead(open_cast))
    response = client.post(ledger_url(decision), {"reveal": shown.pk})
    html = response.content.decode()
    assert response.status_code == 200 and all(secret in html for secret in SECRETS)
    assert "13900001111" not in html and "139****1111" in html  # only the comment asked for
    assert "no-store" in response["Cache-Control"]
    (event,) = events(personal.VIEW_EVENT, shown)
    assert (event.actor, event.role, event.object_type) == (lead(open_cast), "UNDERTAKING_LEAD", "decisions.Comment")
    assert event.decision_id_ref == decision.pk
    assert event.payload["result"] == "success" and event.payload["fields"] == ["phone", "email", "id_number"]
    assert event.payload["address"] == "127.0.0.1"
    assert not [s for s in SECRETS if s in json.dumps(event.payload, ensure_ascii=False)]
    assert not events(personal.VIEW_EVENT, kept)
    # The next look at the ledger is masked again.
    assert PHONE not in client.get(ledger_url(decision)).content.decode()
    assert audit.verify().ok


def test_the_api_reveals_to_the_lead_unit_and_audits_it(open_cast, decision):
    comment = add_personal(open_cast, decision)
    response = api(lead(open_cast)).post(f"/api/v1/decisions/{decision.reference}/comments/{comment.pk}/reveal/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert response.json() == {"id": comment.pk, "phone": PHONE, "email": EMAIL, "id_number": ID_NUMBER}
    (event,) = events(personal.VIEW_EVENT, comment)
    assert event.payload["fields"] == ["phone", "email", "id_number"] and event.actor == lead(open_cast)


@pytest.mark.parametrize("role", [r for r in READERS if r != Role.UNDERTAKING_LEAD])
def test_no_other_role_may_reveal_and_the_attempt_is_audited(client, open_cast, decision, role):
    comment = add_personal(open_cast, decision)
    user = open_cast[role]
    refused = api(user).post(f"/api/v1/decisions/{decision.reference}/comments/{comment.pk}/reveal/")
    assert refused.status_code == 403 and refused.json()["code"] == "ROLE_NOT_PERMITTED"
    assert not [s for s in SECRETS if s.encode() in refused.content]
    client.force_login(user)
    page = client.post(ledger_url(decision), {"reveal": comment.pk})
    assert page.status_code == 403 and not [s for s in SECRETS if s.encode() in page.content]
    attempts = events(personal.VIEW_EVENT, comment)
    assert len(attempts) == 2 and {e.payload["result"] for e in attempts} == {"failure"}
    assert all(e.actor == user for e in attempts)


def test_a_comment_of_another_decision_is_not_found_through_this_one(open_cast, decision):
    other = consulting(open_cast)
    comment = add_personal(open_cast, other)
    response = api(lead(open_cast)).post(f"/api/v1/decisions/{decision.reference}/comments/{comment.pk}/reveal/")
    assert response.status_code == 404 and not events(personal.VIEW_EVENT, comment)


# -- erasure -----------------------------------------------------------------------------------------------------


def test_the_lead_unit_erases_a_commenters_data_and_the_comment_stays(client, open_cast, decision):
    comment = add_personal(open_cast, decision, commenter_organisation="湖州某公司", name_public=True)
    comments.answer(lead(open_cast), decision, [comment], disposition="ADOPTED", reason="已在草案第3条中采纳")
    old_tokens = raw_contact(Comment, comment.pk)
    client.force_login(lead(open_cast))
    refused = client.post(ledger_url(decision), {"erase": comment.pk, "reason": "  "}, follow=True)
    assert "须说明理由" in refused.content.decode() and Comment.objects.get(pk=comment.pk).phone == PHONE
    response = client.post(ledger_url(decision), {"erase": comment.pk, "reason": "本人来电申请删除"}, follow=True)
    assert "已删除第" in response.content.decode()
    erased = Comment.objects.get(pk=comment.pk)
    assert (erased.commenter_name, erased.commenter_organisation, erased.name_public) == ("已删除", "", False)
    assert (erased.phone, erased.email, erased.id_number) == ("", "", "")
    assert (erased.text, erased.disposition) == (comment.text, "ADOPTED")
    assert raw_contact(Comment, comment.pk) == ("", "", "")
    field = Comment._meta.get_field("phone")
    assert field.decrypt_value(old_tokens[0]) == PHONE  # the old token opened; the column no longer holds it
    (event,) = events(personal.ERASE_EVENT, comment)
    assert event.payload["reason"] == "本人来电申请删除" and event.payload["result"] == "success"
    assert event.payload["fields"] == ["commenter_name", "commenter_organisation", "phone", "email", "id_number"]
    text = json.dumps(event.payload, ensure_ascii=False)
    assert not [s for s in (*SECRETS, NAME, "湖州某公司") if s in text]
    assert "个人信息已删除" in client.get(ledger_url(decision)).content.decode()
    assert comments.public_name(erased) == "匿名"


def test_erasure_through_the_api_is_for_the_lead_unit_with_a_reason(open_cast, decision):
    comment = add_personal(open_cast, decision)
    url = f"/api/v1/decisions/{decision.reference}/comments/{comment.pk}/erase/"
    assert api(open_cast[Role.SUPERVISOR]).post(url, {"reason": "x"}, format="json").status_code == 403
    assert api(lead(open_cast)).post(url, {"reason": ""}, format="json").status_code == 400
    response = api(lead(open_cast)).post(url, {"reason": "本人书面申请删除"}, format="json")
    assert response.status_code == 200 and response.json() == {"id": comment.pk, "name": "已删除"}
    assert raw_contact(Comment, comment.pk) == ("", "", "")
    results = [e.payload["result"] for e in events(personal.ERASE_EVENT, comment)]
    assert results == ["failure", "success"]


# -- hearing participants --------------------------------------------------------------------------------------


def test_a_hearing_participants_contact_details_are_encrypted_revealed_and_erased(open_cast, decision):
    participant = with_participant(open_cast, decision, phone=PARTICIPANT_PHONE, email=PARTICIPANT_EMAIL)
    stored = raw_contact(HearingParticipant, participant.pk)
    assert stored[0].startswith("juece-enc/1:") and stored[2] == ""
    assert PARTICIPANT_PHONE not in "".join(stored)
    (added,) = events("hearing:participant", participant)
    assert added.payload["given"] == ["phone", "email"] and PARTICIPANT_PHONE not in json.dumps(added.payload)
    base = f"/api/v1/decisions/{decision.reference}/hearing-participants/{participant.pk}"
    assert api(open_cast[Role.SUPERVISOR]).post(f"{base}/reveal/").status_code == 403
    for role in (Role.HEARING_ORG, Role.UNDERTAKING_LEAD):
        shown = api(open_cast[role]).post(f"{base}/reveal/")
        assert shown.status_code == 200 and shown.json()["phone"] == PARTICIPANT_PHONE
    assert [e.payload["result"] for e in events(personal.VIEW_EVENT, participant)] == ["failure", "success", "success"]
    erased = api(open_cast[Role.HEARING_ORG]).post(f"{base}/erase/", {"reason": "本人申请"}, format="json")
    assert erased.status_code == 200 and raw_contact(HearingParticipant, participant.pk) == ("", "", "")
    assert HearingParticipant.objects.get(pk=participant.pk).name == "已删除"


def test_a_participant_is_added_with_checked_contact_details_through_the_form(client, open_cast, decision):
    with_participant(open_cast, decision)
    client.force_login(open_cast[Role.HEARING_ORG])
    url = reverse("decisions:act", args=[decision.reference, "hearing-participant"])
    bad = client.post(url, {"participant_name": "专家代表吴某", "phone": "12ab", "id_number": "330102199001011237"})
    assert {"phone", "id_number"} <= set(bad.context["form"].errors)
    good = client.post(url, {"participant_name": "专家代表吴某", "phone": "0572-2345678", "email": "wu@example.cn"})
    assert good.status_code == 302
    added = HearingParticipant.objects.get(name="专家代表吴某")
    assert (added.phone, added.email) == ("0572-2345678", "wu@example.cn")
    assert "0572-2345678" not in "".join(raw_contact(HearingParticipant, added.pk))


# -- never in public pages, exports or error reports -------------------------------------------------------------


def test_public_pages_and_the_public_api_never_carry_contact_details(client, open_cast):
    from tests.decisions.test_public_pages import published_with_comments

    decision = published_with_comments(open_cast)
    for url in (
        reverse("public:decisions"),
        reverse("public:decision", args=[decision.reference]),
        "/api/v1/public/decisions/",
        f"/api/v1/public/decisions/{decision.reference}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert not [s for s in SECRETS if s.encode() in response.content], url
    assert b"\xe5\x85\xac\xe4\xbc\x97" in client.get(reverse("public:decision", args=[decision.reference])).content


def test_the_adoption_statement_and_the_ledger_files_carry_no_contact_details(client, open_cast):
    decision = consulting(open_cast, ended_days_ago=1)
    comment = add_personal(open_cast, decision)
    comments.answer(lead(open_cast), decision, [comment], disposition="NOT_ADOPTED", reason="不属于本决策事项范围")
    client.force_login(lead(open_cast))
    made = client.post(
        reverse("reports:adoption_statement", args=[decision.reference]), {"submission": "a" * 32}, follow=True
    )
    assert made.status_code == 200
    statement = decision.current_record(Stage.PP).documents.get(doc_type=DocumentType.ADOPTION_STATEMENT)
    for role in READERS:
        reader = api(open_cast[role])
        download = reader.get(f"/api/v1/documents/{statement.pk}/file/")
        if download.status_code != 200:
            continue
        content = b"".join(download.streaming_content)
        text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
        assert "不属于本决策事项范围" in text and not [s for s in (*SECRETS, NAME) if s in text], role
    template = client.get(ledger_url(decision, download="template")).content
    with zipfile.ZipFile(io.BytesIO(template)) as book:
        parts = b"".join(book.read(name) for name in book.namelist())
    assert not [s for s in SECRETS if s.encode() in parts]


class DataKeyUnavailable(EnvironmentKeyService):
    """A key service whose data key cannot be had (the KMS is down): saving a comment fails with a 500."""

    def get_key(self, purpose):
        if purpose == "data":
            raise RuntimeError("KMS unreachable")
        return super().get_key(purpose)


def failing_request_report(client, open_cast, decision, settings):
    """Send the comment form while the data key is unavailable; return the error e-mails Django sends ADMINS."""
    settings.ADMINS = [("运维", "ops@example.cn")]
    settings.JUECE_KEY_SERVICE = f"{__name__}.DataKeyUnavailable"
    handler = AdminEmailHandler(include_html=True)
    handler.setLevel(logging.ERROR)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    client.force_login(lead(open_cast))
    client.raise_request_exception = False
    get_default_exception_reporter_filter.cache_clear()  # Django keeps the filter it made first
    try:
        response = client.post(
            reverse("decisions:act", args=[decision.reference, "comment-add"]),
            {
                "text": "页面登记的意见",
                "commenter_name": NAME,
                "received_on": received(1),
                "channel": "PHONE",
                "phone": PHONE,
                "email": EMAIL,
                "id_number": ID_NUMBER,
            },
        )
    finally:
        logger.removeHandler(handler)
        get_default_exception_reporter_filter.cache_clear()
    assert response.status_code == 500 and mail.outbox
    # Django's own mail_admins handler (text) and ours (with the HTML report and its frames' variables).
    return "".join(m.body + "".join(content for content, _type in m.alternatives) for m in mail.outbox)


def test_an_error_report_of_a_failing_request_carries_no_contact_details(client, open_cast, decision, settings):
    report = failing_request_report(client, open_cast, decision, settings)
    assert "KMS unreachable" in report and "add_comment" in report  # the report is there, with its frames
    assert not [s for s in SECRETS if s in report]


def test_a_value_that_fails_to_open_does_not_show_the_others_in_the_error_report(client, open_cast, decision, settings):
    comment = add_personal(open_cast, decision)
    with connection.cursor() as cursor:  # the last column read is damaged: the row holds the two before it in clear
        cursor.execute("UPDATE decisions_comment SET id_number = email WHERE id = %s", [comment.pk])
    settings.ADMINS = [("运维", "ops@example.cn")]
    handler = AdminEmailHandler(include_html=True)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    client.force_login(lead(open_cast))
    client.raise_request_exception = False
    try:
        assert client.get(ledger_url(decision)).status_code == 500
    finally:
        logger.removeHandler(handler)
    report = "".join(m.body + "".join(content for content, _type in m.alternatives) for m in mail.outbox)
    assert "decisions_comment.id_number" in report and "apply_converters" in report
    assert PHONE not in report and EMAIL not in report


def test_django_s_own_filter_would_have_let_them_through(client, open_cast, decision, settings):
    """The check above can fail: with Django's default filter the same report names the phone."""
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = "django.views.debug.SafeExceptionReporterFilter"
    report = failing_request_report(client, open_cast, decision, settings)
    assert PHONE in report


# -- residual information: temporary files ------------------------------------------------------------------------


@pytest.fixture
def scratch(tmp_path, monkeypatch, settings):
    """A temporary directory of its own for this test, and uploads spooled to disk whatever their size."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    settings.FILE_UPLOAD_TEMP_DIR = str(directory)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    return directory


def left_in(directory):
    return sorted(os.listdir(directory))


def test_an_uploaded_ledger_file_leaves_no_temporary_file(client, open_cast, decision, scratch):
    client.force_login(lead(open_cast))
    url = reverse("decisions:act", args=[decision.reference, "comment-import"])
    day = received(3)
    good = xlsx([[1, "建议延长申领时限", NAME, "", PHONE, EMAIL, ID_NUMBER, "否", day, "网站留言"]])
    response = client.post(url, {"file": _named(good, "台账.xlsx")})
    assert response.status_code == 302 and Comment.objects.count() == 1
    assert left_in(scratch) == []
    bad = client.post(url, {"file": _named(b"not a workbook", "台账.xlsx")})
    assert bad.status_code == 200 and bad.context["form"].errors and left_in(scratch) == []


def _named(content, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_rendering_a_dossier_and_exporting_a_bundle_leave_no_temporary_file(open_cast, decision, scratch):
    from reports import dossiers, exports
    from reports.models import BundleExport, Dossier

    pending = Dossier.objects.filter(decision=decision, status=Dossier.Status.PENDING).order_by("id").first()
    dossiers.render(pending.pk)
    assert Dossier.objects.get(pk=pending.pk).status == Dossier.Status.DONE
    assert left_in(scratch) == []
    export = exports.request_export(open_cast[Role.SUPERVISOR], decision=decision)
    exports.run(export.pk)
    assert BundleExport.objects.get(pk=export.pk).status == BundleExport.Status.DONE
    assert left_in(scratch) == []
