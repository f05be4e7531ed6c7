"""The query compiler: a typed filter tree, sorts, keyset pagination and search, as one
parameterized SQL statement over the records table.

A filter is JSON (GraphQL and the list pages build the same tree)::

    {"and": [{"field": "stage", "op": "in", "value": ["new", "proposal"]},
             {"not": {"field": "amount", "op": "lt", "value": 1000}},
             {"field": "company.tier", "op": "eq", "value": "a"}]}

Empty values: ``eq``/``lt``/``contains``… never match an empty field; ``ne`` and ``not_in``
do (``IS DISTINCT FROM``); ``is_null`` tests emptiness. A ``lookup.field`` path reaches one hop
into the target records (deleted targets excluded).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection

from metadata.compiled import CompiledConfig, CompiledEntity
from metadata.fieldtypes import FieldValueError
from metadata.fieldtypes.base import DAY_COUNTS, RELATIVE_DATES
from records.errors import RecordError, RecordErrorCode
from records.relative_dates import date_range
from records.sql_fields import SYSTEM_COLUMNS, SqlField, sql_field

MAX_PAGE = 500
SYSTEM_OPERATORS = ("eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "between", "is_null")


class QueryError(RecordError):
    def __init__(self, message: str, path: str = "filter"):
        super().__init__(RecordErrorCode.INVALID_QUERY, f"{path}: {message}")
        self.path = path


@dataclass(frozen=True)
class Sort:
    field: str
    direction: str = "asc"
    nulls: str = "last"


@dataclass
class Page:
    rows: list[dict]
    has_next: bool
    end_cursor: str | None
    total: int | None = None
    cursors: Sequence[str] = field(default_factory=list)  # each row's own cursor
    has_previous: bool = False
    start_cursor: str | None = None


@dataclass
class Compiled:
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)


class OpenGuard:
    """What a compiler may show: everything (commands, jobs). The records service passes the
    user's guard (records/permissions.py), which hides fields and scopes lookup hops."""

    def hidden(self, entity: CompiledEntity) -> set[str]:
        return set()

    def scope(self, entity: CompiledEntity, alias: str) -> tuple[str, list]:
        return "TRUE", []


class QueryCompiler:
    def __init__(
        self,
        config: CompiledConfig,
        entity: CompiledEntity,
        *,
        today: dt.date | None = None,
        guard=None,
    ):
        from tenants.context import current_tenant_id

        self.tenant_id = current_tenant_id()
        self.config = config
        self.entity = entity
        self.guard = guard or OpenGuard()
        self.today = today or dt.datetime.now(dt.UTC).date()
        # How a lookup hop is written (see hop_sql); "probe" only for a page in an index's
        # order whose hops select enough targets, as run_query decides by sampling.
        self.hop_style = "join"
        self.hops: list[tuple[str, list]] = []  # (condition over t, params) as compiled
        self.default_direction = "asc"  # of the id, when nothing else sorts ("desc": backwards)

    # -- fields --------------------------------------------------------------------------

    def resolve(self, path: str, where: str) -> tuple[CompiledEntity, str, SqlField, Any]:
        """(entity, alias, sql field, compiled field or None for system columns) of a path."""
        if not isinstance(path, str) or not path:
            raise QueryError("a field name is needed", where)
        entity, alias, key = self.entity, "r", path
        if "." in path:
            hop, key = path.split(".", 1)
            lookup = self.entity.fields.get(hop)
            if lookup is None or lookup.options["type"] != "lookup" or "." in key:
                raise QueryError(f"{path!r} is not a field or a lookup.field path", where)
            entity, alias = self.config.entities[lookup.options["target"]], "t"
        if key in SYSTEM_COLUMNS:
            return entity, alias, sql_field(alias, key, None), None
        compiled = entity.fields.get(key)
        if compiled is None or key in self.guard.hidden(entity):
            # A hidden field is refused exactly like a missing one: nothing leaks.
            raise QueryError(f"{entity.key} has no field {key!r}", where)
        return (
            entity,
            alias,
            sql_field(alias, key, compiled.options["type"], compiled.options),
            compiled,
        )

    def value(self, compiled, raw: Any, where: str) -> Any:
        """A filter value in the SQL form of its field."""
        if compiled is None:  # a system column
            if isinstance(raw, bool) or not isinstance(raw, (int, str)):
                raise QueryError(f"invalid value {raw!r}", where)
            return raw
        field_type = compiled.type
        options = compiled.options
        if options["type"] == "formula" or options.get("result_type") in ("date", "datetime"):
            from metadata.fieldtypes import field_types

            field_type, options = field_types.get(options["result_type"]), {}
        if field_type.key == "rollup":
            from metadata.fieldtypes.numbers import to_decimal

            try:
                return to_decimal(raw)
            except FieldValueError as error:
                raise QueryError(error.message, where) from error
        if options.get("type") in ("autonumber",) or field_type.key == "autonumber":
            if not isinstance(raw, str):
                raise QueryError(f"expected text, got {raw!r}", where)
            return raw
        try:
            if field_type.key in ("choice", "multi_choice"):
                # Filters may name inactive options: old records still hold them.
                if not isinstance(raw, str):
                    raise FieldValueError("invalid_type", f"expected an option value, got {raw!r}")
                known = [o["value"] for o in options.get("options", [])]
                if raw not in known:
                    raise FieldValueError(
                        "unknown_option", f"{raw!r} is not one of: " + ", ".join(known)
                    )
                return raw
            if field_type.key in ("lookup", "multi_lookup", "user"):
                from metadata.fieldtypes.relations import record_id

                return record_id(raw)
            if field_type.key == "currency":
                raw = raw["amount"] if isinstance(raw, dict) else raw
                from metadata.fieldtypes.numbers import to_decimal

                return to_decimal(raw)
            if field_type.key in ("decimal", "percent"):
                from metadata.fieldtypes.numbers import to_decimal

                return to_decimal(raw)
            if field_type.key in (
                "text",
                "long_text",
                "rich_text",
                "email",
                "phone",
                "url",
                "address",
            ):
                if not isinstance(raw, str):
                    raise FieldValueError("invalid_type", f"expected text, got {raw!r}")
                return raw
            return field_type.to_storage(field_type.normalize(raw, {}), {})
        except FieldValueError as error:
            raise QueryError(error.message, where) from error

    # -- filters -------------------------------------------------------------------------

    def compile_filter(self, node: Any, where: str = "filter") -> tuple[str, list]:
        if not isinstance(node, dict) or not node:
            raise QueryError("a filter is an object", where)
        if set(node) == {"and"} or set(node) == {"or"}:
            joiner = "and" if "and" in node else "or"
            children = node[joiner]
            if not isinstance(children, list) or not children:
                raise QueryError(f"{joiner} takes a non-empty list", where)
            parts, params = [], []
            for index, child in enumerate(children):
                sql, child_params = self.compile_filter(child, f"{where}.{joiner}[{index}]")
                parts.append(f"({sql})")
                params += child_params
            return f" {joiner.upper()} ".join(parts), params
        if set(node) == {"not"}:
            sql, params = self.compile_filter(node["not"], f"{where}.not")
            return f"NOT COALESCE(({sql}), FALSE)", params
        if not {"field", "op"} <= set(node) or set(node) - {"field", "op", "value"}:
            raise QueryError("expected and / or / not, or field, op and value", where)
        return self.compile_condition(node, where)

    def compile_condition(self, node: dict, where: str) -> tuple[str, list]:
        path, op = node["field"], node["op"]
        entity, alias, column, compiled = self.resolve(path, f"{where}.field")
        operators = (
            SYSTEM_OPERATORS if compiled is None else compiled.type.operators_for(compiled.options)
        )
        if op not in operators:
            raise QueryError(
                f"the operator {op!r} does not apply to {path} (use {', '.join(operators)})",
                f"{where}.op",
            )
        sql, params = self.operator_sql(op, column, compiled, node.get("value"), where)
        if alias == "t":
            return self.hop_sql(path.split(".", 1)[0], entity, sql, params)
        return sql, params

    def hop_sql(self, hop: str, target: CompiledEntity, sql: str, params: list):
        """A condition on the record a lookup points at.

        PostgreSQL has no statistics on JSON values, so it cannot tell whether a hop selects
        most targets or a handful. Written as a plain EXISTS it becomes a hash join over every
        record of the entity (fine when few match, 250 ms over a million records when many
        do); with ``OFFSET 0`` the join cannot be flattened and each record in the sort
        index's order probes its target by primary key, which stops after one page when many
        targets match and scans the whole index when few do. run_query samples the targets to
        choose (``sample_hops``)."""
        self.hops.append((sql, list(params)))
        probe = " OFFSET 0" if self.hop_style == "probe" else ""
        # Only targets the user may read: a filter must not reveal what a list would hide.
        scope_sql, scope_params = self.guard.scope(target, "t")
        return (
            f"EXISTS (SELECT 1 FROM records_record t WHERE t.id = (r.data->>'{hop}')"
            f"::bigint AND t.entity = %s AND t.deleted_at IS NULL AND ({scope_sql}) "
            f"AND ({sql}){probe})",
            [target.key, *scope_params, *params],
        )

    def operator_sql(
        self, op: str, column: SqlField, compiled, raw: Any, where: str
    ) -> tuple[str, list]:
        expr, cast = column.sql, column.sql_type
        value_where = f"{where}.value"
        if op == "is_null":
            if not isinstance(raw, bool):
                raise QueryError("is_null takes true or false", value_where)
            return f"{expr} IS {'' if raw else 'NOT '}NULL", []
        if op == "is_me":  # a user field naming the user who asks
            from tenants.context import current_user_id

            if not isinstance(raw, bool):
                raise QueryError("is_me takes true or false", value_where)
            return (f"{expr} = %s" if raw else f"{expr} IS DISTINCT FROM %s"), [current_user_id()]
        if op in RELATIVE_DATES:
            n = None
            if op in DAY_COUNTS:
                if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 3660:
                    raise QueryError(f"{op} takes a number of days (1 to 3660)", value_where)
                n = raw
            start, end = date_range(op, self.today, n)
            if compiled is not None and compiled.options["type"] == "datetime":
                start, end = (f"{d.isoformat()}T00:00:00.000000Z" for d in (start, end))
            else:
                start, end = start.isoformat(), end.isoformat()
            return f"{expr} >= %s AND {expr} < %s", [start, end]
        if (
            op == "contains"
            and column.json_sql is not None
            and compiled.options["type"] in ("multi_choice", "multi_lookup")
        ):
            value = self.value(compiled, raw, value_where)
            return f"{column.json_sql} @> %s::jsonb", [json.dumps([value])]
        if op in ("contains", "starts_with"):
            value = self.value(compiled, raw, value_where)
            if not isinstance(value, str):
                raise QueryError("expected text", value_where)
            pattern = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            target = expr if compiled.options["type"] != "address" else f"({column.json_sql})::text"
            return (f"{target} ILIKE %s", [f"%{pattern}%" if op == "contains" else f"{pattern}%"])
        if op in ("in", "not_in"):
            if not isinstance(raw, list) or not raw:
                raise QueryError(f"{op} takes a non-empty list", value_where)
            values = [
                self.value(compiled, item, f"{value_where}[{i}]") for i, item in enumerate(raw)
            ]
            if op == "in" and self._is_lookup(compiled, column):
                return self._referencing(column, compiled, "= ANY(%s::bigint[])", values)
            if op == "in":
                return f"{expr} = ANY(%s::{cast}[])", [values]
            return f"({expr} IS NULL OR {expr} <> ALL(%s::{cast}[]))", [values]
        if op == "between":
            if not isinstance(raw, list) or len(raw) != 2:
                raise QueryError("between takes [low, high]", value_where)
            low = self.value(compiled, raw[0], f"{value_where}[0]")
            high = self.value(compiled, raw[1], f"{value_where}[1]")
            return f"{expr} BETWEEN %s::{cast} AND %s::{cast}", [low, high]
        value = self.value(compiled, raw, value_where)
        if op == "eq" and self._is_lookup(compiled, column):
            return self._referencing(column, compiled, "= %s", value)
        sql_op = {
            "eq": "=",
            "ne": "IS DISTINCT FROM",
            "lt": "<",
            "lte": "<=",
            "gt": ">",
            "gte": ">=",
        }[op]
        return f"{expr} {sql_op} %s::{cast}", [value]

    @staticmethod
    def _is_lookup(compiled, column: SqlField) -> bool:
        return compiled is not None and compiled.options["type"] == "lookup" and column.alias == "r"

    @staticmethod
    def _referencing(column: SqlField, compiled, condition: str, value) -> tuple[str, list]:
        """Records pointing at given targets, found through the references table's index on
        the target rather than by reading every record's JSON."""
        return (
            f"r.id IN (SELECT ref.source_id FROM records_reference ref "
            f"WHERE ref.target_id {condition} AND ref.field = %s)",
            [value, compiled.key],
        )

    # -- sorting and pages ---------------------------------------------------------------

    def sort_columns(self, sorts: list[Sort]) -> list[tuple[SqlField, Sort]]:
        columns = []
        for index, sort in enumerate(sorts):
            where = f"order_by[{index}]"
            if sort.direction not in ("asc", "desc") or sort.nulls not in ("first", "last"):
                raise QueryError("direction is asc or desc, nulls first or last", where)
            if "." in sort.field:
                raise QueryError("sorting follows no lookup", where)
            _, _, column, compiled = self.resolve(sort.field, f"{where}.field")
            if compiled is not None and not compiled.type.sortable:
                raise QueryError(f"{sort.field} cannot be sorted", where)
            columns.append((column, sort))
        # The id breaks ties in the first key's direction, so an index on (field, id) read
        # forwards or backwards yields the whole order.
        id_direction = sorts[0].direction if sorts else self.default_direction
        columns.append(
            (
                SqlField("r.id", "bigint"),
                Sort("id", id_direction, "last" if id_direction == "asc" else "first"),
            )
        )
        return columns


class Cursors(Sequence):
    """Each row's cursor, encoded when asked for: most readers of a page want only its first
    and last (an API's edges ask for them all)."""

    def __init__(self, keys: list[tuple]):
        self._keys = keys
        self._encoded: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        index = range(len(self))[index]  # negative indexes, and IndexError past the end
        if index not in self._encoded:
            self._encoded[index] = encode_cursor(list(self._keys[index]))
        return self._encoded[index]

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def reverse(self) -> None:
        self._keys.reverse()
        last = len(self._keys) - 1
        self._encoded = {last - index: cursor for index, cursor in self._encoded.items()}


def encode_cursor(values: list) -> str:
    def plain(value):
        if isinstance(value, Decimal):
            return format(value, "f")  # as PostgreSQL writes numeric, never 1E+2
        if isinstance(value, dt.datetime):
            return value.isoformat()
        return value

    # The same bytes as the compiled GraphQL path writes in SQL (api/schema/compiled/sql.py).
    raw = json.dumps([plain(v) for v in values], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


CURSOR_TYPES = {
    "bigint": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "numeric": lambda v: isinstance(v, str) and _is_number(v),
    "boolean": lambda v: isinstance(v, bool),
    "text": lambda v: isinstance(v, str),
    "timestamptz": lambda v: isinstance(v, str) and _is_instant(v),
}


def _is_number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except ArithmeticError:
        return False


def _is_instant(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def decode_cursor(cursor: Any, columns: list[tuple[SqlField, Sort]]) -> list:
    """The sort values a cursor carries, each checked against its column's SQL type, so a
    tampered cursor is refused here rather than failing in the database."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as error:
        raise QueryError("invalid cursor", "after") from error
    if not isinstance(values, list) or len(values) != len(columns):
        raise QueryError("invalid cursor", "after")
    for value, (column, _) in zip(values, columns, strict=True):
        if value is not None and not CURSOR_TYPES[column.sql_type](value):
            raise QueryError("invalid cursor", "after")
    return values


def keyset_condition(columns: list[tuple[SqlField, Sort]], last: list) -> tuple[str, list]:
    """Rows strictly after ``last`` in the sort order, nulls placed as each sort says."""
    directions = {sort.direction for _, sort in columns}
    nulls_first = all(sort.nulls == "first" or column.sql == "r.id" for column, sort in columns)
    if len(directions) == 1 and None not in last and nulls_first:
        # One direction, no empty value in the cursor and empty values first in every key
        # (so never after the cursor): "after" is exactly a row comparison, which stops at
        # the first unequal pair and which an index on the keys can seek to (the OR form
        # below makes PostgreSQL read every entry up to the cursor).
        keys = ", ".join(column.sql for column, _ in columns)
        values = ", ".join(f"%s::{column.sql_type}" for column, _ in columns)
        forward = ">" if directions == {"asc"} else "<"
        return f"({keys}) {forward} ({values})", list(last)
    ors, params = [], []
    equal_prefix: list[str] = []
    equal_params: list = []
    for (column, sort), value in zip(columns, last, strict=True):
        expr, cast = column.sql, column.sql_type
        forward = ">" if sort.direction == "asc" else "<"
        null_after = sort.nulls == "last"
        if value is None:
            after = "FALSE" if null_after else f"{expr} IS NOT NULL"
            after_params = []
            equal = f"{expr} IS NULL"
            equal_values = []
        else:
            after = f"{expr} {forward} %s::{cast}"
            after_params = [value]
            if null_after:
                after = f"({after} OR {expr} IS NULL)"
            equal = f"{expr} = %s::{cast}"
            equal_values = [value]
        ors.append(" AND ".join([*equal_prefix, after]))
        params += equal_params + after_params
        equal_prefix.append(equal)
        equal_params = equal_params + equal_values
    return "(" + ") OR (".join(ors) + ")", params


def order_sql(columns: list[tuple[SqlField, Sort]]) -> str:
    return ", ".join(
        f"{column.sql} {sort.direction.upper()} NULLS {sort.nulls.upper()}"
        for column, sort in columns
    )


def base_conditions(
    compiler: QueryCompiler,
    *,
    filter_tree: dict | None,
    search: str | None,
    scope: tuple[str, list],
) -> tuple[list[str], list]:
    """The WHERE conditions (over alias ``r``) every read shares: the entity, live records,
    the permission scope, the filter and the search."""
    # The tenant as a literal too (row-level security applies anyway): it lets the planner use
    # the tenant's partial field indexes (records/indexes.py).
    where = ["r.tenant_id = %s", "r.entity = %s", "r.deleted_at IS NULL"]
    params = [compiler.tenant_id, compiler.entity.key]
    scope_sql, scope_params = scope
    where.append(f"({scope_sql})")
    params += scope_params
    if filter_tree is not None:
        sql, filter_params = compiler.compile_filter(filter_tree)
        # WHERE already treats NULL as false; a COALESCE here would keep PostgreSQL from
        # turning sub-selects (lookup filters) into joins.
        where.append(f"({sql})")
        params += filter_params
    if search is not None and not isinstance(search, str):
        raise QueryError("search takes text", "search")
    if search:
        hidden = compiler.guard.hidden(compiler.entity)
        searchable = [
            key
            for key, f in compiler.entity.fields.items()
            if f.options.get("searchable") and key not in hidden
        ]
        if not searchable:
            raise QueryError(f"{compiler.entity.key} has no searchable field", "search")
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("(" + " OR ".join(f"(r.data->>'{key}') ILIKE %s" for key in searchable) + ")")
        params += [pattern] * len(searchable)
    return where, params


# A hop selecting at least this share of sampled targets is probed in index order: a page
# of 50 then reads about 50 / share records (2,500 at 2 %) instead of the whole entity.
PROBE_SHARE = 0.02
HOP_SAMPLE = 1000


def hops_select_many(compiler: QueryCompiler, filter_tree: dict) -> bool:
    """Whether every lookup hop of the filter selects at least PROBE_SHARE of a sample of its
    target entity's records (the first HOP_SAMPLE by id: a cheap, index-ordered read). Reads
    the hops the compiler noted while compiling the filter."""
    if not compiler.hops:
        return False
    lookups = {
        path.split(".", 1)[0]
        for path in _paths(filter_tree)
        if isinstance(path, str) and "." in path
    }
    targets = {compiler.entity.fields[hop].options["target"] for hop in lookups}
    if len(targets) != 1 or len(compiler.hops) != len(lookups):
        return False  # several hops or one hop tested twice: leave it to the planner
    condition, params = compiler.hops[0]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FILTER (WHERE {condition}), count(*) FROM (SELECT t.data, t.id, "
            f"t.owner_id, t.created_by_id, t.updated_by_id, t.created_at, t.updated_at, "
            f"t.version FROM records_record t WHERE t.tenant_id = %s AND t.entity = %s AND "
            f"t.deleted_at IS NULL ORDER BY t.id LIMIT {HOP_SAMPLE}) t",
            [*params, compiler.tenant_id, next(iter(targets))],
        )
        selected, sampled = cursor.fetchone()
    return sampled > 0 and selected / sampled >= PROBE_SHARE


def _paths(node) -> list:
    if isinstance(node, dict):
        if "field" in node:
            return [node["field"]]
        return [path for child in node.values() for path in _paths(child)]
    if isinstance(node, list):
        return [path for child in node for path in _paths(child)]
    return []


@dataclass
class PageStatement:
    """One page's SQL, not yet run: ``sql`` selects the stored columns of up to ``size`` + 1
    rows then the sort values (columns ``s0``, ``s1``…) in the page's order;
    ``count_sql`` counts every match, when asked for."""

    sql: str
    params: list
    size: int
    sort_types: list[str]  # the SQL type of each sort value (cursors)
    outer_order: str  # the page's order over the sort values' columns
    count_sql: str | None = None
    count_params: list = field(default_factory=list)


PAGE_COLUMNS = "r.id, r.version, r.data, r.owner_id, r.created_at, r.updated_at, r.created_by_id"


def page_statement(
    compiler: QueryCompiler,
    *,
    filter_tree: dict | None,
    sorts: list[Sort],
    first: int,
    after: str | None,
    search: str | None,
    with_total: bool,
    scope: tuple[str, list],
) -> PageStatement:
    """Compile a page (sampling lookup hops to choose how to write them, see hop_sql)."""
    if isinstance(first, bool) or not isinstance(first, int) or not 1 <= first <= MAX_PAGE:
        raise QueryError(f"first must be between 1 and {MAX_PAGE}", "first")
    where, params = base_conditions(compiler, filter_tree=filter_tree, search=search, scope=scope)
    columns = compiler.sort_columns(sorts)
    base_where, base_params = list(where), list(params)
    if compiler.hops and hops_select_many(compiler, filter_tree):
        compiler.hop_style = "probe"
        where, params = base_conditions(
            compiler, filter_tree=filter_tree, search=search, scope=scope
        )
        compiler.hop_style = "join"
    if after:
        sql, cursor_params = keyset_condition(columns, decode_cursor(after, columns))
        where.append(f"({sql})")
        params += cursor_params
    select_sorts = ", ".join(f"{column.sql} AS s{i}" for i, (column, _) in enumerate(columns))
    statement = PageStatement(
        sql=(
            f"SELECT {PAGE_COLUMNS}, {select_sorts} FROM records_record r "
            f"WHERE {' AND '.join(where)} ORDER BY {order_sql(columns)} LIMIT %s"
        ),
        params=[*params, first + 1],
        size=first,
        sort_types=[column.sql_type for column, _ in columns],
        outer_order=", ".join(
            f"s{i} {sort.direction.upper()} NULLS {sort.nulls.upper()}"
            for i, (_, sort) in enumerate(columns)
        ),
    )
    if with_total:
        statement.count_sql = (
            f"SELECT count(*) FROM records_record r WHERE {' AND '.join(base_where)}"
        )
        statement.count_params = base_params
    return statement


def fetch_page(statement: PageStatement) -> Page:
    """Run a page's statement; rows as stored columns, each with its cursor."""
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        fetched = cursor.fetchall()
        total = None
        if statement.count_sql is not None:
            cursor.execute(statement.count_sql, statement.count_params)
            total = cursor.fetchone()[0]
    first = statement.size
    has_next = len(fetched) > first
    fetched = fetched[:first]
    # Django leaves jsonb undecoded on raw cursors.
    rows = [
        {
            "id": row[0],
            "version": row[1],
            "data": json.loads(row[2]) if isinstance(row[2], str) else row[2],
            "owner_id": row[3],
            "created_at": row[4],
            "updated_at": row[5],
            "created_by_id": row[6],
        }
        for row in fetched
    ]
    cursors = Cursors([row[7:] for row in fetched])
    end_cursor = cursors[-1] if cursors else None
    return Page(rows=rows, has_next=has_next, end_cursor=end_cursor, total=total, cursors=cursors)
