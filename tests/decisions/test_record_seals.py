"""Record seals (完整性, issue 7): documents, legality opinions, collective decisions and publications carry a keyed
MAC of the selected crypto profile; `verify_audit` checks every one with the algorithm it names, and an auditor's
国密 bundle checks the SM3 of each document file."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from decisions import crypto, seals
from decisions.models import CollectiveOutcome, Document, LegalityReview, Publication, Role
from decisions.services import legality as legality_service
from decisions.walkthrough import consultation as consultation_walk
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import legality as legality_walk
from reports.bundle import export_decision_bundle
from reports.verify import verify_bundle
from tests.decisions.test_implementation import decided, published
from tests.reports.test_bundle import flip, read_bag, tampered

pytestmark = pytest.mark.django_db
MAC = {"intl": "HMAC-SHA256", "gm": "HMAC-SM3"}
SEALED_MODELS = (Document, LegalityReview, CollectiveOutcome, Publication)


def verify_audit() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def verify_audit_failure() -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=io.StringIO())
    assert failure.value.returncode == 1
    return str(failure.value)


def sealed_rows(decision):
    """The decision's sealed records: its documents, issued opinions, collective decisions and publications."""
    return [
        *Document.objects.filter(decision=decision),
        *LegalityReview.objects.filter(decision=decision, issued_at__isnull=False),
        *CollectiveOutcome.objects.filter(agenda_item__decision=decision),
        *Publication.objects.filter(decision=decision),
    ]


@pytest.mark.parametrize("profile", ["intl", "gm"])
def test_a_published_decisions_records_are_sealed_with_the_profiles_mac(open_cast, settings, profile):
    settings.JUECE_CRYPTO_PROFILE = profile
    decision = published(open_cast)

    rows = sealed_rows(decision)
    assert {type(row) for row in rows} == set(SEALED_MODELS)
    assert {row.record_mac_algorithm for row in rows} == {MAC[profile]}
    assert all(seals.mac_holds(row) for row in rows)
    for document in Document.objects.filter(decision=decision):
        content = document.file.open("rb").read()
        expected = crypto.digest_with("SM3", content) if profile == "gm" else ""
        assert document.digest_sm3 == expected
        assert document.sha256 == crypto.digest_with("SHA-256", content)

    out = verify_audit()
    assert f"Document: {Document.objects.count()} checked, seals intact ({MAC[profile]}" in out
    assert "Publication: 1 checked" in out and "predate" not in out


def test_switching_profile_keeps_seals_of_both_profiles_verifiable(open_cast, settings):
    settings.JUECE_CRYPTO_PROFILE = "intl"
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    settings.JUECE_CRYPTO_PROFILE = "gm"
    decision = legality_walk.review(open_cast, consultation_walk.consult(open_cast, decision))

    algorithms = set(Document.objects.filter(decision=decision).values_list("record_mac_algorithm", flat=True))
    assert algorithms == {"HMAC-SHA256", "HMAC-SM3"}
    assert LegalityReview.objects.get(decision=decision).record_mac_algorithm == "HMAC-SM3"
    assert all(result.ok for result in seals.verify_sealed_records())
    assert "HMAC-SHA256" in verify_audit()
    settings.JUECE_CRYPTO_PROFILE = "intl"  # and back again
    out = verify_audit()
    assert "HMAC-SHA256" in out and "HMAC-SM3" in out


def test_a_later_step_on_an_issued_opinion_keeps_its_seal(open_cast):
    drafted = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    decision = legality_walk.review(open_cast, consultation_walk.consult(open_cast, drafted))
    legality_service.mark_opinion_stale(open_cast[Role.LEGAL_REVIEWER], decision, reason="上位法已修订")
    opinion = LegalityReview.objects.get(decision=decision)
    assert opinion.stale_marked_at is not None and seals.mac_holds(opinion)
    verify_audit()


def test_a_sealed_column_changed_in_the_database_fails_verify_audit_naming_the_row(open_cast):
    decision = published(open_cast)
    document = Document.objects.filter(decision=decision).order_by("id").first()
    opinion = LegalityReview.objects.get(decision=decision)
    outcome = CollectiveOutcome.objects.get(agenda_item__decision=decision)
    publication = Publication.objects.get(decision=decision)
    verify_audit()

    # Behind the application's back: raw SQL, and the base manager's update.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Document._meta.db_table} SET title = %s WHERE id = %s", ["换过的标题", document.pk])
    LegalityReview._base_manager.filter(pk=opinion.pk).update(content="决策内容合法(改)")
    CollectiveOutcome._base_manager.filter(pk=outcome.pk).update(chief_reason="事后补写的理由")
    Publication._base_manager.filter(pk=publication.pk).update(not_public_basis="事后补写的依据")

    message = verify_audit_failure()
    assert "Records that do not verify (4)" in message
    for row in (document, opinion, outcome, publication):
        assert f"{type(row).__name__} #{row.pk}: record_mac" in message

    # Relabelling a seal with the other profile's MAC is no way round it either.
    Document._base_manager.filter(pk=document.pk).update(title=document.title, record_mac_algorithm="HMAC-SM3")
    assert f"Document #{document.pk}: record_mac" in verify_audit_failure()


def test_rows_without_a_seal_are_reported_as_unsealed_not_failed(open_cast):
    decision = decided(open_cast)
    earlier = list(Document.objects.filter(decision=decision).order_by("id")[:2])
    # As migration 0011 leaves rows stored before seals existed.
    Document._base_manager.filter(pk__in=[d.pk for d in earlier]).update(record_mac="", record_mac_algorithm="")
    CollectiveOutcome._base_manager.filter(agenda_item__decision=decision).update(
        record_mac="", record_mac_algorithm=""
    )

    out = verify_audit()
    assert "2 predate record seals" in out
    results = {result.label: result for result in seals.verify_sealed_records()}
    assert results["decisions.Document"].ok and results["decisions.Document"].unsealed == 2
    assert results["decisions.CollectiveOutcome"].unsealed == 1 and not results["decisions.CollectiveOutcome"].problems


# -- bundles ----------------------------------------------------------------------------------------------------


def test_a_gm_bundle_checks_each_documents_sm3_and_catches_a_changed_file(open_cast, settings, tmp_path):
    settings.JUECE_CRYPTO_PROFILE = "gm"
    decision = decided(open_cast)
    path = export_decision_bundle(open_cast[Role.SUPERVISOR], decision, tmp_path / "gm.zip").path
    _prefix, files = read_bag(path)
    index = json.loads(files["data/decision.json"])
    for entry in index["documents"]:
        assert entry["digest_sm3"] == crypto.digest_with("SM3", files[entry["path"]])

    report = verify_bundle(path, audit_key=settings.AUDIT_KEY)
    assert report.ok, report.problems
    assert report.counts["document_sm3"] == len(index["documents"]) == decision.documents.count()

    victim = sorted(entry["path"] for entry in index["documents"])[0]

    def edit(files):
        files[victim] = flip(files[victim])

    # Every manifest re-written to match the changed file: the document's own SM3 still names it.
    report = verify_bundle(tampered(path, tmp_path / "changed.zip", edit, reseal=True), audit_key=settings.AUDIT_KEY)
    assert victim in [p.path for p in report.problems if p.code == "DOCUMENT_SM3_MISMATCH"]


def test_an_intl_bundle_carries_no_document_sm3(open_cast, settings, tmp_path):
    settings.JUECE_CRYPTO_PROFILE = "intl"
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    path = export_decision_bundle(open_cast[Role.SUPERVISOR], decision, tmp_path / "intl.zip").path
    index = json.loads(read_bag(path)[1]["data/decision.json"])
    assert index["documents"] and all(entry["digest_sm3"] == "" for entry in index["documents"])
    report = verify_bundle(path, audit_key=settings.AUDIT_KEY)
    assert report.ok and "document_sm3" not in report.counts
