import pytest

from decisions import profiles
from decisions.models import RuleProfile
from decisions.walkthrough import build_cast


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
