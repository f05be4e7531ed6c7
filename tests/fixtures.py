"""Fixtures shared by every suite."""

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from tenants.context import tenant_context
from tenants.models import Membership, Tenant, User
from tenants.services import create_tenant

PASSWORD = "correct-horse-battery-9"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class TenantWithAdmin:
    tenant: Tenant
    admin: User


@pytest.fixture
def make_tenant(db):
    def make(
        slug: str, *, name: str | None = None, email: str | None = None, pack: str = "crm"
    ) -> TenantWithAdmin:
        email = email or f"admin@{slug}.test"
        tenant = create_tenant(
            slug=slug,
            name=name or slug.title(),
            pack=pack,
            admin_email=email,
            admin_password=PASSWORD,
        )
        return TenantWithAdmin(tenant=tenant, admin=User.objects.get(email=email))

    return make


@pytest.fixture
def add_member(db):
    def add(tenant: Tenant, email: str, roles=("sales_rep",)) -> User:
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, password=PASSWORD
        )
        with tenant_context(tenant):
            Membership.objects.create(tenant=tenant, user=user, roles=list(roles))
        return user

    return add


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme", name="Acme Ltd")


@pytest.fixture
def globex(make_tenant):
    return make_tenant("globex", name="Globex Corp")


def worker_environment(queue: str) -> dict:
    """The environment of a worker process that talks to this test run's database."""
    from django.db import connections

    env = dict(os.environ)
    env["DATABASE_NAME"] = connections["default"].settings_dict["NAME"]
    env["PYTHONPATH"] = str(ROOT)
    env["LOG_FORMAT"] = "console"
    return env


@pytest.fixture(scope="session", autouse=True)
def test_task_queue():
    """Tasks sent during the tests go to a queue of this run's own, never to a developer's
    worker; what is left of it is removed at the end."""
    from config.celery import app

    queue = f"test-{uuid.uuid4().hex[:12]}"
    previous, app.conf.task_default_queue = app.conf.task_default_queue, queue
    yield queue
    app.conf.task_default_queue = previous
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for message in Path(options["data_folder_in"]).glob(f"*.{queue}.msg"):
            message.unlink(missing_ok=True)
        (Path(options["control_folder"]) / f"{queue}.exchange").unlink(missing_ok=True)


@pytest.fixture
def celery_worker_queue(django_db_setup, django_db_blocker, test_task_queue):
    """A real Celery worker process consuming this run's queue through the real broker.

    Function-scoped: the worker stops (finishing its task) before the test's database is
    emptied, so no task of one test runs against the next one's data.
    """
    queue = test_task_queue
    with django_db_blocker.unblock():
        env = worker_environment(queue)
    log = ROOT / "var" / f"{queue}-{uuid.uuid4().hex[:6]}.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--app",
                "config",
                "worker",
                "--pool",
                "solo",
                "--queues",
                queue,
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"{queue}-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        yield queue
    finally:
        process.terminate()  # warm shutdown: the task in hand finishes first
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.unlink(missing_ok=True)
