"""Work the `default` queue's db_worker does for the catalogue (`manage.py db_worker`)."""

from django_tasks import task


@task(queue_name="default")
def import_catalogue_task(import_id):
    """Commit one confirmed Excel import of catalogue entries, all rows or none (catalog.imports.run)."""
    from catalog import imports

    job = imports.run(import_id)
    return {"import": import_id, "status": job.status, "entries": job.entries_created}
