"""Rollups stay correct through creates, updates, moves, deletes and restores."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from records.service import RecordService


def rollups(shop, company_id) -> tuple:
    values = shop.get("company", company_id).values
    return values.get("deal_count"), values.get("open_pipeline")


def test_a_new_parent_counts_zero(shop, company):
    assert rollups(shop, company.id) == (0, None)


def test_rollups_follow_every_change_of_the_children(shop, company):
    other = shop.create("company", {"name": "Other"})
    first = shop.create("deal", {"name": "A", "company": company.id, "amount": "100"})
    shop.create("deal", {"name": "B", "company": company.id, "amount": "50.5"})
    assert rollups(shop, company.id) == (2, Decimal("150.50"))

    shop.update("deal", first.id, {"stage": "won"})  # the filter drops won deals from the sum
    assert rollups(shop, company.id) == (2, Decimal("50.50"))

    shop.update("deal", first.id, {"company": other.id, "stage": "new"})
    assert rollups(shop, company.id) == (1, Decimal("50.50"))
    assert rollups(shop, other.id) == (1, Decimal("100.00"))

    shop.delete("deal", first.id)
    assert rollups(shop, other.id) == (0, None)
    shop.restore("deal", first.id)
    assert rollups(shop, other.id) == (1, Decimal("100.00"))


def test_a_user_cannot_write_a_rollup(shop, company):
    from records.errors import RecordError

    with pytest.raises(RecordError) as error:
        shop.update("company", company.id, {"deal_count": 7})
    assert [(e.field, e.code) for e in error.value.errors] == [("deal_count", "read_only")]


@pytest.mark.django_db(transaction=True)
def test_concurrent_children_are_all_counted(make_tenant):
    made = make_tenant("busy", pack="starter")
    parent = RecordService(made.tenant, made.admin).create("company", {"name": "Busy"})
    failures = []

    def add_deals(prefix: str) -> None:
        try:
            service = RecordService(made.tenant, made.admin)
            for index in range(5):
                service.create(
                    "deal", {"name": f"{prefix}{index}", "company": parent.id, "amount": "10"}
                )
        except Exception as error:  # noqa: BLE001
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=add_deals, args=(p,)) for p in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    values = RecordService(made.tenant, made.admin).get("company", parent.id).values
    assert (values["deal_count"], values["open_pipeline"]) == (15, Decimal("150.00"))


def test_bulk_creates_add_to_the_stored_rollups(shop, company):
    shop.create("deal", {"name": "Before", "company": company.id, "amount": "5"})
    shop.bulk_create(
        "deal",
        [
            {"name": "N1", "company": company.id, "amount": "10"},
            {"name": "N2", "company": company.id, "amount": "20", "stage": "won"},  # filtered out
            {"name": "N3", "company": company.id},
        ],
    )
    assert rollups(shop, company.id) == (4, Decimal("15.00"))
    # the same figures as a full recount
    from metadata.compiled import active_config
    from records.rollups import refresh_parent
    from tenants.context import tenant_context

    with tenant_context(shop.tenant):
        config = active_config(shop.tenant)
        refresh_parent(config, config.entities["company"], company.id)
    assert rollups(shop, company.id) == (4, Decimal("15.00"))


def test_bulk_create_starts_a_sum_for_a_parent_without_one(shop, company):
    shop.bulk_create("deal", [{"name": "N1", "company": company.id, "amount": "7.25"}])
    assert rollups(shop, company.id) == (1, Decimal("7.25"))


def test_a_change_climbs_rollups_of_rollups(crm):
    """A line changes its order's total, which changes the account's revenue (a rollup of
    the orders' grand total, a formula over their rollup), and the account's last order date
    (a max of dates); formulas recomputed on the way read the system fields."""
    account = crm.create("account", {"name": "Northwind"})
    product = crm.create("product", {"name": "Scanner", "code": "SC-1"}).id
    first = crm.create("order", {"account": account.id, "order_date": "2026-01-10"})
    later = crm.create("order", {"account": account.id, "order_date": "2026-03-05"})
    values = crm.get("account", account.id).values
    assert values["last_order_date"] == "2026-03-05"
    assert values.get("order_total") in (None, Decimal(0))

    line = crm.create(
        "order_line",
        {"order": first.id, "product": product, "quantity": "2", "unit_price": "100"},
    )
    order_total = crm.get("order", first.id).values["grand_total"]
    assert order_total > Decimal(200)  # lines plus tax
    assert crm.get("account", account.id).values["order_total"] == order_total

    crm.update("order_line", line.id, {"quantity": "4"})
    doubled = crm.get("order", first.id).values["grand_total"]
    assert crm.get("account", account.id).values["order_total"] == doubled

    crm.delete("order", later.id)
    assert crm.get("account", account.id).values["last_order_date"] == "2026-01-10"
    crm.update("order", first.id, {"status": "canceled"})  # the rollup's filter drops it
    values = crm.get("account", account.id).values
    assert values.get("last_order_date") is None
    assert values.get("order_total") in (None, Decimal(0))


def test_dated_rollups_filter_sort_and_show_as_dates(crm):
    old = crm.create("account", {"name": "Old"})
    new = crm.create("account", {"name": "New"})
    crm.create("account", {"name": "Never"})
    crm.create("order", {"account": old.id, "order_date": "2020-02-01"})
    crm.create("order", {"account": new.id, "order_date": "2099-02-01"})
    found = crm.query(
        "account",
        filter_tree={"field": "last_order_date", "op": "over_n_days_ago", "value": 180},
        order_by=[{"field": "last_order_date", "direction": "asc"}],
    ).rows
    assert [row.values["name"] for row in found] == ["Old"]
    ordered = crm.query("account", order_by=[{"field": "last_order_date", "direction": "desc"}])
    assert [r.values["name"] for r in ordered.rows] == ["Never", "New", "Old"]  # empty first
    after = crm.query(
        "account", filter_tree={"field": "last_order_date", "op": "gt", "value": "2050-01-01"}
    )
    assert [row.values["name"] for row in after.rows] == ["New"]


def test_an_update_the_rollups_do_not_read_leaves_the_parent_alone(shop, company):
    from django.test.utils import CaptureQueriesContext

    deal = shop.create("deal", {"name": "A", "company": company.id, "amount": "100"})
    with CaptureQueriesContext(connection) as renamed:
        shop.update("deal", deal.id, {"name": "A renamed"})
    assert not [q for q in renamed.captured_queries if "FOR NO KEY UPDATE" in q["sql"]]
    with CaptureQueriesContext(connection) as repriced:
        shop.update("deal", deal.id, {"amount": "250"})
    locks = [q for q in repriced.captured_queries if "FOR NO KEY UPDATE" in q["sql"]]
    assert len(locks) == 1  # the company, once for both of its rollups
    assert rollups(shop, company.id) == (1, Decimal("250.00"))
