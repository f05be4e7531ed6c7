"""Built-in functions the query compiler needs marked ``LEAKPROOF`` under row-level security.

With a policy on the table, PostgreSQL evaluates a query's own conditions only after the
policy's, unless every function in them is leakproof, and an index condition is such an early
evaluation. ``data->>'close_date' >= '2024-03-01'`` calls ``jsonb_object_field_text``, which
PostgreSQL ships without the mark, so a range or equality filter on a field index became a
filter over the whole index: 370 ms instead of 0.1 ms for a month of close dates among
1,000,000 records (docs/decisions/0003). These functions return NULL for anything they cannot
read and never raise an error that depends on the data, which is what the mark promises.

Only a superuser may set the mark. The embedded server's bootstrap does it (in ``template1``
too, so test databases inherit it); ``migrate`` does it when the owner role is a superuser; a
system check warns, with the statements to run, when it is missing.
"""

from __future__ import annotations

FUNCTIONS = (
    "pg_catalog.jsonb_object_field_text(jsonb, text)",  # data->>'key'
    "pg_catalog.jsonb_object_field(jsonb, text)",  # data->'key'
)


def statements() -> list[str]:
    return [f"ALTER FUNCTION {function} LEAKPROOF" for function in FUNCTIONS]


def missing(cursor, functions: tuple[str, ...] = FUNCTIONS) -> list[str]:
    """The functions not yet marked in the connected database."""
    absent = []
    for function in functions:
        cursor.execute("SELECT proleakproof FROM pg_proc WHERE oid = %s::regprocedure", [function])
        if not cursor.fetchone()[0]:
            absent.append(function)
    return absent


def mark_if_superuser(cursor) -> bool:
    """Set the marks when the connected role may; whether they are all set afterwards."""
    if not missing(cursor):
        return True
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if not cursor.fetchone()[0]:
        return False
    for statement in statements():
        cursor.execute(statement)
    return True
