"""The bulk insert scenario: validated, audited records through ``RecordService.bulk_create``
against ``bulk_create`` of baseline model rows built from the same input.

Rows go into the tenant the read scenarios use (so the per-record work that grows with the
tenant shows). Each call is one all-or-nothing transaction with batches of 1,000 inside. The
first call writes 100 rows; each next one is as large as the rate so far lets fit in what is
left of ``profile.bulk_budget_s``, at most ``profile.bulk_chunk`` rows, so a slow platform
cannot hold the run for hours; the result says how many rows were written. The baseline writes
the same rows in the same calls. p50/p95 are milliseconds per 1,000 records over the calls.
Everything inserted is removed afterwards (and at the start of a run), so the read data stays
the same from run to run.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal
from unittest import mock

from django.db import connection
from django.utils import timezone

from bench.baseline import BenchOpportunity, cycle_days, weighted_amount
from bench.dataset import LEAD_SOURCES, LOSS_REASONS, set_account_rollups
from bench.scenarios import Bench
from bench.timing import summary, timed
from tenants.context import tenant_context

PREFIX = "Bulk import "
TARGET_RATE = 5000
STAGES = [
    ("prospecting", 10, 0.20),
    ("qualification", 25, 0.18),
    ("proposal", 60, 0.15),
    ("negotiation", 80, 0.10),
    ("closed_won", 100, 0.17),
    ("closed_lost", 0, 0.20),
]
FORECAST = {
    "prospecting": "pipeline",
    "qualification": "pipeline",
    "proposal": "best_case",
    "negotiation": "commit",
    "closed_won": "commit",
    "closed_lost": "omitted",
}


def account_ids(bench: Bench) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM records_record WHERE entity = 'account' AND deleted_at IS NULL "
            "ORDER BY id"
        )
        return [row[0] for row in cursor.fetchall()]


DEAL_TYPES = [("new_business", 0.60), ("upsell", 0.15), ("cross_sell", 0.10), ("renewal", 0.15)]


def make_rows(accounts: list[int], count: int, seed: int) -> list[dict]:
    """Input as an integrator would send it: numbers, ISO dates, option values, account ids;
    a lost deal with its loss reason, every deal with the day it was opened (some weeks or months
    before its close date, not after today), its deal type and mostly a lead source."""
    rng = random.Random(seed)
    stages = [s for s, _, _ in STAGES]
    weights = [w for _, _, w in STAGES]
    chance = {s: p for s, p, _ in STAGES}
    today = dt.datetime.now(dt.UTC).date()
    rows = []
    for n in range(count):
        stage = rng.choices(stages, weights)[0]
        closed = stage.startswith("closed")
        start = dt.date(2023, 1, 1) if closed else dt.date(2025, 6, 1)
        close = start + dt.timedelta(days=rng.randrange(1277 if closed else 944))
        opened = min(close - dt.timedelta(days=7 + int(rng.random() ** 2 * 361)), today)
        row = {
            "name": f"{PREFIX}{seed}-{n}",
            "account": accounts[int(rng.random() ** 1.6 * len(accounts))],
            "stage": stage,
            "amount": round(500 * 1000 ** rng.random(), -1),
            "probability": chance[stage],
            "open_date": opened.isoformat(),
            "close_date": close.isoformat(),
            "forecast_category": FORECAST[stage],
            "deal_type": rng.choices([d for d, _ in DEAL_TYPES], [w for _, w in DEAL_TYPES])[0],
        }
        if rng.random() < 0.7:
            row["lead_source"] = rng.choice(LEAD_SOURCES)
        if stage == "closed_lost":
            row["loss_reason"] = rng.choice(LOSS_REASONS)
        rows.append(row)
    return rows


def native(bench: Bench, row: dict, now) -> BenchOpportunity:
    """The baseline's row for the same input: the pack's formulas computed in Python."""
    amount, probability = Decimal(row["amount"]), Decimal(row["probability"])
    opened = dt.date.fromisoformat(row["open_date"])
    close = dt.date.fromisoformat(row["close_date"])
    return BenchOpportunity(
        tenant_id=bench.tenant.pk,
        name=row["name"],
        account_id=row["account"],
        stage=row["stage"],
        amount=amount,
        probability=probability,
        weighted_amount=weighted_amount(amount, probability),
        open_date=opened,
        close_date=close,
        cycle_days=cycle_days(opened, close),
        forecast_category=row["forecast_category"],
        deal_type=row["deal_type"],
        lead_source=row.get("lead_source"),
        loss_reason=row.get("loss_reason"),
        owner_id=bench.user.pk,
        created_at=now,
        updated_at=now,
    )


def baseline_insert(bench: Bench, rows: list[dict]) -> None:
    now = timezone.now()
    with tenant_context(bench.tenant):
        BenchOpportunity.objects.bulk_create([native(bench, r, now) for r in rows], 1000)


def platform_insert(bench: Bench, rows: list[dict]) -> None:
    bench.service.bulk_create("opportunity", rows, batch_size=1000)


FIRST_CALL = 100  # rows; later calls are sized from the rate seen so far
MIN_CALL = 50


def next_size(profile, remaining: int, rows_done: int, spent_s: float) -> int:
    """The next call's size: at most a chunk, and what the rate so far fits in the budget."""
    if rows_done == 0:
        return min(FIRST_CALL, remaining)
    affordable = int(rows_done / spent_s * (profile.bulk_budget_s - spent_s))
    size = min(profile.bulk_chunk, remaining, affordable)
    return size if size >= MIN_CALL else 0


def bulk_insert(bench: Bench, say) -> dict:
    """Calls of growing size until ``bulk_rows`` are written or the budget would be exceeded;
    p50/p95 are milliseconds per 1,000 records over the calls."""
    profile = bench.profile
    with tenant_context(bench.tenant):
        accounts = account_ids(bench)
    rows = make_rows(accounts, profile.bulk_rows, seed=1)
    platform_ms, baseline_ms, sizes = [], [], []
    while True:
        done = sum(sizes)
        size = next_size(profile, len(rows) - done, done, sum(platform_ms) / 1000)
        if size == 0:
            break
        chunk = rows[done : done + size]
        pair = [
            (platform_ms, lambda c=chunk: platform_insert(bench, c)),
            (baseline_ms, lambda c=chunk: baseline_insert(bench, c)),
        ]
        for times, call in pair if len(sizes) % 2 == 0 else reversed(pair):
            times.append(timed(call))
        sizes.append(size)
        say(
            f"bulk_insert: {sum(sizes):,} rows; {size:,} took {platform_ms[-1] / 1000:.2f} s "
            f"(baseline {baseline_ms[-1] / 1000:.2f} s)"
        )
    written = sum(sizes)
    if written < profile.bulk_rows:
        say(f"bulk_insert: stopped at {written:,} rows, the {profile.bulk_budget_s:.0f} s budget")
    per_1000 = [ms * 1000 / n for ms, n in zip(platform_ms, sizes, strict=True)]
    base_1000 = [ms * 1000 / n for ms, n in zip(baseline_ms, sizes, strict=True)]
    entry = summary("bulk_insert", per_1000, base_1000)
    entry.update(
        description=f"bulk_create of up to {profile.bulk_rows:,} opportunities into the read "
        "tenant, in calls of growing size; p50/p95 in ms per 1,000 records",
        rows=written,
        rows_wanted=profile.bulk_rows,
        call_sizes=sizes,
        complete=written >= profile.bulk_rows,
        records_per_s=round(written / (sum(platform_ms) / 1000)),
        baseline_records_per_s=round(written / (sum(baseline_ms) / 1000)),
        target=f"records_per_s >= {TARGET_RATE}",
    )
    entry["target_met"] = entry["records_per_s"] >= TARGET_RATE
    entry["records_per_s_without_rollup_refresh"] = without_rollups(bench, accounts)
    entry["records_per_s_without_outbox_events"] = without_outbox(bench, accounts)
    cleanup(bench, say)
    return entry


def without_rollups(bench: Bench, accounts: list[int]) -> int | None:
    """Diagnostic: the same kind of call with the bulk writer's rollup step switched off, to
    show what that step costs. Not a platform mode; cleanup() repairs the rollup counts. None
    when the bulk writer has no such step (records.bulk.refresh_parents) to switch off."""
    import records.bulk

    if not hasattr(records.bulk, "refresh_parents"):
        return None
    rows = make_rows(accounts, min(bench.profile.bulk_chunk, 5000), seed=2)
    with mock.patch("records.bulk.refresh_parents", return_value=None):
        elapsed = timed(lambda: platform_insert(bench, rows)) / 1000
    return round(len(rows) / elapsed)


def without_outbox(bench: Bench, accounts: list[int]) -> int | None:
    """Diagnostic: the same kind of call without writing the outbox events the pack's
    automations listening to new opportunities cause (workflows.outbox.records_created), to show
    what they cost. Not a platform mode. None when there is no such step."""
    import workflows.outbox

    if not hasattr(workflows.outbox, "records_created"):
        return None
    rows = make_rows(accounts, min(bench.profile.bulk_chunk, 5000), seed=3)
    with mock.patch("workflows.outbox.records_created", return_value=0):
        elapsed = timed(lambda: platform_insert(bench, rows)) / 1000
    return round(len(rows) / elapsed)


def cleanup(bench: Bench, say) -> int:
    """Remove every bulk-inserted row (and its audit, references, outbox events) from both sides
    and put the accounts' rollups back; the number of platform records removed."""
    started = time.perf_counter()
    with tenant_context(bench.tenant), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, (data->>'account')::bigint FROM records_record "
            "WHERE entity = 'opportunity' AND data->>'name' LIKE %s",
            [PREFIX + "%"],
        )
        found = cursor.fetchall()
        ids = [row[0] for row in found]
        if ids:
            for statement in (
                "DELETE FROM records_reference WHERE source_id = ANY(%s)",
                "DELETE FROM records_uniquevalue WHERE record_id = ANY(%s)",
                "DELETE FROM records_auditentry WHERE record_id = ANY(%s)",
                "DELETE FROM records_record WHERE id = ANY(%s)",
            ):
                cursor.execute(statement, [ids])
            set_account_rollups(cursor, {row[1] for row in found})
        # The outbox events the creates wrote (the pack's automations listen to new
        # opportunities); no worker delivers them here. The generated data has none.
        cursor.execute("DELETE FROM workflows_actionrun WHERE tenant_id = crm_current_tenant()")
        cursor.execute("DELETE FROM workflows_outboxevent WHERE tenant_id = crm_current_tenant()")
        cursor.execute("DELETE FROM bench_opportunity WHERE name LIKE %s", [PREFIX + "%"])
    elapsed = time.perf_counter() - started
    say(f"cleanup: removed {len(ids):,} bulk-inserted records in {elapsed:.1f} s")
    return len(ids)
