"""Auditor exports requested from the UI: made by the worker, with progress the page can poll."""

import hashlib
import tempfile
import threading
import traceback
from pathlib import Path

from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from decisions.queries import READERS
from reports import bundle
from reports.models import BundleExport


def request_export(user, *, decision=None, catalogue=None):
    """Check that `user` may export, then queue the export; return the BundleExport to follow."""
    from decisions.permissions import require_organ_role, require_role

    # The same gates as the export itself, checked now so that a refusal is shown at once.
    if decision is not None:
        require_role(user, decision, READERS)
    else:
        require_organ_role(user, catalogue.organ, bundle.CATALOGUE_ROLES)
    with transaction.atomic():
        export = BundleExport.objects.create(requested_by=user, decision=decision, catalogue=catalogue)
        from reports.tasks import make_export

        make_export.enqueue(export.pk)
    return export


def run(export_id):
    """Make the bundle of `export_id` (the worker's task body); record the result or the failure."""
    updated = BundleExport.objects.filter(pk=export_id, status=BundleExport.Status.PENDING).update(
        status=BundleExport.Status.RUNNING
    )
    export = BundleExport.objects.select_related("requested_by", "decision", "catalogue").get(pk=export_id)
    if not updated:
        return export
    try:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / f"{bundle.safe_name(export.subject)}-bundle.zip"
            if export.decision_id:
                bundle.export_decision_bundle(export.requested_by, export.decision, path, progress=_reporter(export))
            else:
                bundle.export_catalogue_bundle(export.requested_by, export.catalogue, path, progress=_reporter(export))
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            with path.open("rb") as made:
                export.file.save(path.name, File(made), save=False)
        export.sha256, export.size = digest, export.file.size
        export.status, export.finished_at = BundleExport.Status.DONE, timezone.now()
        export.save()
    except Exception as exc:
        export.status, export.finished_at = BundleExport.Status.FAILED, timezone.now()
        export.error = "".join(traceback.format_exception_only(exc)).strip()
        export.save(update_fields=["status", "finished_at", "error"])
    return export


def _reporter(export):
    def report(done, total, label):
        fields = {"done": done, "total": total, "label": label[:300]}
        for name, value in fields.items():
            setattr(export, name, value)
        if not (connection.in_atomic_block and connection.vendor == "postgresql"):
            BundleExport.objects.filter(pk=export.pk).update(**fields)
            return
        # Inside the export's snapshot transaction (PostgreSQL only; SQLite reads without one): write from
        # another connection, so that the page polling the progress sees it now, not when the export ends.
        thread = threading.Thread(target=_update_elsewhere, args=(export.pk, fields))
        thread.start()
        thread.join()

    return report


def _update_elsewhere(pk, fields):
    try:
        BundleExport.objects.filter(pk=pk).update(**fields)
    finally:
        connection.close()
