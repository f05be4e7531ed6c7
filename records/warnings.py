"""Warnings about a record that do not stop it being saved: possible duplicates (records sharing
a value of the entity's ``duplicate_check`` fields) and conflicts (records of the same owner, or
another field, whose time ranges overlap this one's: a meeting double-booked).

They are read through the user's records service: only records the user may read are named.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from records.errors import RecordError
from records.values import api_value, condition_holds, view_record

MAX_NAMED = 5  # records named per warning


@dataclass
class RecordWarning:
    kind: str  # duplicate or conflict (its key)
    fields: list[str]
    records: list = field(default_factory=list)  # RecordViews, at most MAX_NAMED
    message: dict = field(default_factory=dict)  # the configuration's, for conflicts


def warnings_of(service, entity, view) -> list[RecordWarning]:
    return [*possible_duplicates(service, entity, view), *conflicts(service, entity, view)]


def possible_duplicates(service, entity, view) -> list[RecordWarning]:
    """Records with the same value in one of the ``duplicate_check`` fields (each field its
    own warning: the same e-mail, the same company name)."""
    found = []
    for key in entity.options.get("duplicate_check") or ():
        value = view.values.get(key)
        if value is None or value == "" or isinstance(value, (list, dict)):
            continue
        same = _others(
            service, entity, view, [{"field": key, "op": "eq", "value": api_value(value)}]
        )
        if same:
            found.append(RecordWarning("duplicate", [key], same))
    return found


def conflicts(service, entity, view) -> list[RecordWarning]:
    """Records whose [start, end) overlaps this one's and that share the ``same`` fields."""
    from workflows.definitions import program

    found = []
    values = view.values
    for spec in entity.options.get("conflicts") or ():
        start, end = values.get(spec["start"]), values.get(spec["end"]) or values.get(spec["start"])
        if start is None:
            continue
        mine = {"owner": view.owner_id, **values}
        same = [mine.get(key) for key in spec.get("same", [])]
        if any(value is None for value in same):
            continue
        condition = program(spec["filter"]) if spec.get("filter") else None
        if condition is not None and not condition_holds(condition, view_record(entity, view)):
            continue
        tree = [
            {"field": spec["start"], "op": "lt", "value": api_value(end)},
            {
                "or": [
                    {"field": spec["end"], "op": "gt", "value": api_value(start)},
                    {
                        "and": [
                            {"field": spec["end"], "op": "is_null", "value": True},
                            {"field": spec["start"], "op": "gte", "value": api_value(start)},
                        ]
                    },
                ]
            },
            *[
                {"field": key, "op": "eq", "value": api_value(value)}
                for key, value in zip(spec.get("same", []), same, strict=True)
            ],
        ]
        overlapping = [
            other
            for other in _others(service, entity, view, tree, limit=50)
            if condition is None or condition_holds(condition, view_record(entity, other))
        ][:MAX_NAMED]
        if overlapping:
            found.append(
                RecordWarning(
                    spec["key"],
                    [spec["start"], spec["end"]],
                    overlapping,
                    spec.get("message") or {},
                )
            )
    return found


def _others(service, entity, view, conditions: list, limit: int = MAX_NAMED) -> list:
    tree = {"and": [*conditions, {"field": "id", "op": "ne", "value": view.id}]}
    try:
        return service.query(entity.key, filter_tree=tree, first=limit).rows
    except RecordError:  # a field the user may not filter by: no warning rather than a leak
        return []
