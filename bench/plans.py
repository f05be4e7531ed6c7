"""The query plans behind the numbers: the SQL one call sends, explained under the tenant.

The summary names the plan's nodes top-down with the index each scan uses, e.g.
``Limit > Index Scan (bench_opportunity_close_date)``, so the JSON shows whether an index
served, next to PostgreSQL's planning and execution times of one run (EXPLAIN ANALYZE).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.context import tenant_context


def captured_sql(fn: Callable[[], object], needle: str) -> str | None:
    """The last SELECT ``fn`` sent that mentions ``needle``, with its parameters inlined."""
    with CaptureQueriesContext(connection) as captured:
        fn()
    selects = [
        q["sql"]
        for q in captured.captured_queries
        if needle in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT")
    ]
    return selects[-1] if selects else None


def summarize(node: dict) -> str:
    label = node["Node Type"]
    if "Index Name" in node:
        label += f" ({node['Index Name']})"
    children = [summarize(child) for child in node.get("Plans", [])]
    if not children:
        return label
    inner = children[0] if len(children) == 1 else "[" + ", ".join(children) + "]"
    return f"{label} > {inner}"


def explain(tenant, sql: str | None) -> dict:
    """The plan summary and PostgreSQL's own planning and execution times for one run."""
    if sql is None:
        return {}
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]
    return {
        "plan": summarize(plan["Plan"]),
        "planning_ms": round(plan["Planning Time"], 3),
        "execution_ms": round(plan["Execution Time"], 3),
    }


def plans(tenant, platform: Callable[[], object], baseline: Callable[[], object]) -> dict:
    """``platform_plan``, ``platform_planning_ms``, ``platform_execution_ms`` and the same for
    the baseline: where the time goes inside PostgreSQL."""
    sides = {
        "platform": explain(tenant, captured_sql(platform, "records_record r")),
        "baseline": explain(tenant, captured_sql(baseline, '"bench_opportunity"')),
    }
    return {f"{side}_{key}": value for side, found in sides.items() for key, value in found.items()}
