"""Expression indexes for the fields a tenant marks ``indexed`` or ``unique``.

Each index covers one tenant's records of one entity (a partial index on ``tenant_id`` and
``entity``), so a field's SQL type in one tenant never meets another tenant's values, and its
expression is exactly the one the query compiler sorts and filters on. They are created and
dropped ``CONCURRENTLY`` (writes never wait) by the owner role, from the worker, after the schema
jobs of a publish have finished: a type conversion changes the expression, and the new index
can only be built over converted values.
"""

from __future__ import annotations

import hashlib

import structlog
from django.db import DatabaseError, connections

from metadata.compiled import CompiledConfig
from records.sql_fields import sql_field

logger = structlog.get_logger("crm.records.indexes")


def prefix(tenant_id: int) -> str:
    return f"rec_t{tenant_id}_"


def wanted_indexes(tenant_id: int, config: CompiledConfig | None) -> dict[str, str]:
    """Index name -> CREATE statement for the active configuration."""
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
            name = f"{prefix(tenant_id)}{digest[:16]}"
            wanted[name] = (
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON records_record "
                f"(({expression}), id) WHERE tenant_id = {int(tenant_id)} "
                f"AND entity = '{entity.key}' AND deleted_at IS NULL"
            )
    return wanted


def existing_indexes(tenant_id: int) -> dict[str, bool]:
    """Index name -> valid, for the tenant's field indexes."""
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = "
            "i.indexrelid WHERE i.indrelid = 'records_record'::regclass AND c.relname LIKE %s",
            [prefix(tenant_id).replace("_", "\\_") + "%"],
        )
        return dict(cursor.fetchall())


def sync_indexes(tenant_id: int, config: CompiledConfig | None) -> dict[str, list[str]]:
    """Create the missing indexes and drop the unwanted or invalid ones; never in a
    transaction (CONCURRENTLY forbids it)."""
    wanted, existing = wanted_indexes(tenant_id, config), existing_indexes(tenant_id)
    done: dict[str, list[str]] = {"created": [], "dropped": [], "failed": []}
    owner = connections["owner"]
    with owner.cursor() as cursor:
        for name, valid in existing.items():
            if name not in wanted or not valid:
                cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
                done["dropped"].append(name)
        for name, statement in wanted.items():
            if existing.get(name):
                continue
            try:
                cursor.execute(statement)
                done["created"].append(name)
            except DatabaseError as error:
                # A value the expression cannot read: leave no invalid index behind.
                cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
                done["failed"].append(name)
                logger.error(
                    "records.index_failed",
                    tenant_id=tenant_id,
                    index=name,
                    error=str(error).strip(),
                )
    return done
