"""Dossiers and auditor bundles over the API: the dossier page's readers, audited downloads, and exports
that only whoever asked for them may follow and fetch."""

import io
import zipfile

import pytest

from decisions.models import AuditEvent, Role
from decisions.queries import READERS
from decisions.walkthrough import initiation as walk
from reports import dossiers, exports
from reports.models import BundleExport, Dossier
from tests.api.test_api import api

pytestmark = pytest.mark.django_db


@pytest.fixture
def drafted(open_cast):
    """A decision in consultation whose stage dossiers are rendered (as tests/reports make them)."""
    decision = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))
    dossiers.render_pending(decision)
    assert Dossier.objects.filter(decision=decision, status=Dossier.Status.DONE).exists()
    return decision


# -- dossiers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.PUBLIC])
def test_the_dossiers_of_a_decision_are_listed_to_their_readers_and_refused_to_everyone_else(open_cast, drafted, role):
    user = open_cast.users.get(role)
    if user is None:
        pytest.skip(f"the cast has no {role} user")
    response = api(user).get(f"/api/v1/decisions/{drafted.reference}/dossiers/")
    if role in dossiers.readers():
        assert response.status_code == 200
        listed = {d["id"] for d in response.json()["results"]}
        assert listed == set(Dossier.objects.filter(decision=drafted).values_list("pk", flat=True)) != set()
        assert all(d["sha256"] for d in response.json()["results"] if d["status"] == "DONE")
    else:
        assert response.status_code == 403 and response.json()["code"] == "ROLE_NOT_PERMITTED"


def test_another_governments_office_and_the_anonymous_get_no_dossiers(cast_factory, drafted):
    outsider = api(cast_factory()[Role.GOV_OFFICE])
    assert outsider.get(f"/api/v1/decisions/{drafted.reference}/dossiers/").status_code == 403
    dossier = Dossier.objects.filter(decision=drafted).first()
    assert outsider.get(f"/api/v1/dossiers/{dossier.pk}/file/").status_code == 403
    assert api().get(f"/api/v1/decisions/{drafted.reference}/dossiers/").status_code == 401
    assert api().get(f"/api/v1/dossiers/{dossier.pk}/file/").status_code == 401


def test_downloading_a_dossier_gives_its_pdf_and_is_audited_as_dossier_download(open_cast, drafted):
    dossier = Dossier.objects.filter(decision=drafted, status=Dossier.Status.DONE).first()
    supervisor = open_cast[Role.SUPERVISOR]
    before = AuditEvent.objects.filter(action="dossier:download").count()
    response = api(supervisor).get(f"/api/v1/dossiers/{dossier.pk}/file/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF") and content == dossier.file.open("rb").read()
    assert AuditEvent.objects.filter(action="dossier:download").count() == before + 1
    event = AuditEvent.objects.filter(action="dossier:download").latest("seq")
    assert event.actor == supervisor and event.role == Role.SUPERVISOR
    assert event.payload["sha256"] == dossier.sha256 and event.decision_id_ref == drafted.pk


def test_a_dossier_refused_to_a_role_is_not_served_and_leaves_no_download_event(open_cast, drafted):
    dossier = Dossier.objects.filter(decision=drafted, status=Dossier.Status.DONE).first()
    events = AuditEvent.objects.filter(action="dossier:download").count()
    response = api(open_cast[Role.EXPERT]).get(f"/api/v1/dossiers/{dossier.pk}/file/")
    assert response.status_code == 403 and response.json()["code"] == "ROLE_NOT_PERMITTED"
    assert AuditEvent.objects.filter(action="dossier:download").count() == events


def test_a_dossier_not_yet_rendered_cannot_be_downloaded(open_cast, drafted):
    dossier = Dossier.objects.filter(decision=drafted).first()
    Dossier.objects.filter(pk=dossier.pk).update(status=Dossier.Status.PENDING)
    assert api(open_cast[Role.SUPERVISOR]).get(f"/api/v1/dossiers/{dossier.pk}/file/").status_code == 404


# -- exports --------------------------------------------------------------------------------------------


def test_a_requested_export_is_accepted_followed_and_fetched_only_when_finished(open_cast, drafted):
    supervisor = api(open_cast[Role.SUPERVISOR])
    requested = supervisor.post("/api/v1/exports/", {"decision": drafted.reference}, format="json")
    assert requested.status_code == 202, requested.json()
    body = requested.json()
    assert body["decision"] == drafted.reference and body["status"] == "PENDING"
    export = BundleExport.objects.get(pk=body["id"])
    assert export.requested_by == open_cast[Role.SUPERVISOR]
    followed = supervisor.get(f"/api/v1/exports/{export.pk}/")
    assert followed.status_code == 200 and followed.json()["status"] == "PENDING"
    early = supervisor.get(f"/api/v1/exports/{export.pk}/file/")
    assert early.status_code == 409 and early.json()["code"] == "EXPORT_NOT_FINISHED"
    exports.run(export.pk)  # what the worker does
    done = supervisor.get(f"/api/v1/exports/{export.pk}/").json()
    assert done["status"] == "DONE" and done["percent"] == 100 and done["sha256"]
    download = supervisor.get(f"/api/v1/exports/{export.pk}/file/")
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as bag:
        assert any(name.endswith("bagit.txt") for name in bag.namelist())
    assert [e["id"] for e in supervisor.get("/api/v1/exports/").json()["results"]] == [export.pk]


def test_a_failed_export_says_it_failed_and_why(open_cast, drafted):
    supervisor = api(open_cast[Role.SUPERVISOR])
    export = BundleExport.objects.get(
        pk=supervisor.post("/api/v1/exports/", {"decision": drafted.reference}).json()["id"]
    )
    BundleExport.objects.filter(pk=export.pk).update(status=BundleExport.Status.FAILED, error="磁盘已满")
    answer = supervisor.get(f"/api/v1/exports/{export.pk}/file/")
    assert answer.status_code == 409 and answer.json()["code"] == "EXPORT_FAILED"
    assert "磁盘已满" in answer.json()["message"]["zh"]


def test_an_export_is_seen_only_by_whoever_asked_for_it(open_cast, drafted):
    export = exports.request_export(open_cast[Role.SUPERVISOR], decision=drafted)
    office = api(open_cast[Role.GOV_OFFICE])  # reads the decision, but did not ask for this export
    for url in (f"/api/v1/exports/{export.pk}/", f"/api/v1/exports/{export.pk}/file/"):
        response = office.get(url)
        assert response.status_code == 403 and response.json()["code"] == "ROLE_NOT_PERMITTED", url
    exports.run(export.pk)
    assert office.get(f"/api/v1/exports/{export.pk}/file/").status_code == 403
    assert office.get("/api/v1/exports/").json()["results"] == []
    assert api().get(f"/api/v1/exports/{export.pk}/").status_code == 401


@pytest.mark.parametrize(
    "given",
    [{}, {"decision": ""}, "both"],
    ids=["neither", "blank-decision", "both-decision-and-catalogue"],
)
def test_an_export_must_name_exactly_one_decision_or_catalogue(open_cast, drafted, given):
    if given == "both":
        from catalog import walkthrough as catalog_walk

        catalogue = catalog_walk.publish_catalogue(open_cast, decisions=[walk.propose(open_cast, title="目录内事项")])
        given = {"decision": drafted.reference, "catalogue": catalogue.pk}
    response = api(open_cast[Role.SUPERVISOR]).post("/api/v1/exports/", given, format="json")
    assert response.status_code == 400 and response.json()["code"] == "INVALID_INPUT"
    assert response.json()["errors"]
    assert not BundleExport.objects.exists()


def test_an_export_of_an_unknown_decision_is_404(open_cast, drafted):
    response = api(open_cast[Role.SUPERVISOR]).post("/api/v1/exports/", {"decision": "NO-SUCH"}, format="json")
    assert response.status_code == 404 and not BundleExport.objects.exists()


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.PUBLIC])
def test_only_a_reader_of_the_decision_may_export_it(open_cast, drafted, role):
    user = open_cast.users.get(role)
    if user is None:
        pytest.skip(f"the cast has no {role} user")
    response = api(user).post("/api/v1/exports/", {"decision": drafted.reference}, format="json")
    if role in READERS:
        assert response.status_code == 202
        assert BundleExport.objects.filter(requested_by=user).count() == 1
    else:
        # The lead unit previews the dossiers while working, but an auditor's bundle is for READERS only.
        assert response.status_code == 403 and response.json()["code"] == "ROLE_NOT_PERMITTED"
        assert not BundleExport.objects.exists()


def test_another_governments_supervisor_may_not_export_the_decision(cast_factory, drafted):
    response = api(cast_factory()[Role.SUPERVISOR]).post("/api/v1/exports/", {"decision": drafted.reference})
    assert response.status_code == 403 and not BundleExport.objects.exists()


def test_a_catalogue_is_exported_whole_by_its_supervisor_but_not_by_an_expert(open_cast):
    from catalog import walkthrough as catalog_walk

    catalogue = catalog_walk.publish_catalogue(open_cast, decisions=[walk.propose(open_cast, title="目录内事项")])
    accepted = api(open_cast[Role.SUPERVISOR]).post("/api/v1/exports/", {"catalogue": catalogue.pk}, format="json")
    assert accepted.status_code == 202 and accepted.json()["catalogue"] == catalogue.pk
    refused = api(open_cast[Role.EXPERT]).post("/api/v1/exports/", {"catalogue": catalogue.pk}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "ROLE_NOT_PERMITTED"
    assert BundleExport.objects.count() == 1
