"""Celery tasks of the records engine. Tasks take ids and set the tenant themselves."""

from celery import shared_task

from records.schema_jobs import run_pending


@shared_task(acks_late=True)
def run_schema_jobs(tenant_id: int) -> int:
    """Run the tenant's unfinished schema jobs; safe to run twice (batches resume)."""
    return run_pending(tenant_id)
