"""Schemathesis against the served schema: every operation, with generated input, answers without a
server error and as its schema says (status code, content type, body). Bounded: a few examples per
operation and mode (JUECE_FUZZ_EXAMPLES, default 8), derandomised so a run is repeatable."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode

from config.wsgi import application
from decisions.walkthrough import consultation as consult
from decisions.walkthrough import initiation as walk

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("JUECE_FUZZ_EXAMPLES", "8"))
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance"]


@pytest.fixture
def in_process(settings):
    """Let the WSGI app run inside the test's transaction, as Django's test client does."""
    settings.ALLOWED_HOSTS = ["*"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(open_cast, settings):
    """A government with decisions at a few stages, the office's token, and real path values."""
    listed = walk.propose(open_cast)
    started = walk.initiate(open_cast, walk.propose(open_cast, title="城区停车收费管理办法"))
    consulting = walk.draft(open_cast, walk.initiate(open_cast, walk.propose(open_cast, title="老旧小区改造实施方案")))
    consult.comment(open_cast, consulting, ended_days_ago=-5)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}  # no rate limit here
    token, _ = Token.objects.get_or_create(user=open_cast["GOV_OFFICE"])
    document = consulting.documents.order_by("id").first()
    period = consulting.current_record("PP").comment_periods.get()
    return {
        "headers": {"Authorization": f"Token {token.key}"},
        "references": [listed.reference, started.reference, consulting.reference],
        "document": document.pk,
        "period": period.pk,
    }


def operations():
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_answers_without_a_server_error_and_as_its_schema_says(in_process, world):
    checks = [getattr(schemathesis.checks, name) for name in CHECKS]
    failures = []
    for operation in operations():
        fixed = {}
        names = {p.name for p in operation.path_parameters}
        if "reference" in names:
            fixed["reference"] = world["references"][-1]
        if "pk" in names and "/documents/" in operation.path:
            fixed["pk"] = world["document"]
        if "pk" in names and "/consultations/" in operation.path:
            fixed["pk"] = world["period"]

        # Valid input and input the schema forbids: both must be answered, never with a server error.
        cases = operation.as_strategy(path_parameters=fixed or None) | operation.as_strategy(
            GenerationMode.NEGATIVE, path_parameters=fixed or None
        )

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(headers=world["headers"], checks=checks)

        try:
            check()
        except Exception as error:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    assert not failures, "\n\n".join(failures)
