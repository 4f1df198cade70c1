"""The database core stays portable (issue 8): nothing depends on PostgreSQL-only features.

Domestic (信创) stacks run PostgreSQL-compatible databases (openGauss, KingbaseES, 瀚高 …) that do not
all carry PostgreSQL's extensions and types. So core code uses the ORM and its portable fields only;
the few statements written by hand are standard SQL, listed here with why, and the suite runs on
SQLite and PostgreSQL.
"""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGES = ("config", "decisions", "catalog", "workflows", "reports")

# Hand-written SQL allowed in core, each standard SQL and each with an ORM fallback or none needed:
HAND_WRITTEN_SQL = {
    # SET TRANSACTION ISOLATION LEVEL REPEATABLE READ (SQL:1992), taken only where the backend is PostgreSQL(-like),
    # so that a verification walks one snapshot; SQLite's reads are serialised anyway.
    "decisions/audit.py",
    "reports/bundle.py",
    # SELECT / UPDATE of one table's columns, names quoted by the backend's own quote_name.
    "decisions/migrations/0008_personal_data_encrypted.py",
}


def core_modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def imported_names(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_no_core_module_imports_postgresql_only_django_features_or_the_driver():
    offending = [
        (path, name)
        for path, tree in core_modules()
        for name in imported_names(tree)
        if name.startswith(("django.contrib.postgres", "psycopg"))
    ]
    assert offending == []


def test_no_installed_app_is_postgresql_only():
    assert "django.contrib.postgres" not in settings.INSTALLED_APPS
    assert not any(config.name.startswith("django.contrib.postgres") for config in apps.get_app_configs())


def test_hand_written_sql_stays_in_the_listed_places():
    """A new cursor.execute, .raw() or RawSQL must be argued for and added to the list above."""
    found = set()
    for path, tree in core_modules():
        for node in ast.walk(tree):
            executes = isinstance(node, ast.Attribute) and node.attr in ("raw", "execute", "executemany")
            if executes or (isinstance(node, ast.Name) and node.id == "RawSQL"):
                found.add(path)
    assert found <= HAND_WRITTEN_SQL, f"hand-written SQL outside the list: {sorted(found - HAND_WRITTEN_SQL)}"


def test_no_model_field_is_a_postgresql_only_type():
    """No ArrayField, HStoreField, range or search types, in our models or the libraries' we install."""
    postgres_only = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if type(field).__module__.startswith("django.contrib.postgres")
    ]
    assert postgres_only == []
