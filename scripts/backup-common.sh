# Shared by scripts/backup.sh and scripts/restore.sh (sourced, not run): where juece keeps its data,
# read from Django's own settings so that the scripts follow exactly what the application uses.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${JUECE_PYTHON:-$root/.venv/bin/python}"

say() { printf '%s\n' "$*"; }
fail() { printf '错误 / error: %s\n' "$*" >&2; exit 1; }

keys_warning() {
    cat <<'WARN'
!!! 密钥不在备份中 / THE KEYS ARE NOT IN THIS BACKUP !!!
    JUECE_AUDIT_KEY, JUECE_DATA_KEY and JUECE_SECRET_KEY (and JUECE_SIGNING_KEY_DIR, or the key service's keys)
    must be kept separately (e.g. sealed in the 保密柜 / a KMS), never beside the backup. Without JUECE_AUDIT_KEY the
    restored audit chain and record seals cannot be verified; without JUECE_DATA_KEY the encrypted personal data
    (commenters' and participants' contact details) cannot be decrypted.
WARN
}

# Sets db_engine, db_name, db_host, db_port, db_user, db_password, media_root from the settings.
load_settings() {
    local assignments
    assignments="$(cd "$root" && "$python" manage.py shell -v0 -c '
import shlex
from django.conf import settings
db = settings.DATABASES["default"]
values = {
    "db_engine": "postgresql" if "postgresql" in db["ENGINE"] else "sqlite3",
    "db_name": db["NAME"], "db_host": db.get("HOST") or "", "db_port": db.get("PORT") or "",
    "db_user": db.get("USER") or "", "db_password": db.get("PASSWORD") or "",
    "media_root": settings.MEDIA_ROOT,
}
for name, value in values.items():
    print(f"{name}={shlex.quote(str(value))}")
')" || fail "无法读取 juece 的设置（环境变量是否与应用一致？） / cannot read juece's settings"
    eval "$assignments"
    # pg_dump, pg_restore and psql take the connection from the libpq variables.
    if [[ $db_engine == postgresql ]]; then
        export PGDATABASE="$db_name"
        [[ -n $db_host ]] && export PGHOST="$db_host"
        [[ -n $db_port ]] && export PGPORT="$db_port"
        [[ -n $db_user ]] && export PGUSER="$db_user"
        [[ -n $db_password ]] && export PGPASSWORD="$db_password"
    fi
    return 0
}

files_in_s3() { [[ ${JUECE_STORAGE:-} == s3 ]]; }
