"""Expression indexes for the fields tenants mark ``indexed`` or ``unique``, shared by tenants.

One index serves every tenant that indexes the same field key of the same entity key with the
same SQL expression: ``(tenant_id, (expression), id) WHERE entity = '…' AND deleted_at IS NULL``.
Tenants on one pack therefore share a handful of indexes instead of owning a copy each: the
planner opens every index of ``records_record`` for every query, and one partial index per
tenant made planning cost grow with the number of tenants (2 ms at 400 indexes, see
docs/decisions/0003). Casts in shared expressions are guarded (records/sql_fields.py), so a value
another tenant keeps as text under the same key can never break a write.

Grouping fields (choices) get extended statistics on their expression the same way, shared and
counted: without them PostgreSQL guesses a million groups for ``GROUP BY data->>'stage'`` and
sorts a million rows on disk where a hash of six groups would do (docs/decisions/0003).

``FieldIndex`` counts which tenants want each index; the last tenant to stop wanting one drops
it. Indexes are created and dropped ``CONCURRENTLY`` (writes never wait) by the owner role, from
the worker, after the schema jobs of a publish have finished (a type conversion changes the
expression, and the new index can only be built over converted values). A platform-wide
advisory lock serializes syncs, so a create and a drop of one index never cross.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import structlog
from django.db import DatabaseError, connections, transaction

from metadata.compiled import CompiledConfig
from records.models import FieldIndex
from records.sql_fields import sql_field

logger = structlog.get_logger("crm.records.indexes")

PREFIX = "rec_f_"
STATISTICS_PREFIX = "rec_s_"
LEGACY_PREFIX = "rec_t{tenant_id}_"  # per-tenant indexes of earlier versions
SYNC_LOCK = 7_301_004  # pg_advisory_lock key of index syncs


@dataclass(frozen=True)
class Wanted:
    entity: str
    field_key: str
    kind: str
    statement: str


def wanted_indexes(config: CompiledConfig | None) -> dict[str, Wanted]:
    """Index or statistics name -> what a configuration wants."""
    wanted = {}
    for entity in config.entities.values() if config else ():
        for field in entity.fields.values():
            options = field.options
            column = sql_field("records_record", field.key, options["type"], options)
            expression = column.sql.replace("records_record.", "")
            digest = hashlib.sha1(f"{entity.key}|{field.key}|{expression}".encode()).hexdigest()
            if (options.get("indexed") or options.get("unique")) and field.type.can_be_indexed:
                name = f"{PREFIX}{digest[:20]}"
                wanted[name] = Wanted(
                    entity.key,
                    field.key,
                    FieldIndex.INDEX,
                    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON records_record "
                    f"(tenant_id, ({expression}), id) "
                    f"WHERE entity = '{entity.key}' AND deleted_at IS NULL",
                )
            if field.type.grouping_statistics and column.sql_type == "text":
                # Over every entity's records: one per expression, whatever the entity.
                digest = hashlib.sha1(expression.encode()).hexdigest()
                name = f"{STATISTICS_PREFIX}{digest[:20]}"
                wanted[name] = Wanted(
                    entity.key,
                    field.key,
                    FieldIndex.STATISTICS,
                    f"CREATE STATISTICS IF NOT EXISTS {name} ON ({expression}) FROM records_record",
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


def existing_statistics() -> set[str]:
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'records_record'::regclass "
            "AND stxname LIKE %s",
            [STATISTICS_PREFIX.replace("_", "\\_") + "%"],
        )
        return {row[0] for row in cursor.fetchall()}


def tenant_indexes(tenant_id: int) -> list[str]:
    """The shared indexes a tenant has asked for."""
    return sorted(
        FieldIndex.objects.using("owner")
        .filter(tenant_ids__contains=[tenant_id])
        .values_list("name", flat=True)
    )


def sync_indexes(tenant_id: int, config: CompiledConfig | None) -> dict[str, list[str]]:
    """Record what the tenant's active configuration wants, create the missing indexes and
    statistics and drop those no tenant wants any more; never in a transaction (CONCURRENTLY
    forbids it)."""
    wanted = wanted_indexes(config)
    done: dict[str, list[str]] = {"created": [], "dropped": [], "failed": []}
    owner = connections["owner"]
    with owner.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [SYNC_LOCK])
        try:
            unwanted = _record_wishes(tenant_id, wanted)
            legacy = existing_indexes(LEGACY_PREFIX.format(tenant_id=tenant_id))
            for name in unwanted + list(legacy):
                if name.startswith(STATISTICS_PREFIX):
                    cursor.execute(f"DROP STATISTICS IF EXISTS {name}")
                else:
                    cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
                done["dropped"].append(name)
            existing, statistics = existing_indexes(), existing_statistics()
            for name, want in wanted.items():
                if existing.get(name) or name in statistics:
                    continue
                if name in existing:  # left invalid by an interrupted build
                    cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
                try:
                    cursor.execute(want.statement)
                    done["created"].append(name)
                except DatabaseError as error:
                    if want.kind == FieldIndex.INDEX:
                        cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
                    done["failed"].append(name)
                    logger.error(
                        "records.index_failed",
                        tenant_id=tenant_id,
                        index=name,
                        error=str(error).strip(),
                    )
            if any(name.startswith(STATISTICS_PREFIX) for name in done["created"]):
                cursor.execute("ANALYZE records_record")  # a sample: seconds, not minutes
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK])
    return done


def _record_wishes(tenant_id: int, wanted: dict[str, Wanted]) -> list[str]:
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
        for name, want in wanted.items():
            row = known.get(name)
            if row is None:
                FieldIndex.objects.using("owner").create(
                    name=name,
                    kind=want.kind,
                    entity=want.entity,
                    field_key=want.field_key,
                    statement=want.statement,
                    tenant_ids=[tenant_id],
                )
            elif tenant_id not in row.tenant_ids:
                row.tenant_ids = sorted([*row.tenant_ids, tenant_id])
                row.save(update_fields=["tenant_ids"])
    return unwanted
