"""Signals the engine sends so that other apps can follow the record without the engine importing them."""

from django.dispatch import Signal

# Sent inside the transaction that signs off a stage record (P8): reports/ requests its dossier.
# Arguments: signoff, record.
stage_signed_off = Signal()
