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
    env["CELERY_TASK_DEFAULT_QUEUE"] = queue  # what the worker's own tasks send goes there too
    # A connection per task, closed after it: a worker stopped or killed by a test leaves no
    # session on the test database (which must be dropped at the end).
    env["DATABASE_CONN_MAX_AGE"] = "0"
    env["CELERY_DB_REUSE_MAX"] = "0"
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


class Worker:
    """A real Celery worker process consuming ``queue`` through the real broker."""

    def __init__(self, queue: str, env: dict):
        self.queue, self.env = queue, env
        self.log = ROOT / "var" / f"{queue}-{uuid.uuid4().hex[:6]}.log"
        self.log.parent.mkdir(exist_ok=True)
        with self.log.open("w") as log_file:
            self.process = subprocess.Popen(
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

    def kill(self) -> None:
        """SIGKILL: the task in hand dies with the process, nothing acknowledged."""
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # warm shutdown: the task in hand finishes first
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if not os.environ.get("KEEP_WORKER_LOGS"):
            self.log.unlink(missing_ok=True)


@pytest.fixture
def start_worker(django_db_setup, django_db_blocker, test_task_queue):
    """Start real workers on this run's queue (``start_worker()``); all stopped at the end."""
    started: list[Worker] = []
    with django_db_blocker.unblock():
        env = worker_environment(test_task_queue)

    def start() -> Worker:
        started.append(Worker(test_task_queue, env))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def celery_worker_queue(start_worker, test_task_queue):
    """A real Celery worker process consuming this run's queue through the real broker.

    Function-scoped: the worker stops (finishing its task) before the test's database is
    emptied, so no task of one test runs against the next one's data.
    """
    start_worker()
    return test_task_queue


def signed_in(client, user, tenant):
    """``client`` signed in as ``user`` with ``tenant`` chosen for the session."""
    client.force_login(user)
    session = client.session
    session["tenant_id"] = tenant.pk
    session.save()
    return client


@pytest.fixture
def small_crm_pack(monkeypatch, tmp_path):
    """The small CRM (account, contact, opportunity) the engine tests were written against, as
    the pack ``crm``: they rename and remove its fields, which the standard pack's layouts and
    reports all name, and it keeps them independent of the standard pack's growth."""
    from metadata import packs

    folder = tmp_path / "packs"
    folder.mkdir()
    for path in packs.PACKS_DIR.glob("*.json"):
        (folder / path.name).write_text(path.read_text())
    small = Path(__file__).parent / "packs" / "crm_small.json"
    (folder / "crm.json").write_text(small.read_text())
    monkeypatch.setattr(packs, "PACKS_DIR", folder)
