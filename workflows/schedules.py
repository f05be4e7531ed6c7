"""Date-relative automations ("3 days before ``close_date``"): the beat asks every minute which
records' moments (the date plus the offset) have come, and writes one event per record and
moment, never two (a unique index), for the workers to deliver like any other."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from metadata.compiled import active_config
from tenants.context import tenant_context

# The system fields an event carries, as workflows.outbox.system_of writes them.
MOMENT = """'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'"""
FIRE_SQL = """
INSERT INTO workflows_outboxevent (tenant_id, kind, entity, record_id, config_version, workflow,
    detail, "values", system, changed, depth, created_at, status, attempts, dispatched_at,
    last_error)
SELECT r.tenant_id, 'scheduled', r.entity, r.id, %s, %s,
    to_char(r.moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), r.data,
    jsonb_build_object('id', r.id, 'version', r.version, 'owner', COALESCE(r.owner_id, 0),
                       'created_by', COALESCE(r.created_by_id, 0),
                       'created_at', to_char(r.created_at AT TIME ZONE 'UTC', {moment}),
                       'updated_at', to_char(r.updated_at AT TIME ZONE 'UTC', {moment})),
    '[]'::jsonb, 0, now(), 'pending', 0, now(), ''
FROM (
    SELECT r.*, (r.data->>%s)::timestamptz + make_interval(secs => %s) AS moment
    FROM records_record r
    WHERE r.tenant_id = %s AND r.entity = %s AND r.deleted_at IS NULL
      AND r.data->>%s ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}'
) r
WHERE r.moment <= now() AND r.moment > now() - make_interval(hours => %s)
ON CONFLICT (tenant_id, workflow, record_id, detail) WHERE kind = 'scheduled' DO NOTHING
RETURNING id
""".replace("{moment}", MOMENT)


def fire_due(tenant) -> list[int]:
    """Write the events of the tenant's date-relative automations whose moment has come;
    their ids (to dispatch once the transaction commits)."""
    ids: list[int] = []
    with tenant_context(tenant):
        config = active_config(tenant)
        if config is None or config.workflows is None:
            return ids
        for automations in config.workflows.automations.values():
            for automation in automations:
                if automation.on != "date":
                    continue
                field = automation.fields[0]
                offset = automation.offset.total_seconds() if automation.offset else 0
                with connection.cursor() as cursor:
                    cursor.execute(
                        FIRE_SQL,
                        [
                            config.version,
                            automation.key,
                            field,
                            offset,
                            tenant.pk,
                            automation.entity,
                            field,
                            settings.WORKFLOW_SCHEDULE_LOOKBACK_H,
                        ],
                    )
                    ids += [row[0] for row in cursor.fetchall()]
    return ids
