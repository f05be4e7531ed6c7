"""Background tasks of the tenants app."""

from celery import shared_task

from tenants.context import tenant_context
from tenants.models import Membership


@shared_task(acks_late=True)
def count_members(tenant_id: int) -> dict:
    """How many members the tenant has, read under its row-level security scope.

    ``manage.py check_worker`` sends it to prove that a worker is consuming, reaches the database
    and sets the tenant the way every task must.
    """
    with tenant_context(tenant_id):
        return {"tenant_id": tenant_id, "members": Membership.objects.count()}
