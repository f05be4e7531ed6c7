"""The outbox and what delivering it leaves behind: action runs (the idempotency records),
in-app notifications, round-robin positions, the tenant's webhook secret."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from tenants.models import TenantOwned


class OutboxEvent(TenantOwned):
    """Something that happened to a record, written in the transaction that made it happen;
    workers deliver it to the workflows it concerns (workflows/delivery.py)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        DEAD = "dead"  # retries exhausted or not worth retrying: the dead-letter list

    kind = models.CharField(
        max_length=16
    )  # created, updated, deleted, restored, transition, started
    entity = models.CharField(max_length=63)
    record_id = models.BigIntegerField()
    config_version = models.IntegerField()
    workflow = models.CharField(max_length=63, blank=True)  # transition / started: the one to run
    detail = models.CharField(max_length=63, blank=True)  # transition: its key
    values = models.JSONField()  # the record's stored values after the change (before a delete)
    system = models.JSONField()  # id, owner, version… as CEL sees them
    changed = models.JSONField(default=list)  # the fields the change touched
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    depth = models.PositiveSmallIntegerField(default=0)  # workflow steps that led here
    created_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    dispatched_at = models.DateTimeField(null=True, blank=True)  # last handed to the broker
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "status", "created_at"],
                name="outbox_pending",
                condition=models.Q(status="pending"),
            )
        ]
        constraints = [
            # A date-relative automation fires once per record and moment (workflows/schedules.py).
            models.UniqueConstraint(
                fields=["tenant", "workflow", "record_id", "detail"],
                condition=models.Q(kind="scheduled"),
                name="outbox_schedule_once",
            )
        ]


class ActionRun(TenantOwned):
    """One action of one workflow applied for one event, inserted in the transaction of the
    action itself: a redelivered event finds it and skips the action (exactly once)."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="runs")
    workflow = models.CharField(max_length=63)
    action_index = models.PositiveSmallIntegerField()
    action_type = models.CharField(max_length=32)
    result = models.JSONField(default=dict)
    applied_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "event", "workflow", "action_index"], name="action_run_once"
            )
        ]


class Notification(TenantOwned):
    """An in-app notification; ``key`` makes a redelivered action create it once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    entity = models.CharField(max_length=63)
    record_id = models.BigIntegerField()
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "key"], name="notification_once")
        ]


class RoundRobin(TenantOwned):
    """Where an assignment pool's turn stands: the last member given a record."""

    key = models.CharField(max_length=200)
    last_user_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="round_robin_key")]


class WebhookSecret(TenantOwned):
    """The tenant's key for signing webhooks (``workflow webhook-secret`` shows or rotates it)."""

    secret = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="webhook_secret_tenant")]


def webhook_secret(tenant) -> str:
    found, _ = WebhookSecret.objects.get_or_create(
        tenant=tenant, defaults={"secret": secrets.token_urlsafe(32)}
    )
    return found.secret


class ApprovalRequest(TenantOwned):
    """One submission of a record to an approval process."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"
        RECALLED = "recalled"

    workflow = models.CharField(max_length=63)
    entity = models.CharField(max_length=63)
    record_id = models.BigIntegerField()
    config_version = models.IntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    step = models.CharField(max_length=63)  # the current step's key
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One pending submission per record at a time.
            models.UniqueConstraint(
                fields=["tenant", "entity", "record_id"],
                condition=models.Q(status="pending"),
                name="approval_one_pending",
            )
        ]


class ApprovalTask(TenantOwned):
    """An approver's part in a step: to decide, decided, or closed by someone else's decision."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"
        CLOSED = "closed"  # the step was decided without this approver
        ESCALATED = "escalated"

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="tasks")
    step = models.CharField(max_length=63)
    round = models.PositiveIntegerField(default=1)  # a step entered again counts anew
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(null=True, blank=True)  # escalation
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "assignee", "status"], name="approval_inbox")]


class ApprovalEntry(TenantOwned):
    """The history of a request: who did what, when, with which comment."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=16)  # submitted, approved, rejected, recalled, skipped…
    step = models.CharField(max_length=63, blank=True)
    comment = models.TextField(blank=True)


class Delegation(TenantOwned):
    """While ``user`` is away (between ``starts`` and ``ends``), ``delegate`` may decide their
    approvals too."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    starts = models.DateTimeField()
    ends = models.DateTimeField()
