"""SQL fragments with their parameters, and the expressions that write GraphQL's values
exactly as the resolvers serialize them (global ids, instants, cursors)."""

from __future__ import annotations

from dataclasses import dataclass, field

from api.schema.types import NAME


class Unsupported(Exception):
    """The request needs the resolvers (the reason is for logs and tests)."""


@dataclass
class Sql:
    text: str
    params: list = field(default_factory=list)


def literal(name: str) -> str:
    """A GraphQL name (a response key, a type name) as an SQL string literal; GraphQL names
    are [_A-Za-z][_0-9A-Za-z]*, anything else is refused."""
    if not NAME.match(name):
        raise Unsupported(f"not a GraphQL name: {name!r}")
    return f"'{name}'"


def json_object(items: list[tuple[str, Sql]]) -> Sql:
    """A JSON object of (key, value) in order, as compact text (what graphene-django writes:
    no spaces); values are SQL of a JSON type, a number or a boolean, NULL written null."""
    if not items:
        raise Unsupported("an empty selection")
    parts, params = [], []
    for index, (key, value) in enumerate(items):
        lead = "{" if index == 0 else ","
        parts.append(f"'{lead}\"{literal(key)[1:-1]}\":' || COALESCE(({value.text})::text, 'null')")
        params += value.params
    return Sql("(" + " || ".join(parts) + " || '}')", params)


def json_array(element: Sql, order: str, condition: str) -> Sql:
    """An aggregate: the JSON array of ``element`` over the rows meeting ``condition``."""
    return Sql(
        f"COALESCE('[' || string_agg({element.text}, ',' ORDER BY {order}) "
        f"FILTER (WHERE {condition}) || ']', '[]')",
        element.params,
    )


def global_id(type_name: str, id_sql: str) -> str:
    """graphql_relay's to_global_id: base64 of ``Type:id``."""
    return (
        f"translate(encode(convert_to({literal(type_name)} || ':' || {id_sql}, 'UTF8'), "
        f"'base64'), E'\\n', '')"
    )


def iso_instant(timestamp_sql: str) -> str:
    """A timestamptz as Python's isoformat of a UTC datetime writes it."""
    utc = f"({timestamp_sql} AT TIME ZONE 'UTC')"
    return (
        f"(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN to_char({utc}, 'US') = "
        f"'000000' THEN '' ELSE to_char({utc}, '.US') END || '+00:00')"
    )


def cursor_value(column: str, sql_type: str) -> str:
    """One sort value as records.query.encode_cursor writes it in its JSON array."""
    if sql_type in ("bigint", "boolean"):
        text = f"{column}::text"
    elif sql_type == "numeric":
        text = f"to_json({column}::text)::text"
    elif sql_type == "timestamptz":
        text = f"to_json({iso_instant(column)})::text"
    else:
        text = f"to_json({column}::text)::text"
    return f"COALESCE({text}, 'null')"


def cursor(columns: list[str], sql_types: list[str]) -> str:
    """records.query.encode_cursor in SQL: URL-safe base64 of the JSON array, unpadded."""
    values = " || ',' || ".join(
        cursor_value(column, sql_type) for column, sql_type in zip(columns, sql_types, strict=True)
    )
    return (
        f"translate(encode(convert_to('[' || {values} || ']', 'UTF8'), 'base64'), E'+/=\\n', '-_')"
    )
