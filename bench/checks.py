"""Checks that the generated data is what the platform itself would store.

In one transaction that is rolled back:

- **rollups and formulas**: a sample of generated accounts and opportunities has its rollups
  and formulas recomputed by the platform's own refresh (``records.rollups.refresh_parent``);
  the stored ``data`` must not change;
- **stored form**: the same sample is written again through ``RecordService.create`` (which
  normalizes, applies defaults, computes the formulas and checks required fields, choices,
  ranges, rules and references) from the generated values of the fields a user may write; the
  stored ``data`` and ``shared_by_rules`` must equal the generated ones, except for the values
  the platform maintains for a new record by itself (rollups: the copy has no children yet;
  autonumbers: the copy takes the next number, which must be the one after the generated
  ones);
- **side tables**: every unique value has its ``records_uniquevalue`` row, every lookup its
  ``records_reference`` row, and each autonumber's counter stands at the generated numbers.

A record the service refuses is a difference too (with the service's reasons).
"""

from __future__ import annotations

import json

from django.db import connection
from django.utils import timezone

from metadata.compiled import active_config
from records.errors import RecordError
from records.models import Counter, Record
from records.rollups import refresh_parent
from records.service import RecordService, render_autonumber
from tenants.context import tenant_context

ENTITIES = ("account", "opportunity")
# Generated values the service gives a fresh copy differently (see maintained()).
MAINTAINED_TYPES = ("rollup", "autonumber")


class _Rollback(Exception):
    pass


def maintained(entity) -> set[str]:
    return {k for k, f in entity.fields.items() if f.options["type"] in MAINTAINED_TYPES}


def sample(entity: str, size: int) -> list[tuple[int, dict, list]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, data, shared_by_rules FROM records_record WHERE entity = %s "
            "AND deleted_at IS NULL AND id %% 7 = 0 ORDER BY id LIMIT %s",
            [entity, size],
        )
        return [
            (pk, data if isinstance(data, dict) else json.loads(data), list(shared or []))
            for pk, data, shared in cursor.fetchall()
        ]


def counter_value(entity: str, field: str) -> int:
    """The last number an autonumber field issued (0 before any)."""
    counter = Counter.objects.filter(entity=entity, field=field, period="").first()
    return counter.value if counter else 0


def _differences(left: dict, right: dict) -> str:
    keys = sorted(set(left) | set(right))
    return ", ".join(
        f"{k}: generated {left.get(k)!r} stored {right.get(k)!r}"
        for k in keys
        if left.get(k) != right.get(k)
    )


def check_refresh(config, samples: dict) -> list[str]:
    """Rollups and formulas recomputed by the platform leave the generated data as it is."""
    problems = []
    for entity_key, rows in samples.items():
        entity = config.entities[entity_key]
        for record_id, generated, _ in rows:
            refresh_parent(config, entity, record_id)
            stored = Record.objects.get(pk=record_id).data
            if stored != generated:
                problems.append(
                    f"{entity_key} {record_id} after the platform's rollup refresh: "
                    + _differences(generated, stored)
                )
    return problems


# Side rows per field, against the records holding a value: (records, rows) of (entity, key).
UNIQUE_ROWS = (
    "SELECT (SELECT count(*) FROM records_record WHERE entity = %s AND deleted_at IS NULL "
    "AND data ? %s), (SELECT count(*) FROM records_uniquevalue WHERE entity = %s AND field = %s)"
)
REFERENCE_ROWS = (
    "SELECT (SELECT count(*) FROM records_record WHERE entity = %s AND deleted_at IS NULL "
    "AND data ? %s), (SELECT count(*) FROM records_reference ref JOIN records_record r "
    "ON r.id = ref.source_id WHERE r.entity = %s AND ref.field = %s)"
)


def _side_rows_differ(cursor, entity_key, key, sql, what, rows_what) -> list[str]:
    cursor.execute(sql, [entity_key, key, entity_key, key])
    values, rows = cursor.fetchone()
    return [] if values == rows else [f"{entity_key}.{key}: {values} {what}, {rows} {rows_what}"]


def check_side_tables(config) -> list[str]:
    """Unique values, references and autonumber counters as the service keeps them."""
    problems = []
    with connection.cursor() as cursor:
        for entity_key in ENTITIES:
            entity = config.entities[entity_key]
            for key, field in entity.fields.items():
                options = field.options
                if options.get("unique"):
                    problems += _side_rows_differ(
                        cursor, entity_key, key, UNIQUE_ROWS, "values", "unique-value rows"
                    )
                if options["type"] == "lookup":
                    problems += _side_rows_differ(
                        cursor, entity_key, key, REFERENCE_ROWS, "lookups", "reference rows"
                    )
                if options["type"] == "autonumber":
                    cursor.execute(
                        "SELECT data->>%s FROM records_record WHERE entity = %s "
                        "AND deleted_at IS NULL",
                        [key, entity_key],
                    )
                    numbers = {row[0] for row in cursor.fetchall()}
                    value = counter_value(entity_key, key)
                    now = timezone.now()
                    expected = {
                        render_autonumber(options["pattern"], n, now) for n in range(1, value + 1)
                    }
                    if numbers != expected:
                        problems.append(
                            f"{entity_key}.{key}: {len(numbers)} numbers generated, counter at "
                            f"{value}, {len(numbers ^ expected)} differ from the pattern's"
                        )
    return problems


def check_stored_form(tenant, user, per_entity: int = 20) -> list[str]:
    """Differences between generated and service-stored data; empty when they agree."""
    problems: list[str] = []
    service = RecordService(tenant, user)
    config = active_config(tenant)
    try:
        with tenant_context(tenant, user=user):
            samples = {entity: sample(entity, per_entity) for entity in ENTITIES}
            problems += check_side_tables(config)
            problems += check_refresh(config, samples)
            for entity_key, rows in samples.items():
                entity = config.entities[entity_key]
                skip = maintained(entity)
                numbers = {
                    key: counter_value(entity_key, key)
                    for key in skip
                    if entity.fields[key].options["type"] == "autonumber"
                }
                for record_id, generated, shared in rows:
                    unknown = sorted(set(generated) - set(entity.fields))
                    if unknown:
                        problems.append(f"{entity_key} {record_id}: not fields: {unknown}")
                    values = {
                        key: value
                        for key, value in generated.items()
                        if key in entity.fields and not entity.fields[key].type.computed
                    }
                    if entity_key == "account":  # its name is taken (unique) by the original
                        generated = {**generated, "name": generated["name"] + " copy"}
                        values["name"] = generated["name"]
                    try:
                        view = service.create(entity_key, values)
                    except RecordError as error:
                        reasons = "; ".join(
                            f"{e.field}: {e.message}" for e in getattr(error, "errors", [])
                        )
                        problems.append(f"{entity_key} {record_id}: refused: {error} {reasons}")
                        continue
                    record = Record.objects.get(pk=view.id)
                    left = {k: v for k, v in generated.items() if k not in skip}
                    right = {k: v for k, v in record.data.items() if k not in skip}
                    if left != right:
                        problems.append(f"{entity_key} {record_id}: " + _differences(left, right))
                    if list(record.shared_by_rules or []) != shared:
                        problems.append(
                            f"{entity_key} {record_id}: shared_by_rules generated {shared} "
                            f"stored {record.shared_by_rules}"
                        )
                    for key in numbers:  # the copy takes the number after the generated ones
                        numbers[key] += 1
                        wanted = render_autonumber(
                            entity.fields[key].options["pattern"], numbers[key], timezone.now()
                        )
                        if record.data.get(key) != wanted:
                            problems.append(
                                f"{entity_key} copy of {record_id}: {key} "
                                f"{record.data.get(key)!r}, expected {wanted!r}"
                            )
            raise _Rollback
    except _Rollback:
        pass
    return problems
