import pytest
from django.conf import settings

from decisions import profiles
from decisions.models import RuleProfile
from decisions.walkthrough import build_cast


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


# -- organs and people, shared by the decisions and catalogue tests -------------------------------


@pytest.fixture
def profile_variant(db):
    """Return a factory: a new profile code derived from a shipped one with some parameters changed."""
    made = []

    def make(base="huzhou", **overrides):
        params = {**profiles.resolved_params(base), **overrides}
        code = f"{base}-test-{len(made) + 1}"
        profile = RuleProfile.objects.create(code=code, version=1, name=code, params=params)
        made.append(profile)
        return profile

    return make


@pytest.fixture
def cast_factory(db):
    """Return a factory of organs with one user per role; `profile` may name a variant's code."""
    counter = iter(range(1, 1000))

    def make(profile="huzhou", **kwargs):
        n = next(counter)
        kwargs.setdefault("code", f"org{n}")
        kwargs.setdefault("name", f"测试{n}市人民政府")
        return build_cast(profile=profile, **kwargs)

    return make


@pytest.fixture
def cast(cast_factory):
    """An organ under the huzhou profile (the catalogue is required)."""
    return cast_factory()


@pytest.fixture
def open_cast(cast_factory, profile_variant):
    """An organ whose profile does not require the catalogue, so tests can start decisions directly (T3b)."""
    profile = profile_variant("huzhou", catalogue_required=False)
    return cast_factory(profile=profile.code)


@pytest.fixture
def national_open_cast(cast_factory, profile_variant):
    profile = profile_variant("national", catalogue_required=False)
    return cast_factory(profile=profile.code)
