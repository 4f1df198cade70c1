"""Read-only questions the rules ask of the record. No function here writes anything."""

from decisions.models import CLOSED_STAGE_STATUSES, Document, StageStatus


def live_record(decision, stage):
    """Return the live (not superseded) record of `stage`, or None."""
    return decision.current_record(stage)


def record_documents(record, doc_type):
    """Return the current (not superseded) documents of one type on a record."""
    if record is None:
        return Document.objects.none()
    return record.documents.filter(doc_type=doc_type, superseded_by__isnull=True)


def has_document(record, doc_type):
    return record is not None and record_documents(record, doc_type).exists()


def stage_has(stage, doc_type):
    """Return a check: the live record of `stage` carries a current document of `doc_type`."""

    def check(ctx):
        return has_document(live_record(ctx.decision, stage), doc_type)

    return check


def stage_status(decision, stage):
    record = live_record(decision, stage)
    return record.status if record else None


def stage_closed(decision, stage):
    return stage_status(decision, stage) in CLOSED_STAGE_STATUSES


def stage_done(decision, stage):
    return stage_status(decision, stage) == StageStatus.DONE


def filled(*values):
    return all(str(v or "").strip() for v in values)


def catalogue_entry(decision):
    """Return the decision's entry in the newest published catalogue version, or None."""
    entries = decision.catalogue_entries.select_related("catalogue").order_by("-catalogue__year", "-valid_from")
    for entry in entries:
        catalogue = entry.catalogue
        if entry.valid_from <= catalogue.version and (entry.valid_to is None or entry.valid_to > catalogue.version):
            return entry
    return None


def param(decision, name):
    return decision.profile.params.get(name)
