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


@pytest.fixture(scope="session")
def celery_worker_queue(django_db_setup, django_db_blocker):
    """A real Celery worker process consuming a queue of its own, through the real broker."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    with django_db_blocker.unblock():
        env = worker_environment(queue)
    log = ROOT / "var" / f"{queue}.log"
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
                f"{queue}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.unlink(missing_ok=True)
        # The filesystem broker keeps a routing table per queue; drop this run's.
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            control = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["control_folder"])
            (control / f"{queue}.exchange").unlink(missing_ok=True)
