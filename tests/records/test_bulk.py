"""Bulk create, update and upsert: all rows or none, every failing row reported."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.bulk import BulkError
from records.models import AuditEntry, Record, Reference
from tenants.context import tenant_context


def stored(service, entity: str) -> list[str]:
    with tenant_context(service.tenant):
        return sorted(
            Record.objects.filter(entity=entity, deleted_at__isnull=True).values_list(
                "data__name", flat=True
            )
        )


def test_bulk_create_writes_every_row_with_its_side_rows(shop, company):
    rows = [{"name": f"Deal {n}", "company": company.id, "amount": n * 10} for n in range(1, 6)]
    result = shop.bulk_create("deal", rows, batch_size=2)
    assert len(result.created) == 5
    assert shop.get("deal", result.created[2]).values["amount"] == 30
    assert shop.get("company", company.id).values["deal_count"] == 5
    with tenant_context(shop.tenant):
        assert Reference.objects.filter(target_id=company.id).count() == 5
        assert AuditEntry.objects.filter(record_id__in=result.created).count() == 5


def test_bulk_rollups_cost_the_same_queries_for_2_and_20_parents(shop):
    """Parents are locked in one statement and written in one, however many there are."""
    companies = [shop.create("company", {"name": f"C{n}"}) for n in range(20)]

    def deals(parents, tag):
        return [
            {"name": f"{tag}{n}", "company": parents[n % len(parents)].id, "amount": 100}
            for n in range(40)
        ]

    shop.bulk_create("deal", deals(companies[:2], "warm"))  # the first sums are recomputed
    shop.bulk_create("deal", deals(companies, "warm2"))
    with tenant_context(shop.tenant, user=shop.user):
        with CaptureQueriesContext(connection) as two:
            shop.bulk_create("deal", deals(companies[:2], "a"))
        with CaptureQueriesContext(connection) as twenty:
            shop.bulk_create("deal", deals(companies, "b"))
    assert len(twenty.captured_queries) == len(two.captured_queries)
    # 20 + 2 + 20 + 2 deals of 100 each for the first company
    company = shop.get("company", companies[0].id).values
    assert (company["deal_count"], company["open_pipeline"]) == (44, Decimal("4400.00"))


def test_bulk_create_issues_consecutive_autonumbers(shop):
    result = shop.bulk_create("company", [{"name": f"C{n}"} for n in range(3)])
    codes = [shop.get("company", pk).values["code"][-4:] for pk in result.created]
    assert codes == ["0001", "0002", "0003"]


def test_one_bad_row_writes_nothing_and_every_bad_row_is_reported(shop, company):
    rows = [
        {"name": "Fine", "company": company.id},
        {"name": "No company"},
        {"name": "Bad amount", "company": company.id, "amount": "lots"},
        {"name": "Ghost", "company": 987654},
        "not an object",
    ]
    with pytest.raises(BulkError) as error:
        shop.bulk_create("deal", rows, batch_size=2)
    assert [(r.index, [(e.field, e.code) for e in r.errors]) for r in error.value.rows] == [
        (1, [("company", "required")]),
        (2, [("amount", "invalid_number")]),
        (3, [("company", "invalid_reference")]),
        (4, [(None, "invalid_type")]),
    ]
    assert error.value.message == "4 row(s) failed; nothing was written."
    assert stored(shop, "deal") == []


def test_duplicates_within_the_rows_and_against_stored_values_are_reported(shop, company):
    with pytest.raises(BulkError) as error:
        shop.bulk_create("company", [{"name": "New"}, {"name": "Acme"}, {"name": "New"}])
    assert [(r.index, r.errors[0].code, r.errors[0].message) for r in error.value.rows] == [
        (2, "not_unique", "row 0 has the same name"),
        (1, "not_unique", "another company already has this name"),
    ]
    assert stored(shop, "company") == ["Acme"]


def test_batches_validated_beside_earlier_writes_report_duplicates_across_them(shop):
    """Batch 2 is validated while batch 1 is written; its duplicate of a batch-1 name is found
    against the written rows, and nothing is kept."""
    rows = [{"name": f"C{n}"} for n in range(4)] + [{"name": "C1"}, {"name": "C5"}]
    with pytest.raises(BulkError) as error:
        shop.bulk_create("company", rows, batch_size=2)
    assert [(r.index, r.errors[0].code) for r in error.value.rows] == [(4, "not_unique")]
    assert stored(shop, "company") == []
    # Clean, several batches: every row, in order, with consecutive ids.
    created = shop.bulk_create("company", [{"name": f"D{n}"} for n in range(7)], batch_size=2)
    assert created.created == sorted(created.created)
    assert [shop.get("company", pk).values["name"] for pk in created.created] == [
        f"D{n}" for n in range(7)
    ]


def test_bulk_update_is_all_or_nothing(shop, company):
    other = shop.create("company", {"name": "Other"})
    with pytest.raises(BulkError) as error:
        shop.bulk_update(
            "company",
            [
                {"id": company.id, "values": {"tier": "a"}},
                {"id": other.id, "version": 9, "values": {"tier": "b"}},
            ],
        )
    assert [(r.index, r.errors[0].code) for r in error.value.rows] == [(1, "version_conflict")]
    assert shop.get("company", company.id).values["tier"] == "c"
    result = shop.bulk_update(
        "company",
        [
            {"id": company.id, "values": {"tier": "a"}},
            {"id": other.id, "version": 1, "values": {"tier": "b"}},
        ],
    )
    assert sorted(result.updated) == sorted([company.id, other.id])


def test_upsert_updates_matches_and_creates_the_rest(shop, company):
    result = shop.bulk_upsert(
        "company",
        [{"name": "Acme", "employees": 99}, {"name": "Brand new", "employees": 1}],
        match_on="name",
    )
    assert result.updated == [company.id]
    assert len(result.created) == 1
    assert shop.get("company", company.id).values["employees"] == 99
    assert stored(shop, "company") == ["Acme", "Brand new"]


def test_upsert_needs_a_unique_field(shop):
    from records.errors import RecordError

    with pytest.raises(RecordError, match="'employees' is not one"):
        shop.bulk_upsert("company", [{"employees": 1}], match_on="employees")


def test_upsert_reports_failures_at_the_callers_row_indexes(shop, company):
    with pytest.raises(BulkError) as error:
        shop.bulk_upsert(
            "company",
            [{"name": "Fresh", "employees": -1}, {"name": "Acme", "tier": "zz"}],
            match_on="name",
        )
    assert [(r.index, r.errors[0].code) for r in error.value.rows] == [
        (0, "below_min"),
        (1, "unknown_option"),
    ]
    assert shop.get("company", company.id).values.get("tier") == "c"
