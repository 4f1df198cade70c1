#!/usr/bin/env bash
# juece restore: a backup made by scripts/backup.sh into an EMPTY database and MEDIA_ROOT, then both verified.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/backup-common.sh"

usage() {
    cat <<'HELP'
用法 / usage: scripts/restore.sh [--force] BACKUP_DIR

Restores BACKUP_DIR (a juece-YYYYMMDDTHHMMSSZ directory of scripts/backup.sh) into the database DATABASE_URL
names and into MEDIA_ROOT, with the same environment the application will run with (including its keys):
  1. checks every part against MANIFEST.sha256;
  2. refuses a database that already has tables, or a MEDIA_ROOT that has files, unless --force
     (--force replaces the objects the backup holds and writes the files over the existing ones);
  3. restores the database (pg_restore in one transaction; SQLite: SQLite's backup API), then the files;
  4. runs `manage.py verify_audit` (the MAC chain and the record seals: needs the original JUECE_AUDIT_KEY)
     and `manage.py verify_files` (every document and dossier file against its recorded hash).
Exit status 0 only when all of it succeeded. Stop juece (web and workers) while restoring.
Create the empty PostgreSQL database first, e.g.  createdb -O juece juece

HELP
    keys_warning
}

force=no
backup=""
while (($#)); do
    case "$1" in
        --force) force=yes; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) usage >&2; exit 2 ;;
        *) [[ -z $backup ]] || { usage >&2; exit 2; }; backup="$1"; shift ;;
    esac
done
[[ -n $backup ]] || { usage >&2; exit 2; }
[[ -f $backup/MANIFEST.sha256 ]] || fail "$backup 不是 juece 备份（缺少 MANIFEST.sha256） / not a juece backup"
backup="$(cd "$backup" && pwd)"

say "1/4 核对备份清单 / checking the manifest"
(cd "$backup" && sha256sum --check --strict --quiet MANIFEST.sha256) || fail "备份文件与清单不符，已停止 / the backup does not match its manifest"

load_settings
if [[ $db_engine == postgresql ]]; then
    [[ -f $backup/database.pgdump ]] || fail "备份中没有 PostgreSQL 转储 / this backup holds no PostgreSQL dump (database.pgdump)"
    tables="$(psql --no-psqlrc --tuples-only --no-align --command \
        "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')
           and n.nspname not like 'pg_toast%'")" || fail "无法连接数据库 / cannot connect to the database $db_name"
    database_empty=$([[ $tables == 0 ]] && echo yes || echo no)
else
    [[ -f $backup/database.sqlite3 ]] || fail "备份中没有 SQLite 数据库 / this backup holds no SQLite database (database.sqlite3)"
    database_empty=yes
    if [[ -s $db_name ]]; then
        tables="$("$python" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from sqlite_master where type = '"'"'table'"'"'").fetchone()[0])' "$db_name")"
        [[ $tables == 0 ]] || database_empty=no
    fi
fi
if [[ $database_empty == no && $force == no ]]; then
    fail "数据库 $db_name 不是空的，拒绝覆盖（确需覆盖请加 --force） / the database is not empty; refusing without --force"
fi
if [[ -f $backup/media.tar && -d $media_root && -n "$(ls -A "$media_root")" && $force == no ]]; then
    fail "MEDIA_ROOT $media_root 不是空的，拒绝覆盖（确需覆盖请加 --force） / MEDIA_ROOT is not empty; refusing without --force"
fi

say "2/4 恢复数据库 / restoring the database $db_name"
if [[ $db_engine == postgresql ]]; then
    clean=()
    [[ $force == yes ]] && clean=(--clean --if-exists)
    pg_restore --dbname="$db_name" --no-owner --no-privileges --exit-on-error --single-transaction "${clean[@]}" \
        "$backup/database.pgdump"
else
    mkdir -p "$(dirname "$db_name")"
    "$python" - "$backup/database.sqlite3" "$db_name" <<'PY'
import sqlite3, sys
source, target = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
with target:
    source.backup(target)
PY
fi

say "3/4 恢复存储文件 / restoring the files into $media_root"
if [[ -f $backup/media.tar ]]; then
    mkdir -p "$media_root"
    tar --extract --file="$backup/media.tar" --directory="$media_root" --no-same-owner
else
    say "   备份中没有文件（JUECE_STORAGE=s3：请从存储桶的版本/副本恢复） / no files in this backup: restore the bucket from its versions or replica"
fi

say "4/4 核验审计链与存储文件 / verifying the audit chain and the stored files"
status=0
(cd "$root" && "$python" manage.py verify_audit) || status=1
(cd "$root" && "$python" manage.py verify_files) || status=1
if ((status)); then
    printf '恢复后的核验未通过（见上）。密钥是否为备份时所用的那一个？ / verification failed after the restore (see above); are the keys the ones in use when the backup was made?\n' >&2
    exit 1
fi
say "恢复完成并已核验 / restored and verified: $backup"
