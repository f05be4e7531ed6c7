"""One benchmark run: set up the database and data, measure every scenario, report."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from pathlib import Path

from django.core.management import call_command
from django.db import connection, connections

from bench import baseline, bulk, checks, dataset, report
from bench.indexes import ensure_platform_indexes
from bench.profiles import Profile
from bench.scenarios import Bench, guarded, run_reads
from tenants import leakproof


def vacuum_analyze() -> None:
    with connections["owner"].cursor() as cursor:
        for table in ("records_record", "bench_account", "bench_opportunity"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def database_facts() -> dict:
    with connections["owner"].cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'records_record'")
        indexes = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM tenants_tenant")
        tenants = cursor.fetchone()[0]
        unmarked = leakproof.missing(cursor)
    return {
        "postgres": version,
        "leakproof_functions_missing": unmarked,
        "records_record_indexes": indexes,
        "tenants_in_database": tenants,
    }


def platform_commit() -> str | None:
    """The commit measured, with "+dirty" when the working tree has changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return None
    return (head + ("+dirty" if dirty else "")) or None


class DatasetMismatch(RuntimeError):
    """The generated data is not what the records service would store: nothing is measured."""


def prepare(profile: Profile, say) -> tuple[Bench, dict[str, str], dict]:
    """Migrate, bring the tenants to the current crm pack, generate the dataset the profile
    lacks, sync the platform's field indexes, analyze and check the generated data against the
    records service: the read tenant's Bench, its platform index statements (name ->
    statement) and facts for the results (the configuration measured, the check)."""
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    dataset.ensure_meta_table()
    baseline.ensure_tables()
    tenants = dataset.ensure_tenants(profile, say)
    user = dataset.admin_user()
    generated = dataset.ensure_data(profile, tenants, user, say)
    say(f"dataset ready ({generated} tenants generated, the rest reused)")
    bench = Bench(tenants[0], user, profile)
    bulk.cleanup(bench, say)  # leftovers of an interrupted run
    platform_indexes = ensure_platform_indexes(tenants, say)
    vacuum_analyze()
    config = dataset.config_facts(bench.tenant)
    say(dataset.describe_config(config))
    problems = checks.check_stored_form(bench.tenant, user)
    for problem in problems[:10]:
        say(f"STORED FORM DIFFERS: {problem}")
    say(
        f"stored-form check: {len(problems)} difference(s); setup took "
        f"{time.perf_counter() - started:.0f} s"
    )
    if problems:
        raise DatasetMismatch(
            f"{len(problems)} generated record(s) differ from what the records service stores "
            f"under {dataset.describe_config(config)}; bench/dataset.py must generate what the "
            "pack now requires (first: " + problems[0] + ")"
        )
    return bench, platform_indexes, {**config, "stored_form_differences": len(problems)}


def run(profile: Profile) -> list[dict]:
    say = report.say
    started = time.perf_counter()
    say(f"mode {profile.mode}, database {connection.settings_dict['NAME']}")
    bench, platform_indexes, facts = prepare(profile, say)
    measuring = time.perf_counter()
    results = run_reads(bench, say)
    results.append(guarded("bulk_insert", lambda: bulk.bulk_insert(bench, say), say))
    context = {
        **profile.describe(),
        **facts,
        "platform_indexes_of_read_tenant": sorted(platform_indexes.values()),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **database_facts(),
        "commit": platform_commit(),
        "cpus": os.cpu_count(),
        "setup_s": round(measuring - started, 1),
        "measure_s": round(time.perf_counter() - measuring, 1),
    }
    for entry in results:
        entry["mode"] = profile.mode
        entry["dataset_opportunities"] = profile.big_opportunities
        entry["dataset"] = context
    path = report.write_json(results, profile.mode)
    title = (
        f"CRM platform vs hand-written tables, {profile.mode} dataset "
        f"({profile.big_opportunities:,} opportunities in the tenant read)"
    )
    image = report.plot(results, title)
    report.say(f"wrote {path}" + (f" and {image}" if image else ""))
    print(report.table(results))  # noqa: T201
    say(dataset.describe_config(facts))
    say(f"done in {time.perf_counter() - started:.0f} s")
    return results
