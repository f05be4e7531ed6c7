"""Exactly-once delivery with a real Celery worker and the real broker (the filesystem
transport by default, Redis or RabbitMQ when CELERY_BROKER_URL names one): a worker killed
mid-task, the broker down when a record is saved, the same event delivered twice."""

import http.server
import threading
import time
from contextlib import contextmanager

import pytest

from config.celery import app
from records.models import Record
from tenants.context import tenant_context
from tests.workflows.conftest import automation
from workflows.delivery import deliver
from workflows.models import ActionRun, OutboxEvent
from workflows.tasks import deliver_event, sweep_outbox

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_S = 60


def wait_for(check, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"waited {WAIT_S} s for {what}")


def state(flows) -> dict:
    with tenant_context(flows.tenant):
        deals = list(Record.objects.filter(entity="deal").order_by("pk"))
        return {
            "deals": [(d.data["name"], d.data.get("probability")) for d in deals],
            "events": list(OutboxEvent.objects.order_by("pk").values_list("status", flat=True)),
            "runs": ActionRun.objects.count(),
        }


class Gate(http.server.BaseHTTPRequestHandler):
    """A webhook receiver that holds the first request until released."""

    arrived = threading.Event()
    release = threading.Event()
    keys: list[str] = []

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        Gate.keys.append(self.headers["Idempotency-Key"])
        Gate.arrived.set()
        Gate.release.wait(timeout=120)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gate():
    Gate.arrived, Gate.release, Gate.keys = threading.Event(), threading.Event(), []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gate)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    Gate.release.set()
    server.shutdown()


def follow_up(flows, url: str | None = None):
    """On a new deal: create a follow-up deal, (call a webhook,) set the probability."""
    actions = [
        {
            "type": "create_record",
            "entity": "deal",
            "values": {"name": "Follow-up", "stage": "proposal"},
            "expressions": {"company": "record.company"},
        },
        {"type": "set_fields", "values": {"probability": 40}},
    ]
    if url:
        actions.insert(1, {"type": "webhook", "url": url})
    service = flows.publish([automation("follow_up", actions, condition="record.stage == 'new'")])
    return service, service.create("company", {"name": "Acme"})


def test_a_saved_record_reaches_a_real_worker(flows, start_worker):
    start_worker()
    service, company = follow_up(flows)
    service.create("deal", {"name": "Big", "company": company.id})
    done = wait_for(lambda: state(flows)["events"] == ["done", "done"], "both events done")
    assert done
    assert state(flows) == {
        "deals": [("Big", "40.00"), ("Follow-up", None)],
        "events": ["done", "done"],
        "runs": 2,
    }


def test_a_worker_killed_mid_task_applies_each_action_once(flows, start_worker, gate, settings):
    settings.WORKFLOW_SWEEP_GRACE_S = 0
    worker = start_worker()
    service, company = follow_up(flows, gate)
    service.create("deal", {"name": "Big", "company": company.id})
    assert Gate.arrived.wait(WAIT_S), "the webhook was never called"
    # The follow-up is created (its action committed), the webhook is in flight: kill -9.
    worker.kill()
    # The follow-up's own event waits in the queue behind the one the worker died with.
    assert state(flows) == {
        "deals": [("Big", None), ("Follow-up", None)],
        "events": ["pending", "pending"],
        "runs": 1,
    }
    Gate.release.set()
    start_worker()
    sweep_outbox()  # what the beat does: the event was lost with the worker's message
    wait_for(lambda: state(flows)["events"][0] == "done", "the event delivered again")
    wait_for(lambda: all(s == "done" for s in state(flows)["events"]), "every event done")
    assert state(flows)["deals"] == [("Big", "40.00"), ("Follow-up", None)]  # one follow-up
    assert state(flows)["runs"] == 3
    # The webhook went out twice, with the same idempotency key for the receiver to dedupe.
    assert len(Gate.keys) == 2
    assert Gate.keys[0] == Gate.keys[1]


@contextmanager
def broker_down():
    """The publishing side's broker unreachable (nothing listens on port 1)."""
    previous = app.conf.broker_url

    def reconnect(url: str) -> None:
        # Celery keeps the pools of the broker it was given: drop them (kombu keeps each
        # broker's own, so the first comes back as it was).
        app._pool = None
        app.amqp._producer_pool = None
        app.conf.broker_url = url

    reconnect("redis://127.0.0.1:1/0")
    try:
        yield
    finally:
        reconnect(previous)


def test_the_broker_down_at_save_loses_nothing(flows, start_worker, settings):
    settings.WORKFLOW_SWEEP_GRACE_S = 0
    service, company = follow_up(flows)
    start_worker()
    with broker_down():
        service.create("deal", {"name": "Big", "company": company.id})  # saved all the same
        assert state(flows) == {"deals": [("Big", None)], "events": ["pending"], "runs": 0}
        assert sweep_outbox() == 0  # still down: still pending
    assert sweep_outbox() == 1
    wait_for(lambda: all(s == "done" for s in state(flows)["events"]), "the event delivered")
    assert state(flows)["deals"] == [("Big", "40.00"), ("Follow-up", None)]


def test_the_same_event_delivered_twice_has_one_effect(flows, start_worker, monkeypatch):
    monkeypatch.setattr("workflows.outbox.dispatch", lambda tenant_id, ids: 0)
    service, company = follow_up(flows)
    service.create("deal", {"name": "Big", "company": company.id})
    with tenant_context(flows.tenant):
        (event,) = OutboxEvent.objects.all()
    # Twice through the broker to a real worker...
    start_worker()
    for _ in range(2):
        deliver_event.apply_async((flows.tenant.pk, event.pk))
    wait_for(lambda: state(flows)["events"][0] == "done", "the event delivered")
    time.sleep(1)  # the second message too
    assert state(flows)["deals"] == [("Big", "40.00"), ("Follow-up", None)]
    assert state(flows)["runs"] == 2


def test_two_deliveries_at_the_same_moment_apply_each_action_once(flows, gate, monkeypatch):
    """Two workers holding the same event at once: the second waits on the first's action
    record and skips what it applied."""
    monkeypatch.setattr("workflows.outbox.dispatch", lambda tenant_id, ids: 0)
    service, company = follow_up(flows, gate)
    service.create("deal", {"name": "Big", "company": company.id})
    with tenant_context(flows.tenant):
        (event,) = OutboxEvent.objects.all()
    outcomes = []

    def run():
        from django.db import connection

        try:
            outcomes.append(deliver(flows.tenant.pk, event.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    assert Gate.arrived.wait(WAIT_S)
    time.sleep(0.5)  # the other delivery reaches the webhook's action record and waits
    Gate.release.set()
    for thread in threads:
        thread.join(timeout=WAIT_S)
    # Both finish; the second either found the event done or did nothing of it.
    assert len(outcomes) == 2
    assert set(outcomes) <= {"done", "skipped"}
    assert state(flows)["deals"] == [("Big", "40.00"), ("Follow-up", None)]
    assert state(flows)["runs"] == 3
    assert len(Gate.keys) == 1  # the second delivery skipped the webhook: it had been sent


def test_a_bulk_create_fans_its_events_out_through_a_worker(flows, start_worker, monkeypatch):
    """120 deals in one bulk create: the request sends one fan-out message, a worker turns it
    into a delivery message per event, and each automation runs once."""
    from records.bulk import BulkWriter
    from workflows import tasks

    sent = []
    original = tasks.fan_out_events.apply_async
    monkeypatch.setattr(
        tasks.fan_out_events,
        "apply_async",
        lambda args, **kwargs: sent.append(len(args[1])) or original(args, **kwargs),
    )
    start_worker()
    service = flows.publish(
        [automation("mark", [{"type": "set_fields", "values": {"probability": 30}}])]
    )
    company = service.create("company", {"name": "Acme"})
    BulkWriter(service).create(
        "deal", [{"name": f"D{n}", "company": company.id} for n in range(120)]
    )
    assert sent == [120]
    wait_for(
        lambda: set(state(flows)["events"]) == {"done"} and len(state(flows)["events"]) == 120,
        "every event delivered",
    )
    assert state(flows)["runs"] == 120
    assert {probability for _, probability in state(flows)["deals"]} == {"30.00"}
