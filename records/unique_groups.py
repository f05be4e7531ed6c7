"""Unique groups (an entity's ``unique_together``): no two live records share all the values of
the group's fields (a price list holds a product once; a campaign a contact once).

A record's group is checked against the stored records under a transaction-scoped advisory
lock on the group's values, so two writers of the same values at once wait for each other and
the second finds the first. Empty values count as values (a member naming a contact and no lead
is one of a kind). Values compare as stored (text exactly).
"""

from __future__ import annotations

import json

from django.db import connection

from records.errors import FieldError
from records.sql_fields import quote_literal_key


def groups_of(entity) -> list[list[str]]:
    return entity.options.get("unique_together") or []


def changed_groups(entity, data: dict, previous: dict | None) -> list[list[str]]:
    """The groups to check: those with a value (all empty compares with nothing) whose values
    changed (all of them for a new record)."""
    return [
        group
        for group in groups_of(entity)
        if any(data.get(k) is not None for k in group)
        and (previous is None or any(previous.get(k) != data.get(k) for k in group))
    ]


def _values(group: list[str], data: dict) -> list:
    return [data.get(key) for key in group]


def taken_by(tenant_id: int, entity, group: list[str], data: dict, record_id: int | None):
    """The id of another live record with the group's values, after locking them."""
    values = _values(group, data)
    token = json.dumps([tenant_id, entity.key, group, values], sort_keys=True, default=str)
    conditions = " AND ".join(
        f"data->{quote_literal_key(key)} IS NOT DISTINCT FROM %s::jsonb" for key in group
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [token])
        cursor.execute(
            f"SELECT id FROM records_record WHERE entity = %s AND deleted_at IS NULL "
            f"AND id <> %s AND {conditions} LIMIT 1",
            [entity.key, record_id or 0, *[_json(v) for v in values]],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _json(value):
    return None if value is None else json.dumps(value)


def error_for(entity, group: list[str], other: int | str) -> FieldError:
    return FieldError(
        group[0],
        "not_unique",
        f"{entity.key} {other} already has the same {', '.join(group)}",
    )


def check(tenant_id, entity, data: dict, errors: list, record_id=None, previous=None) -> None:
    """Add a not_unique error for each group of the record another record shares."""
    for group in changed_groups(entity, data, previous):
        other = taken_by(tenant_id, entity, group, data, record_id)
        if other is not None:
            errors.append(error_for(entity, group, other))


def rows_sharing(tenant_id, entity, prepared) -> dict[int, FieldError]:
    """For a bulk create's rows (index, record): those sharing a group with an earlier row or
    a stored record."""
    found: dict[int, FieldError] = {}
    for group in groups_of(entity):
        seen: dict[str, int] = {}
        for index, record in prepared:
            if all(value is None for value in _values(group, record.data)):
                continue
            key = json.dumps(_values(group, record.data), default=str)
            if key in seen:
                found.setdefault(index, error_for(entity, group, f"in row {seen[key]}"))
                continue
            seen[key] = index
            other = taken_by(tenant_id, entity, group, record.data, None)
            if other is not None:
                found.setdefault(index, error_for(entity, group, other))
    return found
