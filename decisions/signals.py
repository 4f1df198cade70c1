"""Signals the engine sends so that other apps can follow the record without the engine importing them."""

from django.dispatch import Signal

# Sent inside the transaction that signs off a stage record (P8): reports/ requests its dossier.
# Arguments: signoff, record.
stage_signed_off = Signal()

# Sent once after the transaction that changed a decision commits (any service: a step, a record, an upload):
# workflows/ re-routes the decision's tasks. Arguments: decision_id.
decision_changed = Signal()


def announce_change(decision_id):
    """Send decision_changed for `decision_id` once, after the current transaction commits.

    A callback already waiting for this decision in the transaction is enough; a rolled-back
    transaction drops its callbacks (and with them the announcement), as Django does.
    """
    from django.db import connection, transaction

    waiting = (entry[1] for entry in connection.run_on_commit)
    if any(getattr(func, "juece_decision", None) == decision_id and not func.sent for func in waiting):
        return

    def send():
        send.sent = True
        decision_changed.send(sender=None, decision_id=decision_id)

    send.sent = False
    send.juece_decision = decision_id
    transaction.on_commit(send)
