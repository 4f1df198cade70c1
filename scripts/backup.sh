#!/usr/bin/env bash
# juece backup: the database and the stored files, with a SHA-256 manifest, into a new timestamped directory.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/backup-common.sh"

usage() {
    cat <<'HELP'
用法 / usage: scripts/backup.sh [--dest DIR]

Makes DIR/juece-YYYYMMDDTHHMMSSZ/ (DIR: --dest, else $JUECE_BACKUP_DIR, else var/backups) holding
  database.pgdump    PostgreSQL: pg_dump --format=custom of the database DATABASE_URL names, or
  database.sqlite3   SQLite: an online copy made with SQLite's backup API (consistent while juece runs)
  media.tar          the stored files (MEDIA_ROOT: documents, dossiers, notices, exports, audit archives)
  backup-info.txt    when, from which database and MEDIA_ROOT, juece's version
  MANIFEST.sha256    SHA-256 of each part (`sha256sum -c MANIFEST.sha256` checks it; restore.sh does)
The directory appears under its final name only once complete; a failed run leaves a .partial directory.
The database is dumped before the files are copied: stored files are content-addressed and never deleted,
so the files always include every one the dump refers to.

Run it with the same environment as the application (DATABASE_URL, JUECE_MEDIA_ROOT, JUECE_* keys),
e.g. from cron:  30 2 * * *  juece  cd /srv/juece && set -a && . /etc/juece.env && scripts/backup.sh --dest /backup/juece

JUECE_STORAGE=s3: the stored files are in the bucket and are NOT copied here. Back the bucket up with the
provider's own means: turn on versioning (and object lock, if offered) and cross-region replication
(OSS/COS/OBS/S3 all offer both), or copy it on the same schedule, e.g.
  aws s3 sync s3://BUCKET s3://BACKUP-BUCKET/juece-$(date -u +%Y%m%d)  (add --endpoint-url for a non-AWS service)
Take the bucket copy after the database dump, as this script does for MEDIA_ROOT.

HELP
    keys_warning
}

dest="${JUECE_BACKUP_DIR:-$root/var/backups}"
while (($#)); do
    case "$1" in
        --dest) dest="${2:?--dest needs a directory}"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done

load_settings
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
final="$dest/juece-$stamp"
work="$dest/.juece-$stamp.partial"
[[ -e $final ]] && fail "$final 已存在 / already exists"
mkdir -p "$work"
chmod 700 "$work" # the dump holds personal data (encrypted) and TOTP secrets

parts=()
if [[ $db_engine == postgresql ]]; then
    pg_dump --format=custom --no-owner --no-privileges --file="$work/database.pgdump"
    parts+=(database.pgdump)
else
    [[ -f $db_name ]] || fail "SQLite 数据库文件不存在 / no SQLite database at $db_name"
    "$python" - "$db_name" "$work/database.sqlite3" <<'PY'
import sqlite3, sys
source, target = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
with target:
    source.backup(target)
check = target.execute("pragma integrity_check").fetchone()[0]
sys.exit(0 if check == "ok" else f"integrity_check: {check}")
PY
    parts+=(database.sqlite3)
fi

if files_in_s3; then
    storage="s3 (the bucket is not in this backup: see scripts/backup.sh --help)"
    printf '注意 / note: JUECE_STORAGE=s3 — 存储桶中的文件未包含在本备份中 / the bucket is not copied; back it up by versioning/replication.\n' >&2
else
    storage="filesystem"
    mkdir -p "$media_root"
    tar --create --file="$work/media.tar" --directory="$media_root" .
    parts+=(media.tar)
fi

cat >"$work/backup-info.txt" <<INFO
created_utc=$stamp
database_engine=$db_engine
database_name=$(basename "$db_name")
media_root=$media_root
storage=$storage
juece_commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
keys_included=no (JUECE_AUDIT_KEY, JUECE_DATA_KEY, JUECE_SECRET_KEY are kept separately)
INFO
parts+=(backup-info.txt)

(cd "$work" && sha256sum -- "${parts[@]}" >MANIFEST.sha256)
mv "$work" "$final"
say "备份完成 / backup written: $final"
sed 's/^/  /' "$final/MANIFEST.sha256"
keys_warning
