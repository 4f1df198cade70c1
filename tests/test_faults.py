"""Faults end in a clear error and a consistent state: never a half-written record, never a dossier whose
hash is not in the audit chain.

a. a render worker killed mid-render: nothing marked done, and after the timeout the next worker renders it;
b. the database restarting mid-request: 503 "数据库暂时不可用", nothing written, and the next request works;
c. a full disk while storing a file: "存储空间不足", no document row, no event, no partial file, state unchanged;
   a dossier stored onto a full disk fails with its reason and renders on retry.
"""

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from decisions import audit
from decisions.models import AuditEvent, Decision, Document, Role, StageRecord
from decisions.walkthrough import initiation as walk
from decisions.walkthrough import pdf_bytes
from reports import dossiers
from reports.models import Dossier

ROOT = Path(__file__).resolve().parents[1]


def pdf(name):
    return SimpleUploadedFile(name, pdf_bytes(name), content_type="application/pdf")


def initiate_form(cast):
    return {
        "lead_unit": cast.lead_unit.pk,
        "co_units": [cast.co_units[0].pk],
        "start_decision": pdf("启动决定.pdf"),
        "study_opinion": pdf("研究论证意见.pdf"),
    }


def page(cast):
    client = Client()
    client.force_login(cast[Role.GOV_OFFICE])
    return client


def api(cast):
    client = APIClient()
    key, _ = Token.objects.get_or_create(user=cast[Role.GOV_OFFICE])
    client.credentials(HTTP_AUTHORIZATION=f"Token {key.key}")
    return client


def initiate_through_page(cast, decision):
    return page(cast).post(
        reverse("decisions:act", args=[decision.reference, "start-without-catalogue"]), initiate_form(cast)
    )


def initiate_through_api(cast, decision):
    url = f"/api/v1/decisions/{decision.reference}/actions/start-without-catalogue/"
    return api(cast).post(url, initiate_form(cast), format="multipart")


def record_of(decision):
    """What a half-written step would leave behind: the state, stage records, documents and events."""
    decision = Decision.objects.get(pk=decision.pk)
    return (
        decision.state,
        StageRecord.objects.filter(decision=decision).count(),
        Document.objects.filter(decision=decision).count(),
        AuditEvent.objects.filter(decision_id_ref=decision.pk).count(),
    )


def stored_files(root):
    return sorted(p.relative_to(root) for p in Path(root).rglob("*") if p.is_file()) if Path(root).exists() else []


# -- c. a full disk ------------------------------------------------------------------------------------------------


class FullDiskStorage(FileSystemStorage):
    """A disk that fills up mid-write: the first bytes reach the file, then ENOSPC (used where no tmpfs can be mounted)."""

    def _save(self, name, content):
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.read()[:100])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


class FullDisk:
    """MEDIA_ROOT on a full filesystem: a 16 MiB tmpfs filled up when this machine lets us mount one (a real ENOSPC
    from the kernel), else FullDiskStorage. `fill()` and `free()` switch between full and not."""

    def __init__(self, settings, media):
        self.settings, self.media = settings, media
        self.filler = media / "filler"
        self.mounted = bool(
            os.geteuid() == 0
            and shutil.which("mount")
            and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(media)]).returncode == 0
        )
        settings.MEDIA_ROOT = media
        self.normal = settings.STORAGES

    def fill(self):
        if not self.mounted:
            self.settings.STORAGES = {**self.normal, "default": {"BACKEND": "tests.test_faults.FullDiskStorage"}}
            return
        with open(self.filler, "ab", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 65536)
            except OSError as full:
                assert full.errno == errno.ENOSPC

    def free(self):
        if self.mounted:
            self.filler.unlink()
        else:
            self.settings.STORAGES = self.normal

    def files(self):
        return [name for name in stored_files(self.media) if name != Path("filler")]


@pytest.fixture
def full_disk(settings, tmp_path):
    media = tmp_path / "full-media"
    media.mkdir()
    disk = FullDisk(settings, media)
    yield disk
    if disk.mounted:
        subprocess.run(["umount", str(media)], check=True)


@pytest.mark.django_db
def test_an_upload_onto_a_full_disk_says_so_and_records_nothing_through_the_page_and_the_api(open_cast, full_disk):
    decision = walk.propose(open_cast)
    before, files_before = record_of(decision), full_disk.files()
    full_disk.fill()

    shown = initiate_through_page(open_cast, decision)
    assert shown.status_code == 507 and "存储空间不足" in shown.content.decode()
    answered = initiate_through_api(open_cast, decision)
    assert answered.status_code == 507
    assert answered.json()["code"] == "STORAGE_FULL" and "存储空间不足" in answered.json()["message"]["zh"]

    assert record_of(decision) == before  # the state unchanged; no stage record, document or event
    assert full_disk.files() == files_before  # no truncated file left behind

    full_disk.free()
    retried = initiate_through_api(open_cast, decision)
    assert retried.status_code == 200, retried.json()
    assert Decision.objects.get(pk=decision.pk).state == "INITIATED"


@pytest.mark.django_db
def test_a_dossier_stored_onto_a_full_disk_fails_with_its_reason_and_renders_on_retry(open_cast, settings, full_disk):
    settings.JUECE_RENDER_ATTEMPTS = 1
    decision = walk.initiate(open_cast, walk.propose(open_cast))  # its documents stored while there was room
    [dossier] = Dossier.objects.filter(decision=decision)
    files_before = full_disk.files()
    full_disk.fill()

    failed = dossiers.render(dossier.pk)
    assert failed.status == Dossier.Status.FAILED and "存储空间不足" in failed.error
    assert not failed.file and not failed.sha256
    assert not AuditEvent.objects.filter(action="dossier:issued").exists()
    assert full_disk.files() == files_before  # no truncated dossier file

    full_disk.free()
    assert dossiers.retry_failed(decision) == 1
    [done] = dossiers.render_pending(decision)
    assert done.status == Dossier.Status.DONE
    assert dossiers.verify_stored(decision) == (1, [])
    assert audit.verify().ok


# -- b. the database restarted mid-request -------------------------------------------------------------------------


@pytest.fixture
def database_restarts_before_the_audit_event(monkeypatch):
    """Terminate the request's own database connection (as a restart would) just before its first audit event."""
    import psycopg

    original = audit.append
    fired = []  # "armed", then "fired": only the request under test loses its connection

    def append(*args, **kwargs):
        # The step's own event, not the sign-in's (security:login) that the test client's login writes first.
        if fired == ["armed"] and not str(kwargs.get("action", "")).startswith("security:"):
            fired.append("fired")
            with connection.cursor() as cursor:
                cursor.execute("select pg_backend_pid()")
                [pid] = cursor.fetchone()
            given = connection.settings_dict
            with psycopg.connect(
                dbname=given["NAME"],
                host=given["HOST"],
                port=given["PORT"] or 5432,
                user=given["USER"],
                autocommit=True,
            ) as other:
                other.execute("select pg_terminate_backend(%s)", [pid])
        return original(*args, **kwargs)

    monkeypatch.setattr(audit, "append", append)
    return fired


@pytest.mark.postgres
@pytest.mark.parametrize("through", [initiate_through_page, initiate_through_api], ids=["page", "api"])
def test_a_database_restart_mid_request_answers_503_writes_nothing_and_the_next_request_works(
    transactional_db, open_cast, through, database_restarts_before_the_audit_event
):
    decision = walk.propose(open_cast)
    before = record_of(decision)

    database_restarts_before_the_audit_event.append("armed")
    response = through(open_cast, decision)
    assert database_restarts_before_the_audit_event == ["armed", "fired"]
    assert response.status_code == 503 and response["Retry-After"]
    text = response.content.decode()
    assert "数据库暂时不可用，请稍后重试" in (
        response.json()["message"]["zh"] if "/api/" in response.request["PATH_INFO"] else text
    )

    assert record_of(decision) == before  # nothing half-written: no state change, stage record, document or event
    again = through(open_cast, decision)  # Django opens a new connection
    assert again.status_code in (200, 302), again.content[:500]
    assert Decision.objects.get(pk=decision.pk).state == "INITIATED"
    assert audit.verify().ok


# -- a. a render worker killed mid-render ---------------------------------------------------------------------------

SETUP = """
from decisions.models import RuleProfile
from decisions.walkthrough import build_cast
from decisions.walkthrough import initiation as walk
params = dict(RuleProfile.objects.get(code="huzhou", version=1).params, catalogue_required=False)
RuleProfile.objects.create(code="open", version=1, name="open", params=params)
cast = build_cast(code="k", name="测试市人民政府", profile="open")
walk.initiate(cast, walk.propose(cast))
"""


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def dossier_rows(env):
    shown = manage(
        env,
        "shell",
        "-v0",
        "-c",
        (
            "from reports.models import Dossier; from decisions.models import AuditEvent\n"
            "print([(d.status, bool(d.file), d.sha256) for d in Dossier.objects.all()],"
            " AuditEvent.objects.filter(action='dossier:issued').count())"
        ),
    )
    assert shown.returncode == 0, shown.stderr
    return shown.stdout.strip()


def worker(env):
    # --no-reload: under DEBUG the worker runs below an autoreloader, and SIGKILL would reach only the reloader.
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--queue-name", "pdf", "--interval", "0.2", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(env, expected, seconds):
    deadline = time.monotonic() + seconds
    while (rows := dossier_rows(env)) != expected:
        assert time.monotonic() < deadline, rows
        time.sleep(0.5)


def database_for_worker_test(tmp_path):
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    for command in (["dropdb", "--if-exists", "juece_wte_faults"], ["createdb", "juece_wte_faults"]):
        subprocess.run([*command, "-h", "127.0.0.1", "-U", "postgres"], check=True, capture_output=True)
    return "postgres://postgres@127.0.0.1:5432/juece_wte_faults"


def test_a_render_worker_killed_mid_render_leaves_nothing_done_and_the_next_worker_renders_it_after_the_timeout(
    tmp_path,
):
    media = tmp_path / "media"
    env = {
        **os.environ,
        "DATABASE_URL": database_for_worker_test(tmp_path),
        "JUECE_VAR_DIR": str(tmp_path),
        "JUECE_MEDIA_ROOT": str(media),
        "JUECE_DEBUG": "true",
        "JUECE_AUDIT_KEY": "faults-test-audit-key-0123",
        "JUECE_RENDER_TIMEOUT_SECONDS": "5",
    }
    assert manage(env, "migrate", "-v0").returncode == 0
    made = manage(env, "shell", "-v0", "-c", SETUP)
    assert made.returncode == 0, made.stderr
    assert dossier_rows(env) == "[('PENDING', False, '')] 0"

    # A real render made slow (tests/reports/slow_render: WeasyPrint first sleeps a minute), killed half-way.
    slow = {**env, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "reports" / "slow_render"), str(ROOT)])}
    first = worker(slow)
    try:
        wait_for(env, "[('RENDERING', False, '')] 0", 60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    # Not done, no file, no hash, no event: nothing the chain does not vouch for.
    assert dossier_rows(env) == "[('RENDERING', False, '')] 0"
    assert not (media / "dossiers").exists()
    assert manage(env, "verify_audit").returncode == 0

    # A new worker, nobody running anything by hand: after the timeout the render is requeued and done.
    second = worker(env)
    try:
        deadline = time.monotonic() + 120
        while not (rows := dossier_rows(env)).startswith("[('DONE', True,"):
            assert time.monotonic() < deadline, rows
            time.sleep(1)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=20)
        except subprocess.TimeoutExpired:
            second.kill()
    assert rows.endswith(" 1")  # exactly one dossier:issued event
    assert manage(env, "verify_audit").returncode == 0
    checked = manage(env, "verify_files")
    assert checked.returncode == 0, checked.stderr
