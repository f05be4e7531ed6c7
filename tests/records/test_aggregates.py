"""Grouped metrics for reports: counts, sums, buckets, the shared WHERE and refusals."""

import datetime as dt
from decimal import Decimal

import pytest

from metadata.compiled import active_config
from records.aggregates import run_aggregate
from records.errors import RecordError
from records.query import QueryCompiler
from tenants.context import tenant_context


@pytest.fixture
def deals(shop):
    acme = shop.create("company", {"name": "Acme", "tier": "a", "employees": 12})
    globex = shop.create("company", {"name": "Globex", "tier": "b", "employees": 300})
    rows = [
        ("Big rollout", acme, "won", "1000", "2025-01-15", "2025-01-10T09:00:00Z"),
        ("Renewal", acme, "won", "200", "2025-03-02", "2025-02-01T01:00:00+08:00"),
        ("Pilot", globex, "proposal", "500.50", "2025-03-31", "2025-03-05T12:00:00Z"),
        ("Inquiry", globex, "new", None, None, None),
        ("Small order", acme, "lost", "50", "2024-12-31", None),
    ]
    made = {}
    for name, company, stage, amount, close_date, last_contacted in rows:
        values = {
            "name": name,
            "company": company.id,
            "stage": stage,
            "amount": amount,
            "close_date": close_date,
            "last_contacted": last_contacted,
        }
        made[name] = shop.create("deal", {k: v for k, v in values.items() if v is not None})
    return {"acme": acme, "globex": globex, **made}


def test_count_without_groups_counts_every_live_record(shop, deals):
    # when
    result = shop.aggregate("deal")
    # then
    assert result == [{"group": {}, "count": 5}]


def test_group_by_a_choice_field_orders_groups_by_value(shop, deals):
    result = shop.aggregate("deal", group_by=[{"field": "stage"}])
    assert result == [
        {"group": {"stage": "lost"}, "count": 1},
        {"group": {"stage": "new"}, "count": 1},
        {"group": {"stage": "proposal"}, "count": 1},
        {"group": {"stage": "won"}, "count": 2},
    ]


def test_sum_avg_min_max_of_a_decimal(shop, deals):
    result = shop.aggregate(
        "deal",
        metrics=[
            {"fn": "count"},
            {"fn": "sum", "field": "amount"},
            {"fn": "avg", "field": "amount", "as": "average"},
            {"fn": "min", "field": "amount"},
            {"fn": "max", "field": "amount"},
        ],
    )
    assert result == [
        {
            "group": {},
            "count": 5,
            "sum_amount": Decimal("1750.50"),
            "average": Decimal("437.625000"),
            "min_amount": Decimal("50.00"),
            "max_amount": Decimal("1000.00"),
        }
    ]
    assert str(result[0]["sum_amount"]) == "1750.50"


def test_integers_sum_to_int_and_currency_amounts_to_decimal(shop):
    shop.create("company", {"name": "A", "employees": 12, "annual_revenue": "10.50"})
    shop.create("company", {"name": "B", "employees": 30, "annual_revenue": {"amount": "2"}})
    shop.create("company", {"name": "C"})
    result = shop.aggregate(
        "company",
        metrics=[
            {"fn": "sum", "field": "employees"},
            {"fn": "max", "field": "employees"},
            {"fn": "sum", "field": "annual_revenue"},
        ],
    )
    assert result == [
        {
            "group": {},
            "sum_employees": 42,
            "max_employees": 30,
            "sum_annual_revenue": Decimal("12.50"),
        }
    ]
    assert type(result[0]["sum_employees"]) is int


def test_numeric_formulas_are_summed(shop):
    company = shop.create("company", {"name": "Acme"})
    for amount, probability in (("1000", "50"), ("200", "25"), ("80", None)):
        values = {"name": "D", "company": company.id, "amount": amount}
        if probability is not None:
            values["probability"] = probability
        shop.create("deal", values)
    result = shop.aggregate("deal", metrics=[{"fn": "sum", "field": "weighted_amount"}])
    assert result == [{"group": {}, "sum_weighted_amount": Decimal("550.00")}]


def test_min_and_max_of_dates_and_text(shop, deals):
    result = shop.aggregate(
        "deal",
        metrics=[
            {"fn": "min", "field": "close_date"},
            {"fn": "max", "field": "close_date"},
            {"fn": "max", "field": "last_contacted"},
            {"fn": "min", "field": "name"},
        ],
    )
    assert result == [
        {
            "group": {},
            "min_close_date": "2024-12-31",
            "max_close_date": "2025-03-31",
            "max_last_contacted": "2025-03-05T12:00:00.000000Z",
            "min_name": "Big rollout",
        }
    ]


def test_group_by_a_lookup_groups_by_the_target_id(shop, deals):
    result = shop.aggregate(
        "deal",
        group_by=[{"field": "company"}],
        metrics=[{"fn": "count"}, {"fn": "sum", "field": "amount"}],
    )
    assert result == [
        {"group": {"company": deals["acme"].id}, "count": 3, "sum_amount": Decimal("1250.00")},
        {"group": {"company": deals["globex"].id}, "count": 2, "sum_amount": Decimal("500.50")},
    ]


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        (
            "day",
            [("2024-12-31", 1), ("2025-01-15", 1), ("2025-03-02", 1), ("2025-03-31", 1)],
        ),
        (
            "week",
            [("2024-12-30", 1), ("2025-01-13", 1), ("2025-02-24", 1), ("2025-03-31", 1)],
        ),
        ("month", [("2024-12-01", 1), ("2025-01-01", 1), ("2025-03-01", 2)]),
        ("quarter", [("2024-10-01", 1), ("2025-01-01", 3)]),
        ("year", [("2024-01-01", 1), ("2025-01-01", 3)]),
    ],
)
def test_date_buckets_start_on_the_first_day_of_the_period(shop, deals, bucket, expected):
    result = shop.aggregate("deal", group_by=[{"field": "close_date", "bucket": bucket}])
    key = f"close_date:{bucket}"
    assert result == [
        *({"group": {key: day}, "count": count} for day, count in expected),
        {"group": {key: None}, "count": 1},
    ]


def test_datetime_buckets_use_the_utc_day(shop, deals):
    # given "2025-02-01T01:00:00+08:00" is 2025-01-31 in UTC
    result = shop.aggregate("deal", group_by=[{"field": "last_contacted", "bucket": "month"}])
    assert result == [
        {"group": {"last_contacted:month": "2025-01-01"}, "count": 2},
        {"group": {"last_contacted:month": "2025-03-01"}, "count": 1},
        {"group": {"last_contacted:month": None}, "count": 2},
    ]


def test_two_groups_a_choice_and_a_month(shop, deals):
    result = shop.aggregate(
        "deal",
        group_by=[{"field": "stage"}, {"field": "close_date", "bucket": "month"}],
        metrics=[{"fn": "count"}, {"fn": "sum", "field": "amount"}],
    )
    assert result == [
        {
            "group": {"stage": "lost", "close_date:month": "2024-12-01"},
            "count": 1,
            "sum_amount": Decimal("50.00"),
        },
        {"group": {"stage": "new", "close_date:month": None}, "count": 1, "sum_amount": None},
        {
            "group": {"stage": "proposal", "close_date:month": "2025-03-01"},
            "count": 1,
            "sum_amount": Decimal("500.50"),
        },
        {
            "group": {"stage": "won", "close_date:month": "2025-01-01"},
            "count": 1,
            "sum_amount": Decimal("1000.00"),
        },
        {
            "group": {"stage": "won", "close_date:month": "2025-03-01"},
            "count": 1,
            "sum_amount": Decimal("200.00"),
        },
    ]


def test_system_columns_group_and_aggregate(shop, deals):
    result = shop.aggregate(
        "deal",
        group_by=[{"field": "owner"}],
        metrics=[{"fn": "count"}, {"fn": "max", "field": "created_at"}],
    )
    newest = deals["Small order"].created_at.astimezone(dt.UTC)
    assert result == [
        {
            "group": {"owner": shop.user.id},
            "count": 5,
            "max_created_at": newest.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
    ]


def test_empty_values_form_their_own_group_last(shop, deals):
    result = shop.aggregate("deal", group_by=[{"field": "close_date"}])
    assert [(row["group"]["close_date"], row["count"]) for row in result] == [
        ("2024-12-31", 1),
        ("2025-01-15", 1),
        ("2025-03-02", 1),
        ("2025-03-31", 1),
        (None, 1),
    ]


def test_filters_restrict_the_aggregate(shop, deals):
    result = shop.aggregate(
        "deal",
        filter_tree={"field": "stage", "op": "in", "value": ["won", "lost"]},
        metrics=[{"fn": "count"}, {"fn": "sum", "field": "amount"}],
    )
    assert result == [{"group": {}, "count": 3, "sum_amount": Decimal("1250.00")}]


def test_lookup_filters_restrict_the_aggregate(shop, deals):
    result = shop.aggregate(
        "deal",
        filter_tree={"field": "company.tier", "op": "eq", "value": "b"},
        group_by=[{"field": "stage"}],
    )
    assert result == [
        {"group": {"stage": "new"}, "count": 1},
        {"group": {"stage": "proposal"}, "count": 1},
    ]


def test_search_restricts_the_aggregate(shop, deals):
    result = shop.aggregate("deal", search="ORDER", metrics=[{"fn": "sum", "field": "amount"}])
    assert result == [{"group": {}, "sum_amount": Decimal("50.00")}]


def test_no_matching_record_gives_no_group(shop, deals):
    grouped = shop.aggregate("deal", search="nothing", group_by=[{"field": "stage"}])
    ungrouped = shop.aggregate("deal", search="nothing", metrics=[{"fn": "count"}])
    assert (grouped, ungrouped) == ([], [{"group": {}, "count": 0}])


def test_deleted_records_are_not_counted(shop, deals):
    # given
    shop.delete("deal", deals["Inquiry"].id)
    shop.delete("deal", deals["Renewal"].id)
    # when
    result = shop.aggregate(
        "deal", group_by=[{"field": "stage"}], metrics=[{"fn": "sum", "field": "amount"}]
    )
    # then
    assert result == [
        {"group": {"stage": "lost"}, "sum_amount": Decimal("50.00")},
        {"group": {"stage": "proposal"}, "sum_amount": Decimal("500.50")},
        {"group": {"stage": "won"}, "sum_amount": Decimal("1000.00")},
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"group_by": [{"field": "nickname"}]}, "group_by[0].field: deal has no field 'nickname'"),
        (
            {"group_by": [{"field": "stage"}, {"field": "close_date", "bucket": "decade"}]},
            "group_by[1].bucket: unknown bucket 'decade' (use day, week, month, quarter, year)",
        ),
        (
            {"group_by": [{"field": "amount", "bucket": "month"}]},
            "group_by[0].bucket: amount is not a date; only dates have buckets",
        ),
        (
            {"group_by": [{"field": "company.tier"}]},
            "group_by[0].field: 'company.tier' follows a lookup; "
            "only fields of the entity are grouped",
        ),
        (
            {"group_by": [{"field": "related_deals"}]},
            "group_by[0].field: related_deals (multi_lookup) cannot be grouped",
        ),
        ({"group_by": ["stage"]}, "group_by[0]: expected {field, bucket}"),
        ({"group_by": [{"field": "stage", "as": "s"}]}, "group_by[0]: expected {field, bucket}"),
        (
            {"group_by": [{"field": "stage"}, {"field": "stage"}]},
            "group_by[1]: stage is grouped twice",
        ),
        ({"group_by": [{"field": "stage"}] * 6}, "group_by: at most 5 groups"),
        ({"group_by": {"field": "stage"}}, "group_by: expected a list"),
        (
            {"metrics": [{"fn": "median", "field": "amount"}]},
            "metrics[0].fn: unknown function 'median' "
            "(use count, count_distinct, sum, avg, min, max)",
        ),
        (
            {"metrics": [{"fn": "sum", "field": "nope"}]},
            "metrics[0].field: deal has no field 'nope'",
        ),
        ({"metrics": [{"fn": "sum"}]}, "metrics[0].field: a field name is needed"),
        (
            {"metrics": [{"fn": "count"}, {"fn": "sum", "field": "name"}]},
            "metrics[1].field: sum needs a number field; name is text",
        ),
        (
            {"metrics": [{"fn": "avg", "field": "company"}]},
            "metrics[0].field: avg needs a number field; company is lookup",
        ),
        (
            {"metrics": [{"fn": "max", "field": "related_deals"}]},
            "metrics[0].field: max needs a number, date or text field; "
            "related_deals is multi_lookup",
        ),
        (
            {"metrics": [{"fn": "sum", "field": "company.employees"}]},
            "metrics[0].field: 'company.employees' follows a lookup; "
            "only fields of the entity are aggregated",
        ),
        (
            {"metrics": [{"fn": "count", "field": "amount"}]},
            "metrics[0].field: count counts records and takes no field",
        ),
        (
            {"metrics": [{"fn": "count"}, {"fn": "count"}]},
            "metrics[1].as: the name 'count' is used twice",
        ),
        (
            {"metrics": [{"fn": "count", "as": ""}]},
            "metrics[0].as: the name is a non-empty string other than 'group'",
        ),
        ({"metrics": ["count"]}, "metrics[0]: expected {fn, field, as, filter}"),
        ({"metrics": [{"fn": "count"}] * 11}, "metrics: at most 10 metrics"),
        ({"metrics": {"fn": "count"}}, "metrics: a non-empty list of metrics is needed"),
        (
            {"filter_tree": {"field": "stage", "op": "eq", "value": "z"}},
            "filter.value: 'z' is not one of: new, proposal, won, lost",
        ),
    ],
)
def test_bad_inputs_name_the_problem_and_its_path(shop, deals, kwargs, message):
    with pytest.raises(RecordError) as error:
        shop.aggregate("deal", **kwargs)
    assert (error.value.code, error.value.message) == ("invalid_query", message)


def test_an_empty_metric_list_is_refused(shop):
    # given the service replaces a missing metric list with a count, so call the module itself
    with tenant_context(shop.tenant, user=shop.user):
        config = active_config(shop.tenant)
        compiler = QueryCompiler(config, config.entities["deal"])
        # when
        with pytest.raises(RecordError) as error:
            run_aggregate(
                compiler,
                filter_tree=None,
                group_by=[],
                metrics=[],
                search=None,
                scope=("TRUE", []),
            )
    # then
    assert (error.value.code, error.value.message, error.value.path) == (
        "invalid_query",
        "metrics: a non-empty list of metrics is needed",
        "metrics",
    )


def test_an_aggregate_costs_the_same_queries_for_10_and_100_records(
    shop, django_assert_num_queries
):
    company = shop.create("company", {"name": "Acme"})
    report = {
        "group_by": [{"field": "stage"}, {"field": "close_date", "bucket": "month"}],
        "metrics": [{"fn": "count"}, {"fn": "sum", "field": "amount"}],
    }

    def add(count):
        for _ in range(count):
            shop.create("deal", {"name": "D", "company": company.id, "close_date": "2025-03-01"})

    with tenant_context(shop.tenant, user=shop.user):
        add(10)
        shop.aggregate("deal", **report)  # warm the compiled configuration
        with django_assert_num_queries(2):
            assert shop.aggregate("deal", **report)[0]["count"] == 10
        add(90)
        with django_assert_num_queries(2):
            assert shop.aggregate("deal", **report)[0]["count"] == 100
