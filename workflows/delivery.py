"""Delivering an outbox event: the workflows it concerns, their conditions over the values the
event carries, and each action applied exactly once.

Each action runs in a transaction of its own that also inserts its ActionRun row (unique per
event, workflow and action): if the worker dies before that transaction commits, nothing of
the action stays and the redelivered task does it again; if it dies after, the redelivered
task finds the row and skips it. Two workers holding the same event at once wait on that row's
unique index, and the second skips. What an action does outside the database (an e-mail, a
webhook) happens at least once; the idempotency key (event:workflow:index) goes with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from metadata.compiled import config_version
from records.values import cel_record, condition_holds
from tenants.context import tenant_context
from tenants.models import Tenant
from workflows.actions import ActionContext, ActionError, actions
from workflows.models import OutboxEvent
from workflows.outbox import current_depth

logger = structlog.get_logger("crm.workflows")
MAX_DEPTH = 8  # workflows starting workflows (or writing what triggers them) stop here


class RetryLater(Exception):
    def __init__(self, countdown: int, message: str):
        super().__init__(message)
        self.countdown = countdown


@dataclass(frozen=True)
class PlannedAction:
    workflow: str
    index: int
    spec: dict


def backoff(attempts: int) -> int:
    """Seconds before the next attempt: 2, 4, 8… times the base, at most an hour."""
    return min(3600, settings.WORKFLOW_RETRY_BASE_S * 2 ** max(0, attempts - 1))


def planned(config, event: OutboxEvent) -> list[PlannedAction]:
    """The actions the event starts: those of the automations that listen and whose condition
    holds over the event's values, or of the transition or workflow it names."""
    entity = config.entities.get(event.entity)
    workflows = config.workflows
    if entity is None:
        return []
    record = cel_record(entity, event.values, event.system)

    found: list[PlannedAction] = []
    if event.kind == "approval":
        process = workflows.by_key.get(event.workflow)
        specs = [(event.workflow, tuple(process.actions.get(event.detail, ())))] if process else []
    elif event.kind == "transition":
        machine = workflows.by_key.get(event.workflow)
        transition = next(
            (t for t in getattr(machine, "transitions", ()) if t.key == event.detail), None
        )
        specs = [(event.workflow, transition.actions)] if transition else []
    elif event.kind in ("started", "scheduled"):
        automation = workflows.by_key.get(event.workflow)
        specs = (
            [(automation.key, automation.actions)]
            if automation is not None and condition_holds(automation.condition, record)
            else []
        )
    else:
        specs = [
            (automation.key, automation.actions)
            for automation in workflows.listening(event.entity, event.kind, set(event.changed))
            if condition_holds(automation.condition, record)
        ]
    for workflow, action_specs in specs:
        for index, spec in enumerate(action_specs):
            found.append(PlannedAction(workflow, index, spec))
    return found


def deliver(tenant_id: int, event_id: int) -> str:
    """Apply an event's actions; raises RetryLater when a failure may pass."""
    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant):
        event = OutboxEvent.objects.filter(pk=event_id).first()
        if event is None or event.status != OutboxEvent.Status.PENDING:
            return "skipped"
        OutboxEvent.objects.filter(pk=event_id).update(attempts=F("attempts") + 1)
        event.attempts += 1
    config = config_version(tenant, event.config_version)
    if event.depth > MAX_DEPTH:
        return finish(
            tenant, event, dead=f"stopped: {MAX_DEPTH} workflows led to this one (a loop?)"
        )
    named: dict[str, dict[str, int]] = {}  # workflow -> the records its actions named (as)
    try:
        for action in planned(config, event):
            created = named.setdefault(action.workflow, {})
            result = apply_once(tenant, config, event, action, created)
            if action.spec.get("as"):  # null when it made none (an update given no record)
                created[action.spec["as"]] = result.get("created") or result.get("updated")
    except ActionError as error:
        if error.retry and event.attempts < settings.WORKFLOW_MAX_ATTEMPTS:
            countdown = backoff(event.attempts)
            note_failure(tenant, event, error.message, countdown)
            raise RetryLater(countdown, error.message) from error
        return finish(tenant, event, dead=error.message)
    return finish(tenant, event)


def apply_once(
    tenant, config, event: OutboxEvent, action: PlannedAction, created: dict | None = None
) -> dict:
    """Run one action unless it already ran for this event; what it did either way (its run
    record's result: a redelivered event's later actions still read the records it named).
    ``created`` holds the records earlier actions of the workflow named."""
    entity = config.entities[event.entity]
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO workflows_actionrun (tenant_id, event_id, workflow, action_index, "
            "action_type, result, applied_at) VALUES (%s, %s, %s, %s, %s, '{}', now()) "
            "ON CONFLICT (tenant_id, event_id, workflow, action_index) DO NOTHING RETURNING id",
            [tenant.pk, event.pk, action.workflow, action.index, action.spec["type"]],
        )
        inserted = cursor.fetchone()
        if inserted is None:
            cursor.execute(
                "SELECT result FROM workflows_actionrun WHERE tenant_id = %s AND event_id = %s "
                "AND workflow = %s AND action_index = %s",
                [tenant.pk, event.pk, action.workflow, action.index],
            )
            row = cursor.fetchone()
            return _loaded(row[0]) if row else {}
        context = ActionContext(
            tenant=tenant,
            config=config,
            entity=entity,
            record_id=event.record_id,
            record=event.values,
            system=event.system,
            event_id=event.pk,
            kind=event.kind,
            workflow=action.workflow,
            idempotency_key=f"{event.pk}:{action.workflow}:{action.index}",
            depth=event.depth,
            results=dict(created or {}),
        )
        token = current_depth.set(event.depth + 1)
        try:
            result = actions.get(action.spec["type"]).run(action.spec, context)
        finally:
            current_depth.reset(token)
        cursor.execute(
            "UPDATE workflows_actionrun SET result = %s::jsonb WHERE id = %s",
            [_json(result), inserted[0]],
        )
    logger.info(
        "workflows.action_applied",
        event_id=event.pk,
        workflow=action.workflow,
        action=action.spec["type"],
    )
    return result if isinstance(result, dict) else {}


def _loaded(value) -> dict:
    import json

    loaded = json.loads(value) if isinstance(value, str) else value
    return loaded if isinstance(loaded, dict) else {}


def _json(value) -> str:
    import json

    return json.dumps(value, default=str)


def note_failure(tenant, event: OutboxEvent, message: str, countdown: int) -> None:
    with tenant_context(tenant):
        OutboxEvent.objects.filter(pk=event.pk).update(
            last_error=message[:2000],
            next_attempt_at=timezone.now() + dt.timedelta(seconds=countdown),
        )


def finish(tenant, event: OutboxEvent, dead: str | None = None) -> str:
    status = OutboxEvent.Status.DEAD if dead else OutboxEvent.Status.DONE
    with tenant_context(tenant):
        OutboxEvent.objects.filter(pk=event.pk).update(
            status=status, finished_at=timezone.now(), last_error=(dead or "")[:2000]
        )
    if dead:
        logger.warning("workflows.dead_letter", event_id=event.pk, error=dead)
    return status
