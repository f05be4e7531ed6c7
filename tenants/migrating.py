"""While ``migrate`` runs as the owner role, the default alias is that same connection.

Some third-party data migrations (Wagtail's) read and write through the default alias instead
of the migration's connection; as the runtime role they would neither have the privileges nor
see the tables the migration has just created in its open transaction.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections


@contextmanager
def default_is(alias: str):
    if alias == DEFAULT_DB_ALIAS:
        yield
        return
    runtime = connections[DEFAULT_DB_ALIAS]
    connections[DEFAULT_DB_ALIAS] = connections[alias]
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS] = runtime
