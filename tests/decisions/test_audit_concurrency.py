import threading

import pytest
from django.db import connection, transaction

from decisions import audit
from decisions.models import AuditEvent

THREADS = 20
EVENTS_PER_THREAD = 3

pytestmark = pytest.mark.postgres  # row locks: tests/conftest.py skips it on SQLite


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_append_one_contiguous_verifiable_chain():
    barrier = threading.Barrier(THREADS)
    errors = []

    def writer(n):
        try:
            barrier.wait(timeout=30)
            for i in range(EVENTS_PER_THREAD):
                with transaction.atomic():
                    audit.append(actor=None, role="", action="concurrent_append", payload={"thread": n, "i": i})
        except Exception as exc:  # collected and asserted on in the main thread
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    total = THREADS * EVENTS_PER_THREAD
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, total + 1))
    for n in range(THREADS):
        mine = AuditEvent.objects.filter(payload__thread=n).order_by("seq").values_list("payload", flat=True)
        assert [p["i"] for p in mine] == list(range(EVENTS_PER_THREAD))  # each writer's events stay in its order
    result = audit.verify()
    assert (result.ok, result.checked) == (True, total)
