"""Start-up errors that name the unreachable service, and ``/healthz``."""

import json
import logging
import os
import subprocess
import sys

import pytest

from tests.fixtures import ROOT


def run(args, **env):
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_unreachable_database_url_is_named_and_the_password_hidden():
    result = run(["manage.py", "migrate"], DATABASE_URL="postgres://crm:s3cret@127.0.0.1:1/nowhere")
    assert result.returncode == 1
    assert "Cannot reach the database postgres://crm:***@127.0.0.1:1/nowhere" in result.stderr
    assert "s3cret" not in result.stderr


@pytest.mark.parametrize("program", ["worker", "beat"])
def test_unreachable_broker_stops_worker_and_beat_with_its_name(program, django_db_setup):
    from django.db import connections

    result = run(
        ["-m", "celery", "--app", "config", program],
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
        DATABASE_NAME=connections["default"].settings_dict["NAME"],
    )
    assert result.returncode == 1
    assert (
        "Startup failed: Cannot reach the Celery broker redis://127.0.0.1:1/0 (CELERY_BROKER_URL)"
    ) in result.stderr


def test_healthz_reports_database_and_broker(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": {"ok": True}, "broker": {"ok": True}}


def test_healthz_reports_an_unreachable_broker(db, client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == {"ok": True}
    assert body["broker"]["ok"] is False
    assert "redis://127.0.0.1:1/0" in body["broker"]["error"]


def test_requests_are_logged_as_json_lines_with_a_request_id(db, client, caplog):
    caplog.set_level(logging.INFO, logger="crm.request")
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-123")
    assert response["X-Request-ID"] == "req-123"
    record = next(r for r in caplog.records if r.name == "crm.request")
    formatter = logging.getLogger().handlers[0].formatter
    entry = json.loads(formatter.format(record))
    assert entry["event"] == "request"
    assert entry["request_id"] == "req-123"
    assert (entry["path"], entry["status"], entry["level"]) == ("/healthz", 200, "info")
