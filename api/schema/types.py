"""Conversions between the records service's values and GraphQL's, and naming helpers."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


def output_value(graphql_type: str, value):
    """A service value (RecordView.values) in the form the GraphQL types serialize."""
    if value is None:
        return None
    if graphql_type == "Date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if graphql_type == "DateTime" and isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if graphql_type == "Money" and isinstance(value, dict):
        return {"amount": Decimal(str(value["amount"])), "currency": value["currency"]}
    if graphql_type == "User":
        return {"id": value}
    return value


def input_value(value):
    """A GraphQL input value as the records service takes it (JSON-like)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [input_value(item) for item in value]
    if isinstance(value, dict):
        return {key: input_value(item) for key, item in value.items()}
    return value


def nn(kind):
    """Non-null: ``nn(GraphQLString)`` is ``String!``."""
    from graphql import GraphQLNonNull

    return GraphQLNonNull(kind)


def camel(key: str) -> str:
    """snake_case to camelCase, as GraphQL names fields."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def type_name(key: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in key.split("_"))


def connection(rows, cursors, has_next: bool, end_cursor, total, has_previous=False) -> dict:
    return {
        "edges": [
            {"node": row, "cursor": cursor} for row, cursor in zip(rows, cursors, strict=True)
        ],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": end_cursor,
        },
        "totalCount": total,
    }


def first_children(rows, first: int, after: str | None = None) -> dict:
    """A parent's children already loaded (in id order), as a connection of the first
    ``first`` after the cursor ``after`` (a child's id)."""
    start = 0
    if after is not None:
        if not str(after).isdigit():
            raise ValueError("invalid cursor")
        start = next((i for i, row in enumerate(rows) if row.id > int(after)), len(rows))
    shown = rows[start : start + first]
    return connection(
        shown,
        [str(row.id) for row in shown],
        len(rows) > start + first,
        str(shown[-1].id) if shown else None,
        len(rows),
        start > 0,
    )


def reverse_relations(config, entity) -> dict[str, tuple]:
    """Field key -> (child entity, lookup key) for every lookup pointing at ``entity``:
    the child's plural key, or ``{plural}_by_{lookup}`` when one child entity has several
    lookups to it (or the name is taken by a field)."""
    found = [
        (child, field.key)
        for child in config.entities.values()
        for field in child.fields.values()
        if field.options["type"] == "lookup" and field.options["target"] == entity.key
    ]
    names: dict[str, tuple] = {}
    for child, via in found:
        several = sum(1 for other, _ in found if other.key == child.key) > 1
        name = child.plural_key
        if several or name in entity.fields or name in names:
            name = f"{child.plural_key}_by_{via}"
        names[name] = (child, via)
    return names
