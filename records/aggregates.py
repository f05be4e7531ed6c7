"""Grouped metrics for reports, as one parameterized SQL statement over the records table.

::

    group_by=[{"field": "stage"}, {"field": "close_date", "bucket": "month"}]
    metrics=[{"fn": "count"}, {"fn": "sum", "field": "amount"}]
    -> [{"group": {"stage": "won", "close_date:month": "2025-03-01"},
         "count": 3, "sum_amount": Decimal("1200.00")}, ...]

The WHERE is the one lists use (filter, search, live records, permission scope). Groups come
ordered by their keys, empty values last as a group of their own (key None). Dates and
date-times are bucketed to the first day of their period, in UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection

from records.query import QueryCompiler, QueryError, base_conditions
from records.sql_fields import SqlField

MAX_GROUPS = 5
MAX_METRICS = 10
BUCKETS = ("day", "week", "month", "quarter", "year")
FUNCTIONS = ("count", "count_distinct", "sum", "avg", "min", "max")
METRIC_KEYS = {"fn", "field", "as", "filter"}
UNGROUPABLE = ("multi_choice", "multi_lookup", "long_text", "rich_text", "address", "file")
ORDERED_TEXT = ("text", "email", "phone", "url", "autonumber")
# How a date-like value becomes a SQL date (its UTC day).
DAY_SQL = {
    "date": "({})::date",
    "datetime": "left({}, 10)::date",  # stored as fixed-width UTC ISO text
    "timestamp": "(({}) AT TIME ZONE 'UTC')::date",  # created_at / updated_at
}


@dataclass(frozen=True)
class Selected:
    name: str
    sql: str
    integer: bool = False  # a Decimal from SQL that stands for a whole number
    params: tuple = ()  # of a metric's own filter


def run_aggregate(
    compiler: QueryCompiler,
    *,
    filter_tree: dict | None,
    group_by: list[dict],
    metrics: list[dict],
    search: str | None,
    scope: tuple[str, list],
) -> list[dict]:
    groups = group_columns(compiler, group_by)
    values = metric_columns(compiler, metrics)
    where, params = base_conditions(compiler, filter_tree=filter_tree, search=search, scope=scope)
    columns = ", ".join(column.sql for column in [*groups, *values])
    statement = f"SELECT {columns} FROM records_record r WHERE {' AND '.join(where)}"
    params = [*(p for value in values for p in value.params), *params]
    if groups:
        positions = range(1, len(groups) + 1)
        statement += " GROUP BY " + ", ".join(str(i) for i in positions)
        statement += " ORDER BY " + ", ".join(f"{i} ASC NULLS LAST" for i in positions)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    width = len(groups)
    return [{"group": named(groups, row[:width]), **named(values, row[width:])} for row in rows]


def named(columns: list[Selected], row: tuple) -> dict:
    return {column.name: plain(v, column.integer) for column, v in zip(columns, row, strict=True)}


def group_columns(compiler: QueryCompiler, group_by: Any) -> list[Selected]:
    if not isinstance(group_by, list):
        raise QueryError("expected a list", "group_by")
    if len(group_by) > MAX_GROUPS:
        raise QueryError(f"at most {MAX_GROUPS} groups", "group_by")
    groups: list[Selected] = []
    for index, item in enumerate(group_by):
        where = f"group_by[{index}]"
        if not isinstance(item, dict) or "field" not in item or set(item) - {"field", "bucket"}:
            raise QueryError("expected {field, bucket}", where)
        column, kind = own_field(compiler, item["field"], f"{where}.field", "grouped")
        name, sql = item["field"], column.sql
        if kind in UNGROUPABLE:
            raise QueryError(f"{name} ({kind}) cannot be grouped", f"{where}.field")
        if "bucket" in item:
            bucket = item["bucket"]
            if kind not in DAY_SQL:
                raise QueryError(
                    f"{name} is not a date; only dates have buckets", f"{where}.bucket"
                )
            if bucket not in BUCKETS:
                raise QueryError(
                    f"unknown bucket {bucket!r} (use {', '.join(BUCKETS)})", f"{where}.bucket"
                )
            name = f"{name}:{bucket}"
            sql = f"date_trunc('{bucket}', {DAY_SQL[kind].format(sql)}::timestamp)::date"
        if name in [group.name for group in groups]:
            raise QueryError(f"{name} is grouped twice", where)
        groups.append(Selected(name, sql))
    return groups


def metric_columns(compiler: QueryCompiler, metrics: Any) -> list[Selected]:
    if not isinstance(metrics, list) or not metrics:
        raise QueryError("a non-empty list of metrics is needed", "metrics")
    if len(metrics) > MAX_METRICS:
        raise QueryError(f"at most {MAX_METRICS} metrics", "metrics")
    values: list[Selected] = []
    for index, item in enumerate(metrics):
        where = f"metrics[{index}]"
        if not isinstance(item, dict) or "fn" not in item or set(item) - METRIC_KEYS:
            raise QueryError("expected {fn, field, as, filter}", where)
        fn = item["fn"]
        if fn not in FUNCTIONS:
            raise QueryError(f"unknown function {fn!r} (use {', '.join(FUNCTIONS)})", f"{where}.fn")
        only, params = "", ()
        if item.get("filter") is not None:
            # only the records matching the metric's own filter (a conditional aggregate)
            condition, condition_params = compiler.compile_filter(item["filter"], f"{where}.filter")
            only, params = f" FILTER (WHERE {condition})", tuple(condition_params)
        if fn == "count":
            if "field" in item:
                raise QueryError("count counts records and takes no field", f"{where}.field")
            selected = Selected("count", f"count(*){only}")
        else:
            selected = metric(compiler, fn, item.get("field"), f"{where}.field", only)
        name = item.get("as", selected.name)
        if not isinstance(name, str) or not name or name == "group":
            raise QueryError("the name is a non-empty string other than 'group'", f"{where}.as")
        if name in [value.name for value in values]:
            raise QueryError(f"the name {name!r} is used twice", f"{where}.as")
        values.append(Selected(name, selected.sql, selected.integer, params))
    return values


def metric(compiler: QueryCompiler, fn: str, key: Any, where: str, only: str = "") -> Selected:
    """An aggregate of a field; ``only`` is its FILTER clause (inside avg's rounding)."""
    column, kind = own_field(compiler, key, where, "aggregated")
    if fn == "count_distinct":  # distinct values: customers among orders, say
        if kind in UNGROUPABLE:
            raise QueryError(f"count_distinct cannot count {key} ({kind})", where)
        return Selected(f"{fn}_{key}", f"count(DISTINCT {column.sql}){only}", integer=True)
    numeric = column.sql_type in ("numeric", "bigint") and kind not in ("lookup", "user", "system")
    if fn in ("sum", "avg") and not numeric:
        raise QueryError(f"{fn} needs a number field; {key} is {kind}", where)
    if not (numeric or kind in DAY_SQL or kind in ORDERED_TEXT):
        raise QueryError(f"{fn} needs a number, date or text field; {key} is {kind}", where)
    aggregate = f"{fn}({column.sql}){only}"
    sql = f"round({aggregate}, 6)" if fn == "avg" else aggregate
    return Selected(f"{fn}_{key}", sql, integer=fn == "sum" and column.sql_type == "bigint")


def own_field(compiler: QueryCompiler, key: Any, where: str, use: str) -> tuple[SqlField, str]:
    """The SQL of a field of the entity itself and its kind: the field type (a formula's result
    type), ``timestamp`` for created_at / updated_at or ``system`` for the other columns."""
    if isinstance(key, str) and "." in key:
        raise QueryError(f"{key!r} follows a lookup; only fields of the entity are {use}", where)
    _, _, column, compiled = compiler.resolve(key, where)
    if compiled is None:
        return column, "timestamp" if column.sql_type == "timestamptz" else "system"
    kind = compiled.options["type"]
    if kind in ("formula", "rollup"):  # a rollup has a result type when it is a date
        kind = compiled.options.get("result_type", kind)
    return column, kind


def plain(value: Any, integer: bool) -> Any:
    """A SQL value as the service hands values out: dates as ISO strings, date-times as the
    fixed-width UTC text they are stored as."""
    if value is None:
        return None
    if integer:
        return int(value)
    if isinstance(value, dt.datetime):
        return (
            value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
