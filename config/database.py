"""Database connections from the environment.

Two aliases reach the same database with different roles:

``default``
    The runtime role: neither superuser nor table owner, without BYPASSRLS. Every request, task
    and command uses it, so PostgreSQL's row-level security applies to all of them.
``owner``
    The role that owns the tables; only ``migrate`` (and the test database set-up) use it.

``DATABASE_URL`` names the owner's connection. The runtime role is ``DATABASE_APP_URL`` when
set, otherwise the same server and database with ``DATABASE_APP_USER`` (default ``crm_app``)
and ``DATABASE_APP_PASSWORD``. With ``DATABASE_URL`` unset the embedded PostgreSQL under
``VAR_DIR`` is started or reused.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url

DEFAULT_DATABASE = "crm"
EMBEDDED_OWNER = "crm_owner"


def redact(url: str) -> str:
    """The URL with its password replaced, for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def database_settings(env: os._Environ | dict, var_dir: Path) -> dict:
    app_user = env.get("DATABASE_APP_USER", "crm_app")
    name_override = env.get("DATABASE_NAME")
    if env.get("DATABASE_URL"):
        owner = dj_database_url.parse(env["DATABASE_URL"], conn_max_age=0)
        owner["SOURCE"] = redact(env["DATABASE_URL"])
        if env.get("DATABASE_APP_URL"):
            app = dj_database_url.parse(env["DATABASE_APP_URL"], conn_max_age=0)
        else:
            app = {**owner, "USER": app_user, "PASSWORD": env.get("DATABASE_APP_PASSWORD", "")}
        app["SOURCE"] = redact(env.get("DATABASE_APP_URL") or env["DATABASE_URL"])
        embedded = False
    else:
        from config.embedded_db import ensure_running

        database = name_override or DEFAULT_DATABASE
        server = ensure_running(
            var_dir, database=DEFAULT_DATABASE, owner=EMBEDDED_OWNER, app_user=app_user
        )
        base = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": database,
            "HOST": server.socket_dir,
            "PORT": str(server.port),
            "PASSWORD": "",
        }
        owner = {**base, "USER": EMBEDDED_OWNER}
        app = {**base, "USER": app_user}
        owner["SOURCE"] = app["SOURCE"] = f"embedded PostgreSQL in {var_dir / 'pgdata'}"
        embedded = True
    for alias in (owner, app):
        if name_override:
            alias["NAME"] = name_override
        alias["CONN_MAX_AGE"] = int(env.get("DATABASE_CONN_MAX_AGE", "60"))
        alias["CONN_HEALTH_CHECKS"] = True
        alias.setdefault("OPTIONS", {})["connect_timeout"] = 5
        alias["EMBEDDED"] = embedded
    return {"default": app, "owner": owner}
