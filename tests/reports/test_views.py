"""The dossier and export pages: who may see what, progress, downloads (audited), and the export made by the worker."""

import io
import zipfile

import pytest
from django.urls import reverse

from decisions.models import AuditEvent, Role
from decisions.walkthrough import initiation as walk
from reports import dossiers, exports
from reports.models import BundleExport, Dossier


@pytest.fixture
def drafted(open_cast):
    return walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast)))


def test_the_dossier_page_shows_progress_and_refreshes_while_dossiers_are_queued(client, open_cast, drafted):
    client.force_login(open_cast[Role.SUPERVISOR])
    page = client.get(reverse("reports:decision_dossiers", args=[drafted.reference]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "已生成 0 / 2 份" in body and 'http-equiv="refresh"' in body and "排队中" in body
    dossiers.render_pending(drafted)
    body = client.get(reverse("reports:decision_dossiers", args=[drafted.reference])).content.decode()
    assert "已生成 2 / 2 份" in body and 'http-equiv="refresh"' not in body
    for dossier in Dossier.objects.filter(decision=drafted):
        assert dossier.sha256 in body and reverse("reports:dossier_file", args=[dossier.pk]) in body


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.PUBLIC])
def test_every_role_against_the_dossier_page_and_the_pdf(client, open_cast, drafted, role):
    dossiers.render_pending(drafted)
    dossier = Dossier.objects.filter(decision=drafted).first()
    client.force_login(open_cast[role])
    allowed = role in (*dossiers_readers(),)
    page = client.get(reverse("reports:decision_dossiers", args=[drafted.reference]))
    pdf = client.get(reverse("reports:dossier_file", args=[dossier.pk]))
    assert page.status_code == (200 if allowed else 403)
    assert pdf.status_code == (200 if allowed else 403)
    if allowed:
        assert b"".join(pdf.streaming_content).startswith(b"%PDF")
        event = AuditEvent.objects.filter(action="dossier:download").latest("seq")
        assert event.actor == open_cast[role] and event.payload["sha256"] == dossier.sha256


def dossiers_readers():
    from reports.views import DOSSIER_READERS

    return DOSSIER_READERS


def test_anonymous_visitors_are_sent_to_the_login_page(client, drafted):
    page = client.get(reverse("reports:decision_dossiers", args=[drafted.reference]))
    assert page.status_code == 302 and reverse("login") in page["Location"]


def test_a_supervisor_exports_from_the_page_and_follows_the_progress_to_the_download(client, open_cast, drafted):
    dossiers.render_pending(drafted)
    supervisor = open_cast[Role.SUPERVISOR]
    client.force_login(supervisor)
    response = client.post(reverse("reports:export_decision", args=[drafted.reference]))
    export = BundleExport.objects.get(requested_by=supervisor)
    assert response.status_code == 302 and response["Location"] == reverse("reports:export", args=[export.pk])
    assert client.get(reverse("reports:export_progress", args=[export.pk])).json()["status"] == "PENDING"
    exports.run(export.pk)  # what the worker does
    progress = client.get(reverse("reports:export_progress", args=[export.pk])).json()
    assert progress["status"] == "DONE" and progress["done"] == progress["total"] > 0 and progress["percent"] == 100
    page = client.get(reverse("reports:export", args=[export.pk])).content.decode()
    assert "下载导出包" in page and progress["sha256"] in page
    download = client.get(reverse("reports:export_file", args=[export.pk]))
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as bag:
        assert any(name.endswith("bagit.txt") for name in bag.namelist())


def test_someone_who_may_not_see_the_decision_cannot_export_it(client, open_cast, drafted):
    client.force_login(open_cast[Role.EXPERT])
    response = client.post(reverse("reports:export_decision", args=[drafted.reference]))
    assert response.status_code == 403 and not BundleExport.objects.exists()


def test_an_export_is_seen_only_by_whoever_asked_for_it(client, open_cast, drafted):
    export = exports.request_export(open_cast[Role.SUPERVISOR], decision=drafted)
    client.force_login(open_cast[Role.GOV_OFFICE])
    for name in ("reports:export", "reports:export_progress", "reports:export_file"):
        assert client.get(reverse(name, args=[export.pk])).status_code == 403


def test_a_failed_export_says_why(client, open_cast, drafted, monkeypatch):
    from reports import bundle

    def broken(*args, **kwargs):
        raise bundle.BundleError("磁盘已满", "disk full")

    monkeypatch.setattr(bundle, "export_decision_bundle", broken)
    export = exports.request_export(open_cast[Role.SUPERVISOR], decision=drafted)
    exports.run(export.pk)
    export.refresh_from_db()
    assert export.status == BundleExport.Status.FAILED and "磁盘已满" in export.error and not export.file
    client.force_login(open_cast[Role.SUPERVISOR])
    assert "磁盘已满" in client.get(reverse("reports:export", args=[export.pk])).content.decode()


def test_the_export_page_lists_the_decisions_and_catalogues_a_supervisor_may_export(client, open_cast, drafted):
    from catalog import walkthrough as catalog_walk

    catalogue = catalog_walk.publish_catalogue(open_cast, decisions=[walk.propose(open_cast, title="目录内事项")])
    client.force_login(open_cast[Role.SUPERVISOR])
    body = client.get(reverse("reports:exports")).content.decode()
    assert reverse("reports:decision_dossiers", args=[drafted.reference]) in body
    assert reverse("reports:export_catalogue", args=[catalogue.pk]) in body
    client.force_login(open_cast[Role.EXPERT])
    body = client.get(reverse("reports:exports")).content.decode()
    assert drafted.reference not in body and reverse("reports:export_catalogue", args=[catalogue.pk]) not in body


def test_a_catalogue_export_counts_every_listed_decision_in_its_progress(client, open_cast):
    from catalog import walkthrough as catalog_walk

    listed = [walk.propose(open_cast, title=f"目录事项{i}") for i in range(3)]
    catalogue = catalog_walk.publish_catalogue(open_cast, decisions=listed)
    client.force_login(open_cast[Role.SUPERVISOR])
    client.post(reverse("reports:export_catalogue", args=[catalogue.pk]))
    export = BundleExport.objects.get(catalogue=catalogue)
    exports.run(export.pk)
    progress = client.get(reverse("reports:export_progress", args=[export.pk])).json()
    assert progress["status"] == "DONE" and progress["done"] == progress["total"] == len(listed) + 1


def test_the_admin_shows_dossiers_read_only(client, open_cast, drafted):
    from django.contrib.auth import get_user_model

    dossiers.render_pending(drafted)
    admin = get_user_model().objects.create_superuser("root", "root@example.invalid", "pw-0123456789")
    client.force_login(admin)
    dossier = Dossier.objects.filter(decision=drafted).first()
    listing = client.get(reverse("admin:reports_dossier_changelist"))
    assert listing.status_code == 200 and dossier.sha256 in listing.content.decode()
    assert client.get(reverse("admin:reports_dossier_add")).status_code == 403
    assert client.post(reverse("admin:reports_dossier_delete", args=[dossier.pk]), {"post": "yes"}).status_code == 403
    assert Dossier.objects.filter(pk=dossier.pk).exists()
