"""The read scenarios, each the same question asked of the platform and of the baseline.

Before timing, each scenario checks that both sides give the same answer (same ids in the same
order, same groups and sums), so the numbers compare equal work, and records the query plan
each side ran (bench/plans.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, Sum

from bench.baseline import BenchOpportunity
from bench.plans import plans
from bench.profiles import Profile
from bench.timing import measure, summary
from records.query import encode_cursor
from records.service import RecordService
from tenants.context import tenant_context

PAGE = 50
OPEN_STAGES = ["prospecting", "qualification", "proposal", "negotiation"]
MIN_AMOUNT = "50000"
PAGE_FILTER = {
    "and": [
        {"field": "stage", "op": "in", "value": OPEN_STAGES},
        {"field": "amount", "op": "gt", "value": MIN_AMOUNT},
    ]
}
HOP_FILTER = {"field": "account.industry", "op": "eq", "value": "technology"}
# Without "nulls": PostgreSQL's defaults (empty values first descending), the id breaking ties
# in the same direction; the ORM's "-close_date", "-id" is the same order.
ORDER = [{"field": "close_date", "direction": "desc"}]
ORM_ORDER = ("-close_date", "-id")
RANGE = ("2024-03-01", "2024-03-31")
RANGE_FILTER = {"field": "close_date", "op": "between", "value": list(RANGE)}
RANGE_ORDER = [{"field": "close_date", "direction": "asc"}]
ORM_RANGE_ORDER = ("close_date", "id")
PAGE_TARGET = 1.5  # the target for the page ratio (reported, never asserted)


@dataclass
class Bench:
    tenant: object
    user: object
    profile: Profile

    @property
    def service(self) -> RecordService:
        return RecordService(self.tenant, self.user)

    def page(self, filter_tree: dict, after: str | None = None, order=ORDER):
        return self.service.query(
            "opportunity", filter_tree=filter_tree, order_by=order, first=PAGE, after=after
        )

    def orm_page(self, queryset, order=ORM_ORDER) -> list:
        # PAGE + 1 rows, as the platform reads one more to know whether a next page exists.
        with tenant_context(self.tenant):
            return list(queryset.order_by(*order)[: PAGE + 1])


def page_queryset():
    return BenchOpportunity.objects.filter(stage__in=OPEN_STAGES, amount__gt=Decimal(MIN_AMOUNT))


def hop_queryset():
    return BenchOpportunity.objects.filter(account__industry="technology")


def after_row(queryset, close_date, last_id):
    """Rows after (close_date, id) in close_date desc (empty first), id desc order."""
    if close_date is None:
        return queryset.filter(
            Q(close_date__isnull=True, id__lt=last_id) | Q(close_date__isnull=False)
        )
    return queryset.filter(Q(close_date__lt=close_date) | Q(close_date=close_date, id__lt=last_id))


def same_ids(platform_page, baseline_rows) -> bool:
    return [row.id for row in platform_page.rows] == [row.id for row in baseline_rows[:PAGE]]


def compare(bench: Bench, name: str, description: str, platform, baseline, *, check, rows):
    """Measure a pair of calls and describe the result."""
    iterations = bench.profile.iterations
    platform_ms, baseline_ms = measure(platform, baseline, bench.profile.warmup, iterations)
    entry = summary(name, platform_ms, baseline_ms)
    entry.update(description=description, results_match=check, rows=rows)
    entry.update(plans(bench.tenant, platform, baseline))
    return entry


def page_filter_sort(bench: Bench) -> dict:
    page, rows = bench.page(PAGE_FILTER), bench.orm_page(page_queryset())
    entry = compare(
        bench,
        "page_filter_sort",
        "first page of 50: stage in 4 open stages and amount > 50,000, by close_date desc, id",
        lambda: bench.page(PAGE_FILTER),
        lambda: bench.orm_page(page_queryset()),
        check=same_ids(page, rows),
        rows=len(page.rows),
    )
    entry.update(target=f"ratio <= {PAGE_TARGET}", target_met=entry["ratio"] <= PAGE_TARGET)
    return entry


def lookup_hop_filter(bench: Bench) -> dict:
    page, rows = bench.page(HOP_FILTER), bench.orm_page(hop_queryset())
    return compare(
        bench,
        "lookup_hop_filter",
        "first page of 50 whose account's industry is technology, by close_date desc, id",
        lambda: bench.page(HOP_FILTER),
        lambda: bench.orm_page(hop_queryset()),
        check=same_ids(page, rows),
        rows=len(page.rows),
    )


def median_account(bench: Bench) -> int:
    """An account of typical size: the median id (the generator favours low ids)."""
    with tenant_context(bench.tenant), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM records_record WHERE entity = 'account' AND deleted_at IS NULL "
            "ORDER BY id"
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids[len(ids) // 2]


def page_by_account(bench: Bench) -> dict:
    """An account's related list: a selective filter on a lookup."""
    account = median_account(bench)
    tree = {"field": "account", "op": "eq", "value": account}

    def baseline():
        return bench.orm_page(BenchOpportunity.objects.filter(account_id=account))

    page = bench.page(tree)
    return compare(
        bench,
        "page_by_account",
        "an account's related list: its opportunities (one page), by close_date desc, id",
        lambda: bench.page(tree),
        baseline,
        check=same_ids(page, baseline()),
        rows=len(page.rows),
    )


def page_date_range(bench: Bench) -> dict:
    """A range filter on the indexed date: one month of close dates, earliest first."""
    low, high = (dt.date.fromisoformat(day) for day in RANGE)

    def platform():
        return bench.page(RANGE_FILTER, order=RANGE_ORDER)

    def baseline():
        queryset = BenchOpportunity.objects.filter(close_date__range=(low, high))
        return bench.orm_page(queryset, order=ORM_RANGE_ORDER)

    page = platform()
    return compare(
        bench,
        "page_date_range",
        f"first page of 50 with close_date between {RANGE[0]} and {RANGE[1]}, by close_date, id",
        platform,
        baseline,
        check=same_ids(page, baseline()),
        rows=len(page.rows),
    )


def grouped_aggregate(bench: Bench) -> dict:
    def platform():
        return bench.service.aggregate(
            "opportunity",
            group_by=[{"field": "stage"}],
            metrics=[{"fn": "count"}, {"fn": "sum", "field": "amount"}],
        )

    def baseline():
        with tenant_context(bench.tenant):
            return list(
                BenchOpportunity.objects.values("stage")
                .annotate(count=Count("id"), sum_amount=Sum("amount"))
                .order_by("stage")
            )

    mine = [(g["group"]["stage"], g["count"], g["sum_amount"]) for g in platform()]
    theirs = [(g["stage"], g["count"], g["sum_amount"]) for g in baseline()]
    iterations = bench.profile.aggregate_iterations
    platform_ms, baseline_ms = measure(platform, baseline, 1, iterations)
    entry = summary("grouped_aggregate", platform_ms, baseline_ms)
    entry.update(
        description="count and sum of amount grouped by stage over the whole tenant",
        results_match=mine == theirs,
        rows=len(mine),
    )
    entry.update(plans(bench.tenant, platform, baseline))
    return entry


def page_keyset(bench: Bench, name: str, offset: int) -> dict:
    """The page after the row at ``offset`` (the first page's last row for offset 50)."""
    with tenant_context(bench.tenant):
        anchor = page_queryset().order_by(*ORM_ORDER)[offset - 1 : offset].get()
    close_date = anchor.close_date.isoformat() if anchor.close_date else None
    cursor = encode_cursor([close_date, anchor.id])
    if offset == PAGE:  # the cursor the platform itself handed out for the first page
        cursor = bench.page(PAGE_FILTER).end_cursor

    def baseline():
        return bench.orm_page(after_row(page_queryset(), anchor.close_date, anchor.id))

    page = bench.page(PAGE_FILTER, after=cursor)
    what = "next page" if offset == PAGE else f"page after row {offset:,}"
    return compare(
        bench,
        name,
        f"{what} of page_filter_sort through the keyset cursor",
        lambda: bench.page(PAGE_FILTER, after=cursor),
        baseline,
        check=same_ids(page, baseline()),
        rows=len(page.rows),
    )


def guarded(name: str, step, say) -> dict:
    """Run one scenario; a failure (the platform changes under the harness) becomes an entry
    with the error instead of ending the run."""
    try:
        return step()
    except Exception as error:  # noqa: BLE001
        say(f"{name}: FAILED: {type(error).__name__}: {error}")
        return {"scenario": name, "error": f"{type(error).__name__}: {error}"}


def run_reads(bench: Bench, say) -> list[dict]:
    steps = [
        ("page_filter_sort", page_filter_sort),
        ("lookup_hop_filter", lookup_hop_filter),
        ("page_by_account", page_by_account),
        ("page_date_range", page_date_range),
        ("grouped_aggregate", grouped_aggregate),
        ("page_keyset_next", lambda b: page_keyset(b, "page_keyset_next", PAGE)),
        ("page_keyset_deep", lambda b: page_keyset(b, "page_keyset_deep", b.profile.deep_offset)),
    ]
    results = []
    for name, step in steps:
        entry = guarded(name, lambda s=step: s(bench), say)
        results.append(entry)
        if "error" not in entry:
            say(
                f"{name}: platform p50 {entry['platform_p50_ms']} ms, baseline p50 "
                f"{entry['baseline_p50_ms']} ms, ratio {entry['ratio']}"
                + ("" if entry["results_match"] else "  (RESULTS DIFFER)")
            )
    return results
