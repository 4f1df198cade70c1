"""A backup restores: scripts/backup.sh, then scripts/restore.sh into an empty database and media directory,
after which the audit chain and every stored file verify; a file changed afterwards is named by verify_files.

Everything runs in real databases and subprocesses, as an operator's cron job would, never inside a test transaction.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = "postgres://postgres@127.0.0.1:5432"
SETUP = """
from decisions.models import RuleProfile
from decisions.walkthrough import build_cast
from decisions.walkthrough import initiation as walk
params = dict(RuleProfile.objects.get(code="huzhou", version=1).params, catalogue_required=False)
RuleProfile.objects.create(code="open", version=1, name="open", params=params)
cast = build_cast(code="b", name="备份市人民政府", profile="open")
first = walk.initiate(cast, walk.propose(cast))
walk.draft(cast, walk.initiate(cast, walk.propose(cast)))
print(first.reference)
"""


def run(env, *command):
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def manage(env, *args):
    return run(env, sys.executable, "manage.py", *args)


def fresh_postgres(name):
    for command in (["dropdb", "--if-exists", name], ["createdb", name]):
        subprocess.run([*command, "-h", "127.0.0.1", "-U", "postgres"], check=True, capture_output=True)
    return f"{POSTGRES}/{name}"


def environment(tmp_path, database_url, media):
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "JUECE_VAR_DIR": str(tmp_path),
        "JUECE_MEDIA_ROOT": str(media),
        "JUECE_DEBUG": "true",
        "JUECE_AUDIT_KEY": "backup-test-audit-key-0123",
        "JUECE_DATA_KEY": "ab" * 32,
        "JUECE_PYTHON": sys.executable,
    }


def backup_and_restore(tmp_path, source_url, restored_url):
    source = environment(tmp_path, source_url, tmp_path / "media")
    assert manage(source, "migrate", "-v0").returncode == 0
    made = manage(source, "shell", "-v0", "-c", SETUP)
    assert made.returncode == 0, made.stderr
    rendered = manage(source, "render_dossiers", "--decision", made.stdout.strip())
    assert rendered.returncode == 0, rendered.stderr

    backed_up = run(source, "scripts/backup.sh", "--dest", str(tmp_path / "backups"))
    assert backed_up.returncode == 0, backed_up.stderr
    assert "THE KEYS ARE NOT IN THIS BACKUP" in backed_up.stdout
    [backup] = (tmp_path / "backups").glob("juece-*")
    parts = {line.split()[1] for line in (backup / "MANIFEST.sha256").read_text().splitlines()}
    assert {"media.tar", "backup-info.txt"} <= parts and parts & {"database.pgdump", "database.sqlite3"}

    restored = environment(tmp_path, restored_url, tmp_path / "restored-media")
    done = run(restored, "scripts/restore.sh", str(backup))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "审计链完整" in done.stdout and "存储文件完整：已核对材料 11 份、案卷 1 份" in done.stdout

    # The restored copy verifies on its own, as the checks a later audit runs.
    assert manage(restored, "verify_audit").returncode == 0
    assert manage(restored, "verify_files").returncode == 0

    # A second restore into the now full database is refused, nothing touched.
    again = run(restored, "scripts/restore.sh", str(backup))
    assert again.returncode == 1 and "不是空的" in again.stderr

    # A restored file changed afterwards is named.
    [changed] = sorted((tmp_path / "restored-media" / "documents").rglob("*.pdf"))[:1]
    changed.write_bytes(changed.read_bytes() + b"%tampered")
    checked = manage(restored, "verify_files")
    assert checked.returncode == 1
    assert str(changed.relative_to(tmp_path / "restored-media")) in checked.stderr
    assert "the file does not match its SHA-256" in checked.stderr


def test_a_sqlite_backup_restores_into_an_empty_database_and_verifies(tmp_path):
    backup_and_restore(
        tmp_path, f"sqlite:///{tmp_path / 'source.sqlite3'}", f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    )


@pytest.mark.postgres
def test_a_postgresql_backup_restores_into_an_empty_database_and_verifies(tmp_path):
    backup_and_restore(tmp_path, fresh_postgres("juece_wte_src"), fresh_postgres("juece_wte_restore"))


def test_a_backup_whose_part_was_changed_is_refused_before_anything_is_restored(tmp_path):
    backup = tmp_path / "juece-20260101T000000Z"
    backup.mkdir()
    (backup / "database.sqlite3").write_bytes(b"not what was backed up")
    (backup / "MANIFEST.sha256").write_text(f"{'0' * 64}  database.sqlite3\n")
    target = tmp_path / "restored.sqlite3"
    env = environment(tmp_path, f"sqlite:///{target}", tmp_path / "restored-media")
    refused = run(env, "scripts/restore.sh", str(backup))
    assert refused.returncode == 1 and "备份文件与清单不符" in refused.stderr
    assert not target.exists() and not (tmp_path / "restored-media").exists()
