"""Files on S3-compatible object storage (JUECE_STORAGE=s3): uploads, dossiers, bundles and audit archives go
through Django's storage API into the bucket, come back only through the permission-checked, audited readers,
and nothing stored is served from a URL. The object store is moto's S3 server, on this machine."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from moto.server import ThreadedMotoServer

from decisions import audit_retention
from decisions.models import AuditEvent, Role
from decisions.permissions import NotPermitted
from decisions.services import documents
from decisions.walkthrough import initiation as walk
from reports import bundle, dossiers, exports
from reports.models import BundleExport, Dossier
from reports.verify import verify_bundle
from tests.api.test_api import api

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]
BUCKET, PREFIX = "juece-records", "county-a"
CREDENTIALS = {"aws_access_key_id": "moto-test", "aws_secret_access_key": "moto-test", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings):
    """Point the default storage at the bucket, as JUECE_STORAGE=s3 does; return a function listing its keys."""
    settings.STORAGES = {
        **django_settings.STORAGES,
        "default": s3_storage_config(s3_endpoint),
    }  # setting_changed resets default_storage
    client = boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)

    def keys():
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX + "/")
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    keys.client = client
    return keys


def s3_storage_config(endpoint):
    """The storage JUECE_STORAGE=s3 configures (config/settings.py), read from the settings module itself."""
    environment = {
        "JUECE_STORAGE": "s3",
        "JUECE_S3_BUCKET": BUCKET,
        "JUECE_S3_ENDPOINT_URL": endpoint,
        "JUECE_S3_REGION": CREDENTIALS["region_name"],
        "JUECE_S3_ACCESS_KEY": CREDENTIALS["aws_access_key_id"],
        "JUECE_S3_SECRET_KEY": CREDENTIALS["aws_secret_access_key"],
        "JUECE_S3_PREFIX": PREFIX,
    }
    return json.loads(settings_of(environment, "json.dumps(s.STORAGES['default'])").stdout)


def settings_of(environment, expression):
    """Import config/settings.py in a fresh interpreter with `environment` and print `expression` of it (as s)."""
    env = {**os.environ, "JUECE_DEBUG": "true", **environment}
    code = f"import json; import config.settings as s; print({expression})"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


def drafted(cast):
    return walk.draft(cast, walk.initiate(cast, walk.propose(cast)))


def test_uploaded_documents_are_objects_in_the_bucket_read_back_only_through_the_permission_check(
    open_cast, cast_factory, bucket
):
    decision = drafted(open_cast)  # the walkthrough uploads through the services
    stored = list(decision.documents.order_by("id"))
    assert stored and type(default_storage._wrapped).__name__ == "S3Storage"
    keys = bucket()
    for document in stored:
        assert f"{PREFIX}/{document.file.name}" in keys
        assert not (Path(django_settings.MEDIA_ROOT) / document.file.name).exists()
        head = bucket.client.head_object(Bucket=BUCKET, Key=f"{PREFIX}/{document.file.name}")
        assert head["ContentLength"] == document.size
    # Private objects: the bucket grants nobody but its owner.
    acl = bucket.client.get_object_acl(Bucket=BUCKET, Key=f"{PREFIX}/{stored[0].file.name}")
    assert all("AllUsers" not in str(grant["Grantee"]) for grant in acl["Grants"])

    document = stored[0]
    with documents.open_for_reading(open_cast[Role.SUPERVISOR], document) as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == document.sha256
    outsider = cast_factory()[Role.SUPERVISOR]  # a supervisor of another organ
    with pytest.raises(NotPermitted):
        documents.open_for_reading(outsider, document)
    # The API streams the object itself; it never redirects to the object store.
    response = api(open_cast[Role.SUPERVISOR]).get(f"/api/v1/documents/{document.pk}/file/")
    assert response.status_code == 200 and "Location" not in response
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == document.sha256
    assert AuditEvent.objects.filter(action="document:download", object_id=str(document.pk)).count() == 2


def test_dossiers_render_from_the_bucket_into_the_bucket_and_a_bundle_of_them_verifies(open_cast, bucket, tmp_path):
    decision = drafted(open_cast)
    rendered = dossiers.render_pending(decision)  # reads the uploaded PDFs from the bucket to bind them in
    assert rendered and all(d.status == Dossier.Status.DONE for d in rendered), [d.error for d in rendered]
    keys = bucket()
    for dossier in rendered:
        assert f"{PREFIX}/{dossier.file.name}" in keys
        with dossiers.open_for_reading(open_cast[Role.SUPERVISOR], dossier) as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == dossier.sha256
    checked, problems = dossiers.verify_stored(decision)  # each stored PDF still has its recorded SHA-256
    assert checked == len(rendered) and not problems

    path = tmp_path / "bundle.zip"
    bundle.export_decision_bundle(open_cast[Role.SUPERVISOR], decision, path)
    report = verify_bundle(path, audit_key=django_settings.AUDIT_KEY)
    assert report.ok and report.macs_checked, report.problems
    assert report.counts["documents"] == decision.documents.count()
    assert report.counts["dossiers"] == len(rendered)

    # An export requested from the page is made by the worker and kept in the bucket too.
    export = exports.request_export(open_cast[Role.SUPERVISOR], decision=decision)
    export = exports.run(export.pk)
    assert export.status == BundleExport.Status.DONE, export.error
    assert f"{PREFIX}/{export.file.name}" in bucket()
    with export.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == export.sha256


def test_audit_archives_are_written_to_and_verified_from_the_bucket(open_cast, bucket):
    drafted(open_cast)
    archive = audit_retention.export_archive(None)
    keys = bucket()
    assert {f"{PREFIX}/{archive.file.name}", f"{PREFIX}/{archive.manifest.name}"} <= keys
    assert not list(Path(django_settings.MEDIA_ROOT).rglob("*.jsonl"))
    audit_retention.verify_archive(archive)  # raises if the stored file does not match its digests


def test_stored_files_are_never_served_from_a_url(open_cast, client):
    """MEDIA_ROOT sits outside the web root and config/urls.py has no MEDIA_URL route: only the views stream files."""
    document = drafted(open_cast).documents.first()
    assert (Path(django_settings.MEDIA_ROOT) / document.file.name).exists()  # the filesystem storage, by default
    client.force_login(open_cast[Role.SUPERVISOR])
    response = client.get("/" + django_settings.MEDIA_URL + document.file.name)
    assert response.status_code == 404


def test_s3_storage_is_configured_private_and_without_signed_urls():
    environment = {"JUECE_STORAGE": "s3", "JUECE_S3_BUCKET": "records", "JUECE_S3_ENDPOINT_URL": "https://oss.example"}
    config = json.loads(settings_of(environment, "json.dumps(s.STORAGES['default'])").stdout)
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    options = config["OPTIONS"]
    assert options["default_acl"] == "private" and options["querystring_auth"] is False
    assert options["file_overwrite"] is False and options["bucket_name"] == "records"
    assert options["access_key"] is None  # boto3's own credential chain when no key is set

    default = settings_of({"JUECE_STORAGE": ""}, "s.STORAGES['default']['BACKEND']")
    assert default.stdout.strip() == "django.core.files.storage.FileSystemStorage"
    for wrong in ({"JUECE_STORAGE": "s3"}, {"JUECE_STORAGE": "ftp"}):
        refused = settings_of(wrong, "1")
        assert refused.returncode != 0 and "ImproperlyConfigured" in refused.stderr
