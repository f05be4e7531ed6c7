"""How a field's stored JSON value is read in SQL: the expression and its SQL type.

Values are compared in their SQL type (numbers as ``numeric``, ids as ``bigint``), so filters and
sorts agree with the field types' meaning rather than with JSON text.
"""

from __future__ import annotations

from dataclasses import dataclass

# SQL type by field type; missing types compare as text (ISO dates and fixed-width UTC
# date-times sort correctly as text).
SQL_TYPES = {
    "integer": "bigint",
    "decimal": "numeric",
    "percent": "numeric",
    "currency": "numeric",
    "boolean": "boolean",
    "lookup": "bigint",
    "user": "bigint",
}
SYSTEM_COLUMNS = {
    "id": ("{t}.id", "bigint"),
    "version": ("{t}.version", "bigint"),
    "owner": ("{t}.owner_id", "bigint"),
    "created_by": ("{t}.created_by_id", "bigint"),
    "updated_by": ("{t}.updated_by_id", "bigint"),
    "created_at": ("{t}.created_at", "timestamptz"),
    "updated_at": ("{t}.updated_at", "timestamptz"),
}


# What a stored text must look like to be cast, for indexed fields: a shared index
# (records/indexes.py) evaluates its expression on every tenant's records of the entity, and
# another tenant may keep text under the same key. An unreadable value reads as NULL there
# instead of failing that tenant's writes; the records service never stores one.
CAST_GUARDS = {
    "numeric": r"^[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?$",
    "bigint": r"^[-+]?[0-9]{1,18}$",
    "boolean": r"^(true|false)$",
}


@dataclass(frozen=True)
class SqlField:
    sql: str
    sql_type: str
    json_sql: str | None = None  # the raw jsonb value, for containment operators
    alias: str = "r"


def is_indexed(options: dict | None) -> bool:
    return bool(options and (options.get("indexed") or options.get("unique")))


def cast(text: str, sql_type: str, options: dict | None) -> str:
    if sql_type == "text":
        return text
    if is_indexed(options):
        return f"(CASE WHEN {text} ~ '{CAST_GUARDS[sql_type]}' THEN {text}::{sql_type} END)"
    return f"{text}::{sql_type}"


def quote_literal_key(key: str) -> str:
    # Keys are validated snake_case by the configuration schema; never user text.
    if not key.replace("_", "").isalnum():
        raise ValueError(f"unsafe field key {key!r}")
    return f"'{key}'"


def sql_field(
    alias: str, key: str, field_type: str | None, options: dict | None = None
) -> SqlField:
    if field_type is None:
        sql, sql_type = SYSTEM_COLUMNS[key]
        return SqlField(sql.format(t=alias), sql_type, alias=alias)
    if field_type == "formula":
        return sql_field(alias, key, (options or {}).get("result_type"), options)
    if field_type == "rollup" and (options or {}).get("result_type"):
        return sql_field(alias, key, options["result_type"], options)  # min/max of dates
    if field_type == "rollup":
        sql_type = "bigint" if (options or {}).get("function") == "count" else "numeric"
        literal = quote_literal_key(key)
        return SqlField(
            cast(f"({alias}.data->>{literal})", sql_type, options),
            sql_type,
            f"{alias}.data->{literal}",
            alias,
        )
    literal = quote_literal_key(key)
    json_sql = f"{alias}.data->{literal}"
    sql_type = SQL_TYPES.get(field_type, "text")
    if field_type == "currency":
        text = f"({alias}.data->{literal}->>'amount')"
    else:
        text = f"({alias}.data->>{literal})"
    return SqlField(cast(text, sql_type, options), sql_type, json_sql, alias)
