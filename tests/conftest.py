import pytest
from django.conf import settings


def pytest_collection_modifyitems(config, items):
    """Skip tests marked `postgres` unless the default database is PostgreSQL."""
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Keep uploads of a test run out of the project's var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def shipped_data(request):
    """Keep the data migrations' rows (rule profiles, holiday calendar) present for every database test.

    A transactional test flushes the database afterwards, and `--nomigrations` never loads them.
    """
    names = set(request.fixturenames)
    if not ({"db", "transactional_db"} & names or request.node.get_closest_marker("django_db")):
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
    from decisions import calendar, profiles
    from decisions.models import WorkingCalendarYear

    profiles.load()
    if not WorkingCalendarYear.objects.exists():
        calendar.load_shipped()
