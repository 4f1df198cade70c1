"""A real `db_worker` process, killed in the middle of a render: nothing half-written, and the render recovers."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETUP = """
from decisions.models import RuleProfile
from decisions.walkthrough import build_cast
from decisions.walkthrough import initiation as walk
params = dict(RuleProfile.objects.get(code="huzhou", version=1).params, catalogue_required=False)
RuleProfile.objects.create(code="open", version=1, name="open", params=params)
cast = build_cast(code="w", name="测试市人民政府", profile="open")
walk.initiate(cast, walk.propose(cast))
"""


def manage(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, **kwargs
    )


def query(db, sql):
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def test_a_worker_killed_mid_render_leaves_nothing_half_written_and_the_render_is_requeued(tmp_path):
    db = tmp_path / "juece.sqlite3"
    media = tmp_path / "media"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "JUECE_VAR_DIR": str(tmp_path),
        "JUECE_MEDIA_ROOT": str(media),
        "JUECE_DEBUG": "true",
        "JUECE_AUDIT_KEY": "worker-test-audit-key-0123",
    }
    assert manage(env, "migrate", "-v0").returncode == 0
    made = manage(env, "shell", "-c", SETUP)
    assert made.returncode == 0, made.stderr
    assert query(db, "select status from reports_dossier") == [("PENDING",)]

    slow = {**env, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent / "slow_render"), str(ROOT)])}
    worker = subprocess.Popen(
        # --no-reload: under DEBUG the worker runs below an autoreloader, and SIGKILL would reach only the reloader.
        [sys.executable, "manage.py", "db_worker", "--queue-name", "pdf", "--interval", "0.2", "--no-reload"],
        cwd=ROOT,
        env=slow,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while query(db, "select status from reports_dossier") != [("RENDERING",)]:
            assert time.monotonic() < deadline, "the worker never started the render"
            time.sleep(0.2)
        time.sleep(1)  # well inside the render
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()

    # What the killed render left: a dossier marked RENDERING, and nothing else.
    assert query(db, "select status, sha256, file from reports_dossier") == [("RENDERING", "", "")]
    assert not (media / "dossiers").exists()
    assert query(db, "select count(*) from decisions_auditevent where action = 'dossier:issued'") == [(0,)]

    # The next worker (or `render_dossiers`) finds it interrupted, requeues it and renders it.
    recovered = manage({**env, "JUECE_RENDER_TIMEOUT_SECONDS": "0"}, "render_dossiers")
    assert recovered.returncode == 0, recovered.stderr
    assert "重新排队中断的案卷 1 份" in recovered.stderr
    [(status, sha256, name)] = query(db, "select status, sha256, file from reports_dossier")
    assert status == "DONE" and (media / name).is_file()
    import hashlib

    assert hashlib.sha256((media / name).read_bytes()).hexdigest() == sha256
    assert manage(env, "verify_audit").returncode == 0
