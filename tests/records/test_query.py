"""The query compiler against PostgreSQL: filters, sorts, keyset pages, search, refusals."""

import pytest

from records.errors import RecordError


@pytest.fixture
def companies(shop):
    rows = [
        {
            "name": "Alpha",
            "employees": 10,
            "tier": "a",
            "active": True,
            "founded": "2001-05-01",
            "credit_limit": "100.50",
            "tags": ["partner"],
        },
        {
            "name": "Beta",
            "employees": 250,
            "tier": "b",
            "active": False,
            "founded": "1999-12-31",
            "credit_limit": "20",
            "tags": ["partner", "reseller"],
        },
        {"name": "Gamma 北京", "employees": None, "tier": "c", "active": True},
        {
            "name": "Delta",
            "employees": 10,
            "tier": "a",
            "active": True,
            "founded": "2020-01-01",
            "credit_limit": "7.25",
        },
    ]
    return {
        row["name"]: shop.create("company", {k: v for k, v in row.items() if v is not None})
        for row in rows
    }


def names(page) -> list[str]:
    return [row.values["name"] for row in page.rows]


def query(shop, filter_tree=None, **kwargs):
    kwargs.setdefault("order_by", [{"field": "name"}])
    return shop.query("company", filter_tree=filter_tree, **kwargs)


@pytest.mark.parametrize(
    ("filter_tree", "expected"),
    [
        ({"field": "tier", "op": "eq", "value": "a"}, ["Alpha", "Delta"]),
        ({"field": "tier", "op": "ne", "value": "a"}, ["Beta", "Gamma 北京"]),
        ({"field": "employees", "op": "ne", "value": 10}, ["Beta", "Gamma 北京"]),
        ({"field": "employees", "op": "gt", "value": 10}, ["Beta"]),
        ({"field": "employees", "op": "lte", "value": 10}, ["Alpha", "Delta"]),
        ({"field": "employees", "op": "between", "value": [5, 300]}, ["Alpha", "Beta", "Delta"]),
        ({"field": "employees", "op": "is_null", "value": True}, ["Gamma 北京"]),
        ({"field": "employees", "op": "in", "value": [250, 3]}, ["Beta"]),
        ({"field": "employees", "op": "not_in", "value": [250]}, ["Alpha", "Delta", "Gamma 北京"]),
        ({"field": "credit_limit", "op": "gte", "value": "20"}, ["Alpha", "Beta"]),
        ({"field": "credit_limit", "op": "lt", "value": 10}, ["Delta", "Gamma 北京"]),
        ({"field": "active", "op": "eq", "value": False}, ["Beta"]),
        ({"field": "founded", "op": "lt", "value": "2001-01-01"}, ["Beta"]),
        ({"field": "name", "op": "contains", "value": "北京"}, ["Gamma 北京"]),
        ({"field": "name", "op": "contains", "value": "ET"}, ["Beta"]),
        ({"field": "name", "op": "starts_with", "value": "d"}, ["Delta"]),
        ({"field": "name", "op": "contains", "value": "%"}, []),
        ({"field": "tags", "op": "contains", "value": "reseller"}, ["Beta"]),
        (
            {
                "and": [
                    {"field": "tier", "op": "eq", "value": "a"},
                    {"field": "founded", "op": "gt", "value": "2010-01-01"},
                ]
            },
            ["Delta"],
        ),
        (
            {
                "or": [
                    {"field": "tier", "op": "eq", "value": "b"},
                    {"field": "employees", "op": "is_null", "value": True},
                ]
            },
            ["Beta", "Gamma 北京"],
        ),
        (
            {"not": {"field": "employees", "op": "gt", "value": 100}},
            ["Alpha", "Delta", "Gamma 北京"],
        ),
    ],
)
def test_filters(shop, companies, filter_tree, expected):
    assert names(query(shop, filter_tree)) == expected


def test_lookup_hop_filters_on_the_target(shop, companies):
    for company, deal in (("Alpha", "A1"), ("Beta", "B1"), ("Delta", "D1")):
        shop.create("deal", {"name": deal, "company": companies[company].id})
    page = shop.query(
        "deal",
        filter_tree={"field": "company.tier", "op": "eq", "value": "a"},
        order_by=[{"field": "name"}],
    )
    assert [row.values["name"] for row in page.rows] == ["A1", "D1"]


def hop_page(shop, tier):
    """The deals whose company has the tier, and the page statement's SQL."""
    from django.db import connection

    captured = []
    with connection.execute_wrapper(
        lambda execute, sql, params, many, context: (
            captured.append(sql) or execute(sql, params, many, context)
        )
    ):
        page = shop.query(
            "deal",
            filter_tree={"field": "company.tier", "op": "eq", "value": tier},
            order_by=[{"field": "name"}],
        )
    statement = next(sql for sql in captured if "FROM records_record r " in sql)
    samples = sum("count(*) FILTER" in sql for sql in captured)
    return [row.values["name"] for row in page.rows], statement, samples


def test_a_hop_selecting_many_targets_probes_them_and_one_selecting_few_joins(shop):
    """Both forms return the same rows; the sample of targets picks the faster one."""
    tiers = ["a"] * 10 + ["b"] * 89 + ["c"]  # a: 10 %, c: 1 % of the companies
    companies = [
        shop.create("company", {"name": f"C{n:03d}", "tier": tier}) for n, tier in enumerate(tiers)
    ]
    shop.bulk_create(
        "deal",
        [{"name": f"D{n:03d}", "company": company.id} for n, company in enumerate(companies)],
    )
    many, statement, samples = hop_page(shop, "a")
    assert many == [f"D{n:03d}" for n in range(10)]
    assert ("OFFSET 0" in statement, samples) == (True, 1)
    few, statement, samples = hop_page(shop, "c")
    assert few == ["D099"]
    assert ("OFFSET 0" in statement, samples) == (False, 1)


def test_a_cursor_is_a_row_comparison_when_empty_values_come_first(shop, companies):
    from records.query import Sort, keyset_condition
    from records.sql_fields import SqlField

    date, ident = SqlField("(r.data->>'close_date')", "text"), SqlField("r.id", "bigint")
    desc = [(date, Sort("close_date", "desc", "first")), (ident, Sort("id", "desc", "first"))]
    assert keyset_condition(desc, ["2024-01-01", 7]) == (
        "((r.data->>'close_date'), r.id) < (%s::text, %s::bigint)",
        ["2024-01-01", 7],
    )
    # An empty value in the cursor, or empty values last, need the general form.
    assert " OR " in keyset_condition(desc, [None, 7])[0]
    asc = [(date, Sort("close_date", "asc", "last")), (ident, Sort("id", "asc", "last"))]
    assert " OR " in keyset_condition(asc, ["2024-01-01", 7])[0]


def test_sort_on_several_keys_with_nulls_first_or_last(shop, companies):
    order = [
        {"field": "employees", "direction": "desc", "nulls": "last"},
        {"field": "name", "direction": "desc"},
    ]
    assert names(query(shop, order_by=order)) == ["Beta", "Delta", "Alpha", "Gamma 北京"]
    order[0]["nulls"] = "first"
    assert names(query(shop, order_by=order)) == ["Gamma 北京", "Beta", "Delta", "Alpha"]


@pytest.mark.parametrize(
    "order",
    [
        [{"field": "employees", "direction": "asc", "nulls": "first"}],
        [{"field": "employees", "direction": "desc", "nulls": "last"}, {"field": "name"}],
        [{"field": "tier", "direction": "desc"}, {"field": "credit_limit", "nulls": "first"}],
        # one direction, empty values first: cursors become row comparisons
        [{"field": "employees", "direction": "desc"}, {"field": "name", "direction": "desc"}],
        [{"field": "founded", "direction": "asc", "nulls": "first"}],
    ],
)
def test_keyset_pages_walk_every_record_once_in_order(shop, companies, order):
    everything = names(query(shop, order_by=order, first=10))
    walked, after = [], None
    while True:
        page = query(shop, order_by=order, first=1, after=after)
        walked += names(page)
        if not page.has_next:
            break
        after = page.end_cursor
    assert walked == everything


def test_pages_stay_stable_while_records_are_inserted(shop, companies):
    first = query(shop, first=2)
    assert names(first) == ["Alpha", "Beta"]
    shop.create("company", {"name": "Aardvark"})
    second = query(shop, first=2, after=first.end_cursor)
    assert names(second) == ["Delta", "Gamma 北京"]


def test_total_count_and_search(shop, companies):
    page = query(shop, search="北京", with_total=True)
    assert (names(page), page.total) == (["Gamma 北京"], 1)
    assert query(shop, first=1, with_total=True).total == 4


def test_deleted_records_are_not_listed(shop, companies):
    shop.delete("company", companies["Beta"].id)
    assert names(query(shop)) == ["Alpha", "Delta", "Gamma 北京"]


@pytest.mark.parametrize(
    ("filter_tree", "message"),
    [
        (
            {"field": "nickname", "op": "eq", "value": 1},
            "filter.field: company has no field 'nickname'",
        ),
        (
            {"field": "tags", "op": "gt", "value": 1},
            "filter.op: the operator 'gt' does not apply to tags (use contains, is_null)",
        ),
        (
            {"field": "employees", "op": "eq", "value": "many"},
            "filter.value: 'many' is not a number",
        ),
        ({"field": "tier", "op": "eq", "value": "z"}, "filter.value: 'z' is not one of: a, b, c"),
        (
            {"field": "employees", "op": "in", "value": []},
            "filter.value: in takes a non-empty list",
        ),
        (
            {"field": "employees", "op": "is_null", "value": "yes"},
            "filter.value: is_null takes true or false",
        ),
        ({"and": []}, "filter: and takes a non-empty list"),
        (
            {"or": [{"field": "name"}]},
            "filter.or[0]: expected and / or / not, or field, op and value",
        ),
        (
            {"field": "deal_count.x", "op": "eq", "value": 1},
            "filter.field: 'deal_count.x' is not a field or a lookup.field path",
        ),
        ("tier = a", "filter: a filter is an object"),
    ],
)
def test_bad_filters_name_the_problem(shop, companies, filter_tree, message):
    with pytest.raises(RecordError) as error:
        query(shop, filter_tree)
    assert (error.value.code, error.value.message) == ("invalid_query", message)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"first": 0}, "first: first must be between 1 and 500"),
        ({"first": 501}, "first: first must be between 1 and 500"),
        ({"after": "not-a-cursor"}, "after: invalid cursor"),
        ({"order_by": [{"field": "tags"}]}, "order_by[0]: tags cannot be sorted"),
        (
            {"order_by": [{"field": "name", "direction": "up"}]},
            "order_by[0]: direction is asc or desc, nulls first or last",
        ),
    ],
)
def test_bad_paging_and_sorting_are_refused(shop, companies, kwargs, message):
    with pytest.raises(RecordError) as error:
        query(shop, **kwargs)
    assert error.value.message == message


def test_a_page_costs_the_same_queries_for_10_and_100_rows(shop, django_assert_num_queries):
    for index in range(100):
        shop.create("company", {"name": f"C{index:03d}"})
    from tenants.context import tenant_context

    with tenant_context(shop.tenant, user=shop.user):
        shop.query("company", first=1)  # warm the compiled configuration
        with django_assert_num_queries(2):
            assert len(shop.query("company", first=10).rows) == 10
        with django_assert_num_queries(2):
            assert len(shop.query("company", first=100).rows) == 100


def test_a_tampered_cursor_is_refused_before_the_database(shop, companies):
    from records.query import encode_cursor

    for values in (["x", "y"], [True, 1], ["Alpha", "not-an-id"], ["Alpha"]):
        with pytest.raises(RecordError) as error:
            query(shop, after=encode_cursor(values))
        assert error.value.message == "after: invalid cursor"
    assert names(query(shop, first=1)) == ["Alpha"]  # the transaction is still usable


def test_search_must_be_text(shop, companies):
    with pytest.raises(RecordError) as error:
        query(shop, search=42)
    assert error.value.message == "search: search takes text"


def test_rollups_filter_and_sort_as_numbers(shop, companies):
    alpha, beta = companies["Alpha"], companies["Beta"]
    for index in range(10):
        shop.create("deal", {"name": f"A{index}", "company": alpha.id})
    for index in range(9):
        shop.create("deal", {"name": f"B{index}", "company": beta.id})
    page = query(
        shop,
        {"field": "deal_count", "op": "gte", "value": 9},
        order_by=[{"field": "deal_count", "direction": "desc"}],
    )
    assert names(page) == ["Alpha", "Beta"]


def test_lookup_equality_follows_moves_and_deletes(shop, companies):
    alpha, beta = companies["Alpha"], companies["Beta"]
    a1 = shop.create("deal", {"name": "A1", "company": alpha.id})
    shop.create("deal", {"name": "A2", "company": alpha.id})
    shop.create("deal", {"name": "B1", "company": beta.id})

    def deals(filter_tree):
        page = shop.query("deal", filter_tree=filter_tree, order_by=[{"field": "name"}])
        return [row.values["name"] for row in page.rows]

    assert deals({"field": "company", "op": "eq", "value": alpha.id}) == ["A1", "A2"]
    shop.update("deal", a1.id, {"company": beta.id})
    assert deals({"field": "company", "op": "eq", "value": alpha.id}) == ["A2"]
    assert deals({"field": "company", "op": "in", "value": [alpha.id, beta.id]}) == [
        "A1",
        "A2",
        "B1",
    ]
    shop.delete("deal", a1.id)
    assert deals({"field": "company", "op": "eq", "value": beta.id}) == ["B1"]
    assert deals({"field": "company", "op": "ne", "value": beta.id}) == ["A2"]


def test_is_me_finds_the_records_a_user_field_gives_to_the_user_who_asks(shop):
    mine = shop.create("company", {"name": "Mine", "account_manager": shop.user.pk})
    shop.create("company", {"name": "Nobody's"})
    page = shop.query(
        "company", filter_tree={"field": "account_manager", "op": "is_me", "value": True}
    )
    assert [row.id for row in page.rows] == [mine.id]
    others = shop.query(
        "company", filter_tree={"field": "account_manager", "op": "is_me", "value": False}
    )
    assert [row.values["name"] for row in others.rows] == ["Nobody's"]
    with pytest.raises(RecordError, match="is_me takes true or false"):
        shop.query("company", filter_tree={"field": "account_manager", "op": "is_me", "value": 1})


@pytest.mark.parametrize(
    "order",
    [
        [],
        [{"field": "employees", "direction": "desc"}],
        [{"field": "tier"}, {"field": "founded", "direction": "desc", "nulls": "last"}],
    ],
)
def test_pages_walk_backwards_with_last_and_before(shop, companies, order):
    forward = names(query(shop, order_by=order, first=10))
    walked, before = [], None
    while True:
        page = shop.query("company", order_by=order, last=1, before=before)
        walked = names(page) + walked
        if not page.has_previous:
            break
        before = page.start_cursor
    assert walked == forward
    # A cursor from a forward page serves as "before".
    second = shop.query("company", order_by=order, first=2)
    back = shop.query("company", order_by=order, last=5, before=second.end_cursor)
    assert names(back) == forward[:1]
    with pytest.raises(RecordError, match="page forwards"):
        shop.query("company", first=2, last=2)
    with pytest.raises(RecordError, match="last must be between|first must be between"):
        shop.query("company", last=0)


def test_each_rows_cursor_continues_right_after_that_row_in_both_directions(shop, companies):
    """Cursors are encoded when asked for (records.query.Cursors), also after a backward
    page reverses its rows."""
    order = [{"field": "employees", "direction": "desc"}]
    forward = names(query(shop, order_by=order, first=10))
    page = query(shop, order_by=order, first=4)
    assert page.cursors[-1] == page.end_cursor
    assert page.cursors[0] == page.start_cursor
    for index, cursor in enumerate(page.cursors):
        assert names(query(shop, order_by=order, first=10, after=cursor)) == forward[index + 1 :]
    back = shop.query("company", order_by=order, last=3, before=page.end_cursor)
    assert names(back) == forward[:3]
    assert list(back.cursors) == [page.cursors[0], page.cursors[1], page.cursors[2]]
    assert back.cursors[-1] == back.end_cursor
    assert back.cursors[1:] == page.cursors[1:3]
    with pytest.raises(IndexError):
        back.cursors[3]


def test_relative_day_counts_find_dates_before_and_within_n_days(shop):
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    for name, days_ago in (("Old", 400), ("Edge", 180), ("Recent", 30)):
        shop.create("company", {"name": name, "founded": str(today - dt.timedelta(days=days_ago))})

    def names(op, n):
        found = shop.query("company", filter_tree={"field": "founded", "op": op, "value": n}).rows
        return sorted(row.values["name"] for row in found)

    assert names("over_n_days_ago", 180) == ["Old"]  # the day 180 days ago is not over
    assert names("over_n_days_ago", 179) == ["Edge", "Old"]
    assert names("last_n_days", 181) == ["Edge", "Recent"]
    with pytest.raises(RecordError) as refused:
        names("over_n_days_ago", 0)
    assert "takes a number of days" in refused.value.message + str(refused.value.errors)
