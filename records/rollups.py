"""Rollup fields: count, sum, min, max or avg of the records that point at a record.

After every write of a child record, the service refreshes the rollups of the parents it
pointed at before and after. A parent is locked ``FOR NO KEY UPDATE`` before its rollups are
recomputed, so concurrent writes of its children serialize and the last one counts them all;
that lock does not conflict with the ``FOR KEY SHARE`` lock a lookup check takes.

Without a filter the aggregate is one SQL statement; with a CEL filter the children are read and
the filter is evaluated per child.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.db import connection
from psycopg2.extras import execute_values

from metadata.compiled import CompiledConfig, CompiledEntity
from metadata.fieldtypes.computed import DATED_ROLLUPS
from records.aggregates import plain
from records.sql_fields import sql_field
from records.values import ROW_COLUMNS, cel_record, evaluate, from_cel, reads_of, system_row

AGGREGATES = {
    "count": "count(*)",
    "sum": "sum({e})",
    "min": "min({e})",
    "max": "max({e})",
    "avg": "avg({e})",
}


def rollups_fed_by(config: CompiledConfig, child_entity: str):
    """(parent entity, rollup field) pairs whose source is ``child_entity``."""
    return config.rollups_by_source.get(child_entity, ())


MAX_LEVELS = 6  # rollups of rollups (line -> order -> account): how far a change climbs


def refresh_for_child(
    config: CompiledConfig, child: CompiledEntity, before: dict, after: dict, level: int = 0
) -> None:
    """Recompute, once per parent the child pointed at before or points at now, the rollups
    this child entity feeds; a parent whose values change feeds its own parents in turn (an
    order line's amount reaches the order's total, then the account's revenue)."""
    fed: dict[tuple[str, int], list] = {}
    for parent_entity, rollup in rollups_fed_by(config, child.key):
        via = rollup.options["via"]
        if before and after and not _touches(rollup.options, before, after):
            continue  # an update of fields the rollup neither counts, adds nor filters by
        for parent_id in {value for value in (before.get(via), after.get(via)) if value}:
            fed.setdefault((parent_entity.key, parent_id), []).append(rollup)
    for (parent_key, parent_id), rollups in sorted(fed.items(), key=lambda item: item[0][1]):
        refresh_parent(config, config.entities[parent_key], parent_id, rollups, level)


def _touches(options: dict, before: dict, after: dict) -> bool:
    """Whether a child's change can change the rollup: its lookup, the field it aggregates or
    one its filter reads changed (any field, when the filter reads the record as a whole)."""
    keys = {options["via"], options.get("field")}
    if options.get("filter"):
        read = reads_of((options["filter"],))
        if read is None:
            return before != after
        keys |= read
    return any(before.get(key) != after.get(key) for key in keys if key)


# A locked parent: its data and the system fields its formulas may read (record.created_at).
PARENT_SQL = (
    f"SELECT {ROW_COLUMNS} FROM records_record WHERE {{where}} AND deleted_at IS NULL "
    "ORDER BY id FOR NO KEY UPDATE"
)


def _locked_parent_data(parent_id: int) -> tuple[dict, dict] | None:
    with connection.cursor() as cursor:
        cursor.execute(PARENT_SQL.format(where="id = %s"), [parent_id])
        row = cursor.fetchone()
    return None if row is None else system_row(row)


def refresh_parent(
    config: CompiledConfig,
    parent: CompiledEntity,
    parent_id: int,
    rollups: list | None = None,
    level: int = 0,
) -> None:
    """Recompute ``rollups`` of the parent (all of them when None) and its formulas."""
    locked = _locked_parent_data(parent_id)
    if locked is None:
        return
    data, system = locked
    updated = dict(data)
    if rollups is None:
        rollups = [f for f in parent.fields.values() if f.options["type"] == "rollup"]
    children: dict[tuple[str, str], list[dict]] = {}  # filtered rollups read them once
    for field in rollups:
        _put(updated, field.key, compute(config, field.options, parent_id, children))
    if _save_parent(config, parent, parent_id, data, updated, system):
        _changed(config, parent, data, updated, system)
        if level < MAX_LEVELS:
            refresh_for_child(config, parent, data, updated, level + 1)


def add_new_children(config: CompiledConfig, child: CompiledEntity, children: list[dict]) -> None:
    """Rollups after a bulk create: the new children's contribution is added to each parent's
    stored value (count, sum, min, max) instead of recounting every child; ``avg``, and a sum,
    min or max without a stored value yet, are recomputed. Parents are locked as in a refresh."""

    deltas: dict[tuple[str, int], dict[str, list]] = {}
    for parent_entity, rollup in rollups_fed_by(config, child.key):
        options = rollup.options
        selects = _filter_of(child, options)
        target = child.fields.get(options.get("field", ""))
        for data in children:
            parent_id = data.get(options["via"])
            if not parent_id:
                continue
            if selects is not None and not selects(data):
                continue
            value = 1 if options["function"] == "count" else _value(target, data.get(target.key))
            if value is not None:
                key = (parent_entity.key, parent_id)
                deltas.setdefault(key, {}).setdefault(rollup.key, []).append(value)
    locked = _locked_parents(sorted({parent_id for _, parent_id in deltas}))
    writes, changed = [], []
    for (parent_key, parent_id), fields in sorted(deltas.items()):
        parent = config.entities[parent_key]
        if parent_id not in locked:
            continue
        data, system = locked[parent_id]
        updated = dict(data)
        for field_key, values in fields.items():
            options = parent.fields[field_key].options
            function = options["function"]
            if function == "avg" or (function != "count" and field_key not in data):
                _put(updated, field_key, compute(config, options, parent_id))
            else:
                _put(updated, field_key, _combine(function, data.get(field_key), values))
        _compute_formulas(config, parent, updated, system)
        if updated != data:
            writes.append((parent_id, json.dumps(updated)))
            changed.append((parent, data, updated, system))
    if writes:
        with connection.cursor() as cursor:
            execute_values(
                cursor,
                "UPDATE records_record r SET data = v.data::jsonb FROM (VALUES %s) "
                "AS v(id, data) WHERE r.id = v.id",
                writes,
                page_size=1000,
            )
    for parent, data, updated, system in changed:  # their own parents' rollups, one level up
        _changed(config, parent, data, updated, system)
        refresh_for_child(config, parent, data, updated, level=1)


def _changed(config, parent: CompiledEntity, data: dict, updated: dict, system: dict) -> None:
    """A parent's rollups changed: the automations listening to its changes hear of it (an
    account whose unpaid total passes its credit limit), as of any other change."""
    from types import SimpleNamespace

    from tenants.context import current_tenant_id
    from workflows.outbox import record_changed

    record = SimpleNamespace(
        pk=system["id"],
        version=system["version"],
        owner_id=system["owner"] or None,
        created_by_id=system["created_by"] or None,
        created_at=system["created_at"],
        updated_at=system["updated_at"],
    )
    record_changed(current_tenant_id(), config, parent, record, "updated", data, updated, None)


def _locked_parents(parent_ids: list[int]) -> dict[int, tuple[dict, dict]]:
    """The live parents' data and system fields, locked in id order (as single refreshes
    lock them)."""
    with connection.cursor() as cursor:
        cursor.execute(PARENT_SQL.format(where="id = ANY(%s)"), [parent_ids])
        return {row[0]: system_row(row) for row in cursor.fetchall()}


def _filter_of(child: CompiledEntity, options: dict):
    """A rollup's filter as a test of a child's data, or None without one. Its answers are
    kept by the values of the fields it reads: a bulk create's thousand children mostly
    repeat a handful of stages."""
    from metadata.cel_check import compile_expression

    if not options.get("filter"):
        return None
    program = compile_expression(options["filter"])
    keys = reads_of((program.source,))
    answers: dict[tuple, bool] = {}

    def selects(data: dict) -> bool:
        if keys is None:  # the filter reads the whole record
            return _selects(program, child, data, None)
        seen = tuple(_hashable(data.get(key)) for key in sorted(keys))
        if seen not in answers:
            answers[seen] = _selects(program, child, data, keys)
        return answers[seen]

    return selects


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _hashable(item)) for key, item in value.items()))
    return value


def _selects(program, child: CompiledEntity, data: dict, keys) -> bool:
    try:
        return evaluate(program, cel_record(child, data, {}, keys)) is True
    except Exception:  # noqa: BLE001  (a filter over empty values does not select)
        return False


def _combine(function: str, current, values: list):
    if function == "count":
        return int(current or 0) + len(values)
    if isinstance(values[0], str):  # dates: their ISO text sorts in time order
        pick = min if function == "min" else max
        return pick([*values, *([] if current is None else [current])])
    current = None if current is None else Decimal(str(current))
    if function == "sum":
        return _stored("sum", (current or Decimal(0)) + sum(values, Decimal(0)))
    pick = min if function == "min" else max
    return _stored(function, pick([*values, *([] if current is None else [current])]))


def _put(data: dict, key: str, value) -> None:
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value


def _save_parent(
    config, parent: CompiledEntity, parent_id: int, data: dict, updated: dict, system: dict
) -> bool:
    """Recompute the parent's formulas (they may read its rollups) and write what changed;
    whether anything did."""
    _compute_formulas(config, parent, updated, system)
    if updated == data:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_record SET data = %s::jsonb WHERE id = %s",
            [json.dumps(updated), parent_id],
        )
    return True


def _compute_formulas(config, parent: CompiledEntity, updated: dict, system: dict) -> None:
    from records.related_values import for_record

    variables = {"related": for_record(config, parent, updated)}
    for key in parent.formula_order:
        try:
            # Only the fields the formula reads (evaluate hands CEL no others).
            record = cel_record(parent, updated, system, reads_of((parent.formulas[key].source,)))
            value = evaluate(parent.formulas[key], record, variables)
            value = from_cel(parent.fields[key], value)
        except Exception:  # noqa: BLE001  (no value over empty inputs)
            value = None
        _put(updated, key, value)


def compute(config: CompiledConfig, options: dict, parent_id: int, children=None):
    """A rollup's value for one parent; ``children`` keeps the children a filtered rollup read,
    by (source, via), for the other filtered rollups over them."""
    source = config.entities[options["source"]]
    function, via = options["function"], options["via"]
    target = source.fields.get(options.get("field", "")) if function != "count" else None
    if options.get("filter"):
        cache = {} if children is None else children
        if (source.key, via) not in cache:
            cache[(source.key, via)] = _children(source, via, parent_id)
        return _compute_in_python(source, options, cache[(source.key, via)], target)
    expr = "NULL"
    if target is not None:
        expr = sql_field("r", target.key, target.options["type"], target.options).sql
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {AGGREGATES[function].format(e=expr)} FROM records_record r WHERE {CHILDREN}",
            [source.key, parent_id, via],
        )
        value = cursor.fetchone()[0]
    return _stored(function, value)


# A parent's live children, found through the references table's index on the target rather
# than by reading the lookup out of every record of the child entity.
CHILDREN = (
    "r.entity = %s AND r.deleted_at IS NULL AND r.id IN (SELECT ref.source_id "
    "FROM records_reference ref WHERE ref.target_id = %s AND ref.field = %s)"
)


def _children(source: CompiledEntity, via: str, parent_id: int) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.data FROM records_record r WHERE {CHILDREN}", [source.key, parent_id, via]
        )
        return [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in cursor.fetchall()]


def _compute_in_python(source: CompiledEntity, options: dict, children: list[dict], target):
    selects = _filter_of(source, options)
    selected = [child for child in children if selects(child)]
    if options["function"] == "count":
        return len(selected)
    values = [_value(target, child.get(target.key)) for child in selected]
    values = [v for v in values if v is not None]
    if not values:
        return None
    if options["function"] in ("min", "max"):
        return _stored(options["function"], (min if options["function"] == "min" else max)(values))
    total = sum(values, Decimal(0))
    return _stored(
        options["function"], total / len(values) if options["function"] == "avg" else total
    )


def _value(field, stored):
    """A child's value as its rollup compares or adds it: a number, or the stored text of a
    date or date-time (fixed-width ISO text sorts in time order)."""
    if stored is None:
        return None
    if field.options["type"] in DATED_ROLLUPS:
        return stored
    if field.options["type"] == "currency":
        return Decimal(stored["amount"])
    return Decimal(str(stored))


def _stored(function: str, value):
    """A rollup's value as stored: a count, a decimal's text, or the ISO text of a date or
    date-time (a min or max of dates: text when computed in Python, a date from SQL)."""
    if value is None:
        return None if function != "count" else 0
    if function == "count":
        return int(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dt.date):  # dt.datetime is a date too
        return plain(value, integer=False)
    return str(Decimal(value).quantize(Decimal("0.01")))
