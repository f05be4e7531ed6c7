"""``python -m bench workflows [--quick]``: workflow delivery from a record's commit to its applied
action, with one and with two real Celery workers (issue 7).

A tenant of its own (``bench-flows``, crm pack) holds one automation: on every new opportunity,
``set_fields`` probability 40. For 1, then 2 workers (``celery worker --pool solo`` subprocesses
on a queue of this run's own, through the environment's broker: the filesystem transport when
``CELERY_BROKER_URL`` is unset), the harness

- warms the workers up (a few events, not counted);
- **burst**: creates N opportunities through ``RecordService``, one per transaction, as fast
  as it can, stamping each commit (an ``on_commit`` callback registered before the service's
  own, so it runs right after COMMIT and before the event is handed to the broker), then waits
  until every event is delivered. events/s = N / (last ``ActionRun.applied_at`` − first
  commit); delay = ``applied_at`` − the record's commit;
- **steady**: creates opportunities at a fixed rate below capacity and reports the delays;
- checks exactly once: one event per record, every event ``done``, one ActionRun each, and each
  opportunity at version 2 with probability 40 (created, then updated once by the action).

Then, with the workers stopped, it delivers a few events in this process (``deliver``, what the
task runs) counting statements, transactions and database time, to show where a worker's time
goes. Every record, event and action run it made is removed afterwards (records through the
records service: delete, then purge), so reruns start clean and the read benchmarks' tenants are
never touched.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from bench import report
from bench.dataset import ADMIN_EMAIL, ADMIN_PASSWORD
from bench.timing import p50, p95

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
SLUG = "bench-flows"
ACCOUNTS = 20  # the opportunities point at these in turn (one account would serialize rollups)
PROBABILITY = 40
AUTOMATION = {
    "key": "bench_mark",
    "type": "automation",
    "entity": "opportunity",
    "trigger": {"on": "create"},
    "actions": [{"type": "set_fields", "values": {"probability": PROBABILITY}}],
}
WORKER_COUNTS = (1, 2)
READY_S = 90.0


@dataclass(frozen=True)
class FlowProfile:
    mode: str
    events: int  # burst
    steady_rate: float  # events/s
    steady_s: float
    warmup: int
    wait_s: float  # the longest a phase may wait for its deliveries
    in_process: int  # events delivered in this process for the statement counts


PROFILES = {
    "quick": FlowProfile("quick", 200, 20.0, 10.0, 10, 300.0, 50),
    "full": FlowProfile("full", 2000, 20.0, 30.0, 20, 1200.0, 200),
}


# -- statistics (no database: tests/bench/test_workflows_bench.py) -------------------------------


@dataclass(frozen=True)
class Delivered:
    """One record and what became of its event(s)."""

    record_id: int
    committed: float  # epoch seconds, stamped right after the record's COMMIT
    events: int  # outbox events written for it (1 expected)
    status: str | None  # the event's status
    created_at: float | None  # OutboxEvent.created_at (set before the INSERT, in the write)
    runs: int  # ActionRun rows of its event(s) (1 expected)
    applied_at: float | None  # the first ActionRun.applied_at (now() in the action's transaction)
    finished_at: float | None  # the event marked done
    version: int  # the record's version (2: created, then updated once by the action)
    probability: float | None


def exactly_once(rows: list[Delivered], expected: int) -> bool:
    return len(rows) == expected and all(
        row.events == 1
        and row.status == "done"
        and row.runs == 1
        and row.version == 2
        and row.probability == PROBABILITY
        for row in rows
    )


def phase_stats(rows: list[Delivered], expected: int) -> dict:
    """Rates and delays of one phase; delays in ms from the record's commit to applied_at."""
    applied = [row for row in rows if row.applied_at is not None]
    stats = {
        "events": len(rows),
        "applied": len(applied),
        "complete": len(applied) == expected == len(rows),
        "exactly_once": exactly_once(rows, expected),
    }
    if not applied:
        return stats
    first_commit = min(row.committed for row in rows)
    last_commit = max(row.committed for row in rows)
    first_applied = min(row.applied_at for row in applied)
    last_applied = max(row.applied_at for row in applied)
    delays = [(row.applied_at - row.committed) * 1000 for row in applied]
    from_outbox = [
        (row.applied_at - row.created_at) * 1000 for row in applied if row.created_at is not None
    ]
    done = [
        (row.finished_at - row.committed) * 1000 for row in applied if row.finished_at is not None
    ]
    span = last_applied - first_commit
    stats.update(
        {
            "events_per_s": round(len(applied) / span, 1) if span > 0 else None,
            "delay_p50_ms": round(p50(delays), 1),
            "delay_p95_ms": round(p95(delays), 1),
            "delay_max_ms": round(max(delays), 1),
            "delay_from_outbox_created_p95_ms": round(p95(from_outbox), 1) if from_outbox else None,
            "done_delay_p95_ms": round(p95(done), 1) if done else None,
            "commits_per_s": (
                round((len(rows) - 1) / (last_commit - first_commit), 1)
                if last_commit > first_commit
                else None
            ),
            "drain_events_per_s": (
                round((len(applied) - 1) / (last_applied - first_applied), 1)
                if last_applied > first_applied
                else None
            ),
            "span_s": round(span, 2),
        }
    )
    return stats


TASK_DONE = re.compile(r"Task workflows\.tasks\.deliver_event\[[^\]]+\] succeeded in ([0-9.]+)s")


def task_seconds(log_text: str) -> list[float]:
    """The run times Celery logged for deliver_event tasks ("succeeded in 0.0123s")."""
    return [float(found) for found in TASK_DONE.findall(log_text)]


def paced(
    count: int,
    rate: float,
    action: Callable[[int], None],
    clock=time.perf_counter,
    sleep=time.sleep,
):
    """Call ``action(i)`` for i < count at ``rate`` per second (a schedule, not a sleep per call:
    a slow call does not shift the ones after it)."""
    started = clock()
    for index in range(count):
        wait = started + index / rate - clock()
        if wait > 0:
            sleep(wait)
        action(index)
    return clock() - started


# -- the tenant ---------------------------------------------------------------------------------


def wanted_document() -> dict:
    """The current crm pack with its workflows replaced by the benchmark's automation."""
    import copy

    from bench.dataset import PACK
    from metadata.packs import load_pack

    document = copy.deepcopy(load_pack(PACK))
    document["workflows"] = [AUTOMATION]
    return document


def purge_all(tenant, entity: str, cursor) -> list[int]:
    """Delete and purge every record of the entity through the records service (references
    and rollups follow), then their audit entries; the ids purged."""
    from records.service import RecordService

    service = RecordService.system(tenant)
    cursor.execute(
        "SELECT id, deleted_at IS NOT NULL FROM records_record WHERE entity = %s", [entity]
    )
    found = cursor.fetchall()
    for record_id, deleted in found:
        if not deleted:
            service.delete(entity, record_id)
        service.purge(entity, record_id)
    ids = [row[0] for row in found]
    if ids:
        cursor.execute("DELETE FROM records_auditentry WHERE record_id = ANY(%s)", [ids])
    return ids


def remove_accounts(tenant, say) -> None:
    """Purge the tenant's accounts (made under an older configuration) through the service,
    after its opportunities (they restrict deleting an account)."""
    from tenants.context import tenant_context

    cleanup(tenant, say)
    with tenant_context(tenant), connection.cursor() as cursor:
        found = purge_all(tenant, "account", cursor)
        cursor.execute("DELETE FROM workflows_actionrun WHERE tenant_id = %s", [tenant.pk])
        cursor.execute("DELETE FROM workflows_outboxevent WHERE tenant_id = %s", [tenant.pk])
    say(f"{SLUG}: {len(found)} accounts of the older configuration purged")


def ensure_tenant(say):
    """The benchmark's tenant on the current crm pack with only the benchmark's automation
    published (a tenant of an older pack is brought up to date: its accounts are made again),
    and its accounts; (tenant, user, account ids)."""
    from bench.dataset import bring_up_to_date
    from records.service import RecordService
    from tenants.context import tenant_context
    from tenants.models import Tenant, User
    from tenants.services import create_tenant

    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        tenant = create_tenant(
            slug=SLUG,
            name="Bench workflows",
            pack="crm",
            admin_email=ADMIN_EMAIL,
            admin_password=ADMIN_PASSWORD,
        )
        say(f"tenant {SLUG} created")
    user = User.objects.get(email=ADMIN_EMAIL)
    bring_up_to_date(tenant, wanted_document(), say, lambda: remove_accounts(tenant, say))
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM records_record WHERE entity = 'account' AND deleted_at IS NULL "
            "ORDER BY id"
        )
        accounts = [row[0] for row in cursor.fetchall()]
    service = RecordService(tenant, user)
    for index in range(len(accounts), ACCOUNTS):
        accounts.append(service.create("account", {"name": f"Flow account {index:02d}"}).id)
    return tenant, user, accounts[:ACCOUNTS]


def config_facts(tenant) -> dict:
    """Which configuration the run measured: the crm pack's, workflows aside."""
    from bench.dataset import config_facts as facts_of
    from metadata.publish import active_version, document_of

    facts = facts_of(tenant)
    del facts["config_is_current_pack"]  # by design: its workflows are the benchmark's
    facts["config_is_pack_with_bench_automation"] = (
        document_of(active_version(tenant)) == wanted_document()
    )
    return facts


def describe_config(facts: dict) -> str:
    return (
        f"configuration: the {facts['pack']} pack ({facts['pack_file']}) with its workflows "
        f"replaced by {AUTOMATION['key']}, version {facts['config_version']} of {SLUG}, digest "
        f"{facts['config_digest']}"
    )


def cleanup(tenant, say) -> dict:
    """Remove every opportunity of the tenant (delete, then purge: references and the accounts'
    rollups follow), their audit entries, and every outbox event and action run."""
    from tenants.context import tenant_context

    started = time.perf_counter()
    with tenant_context(tenant), connection.cursor() as cursor:
        found = purge_all(tenant, "opportunity", cursor)
        cursor.execute("DELETE FROM workflows_actionrun WHERE tenant_id = %s", [tenant.pk])
        runs = cursor.rowcount
        cursor.execute("DELETE FROM workflows_outboxevent WHERE tenant_id = %s", [tenant.pk])
        events = cursor.rowcount
        cursor.execute(
            "SELECT count(*) FILTER (WHERE entity = 'opportunity'), "
            "COALESCE(sum((data->>'open_opportunities')::int) "
            "FILTER (WHERE entity = 'account'), 0) FROM records_record"
        )
        left, open_count = cursor.fetchone()
    if found or events:
        say(
            f"cleanup: purged {len(found):,} opportunities, deleted {events:,} events and "
            f"{runs:,} action runs in {time.perf_counter() - started:.1f} s"
        )
    if left or open_count:
        say(f"cleanup left {left} opportunities, accounts count {open_count} open ones")
    return {"purged": len(found), "events": events, "runs": runs, "left": left + open_count}


# -- workers ------------------------------------------------------------------------------------


class Worker:
    """A ``celery worker --pool solo`` process on the benchmark's queue (as tests/fixtures.py)."""

    def __init__(self, queue: str, index: int, variant: dict, profile: Path | None = None):
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DATABASE_NAME": os.environ.get("DATABASE_NAME", "crm_bench"),
                "CELERY_TASK_DEFAULT_QUEUE": queue,
                "PYTHONPATH": str(ROOT),
                "LOG_FORMAT": "console",
            }
        )
        if variant.get("polling_interval") is not None:
            env["DJANGO_SETTINGS_MODULE"] = "bench.workflows_settings"
            env["BENCH_BROKER_POLLING_INTERVAL"] = str(variant["polling_interval"])
        if variant.get("db_reuse_max"):
            env["DJANGO_SETTINGS_MODULE"] = "bench.workflows_settings"
            env["BENCH_CELERY_DB_REUSE_MAX"] = str(variant["db_reuse_max"])
        self.log = ROOT / "var" / f"{queue}-w{index}.log"
        self.log.parent.mkdir(exist_ok=True)
        with self.log.open("w") as log_file:
            profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    *profiler,
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
                    f"{queue}-w{index}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )

    def text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(
                f"a worker exited with {self.process.returncode}; its log:\n{self.text()[-3000:]}"
            )
        return " ready." in self.text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # warm shutdown: the task in hand finishes first
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def remove_log(self) -> None:
        if not os.environ.get("KEEP_WORKER_LOGS"):
            self.log.unlink(missing_ok=True)


def wait_ready(workers: list[Worker]) -> None:
    deadline = time.monotonic() + READY_S
    while not all(worker.ready() for worker in workers):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the workers were not ready in {READY_S:.0f} s")
        time.sleep(0.2)


def purge_queue(queue: str) -> int:
    """Remove what is left of the benchmark's queue in the filesystem broker."""
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return 0
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    removed = 0
    for message in Path(options["data_folder_in"]).glob(f"*.{queue}.msg"):
        message.unlink(missing_ok=True)
        removed += 1
    (Path(options["control_folder"]) / f"{queue}.exchange").unlink(missing_ok=True)
    return removed


def unbind_pidbox(queue: str) -> int:
    """Remove this run's workers from the filesystem broker's remote-control exchange (a worker
    leaves its binding there; broadcasts would keep writing to it), under kombu's lock."""
    import fcntl

    from kombu.utils.json import dumps, loads

    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return 0
    file = (
        Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["control_folder"]) / "celery.pidbox.exchange"
    )
    if not file.exists():
        return 0
    with file.open("rb+", buffering=0) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            table = loads(handle.read().decode())
            kept = [entry for entry in table if not str(entry[2]).startswith(f"{queue}-")]
            if len(kept) != len(table):
                handle.seek(0)
                handle.truncate()
                handle.write(dumps(kept).encode())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return len(table) - len(kept)


def polling_interval_in_use(chosen: float | None) -> float:
    if chosen is not None:
        return chosen
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    if "polling_interval" in options:
        return float(options["polling_interval"])
    from kombu.transport.virtual import Transport

    return float(Transport.polling_interval)  # kombu's default


# -- measuring ----------------------------------------------------------------------------------


class Writer:
    """Creates opportunities one per transaction and stamps each commit."""

    def __init__(self, tenant, user, accounts: list[int], run_id: str):
        from records.service import RecordService

        self.tenant, self.user, self.accounts = tenant, user, accounts
        self.service = RecordService(tenant, user)
        self.run_id = run_id
        self.committed: dict[int, float] = {}

    def create(self, phase: str, index: int) -> int:
        from tenants.context import tenant_context

        stamp: list[float] = []
        # The same transaction the service would open (a request's), with a callback that runs
        # first after COMMIT, before the outbox's hand-over to the broker.
        with tenant_context(self.tenant, user=self.user):
            transaction.on_commit(lambda: stamp.append(time.time()))
            view = self.service.create(
                "opportunity",
                {
                    "name": f"flow-{self.run_id}-{phase}-{index}",
                    "account": self.accounts[index % len(self.accounts)],
                    "stage": "prospecting",
                    "amount": "1000.00",
                    "close_date": "2026-06-30",
                },
            )
        self.committed[view.id] = stamp[0]
        return view.id


def delivered_count(tenant, record_ids: list[int]) -> int:
    from tenants.context import tenant_context

    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM workflows_outboxevent "
            "WHERE record_id = ANY(%s) AND status <> 'pending'",
            [record_ids],
        )
        return cursor.fetchone()[0]


def wait_delivered(tenant, record_ids: list[int], limit_s: float) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if delivered_count(tenant, record_ids) >= len(record_ids):
            return True
        time.sleep(0.1)
    return False


COLLECT_SQL = """
SELECT r.id, r.version, (r.data->>'probability')::numeric,
       count(DISTINCT e.id), min(e.status), min(e.created_at), count(a.id), min(a.applied_at),
       max(e.finished_at)
FROM records_record r
LEFT JOIN workflows_outboxevent e ON e.record_id = r.id AND e.entity = 'opportunity'
LEFT JOIN workflows_actionrun a ON a.event_id = e.id
WHERE r.id = ANY(%s)
GROUP BY r.id
"""


def collect(tenant, committed: dict[int, float], record_ids: list[int]) -> list[Delivered]:
    from tenants.context import tenant_context

    def epoch(value):
        return value.timestamp() if value is not None else None

    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(COLLECT_SQL, [record_ids])
        rows = cursor.fetchall()
    return [
        Delivered(
            record_id=record_id,
            committed=committed[record_id],
            events=events,
            status=status,
            created_at=epoch(created_at),
            runs=runs,
            applied_at=epoch(applied_at),
            finished_at=epoch(finished_at),
            version=version,
            probability=float(probability) if probability is not None else None,
        )
        for (
            record_id,
            version,
            probability,
            events,
            status,
            created_at,
            runs,
            applied_at,
            finished_at,
        ) in rows
    ]


def measure_workers(count, flow, tenant, writer, queue, variant, say) -> dict:
    workers: list[Worker] = []
    try:
        for index in range(count):
            workers.append(Worker(queue, index, variant))
        wait_ready(workers)
        say(f"{count} worker(s) ready; warming up ({flow.warmup} events)")
        warm = [writer.create(f"w{count}-warm", i) for i in range(flow.warmup)]
        if not wait_delivered(tenant, warm, 120):
            raise RuntimeError("the warm-up events were not delivered in 120 s")
        logged_before = [len(task_seconds(worker.text())) for worker in workers]

        say(f"burst: {flow.events:,} opportunities, one per transaction")
        burst = [writer.create(f"w{count}-burst", i) for i in range(flow.events)]
        burst_complete = wait_delivered(tenant, burst, flow.wait_s)
        burst_stats = phase_stats(collect(tenant, writer.committed, burst), flow.events)
        say(
            f"burst: {burst_stats.get('events_per_s')} events/s (harness committed "
            f"{burst_stats.get('commits_per_s')}/s), delay p50 {burst_stats.get('delay_p50_ms')}"
            f" ms, p95 {burst_stats.get('delay_p95_ms')} ms, exactly once "
            f"{burst_stats['exactly_once']}" + ("" if burst_complete else " (NOT complete)")
        )
        task_times = []
        for worker, before in zip(workers, logged_before, strict=True):
            task_times.append(task_seconds(worker.text())[before:])
        logged_after_burst = [len(task_seconds(worker.text())) for worker in workers]

        steady_count = int(flow.steady_rate * flow.steady_s)
        say(f"steady: {steady_count} opportunities at {flow.steady_rate:g}/s")
        steady: list[int] = []
        elapsed = paced(
            steady_count,
            flow.steady_rate,
            lambda i: steady.append(writer.create(f"w{count}-steady", i)),
        )
        steady_complete = wait_delivered(tenant, steady, flow.wait_s)
        steady_stats = phase_stats(collect(tenant, writer.committed, steady), steady_count)
        say(
            f"steady: delay p50 {steady_stats.get('delay_p50_ms')} ms, p95 "
            f"{steady_stats.get('delay_p95_ms')} ms, exactly once {steady_stats['exactly_once']}"
            + ("" if steady_complete else " (NOT complete)")
        )
        steady_tasks = [
            len(task_seconds(worker.text())) - after
            for worker, after in zip(workers, logged_after_burst, strict=True)
        ]
    finally:
        for worker in workers:
            worker.stop()
    for worker in workers:
        worker.remove_log()
    all_task_ms = [seconds * 1000 for times in task_times for seconds in times]
    return {
        "workers": count,
        "events": burst_stats["events"],
        "events_per_s": burst_stats.get("events_per_s"),
        "delay_p50_ms": burst_stats.get("delay_p50_ms"),
        "delay_p95_ms": burst_stats.get("delay_p95_ms"),
        "steady_rate": flow.steady_rate,
        "steady_achieved_rate": round(steady_count / elapsed, 1) if elapsed else None,
        "steady_events": steady_stats["events"],
        "steady_delay_p50_ms": steady_stats.get("delay_p50_ms"),
        "steady_delay_p95_ms": steady_stats.get("delay_p95_ms"),
        "exactly_once": burst_stats["exactly_once"] and steady_stats["exactly_once"],
        "complete": burst_complete and steady_complete,
        "burst": burst_stats,
        "steady": steady_stats,
        "burst_tasks_per_worker": [len(times) for times in task_times],
        "steady_tasks_per_worker": steady_tasks,
        "task_run_p50_ms": round(p50(all_task_ms), 1) if all_task_ms else None,
        "task_run_p95_ms": round(p95(all_task_ms), 1) if all_task_ms else None,
    }


# Where a worker's time goes: cumulative seconds of these functions under cProfile.
PROFILED = {
    "task (trace_task: deliver, result, log line)": ("celery/app/trace.py", "trace_task"),
    "deliver (workflows.delivery)": ("workflows/delivery.py", "deliver"),
    "apply_once (the action's transaction)": ("workflows/delivery.py", "apply_once"),
    "RecordService.update": ("records/service.py", "update"),
    "result backend (mark_as_done)": ("celery/backends/base.py", "mark_as_done"),
    "logging (Logger.handle)": ("logging/__init__.py", "handle"),
    "broker get (filesystem _get: listdir, move, read)": ("kombu/transport/filesystem.py", "_get"),
    "broker drain_events (incl. polling sleeps)": (
        "kombu/transport/virtual/base.py",
        "drain_events",
    ),
    "time.sleep": ("~", "<built-in method time.sleep>"),
    "database statements (psycopg2 execute)": (
        "~",
        "<method 'execute' of 'psycopg2.extensions.cursor' objects>",
    ),
    "database commits (psycopg2 commit)": (
        "~",
        "<method 'commit' of 'psycopg2.extensions.connection' objects>",
    ),
    "database connect (psycopg2 connect)": ("~", "<built-in method psycopg2._psycopg._connect>"),
}


def profile_summary(path: Path, events: int) -> dict:
    import pstats

    stats = pstats.Stats(str(path)).stats
    found = {}
    for label, (suffix, name) in PROFILED.items():
        total = sum(
            cumulative
            for (file, _line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.items()
            if function == name and file.endswith(suffix)
        )
        found[label] = {"s": round(total, 3), "ms_per_event": round(total * 1000 / events, 2)}
    own = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:25]
    found["top_own_time"] = [
        {
            "function": f"{Path(file).name}:{line}:{function}",
            "ms_per_event": round(own_s * 1000 / events, 3),
            "calls_per_event": round(calls / events, 1),
        }
        for (file, line, function), (_cc, calls, own_s, _ct, _callers) in own
    ]
    return found


def profile_worker(flow, tenant, writer, queue, variant, say) -> dict:
    """One worker under cProfile through a burst; cumulative time of the main steps."""
    path = ROOT / "var" / f"{queue}-worker.prof"
    worker = Worker(queue, 0, variant, profile=path)
    try:
        wait_ready([worker])
        warm = [writer.create("prof-warm", i) for i in range(flow.warmup)]
        if not wait_delivered(tenant, warm, 120):
            raise RuntimeError("the warm-up events were not delivered in 120 s")
        burst = [writer.create("prof-burst", i) for i in range(flow.events)]
        complete = wait_delivered(tenant, burst, flow.wait_s)
        stats = phase_stats(collect(tenant, writer.committed, burst), flow.events)
    finally:
        worker.stop()
        worker.remove_log()
    try:
        summary = profile_summary(path, flow.warmup + flow.events)
    finally:
        path.unlink(missing_ok=True)
    say(f"profiled worker: {stats.get('drain_events_per_s')} events/s drained under cProfile")
    for label, value in summary.items():
        if label != "top_own_time":
            say(f"  {label}: {value['ms_per_event']} ms per event")
    return {"complete": complete, "burst": stats, "cumulative": summary}


def in_process_delivery(tenant, writer, count: int, say) -> dict:
    """Deliver ``count`` events in this process (no worker running; their broker messages are
    purged afterwards): ms per event, SQL statements, transactions and the time in the database."""
    from tenants.context import tenant_context
    from workflows.delivery import deliver
    from workflows.models import OutboxEvent

    records = [writer.create("inproc", i) for i in range(count)]
    with tenant_context(tenant):
        events = list(
            OutboxEvent.objects.filter(record_id__in=records).values_list("pk", flat=True)
        )
    counts = {"statements": 0, "autocommit": 0, "commits": 0, "sql_s": 0.0}

    def wrapper(execute, sql, params, many, context):
        counts["statements"] += 1
        if not connection.in_atomic_block:
            counts["autocommit"] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            counts["sql_s"] += time.perf_counter() - started

    original_commit = connection.commit

    def commit():
        counts["commits"] += 1
        return original_commit()

    times = []
    connection.commit = commit
    logging.disable(logging.INFO)  # the action_applied lines: the workers log them, not the run
    try:
        with connection.execute_wrapper(wrapper):
            for event_id in events:
                started = time.perf_counter()
                deliver(tenant.pk, event_id)
                times.append((time.perf_counter() - started) * 1000)
    finally:
        del connection.commit
        logging.disable(logging.NOTSET)
    n = len(events)
    result = {
        "events": n,
        "deliver_p50_ms": round(p50(times), 2),
        "deliver_p95_ms": round(p95(times), 2),
        "statements_per_event": round(counts["statements"] / n, 1),
        "transactions_per_event": round((counts["commits"] + counts["autocommit"]) / n, 1),
        "sql_ms_per_event": round(counts["sql_s"] * 1000 / n, 2),
        "python_ms_per_event": round(sum(times) / n - counts["sql_s"] * 1000 / n, 2),
    }
    say(
        f"in process: deliver p50 {result['deliver_p50_ms']} ms, "
        f"{result['statements_per_event']} statements and {result['transactions_per_event']} "
        f"transactions per event, {result['sql_ms_per_event']} ms of it in SQL"
    )
    return result


# -- the run ------------------------------------------------------------------------------------


def table(entries: list[dict]) -> str:
    lines = [
        "| workers | events | events/s | delay p50 ms | delay p95 ms | steady rate/s "
        "| steady p50 ms | steady p95 ms | exactly once |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for e in entries:
        lines.append(
            f"| {e['workers']} | {e['events']:,} | {e['events_per_s']} | {e['delay_p50_ms']} "
            f"| {e['delay_p95_ms']} | {e['steady_rate']:g} | {e['steady_delay_p50_ms']} "
            f"| {e['steady_delay_p95_ms']} | {'yes' if e['exactly_once'] else 'NO'} |"
        )
    return "\n".join(lines)


def write_json(result: dict, mode: str, suffix: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(result, indent=2, default=str) + "\n"
    path = RESULTS / "workflows.json"
    path.write_text(text)
    (RESULTS / f"workflows_{mode}{suffix}.json").write_text(text)
    return path


def _stop_on_sigterm(*_args) -> None:
    raise SystemExit(143)  # runs the finally blocks: workers stopped, rows removed


def run(
    profile_mode: str,
    say=report.say,
    polling_interval: float | None = None,
    profile: bool = False,
    db_reuse_max: int | None = None,
) -> dict:
    from bench.run import database_facts, platform_commit
    from config.celery import app
    from config.database import redact

    flow = PROFILES[profile_mode]
    started = time.perf_counter()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    broker = settings.CELERY_BROKER_URL
    if broker.startswith("memory://"):
        raise RuntimeError("workers in other processes need a real broker, not memory://")
    queue = f"bench-flows-{uuid.uuid4().hex[:10]}"
    # Before anything is published: whatever this process sends goes to the run's own queue.
    previous_queue, app.conf.task_default_queue = app.conf.task_default_queue, queue
    polling = polling_interval_in_use(polling_interval)
    variant = {"polling_interval": polling_interval, "db_reuse_max": db_reuse_max}
    suffix = "" if polling_interval is None else f"_poll{polling_interval:g}"
    suffix += f"_reuse{db_reuse_max}" if db_reuse_max else ""
    say(
        f"workflows, mode {flow.mode}, database {connection.settings_dict['NAME']}, broker "
        f"{redact(broker)}, queue {queue}, polling interval {polling:g} s"
    )
    entries: list[dict] = []
    cleaned: dict = {}
    tenant = None
    try:
        call_command("migrate", verbosity=0)
        tenant, user, accounts = ensure_tenant(say)
        config = config_facts(tenant)
        say(describe_config(config))
        cleanup(tenant, say)  # leftovers of an interrupted run
        writer = Writer(tenant, user, accounts, dt.datetime.now(dt.UTC).strftime("%H%M%S"))
        measuring = time.perf_counter()
        if profile:
            profiled = profile_worker(flow, tenant, writer, queue, variant, say)
            path = RESULTS / f"workflows_worker_profile_{flow.mode}{suffix}.json"
            path.write_text(json.dumps(profiled, indent=2) + "\n")
            say(f"wrote {path}")
            return profiled
        for count in WORKER_COUNTS:
            entries.append(measure_workers(count, flow, tenant, writer, queue, variant, say))
            cleanup(tenant, say)
        delivery_profile = in_process_delivery(tenant, writer, flow.in_process, say)
        measured_s = time.perf_counter() - measuring
    finally:
        purge_queue(queue)
        unbind_pidbox(queue)
        try:
            if tenant is not None:
                cleaned = cleanup(tenant, say)
        finally:
            app.conf.task_default_queue = previous_queue
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    result = {
        "mode": flow.mode,
        "results": entries,
        "in_process_delivery": delivery_profile,
        "context": {
            "profile": flow.__dict__,
            "tenant": SLUG,
            "automation": AUTOMATION,
            **config,
            "accounts": len(accounts),
            "broker": redact(broker),
            "polling_interval_s": polling,
            "db_reuse_max": db_reuse_max,
            "worker": "celery worker --pool solo --loglevel INFO, one process each"
            + ("" if not any(variant.values()) else ", settings bench.workflows_settings"),
            "commit_time": "stamped by an on_commit callback registered before the "
            "service's, i.e. right after COMMIT and before the event is sent to the broker",
            "applied_time": "ActionRun.applied_at: now() in the action's transaction",
            "cleanup_left": cleaned.get("left"),
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            **database_facts(),
            "commit": platform_commit(),
            "cpus": os.cpu_count(),
            "measure_s": round(measured_s, 1),
        },
    }
    path = write_json(result, flow.mode, suffix)
    say(f"wrote {path}")
    print(table(entries))  # noqa: T201
    say(describe_config(config))
    say(f"done in {time.perf_counter() - started:.0f} s")
    return result
