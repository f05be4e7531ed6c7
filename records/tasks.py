"""Celery tasks of the records engine. Tasks take ids and set the tenant themselves."""

from celery import shared_task

from records.schema_jobs import run_pending


@shared_task(acks_late=True)
def run_schema_jobs(tenant_id: int) -> int:
    """Run the tenant's unfinished schema jobs, then bring its field indexes in line with the
    active configuration; safe to run twice (batches resume, index changes are idempotent)."""
    from metadata.compiled import active_config
    from records.indexes import sync_indexes

    finished = run_pending(tenant_id)
    sync_indexes(tenant_id, active_config(tenant_id))
    return finished


@shared_task
def clean_files(older_than_hours: float | None = None) -> int:
    """The beat's daily sweep (``FILE_CLEAN_EVERY_H``): every tenant's kept files that no
    record holds, as ``manage.py clean_files`` deletes them; how many went."""
    import datetime as dt

    import structlog

    from records import files
    from tenants.models import Tenant

    older_than = (
        files.UPLOAD_TTL if older_than_hours is None else dt.timedelta(hours=older_than_hours)
    )
    deleted = sum(
        len(files.clean(tenant, older_than=older_than)) for tenant in Tenant.objects.all()
    )
    structlog.get_logger("crm.records").info("files.cleaned", deleted=deleted)
    return deleted
