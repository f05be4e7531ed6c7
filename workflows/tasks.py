"""Celery tasks of the workflows: delivering events (acks late: a worker lost mid-task leaves
its message to be redelivered), and the beat's sweep of events the broker never got."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from tenants.context import tenant_context
from tenants.models import Tenant


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver_event(self, tenant_id: int, event_id: int) -> str:
    from workflows.delivery import RetryLater, deliver

    try:
        return deliver(tenant_id, event_id)
    except RetryLater as later:
        raise self.retry(countdown=later.countdown, exc=later) from later


@shared_task(acks_late=True)
def fan_out_events(tenant_id: int, event_ids: list[int]) -> int:
    """A bulk write's events, handed over from a worker one delivery message each (delivered
    twice is harmless: a lost or repeated fan-out changes nothing; what the broker refuses now
    waits for the sweep)."""
    from workflows.outbox import dispatch

    return dispatch(tenant_id, list(event_ids), sweeping=True, fan_out=False)


@shared_task(acks_late=True)
def sweep_outbox() -> int:
    """Hand over again the pending events whose dispatch or retry is overdue (the broker was
    down, a retry message was lost); delivering twice is harmless."""
    from workflows.models import OutboxEvent
    from workflows.outbox import dispatch

    now = timezone.now()
    grace = dt.timedelta(seconds=settings.WORKFLOW_SWEEP_GRACE_S)
    sent = 0
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            due = list(
                OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING)
                .filter(
                    Q(next_attempt_at__isnull=True, dispatched_at__lt=now - grace)
                    | Q(next_attempt_at__lt=now - grace)
                )
                .order_by("created_at")
                .values_list("pk", flat=True)[:500]
            )
            if due:
                OutboxEvent.objects.filter(pk__in=due).update(
                    dispatched_at=now, next_attempt_at=None
                )
        if due:
            sent += dispatch(tenant.pk, due, sweeping=True)
    return sent


@shared_task(acks_late=True)
def run_schedules() -> int:
    """Fire the date-relative automations whose moment has come (the beat, every minute)."""
    from workflows.outbox import dispatch
    from workflows.schedules import fire_due

    fired = 0
    for tenant in Tenant.objects.all():
        ids = fire_due(tenant)
        if ids:
            fired += len(ids)
            dispatch(tenant.pk, ids, sweeping=True)
    return fired


@shared_task(acks_late=True)
def escalate_approvals() -> int:
    """Escalate the approval steps left undecided past their time (the beat, every minute)."""
    from workflows.approvals import escalate_due

    return sum(escalate_due(tenant) for tenant in Tenant.objects.all())
