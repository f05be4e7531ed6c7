"""Running a compiled statement, prepared once per database connection when connections are
kept between requests (``DATABASE_CONN_MAX_AGE``): PostgreSQL then parses and plans it once
rather than on every request."""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict

from django.db import DatabaseError, connection, transaction

PREPARED_PER_CONNECTION = 200
PLACEHOLDER = re.compile(r"%([s%])")


def numbered(sql: str) -> tuple[str, int]:
    """psycopg2's ``%s`` placeholders as PostgreSQL's ``$1``, ``$2``… (``%%`` as ``%``)."""
    count = 0

    def replace(match):
        nonlocal count
        if match.group(1) == "%":
            return "%"
        count += 1
        return f"${count}"

    return PLACEHOLDER.sub(replace, sql), count


class PreparedStatements:
    """The statements prepared on one connection, least recently used first."""

    def __init__(self, raw):
        self.raw = raw
        self.names: OrderedDict[str, str | None] = OrderedDict()  # SQL -> name (None: failed)

    def name_for(self, cursor, sql: str) -> str | None:
        if sql in self.names:
            self.names.move_to_end(sql)
            return self.names[sql]
        name = "crm_gql_" + hashlib.sha1(sql.encode()).hexdigest()[:20]
        text, _ = numbered(sql)
        try:
            with transaction.atomic():  # a savepoint: a failure must not abort the request
                cursor.execute(f"PREPARE {name} AS {text}")
        except DatabaseError:
            name = None
        self.names[sql] = name
        while len(self.names) > PREPARED_PER_CONNECTION:
            _, old = self.names.popitem(last=False)
            if old is not None:
                cursor.execute(f"DEALLOCATE {old}")
        return name


def prepared_statements() -> PreparedStatements | None:
    if not connection.settings_dict.get("CONN_MAX_AGE"):
        return None  # a connection per request: preparing would only add a round trip
    raw = connection.connection
    state = getattr(connection, "crm_prepared", None)
    if state is None or state.raw is not raw:  # a new connection has none of them
        state = PreparedStatements(raw)
        connection.crm_prepared = state
    return state


def run(sql: str, params: list) -> str:
    """The statement's one value (the response body)."""
    with connection.cursor() as cursor:
        prepared = prepared_statements()
        name = prepared.name_for(cursor, sql) if prepared is not None else None
        if name is None:
            cursor.execute(sql, params)
        elif params:
            cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
        else:
            cursor.execute(f"EXECUTE {name}")
        return cursor.fetchone()[0]
