"""Expression indexes for the fields tenants mark ``indexed`` or ``unique``, shared by tenants.

One index serves every tenant that indexes the same field key of the same entity key with the
same SQL expression: ``(tenant_id, (expression), id) WHERE entity = '…' AND deleted_at IS NULL``.
Tenants on one pack therefore share a handful of indexes instead of owning a copy each: the
planner opens every index of ``records_record`` for every query, and one partial index per
tenant made planning cost grow with the number of tenants (2 ms at 400 indexes, see
docs/decisions/0003). Casts in shared expressions are guarded (records/sql_fields.py), so a value
another tenant keeps as text under the same key can never break a write.

``FieldIndex`` counts which tenants want each index; the last tenant to stop wanting one drops
it. Indexes are created and dropped ``CONCURRENTLY`` (writes never wait) by the owner role, from
the worker, after the schema jobs of a publish have finished (a type conversion changes the
expression, and the new index can only be built over converted values). A platform-wide
advisory lock serializes syncs, so a create and a drop of one index never cross.
"""

from __future__ import annotations

import hashlib

import structlog
from django.db import DatabaseError, connections, transaction

from metadata.compiled import CompiledConfig
from records.models import FieldIndex
from records.sql_fields import sql_field

logger = structlog.get_logger("crm.records.indexes")

PREFIX = "rec_f_"
LEGACY_PREFIX = "rec_t{tenant_id}_"  # per-tenant indexes of earlier versions
SYNC_LOCK = 7_301_004  # pg_advisory_lock key of index syncs


def wanted_indexes(config: CompiledConfig | None) -> dict[str, tuple[str, str, str]]:
    """Index name -> (entity, field key, CREATE statement) for a configuration."""
    wanted = {}
    for entity in config.entities.values() if config else ():
        for field in entity.fields.values():
            options = field.options
            if not (options.get("indexed") or options.get("unique")):
                continue
            if not field.type.can_be_indexed:
                continue
            expression = sql_field("records_record", field.key, options["type"], options).sql
            expression = expression.replace("records_record.", "")
            digest = hashlib.sha1(f"{entity.key}|{field.key}|{expression}".encode()).hexdigest()
            name = f"{PREFIX}{digest[:20]}"
            wanted[name] = (
                entity.key,
                field.key,
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON records_record "
                f"(tenant_id, ({expression}), id) "
                f"WHERE entity = '{entity.key}' AND deleted_at IS NULL",
            )
    return wanted


def existing_indexes(like: str = PREFIX) -> dict[str, bool]:
    """Index name -> valid, for the field indexes whose names start with ``like``."""
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = "
            "i.indexrelid WHERE i.indrelid = 'records_record'::regclass AND c.relname LIKE %s",
            [like.replace("_", "\\_") + "%"],
        )
        return dict(cursor.fetchall())


def tenant_indexes(tenant_id: int) -> list[str]:
    """The shared indexes a tenant has asked for."""
    return sorted(
        FieldIndex.objects.using("owner")
        .filter(tenant_ids__contains=[tenant_id])
        .values_list("name", flat=True)
    )


def sync_indexes(tenant_id: int, config: CompiledConfig | None) -> dict[str, list[str]]:
    """Record what the tenant's active configuration wants, create the missing indexes and
    drop those no tenant wants any more; never in a transaction (CONCURRENTLY forbids it)."""
    wanted = wanted_indexes(config)
    done: dict[str, list[str]] = {"created": [], "dropped": [], "failed": []}
    owner = connections["owner"]
    with owner.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [SYNC_LOCK])
        try:
            unwanted = _record_wishes(tenant_id, wanted)
            for name in unwanted + list(
                existing_indexes(LEGACY_PREFIX.format(tenant_id=tenant_id))
            ):
                cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
                done["dropped"].append(name)
            existing = existing_indexes()
            for name, (_, _, statement) in wanted.items():
                if existing.get(name):
                    continue
                if name in existing:  # left invalid by an interrupted build
                    cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
                try:
                    cursor.execute(statement)
                    done["created"].append(name)
                except DatabaseError as error:
                    cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
                    done["failed"].append(name)
                    logger.error(
                        "records.index_failed",
                        tenant_id=tenant_id,
                        index=name,
                        error=str(error).strip(),
                    )
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK])
    return done


def _record_wishes(tenant_id: int, wanted: dict[str, tuple[str, str, str]]) -> list[str]:
    """Update who wants which index; the names of the indexes nobody wants any more."""
    unwanted = []
    with transaction.atomic(using="owner"):
        rows = FieldIndex.objects.using("owner").select_for_update()
        for row in rows.filter(tenant_ids__contains=[tenant_id]).exclude(name__in=list(wanted)):
            row.tenant_ids = [t for t in row.tenant_ids if t != tenant_id]
            if row.tenant_ids:
                row.save(update_fields=["tenant_ids"])
            else:
                unwanted.append(row.name)
                row.delete()
        known = {row.name: row for row in rows.filter(name__in=list(wanted))}
        for name, (entity, field_key, statement) in wanted.items():
            row = known.get(name)
            if row is None:
                FieldIndex.objects.using("owner").create(
                    name=name,
                    entity=entity,
                    field_key=field_key,
                    statement=statement,
                    tenant_ids=[tenant_id],
                )
            elif tenant_id not in row.tenant_ids:
                row.tenant_ids = sorted([*row.tenant_ids, tenant_id])
                row.save(update_fields=["tenant_ids"])
    return unwanted
