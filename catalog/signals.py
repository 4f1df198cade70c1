"""Signals the catalogue services send so that other apps can follow the catalogue without catalog/ importing them."""

from django.dispatch import Signal

# Sent inside the transaction that publishes catalogue version `version` (B9): reports/ requests its
# publication notice (公布通知). A rolled-back publication sends nothing that survives.
# Arguments: catalogue, version, adjustment (the published CatalogueAdjustment, or None for version 1).
catalogue_published = Signal()
