"""``related.<lookup>.<field>`` in formulas, defaults and validation rules: the record a lookup
points at, as CEL sees it, read when the record is saved (a formula copies the value of that
moment; a later change of the other record does not reach it until this one is saved again).

The records are read as the platform (the rule must hold whoever saves) in one query for all
the lookups an entity's programs read.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection

from metadata.cel_check import RELATED_REFERENCE, STRING_LITERAL
from records.values import ROW_COLUMNS, cel_record, system_row


@lru_cache(maxsize=1024)
def lookups_read(sources: tuple[str, ...]) -> frozenset[str]:
    """The lookups whose records a group of programs reads (``related.<lookup>``)."""
    return frozenset(
        lookup
        for source in sources
        for lookup, _ in RELATED_REFERENCE.findall(STRING_LITERAL.sub('""', source))
    )


def lookups_of(entity) -> frozenset[str]:
    """The lookups whose records the entity's formulas, rules and computed defaults read."""
    return lookups_read(entity.program_sources)


def wanted(entity, rows: list[dict]) -> dict[str, set[int]]:
    """Per lookup read by the entity's programs, the ids the rows point at."""
    lookups = lookups_of(entity)
    found: dict[str, set[int]] = {}
    for lookup in lookups:
        for data in rows:
            value = data.get(lookup) if isinstance(data, dict) else None
            if isinstance(value, int) and not isinstance(value, bool):
                found.setdefault(lookup, set()).add(value)
    return found


def fetch(config, entity, ids_by_lookup: dict[str, set[int]]) -> dict[int, dict]:
    """id -> the record as CEL sees it, for the live records the lookups point at."""
    ids = sorted({pk for ids in ids_by_lookup.values() for pk in ids})
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT entity, {ROW_COLUMNS} FROM records_record "
            "WHERE id = ANY(%s) AND deleted_at IS NULL",
            [ids],
        )
        rows = cursor.fetchall()
    found = {}
    for kind, *row in rows:
        target = config.entities.get(kind)
        if target is not None:
            stored, system = system_row(row)
            found[system["id"]] = cel_record(target, stored, system)
    return found


def related_of(entity, data: dict, records: dict[int, dict]) -> dict[str, dict | None]:
    """The ``related`` variable of one record: each lookup read, its record (None if empty)."""
    return {
        lookup: records.get(data.get(lookup)) if data.get(lookup) else None
        for lookup in lookups_of(entity)
    }


def for_record(config, entity, data: dict) -> dict | None:
    """``related`` for one record, read now; None when the entity's programs read none."""
    if not lookups_of(entity):
        return None
    return related_of(entity, data, fetch(config, entity, wanted(entity, [data])))
