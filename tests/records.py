"""Helpers for tests that check what a step wrote to the record."""

from decisions.models import AuditEvent


def record_events():
    """The audit events of the record (procedure, catalogue, documents): every event but the security ones
    (sign-in, sign-out …), which a test's own logins add to the same chain."""
    return AuditEvent.objects.exclude(action__startswith="security:")
