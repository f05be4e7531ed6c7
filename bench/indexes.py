"""The platform's own field indexes, made to exist before measuring.

After a publish the worker makes sure an expression index exists for every field marked
``indexed`` or ``unique`` (records/indexes.py; tenants indexing the same field share one). The
benchmark runs no worker, so it calls the same ``sync_indexes`` itself for every
benchmark tenant, after the data is loaded (tasks a publish enqueues go to an in-memory broker,
see bench/__main__.py). The baseline's equivalent
indexes are in bench/baseline.py. Earlier versions of this harness created indexes of their
own; they are dropped so that only the platform's serve the platform.
"""

from __future__ import annotations

from django.db import connections

from metadata.compiled import active_config
from records.indexes import sync_indexes, wanted_indexes

HARNESS_INDEXES = ("bench_record_close_date", "bench_record_account")


def ensure_platform_indexes(tenants, say) -> dict[str, str]:
    """Sync every tenant's field indexes; the read tenant's (name -> statement)."""
    with connections["owner"].cursor() as cursor:
        for name in HARNESS_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    created, failed = 0, []
    for tenant in tenants:
        done = sync_indexes(tenant.pk, active_config(tenant))
        created += len(done["created"])
        failed += done["failed"]
    if created or failed:
        say(f"platform field indexes and statistics: {created} created, {len(failed)} failed")
    return {
        name: want.statement for name, want in wanted_indexes(active_config(tenants[0])).items()
    }
