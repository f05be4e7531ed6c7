"""The embedded PostgreSQL: several processes starting it at once share one server."""

import subprocess
import sys

import psycopg2

from config import embedded_db
from tenants import leakproof
from tests.fixtures import ROOT

START = """
import sys
from pathlib import Path
from config.embedded_db import ensure_running
server = ensure_running(Path(sys.argv[1]), database="crm", owner="crm_owner", app_user="crm_app")
print(server.socket_dir, server.port)
"""


def test_concurrent_starts_share_one_server_with_the_roles_bootstrapped(tmp_path):
    var_dir = tmp_path / "var"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", START, str(var_dir)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        outputs = [process.communicate(timeout=120) for process in processes]
        assert [process.returncode for process in processes] == [0, 0, 0], outputs
        assert len({out.strip() for out, _ in outputs}) == 1
        server = embedded_db.status(var_dir)
        assert server is not None
        with psycopg2.connect(**server.connection_kwargs("crm_app", "crm")) as conn:
            with conn.cursor() as cursor:
                cursor.execute(
                    "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
                )
                assert cursor.fetchone() == (False, False)
                cursor.execute(
                    "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'crm'"
                )
                assert cursor.fetchone() == ("crm_owner",)
                # The bootstrap marked the leakproof functions here and in template1.
                assert leakproof.missing(cursor) == []
        conn.close()
        assert_marks_in_databases_made_before_them(server)
    finally:
        embedded_db.stop(var_dir)
    assert embedded_db.status(var_dir) is None


def assert_marks_in_databases_made_before_them(server):
    """A database copied from template0 (as one made before the marks existed) has none until
    ``mark_leakproof``, which ``migrate`` calls in embedded mode."""
    admin = psycopg2.connect(**server.connection_kwargs("crm_owner", "crm"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("CREATE DATABASE crm_old TEMPLATE template0")
    admin.close()
    with psycopg2.connect(**server.connection_kwargs("crm_owner", "crm_old")) as conn:
        with conn.cursor() as cursor:
            assert len(leakproof.missing(cursor)) == 2
            assert leakproof.mark_if_superuser(cursor) is False  # the owner may not
    conn.close()
    assert embedded_db.mark_leakproof(server.socket_dir, server.port, "crm_old") is True
    with psycopg2.connect(**server.connection_kwargs("crm_owner", "crm_old")) as conn:
        with conn.cursor() as cursor:
            assert leakproof.missing(cursor) == []
    conn.close()


def test_platform_directory_is_not_a_python_package():
    # A package named `platform` would shadow the standard library module.
    assert not (ROOT / "platform" / "__init__.py").exists()
    procfile = (ROOT / "platform" / "Procfile").read_text().splitlines()
    assert [line.split(":", 1)[0] for line in procfile if line.strip()] == ["web", "worker", "beat"]
