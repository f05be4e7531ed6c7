"""Checks that the backing services answer, with errors that name the one that does not."""

from __future__ import annotations

import sys

from django.conf import settings
from django.db import connections


class BackingServiceUnavailable(RuntimeError):
    """A database or broker the platform is configured to use cannot be reached."""


def check_database(alias: str = "default") -> None:
    connection = connections[alias]
    source = connection.settings_dict.get("SOURCE", alias)
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        raise BackingServiceUnavailable(
            f"Cannot reach the database {source} as role "
            f"{connection.settings_dict.get('USER')!r}: {str(error).strip()}"
        ) from error


def check_broker() -> None:
    from config.celery import app

    url = settings.CELERY_BROKER_URL
    try:
        with app.connection_for_write(url) as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
    except Exception as error:
        from config.database import redact

        raise BackingServiceUnavailable(
            f"Cannot reach the Celery broker {redact(url)} (CELERY_BROKER_URL): "
            f"{str(error).strip()}"
        ) from error


def verify_backing_services() -> None:
    check_database()
    check_broker()


def exit_unless_backing_services() -> None:
    """For process start-up hooks: print the problem and exit instead of starting half-broken."""
    try:
        verify_backing_services()
    except BackingServiceUnavailable as error:
        sys.stderr.write(f"Startup failed: {error}\n")
        raise SystemExit(1) from error
