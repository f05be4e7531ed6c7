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
