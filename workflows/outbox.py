"""Writing events to the outbox, in the transaction of the change they record, and handing
them to the workers once it commits.

The records service calls :func:`record_changed` after every write (and the state machines'
check names the transitions taken); nothing is written when no workflow of the configuration
listens, so entities without workflows pay nothing. A broker that is down when the change
commits loses nothing: the event stays pending and the beat's sweep hands it over later.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

import structlog
from django.db import connection, transaction
from django.utils import timezone

from workflows.models import OutboxEvent

logger = structlog.get_logger("crm.workflows")

# Set while a worker runs a workflow's actions: the events those actions cause are one step
# deeper (workflows.delivery stops a loop at MAX_DEPTH).
current_depth: ContextVar[int] = ContextVar("crm_workflow_depth", default=0)


def system_of(record) -> dict:
    return {
        "id": record.pk,
        "version": record.version,
        "owner": record.owner_id or 0,
        "created_by": record.created_by_id or 0,
        "created_at": record.created_at.isoformat() if record.created_at else None,
        "updated_at": record.updated_at.isoformat() if record.updated_at else None,
    }


def record_changed(tenant, config, entity, record, kind: str, before: dict, after: dict, user):
    """Keep an event of a record's change if an automation listens to it."""
    workflows = config.workflows
    if not workflows.automations.get(entity.key):
        return None
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if kind == "updated" and not changed:
        return None
    if not workflows.listening(entity.key, kind, set(changed)):
        return None
    return write(
        tenant,
        config,
        entity.key,
        record,
        kind,
        values=before if kind == "deleted" else after,
        changed=changed,
        user=user,
    )


def records_created(tenant, config, entity, records, user) -> int:
    """A bulk create's events, written in one statement that reads the values from the records
    just inserted (no JSON encoded in Python or parsed again by PostgreSQL; as
    :func:`write` would store them). The records of one bulk write share their moments."""
    if not config.workflows.automations.get(entity.key):
        return 0
    listening = [
        record.pk
        for record in records
        if config.workflows.listening(entity.key, "created", set(record.data))
    ]
    if not listening:
        return 0
    first = records[0]
    with connection.cursor() as cursor:
        cursor.execute(
            CREATED_EVENTS_SQL,
            {
                "version": config.version,
                "created_at": first.created_at.isoformat(),
                "updated_at": first.updated_at.isoformat(),
                "user_id": getattr(user, "pk", None) or None,
                "depth": current_depth.get(),
                "now": timezone.now(),
                "pending": OutboxEvent.Status.PENDING,
                "ids": listening,
            },
        )
        ids = [row[0] for row in cursor.fetchall()]
    tenant_id = getattr(tenant, "pk", tenant)
    transaction.on_commit(lambda: dispatch(tenant_id, ids))
    return len(ids)


# The columns system_of() and write() fill, from the stored rows: the keys sorted as Python
# sorts them (bytes, COLLATE "C"), the model's defaults for the rest.
CREATED_EVENTS_SQL = """
    INSERT INTO workflows_outboxevent (
        tenant_id, kind, entity, record_id, config_version, "values", system, changed,
        user_id, depth, created_at, dispatched_at, workflow, detail, status, attempts, last_error
    )
    SELECT r.tenant_id, 'created', r.entity, r.id, %(version)s, r.data,
        jsonb_build_object(
            'id', r.id, 'version', r.version, 'owner', COALESCE(r.owner_id, 0),
            'created_by', COALESCE(r.created_by_id, 0),
            'created_at', %(created_at)s::text, 'updated_at', %(updated_at)s::text
        ),
        (SELECT COALESCE(jsonb_agg(k ORDER BY k COLLATE "C"), '[]'::jsonb)
         FROM jsonb_object_keys(r.data) AS k),
        %(user_id)s, %(depth)s, %(now)s, %(now)s, '', '', %(pending)s, 0, ''
    FROM records_record r
    WHERE r.id = ANY(%(ids)s)
    ORDER BY r.id
    RETURNING id
"""


def transitions_taken(tenant, config, entity, record, taken, user) -> list:
    """An event per transition with actions (a state machine's)."""
    events = []
    for machine, transition in taken:
        if transition.actions:
            events.append(
                write(
                    tenant,
                    config,
                    entity.key,
                    record,
                    "transition",
                    values=record.data,
                    changed=[machine.field],
                    user=user,
                    workflow=machine.key,
                    detail=transition.key,
                )
            )
    return events


def start_workflow(context, workflow: str) -> OutboxEvent:
    """An action's ``start_workflow``: an event that runs ``workflow`` on the same record."""
    from records.service import RecordService

    record = RecordService.system(context.tenant).stored(context.entity.key, context.record_id)
    return write(
        context.tenant,
        context.config,
        context.entity.key,
        record,
        "started",
        values=record.data,
        changed=[],
        user=None,
        workflow=workflow,
    )


def write(
    tenant, config, entity_key, record, kind, *, values, changed, user, workflow="", detail=""
) -> OutboxEvent:
    now = timezone.now()
    event = OutboxEvent.objects.create(
        tenant_id=getattr(tenant, "pk", tenant),
        kind=kind,
        entity=entity_key,
        record_id=record.pk,
        config_version=config.version,
        workflow=workflow,
        detail=detail,
        values=values,
        system=system_of(record),
        changed=changed,
        user=user if getattr(user, "pk", None) else None,
        depth=current_depth.get(),
        created_at=now,
        dispatched_at=now,
    )
    tenant_id = getattr(tenant, "pk", tenant)
    transaction.on_commit(lambda: dispatch(tenant_id, [event.pk]))
    return event


# After the broker refused an event, writes stop trying for this long (a refused connection
# can take seconds, which a user's save must not wait for); the sweep keeps trying.
BROKER_COOLDOWN_S = 30
_broker_down_until = 0.0
# More events than this from one write (a bulk create's) go to the broker as one message per
# FAN_OUT_CHUNK that a worker fans out into their delivery messages: the request does not pay
# a message per event (a fifth of a millisecond each), and workers still share the events.
FAN_OUT_AT = 50
FAN_OUT_CHUNK = 500


def dispatch(
    tenant_id: int, event_ids: list[int], *, sweeping: bool = False, fan_out: bool = True
) -> int:
    """Hand events to the broker; those it refuses stay pending for the sweep. One message per
    event, all sent through one producer, or, for many, one fan-out message per chunk; the
    number of events handed over."""
    global _broker_down_until
    from workflows.tasks import deliver_event, fan_out_events

    if not sweeping and time.monotonic() < _broker_down_until:
        return 0
    if not event_ids:
        _broker_down_until = 0.0
        return 0
    if fan_out and len(event_ids) > FAN_OUT_AT:
        chunks = [event_ids[i : i + FAN_OUT_CHUNK] for i in range(0, len(event_ids), FAN_OUT_CHUNK)]
        messages = [(fan_out_events, (tenant_id, chunk), len(chunk)) for chunk in chunks]
    else:
        messages = [(deliver_event, (tenant_id, event_id), 1) for event_id in event_ids]
    sent = 0
    try:
        with deliver_event.app.producer_or_acquire() as producer:
            for task, args, count in messages:
                task.apply_async(args, retry=False, producer=producer)
                sent += count
    except Exception as error:  # noqa: BLE001  (any broker failure: the sweep retries)
        _broker_down_until = time.monotonic() + BROKER_COOLDOWN_S
        logger.warning(
            "workflows.dispatch_failed",
            event_id=event_ids[min(sent, len(event_ids) - 1)],
            error=str(error),
        )
        # the others wait for the sweep too
    else:
        _broker_down_until = 0.0
    return sent
