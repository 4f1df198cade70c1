"""Work the `pdf` queue's db_worker does off the request path (`manage.py db_worker --queue-name pdf`)."""

from django_tasks import task


@task(queue_name="pdf")
def render_dossier(dossier_id):
    """Render one requested dossier; a failure is recorded on it and retried (reports.dossiers.render)."""
    from reports import dossiers

    dossier = dossiers.render(dossier_id)
    return {"dossier": dossier_id, "status": dossier.status, "sha256": dossier.sha256}


@task(queue_name="pdf")
def render_catalogue_notice(notice_id):
    """Render one requested catalogue publication notice (reports.publication.render)."""
    from reports import publication

    notice = publication.render(notice_id)
    return {"notice": notice_id, "status": notice.status, "sha256": notice.sha256}


@task(queue_name="default")
def make_export(export_id):
    """Make one requested auditor bundle (reports.exports.run)."""
    from reports import exports

    export = exports.run(export_id)
    return {"export": export_id, "status": export.status, "sha256": export.sha256}
