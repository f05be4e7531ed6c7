"""Field indexes follow the configuration: created and dropped concurrently, used by queries."""

import copy
import io

import pytest
from django.core.management import call_command
from django.db import connection, connections

from metadata.compiled import active_config
from metadata.publish import active_version, document_of, publish, save_draft
from records.indexes import (
    existing_indexes,
    existing_statistics,
    sync_indexes,
    tenant_indexes,
    wanted_indexes,
)
from records.models import FieldIndex
from records.service import RecordService
from tenants.context import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])


@pytest.fixture(autouse=True)
def no_field_indexes():
    """Indexes are DDL: the flush between tests leaves them, so each test starts without."""
    with connections["owner"].cursor() as cursor:
        for name in existing_indexes():
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        for name in existing_statistics():
            cursor.execute(f"DROP STATISTICS IF EXISTS {name}")


def field(document, entity, key):
    entity_doc = next(e for e in document["entities"] if e["key"] == entity)
    return next(f for f in entity_doc["fields"] if f["key"] == key)


def statements(config, kind="index"):
    return {name: w.statement for name, w in wanted_indexes(config).items() if w.kind == kind}


def index_names(tenant_id):
    return [name for name in tenant_indexes(tenant_id) if name.startswith("rec_f_")]


def test_indexed_and_unique_fields_get_indexes_shared_by_tenants(make_tenant):
    first = make_tenant("idx", pack="starter")
    second = make_tenant("idx-b", pack="starter")
    result = sync_indexes(first.tenant.pk, active_config(first.tenant))
    # starter: company.name (unique), company.email, deal.amount and deal.close_date (indexed)
    # and statistics on the choices company.tier and deal.stage
    assert len(result["created"]) == 6
    wanted = statements(active_config(first.tenant))
    assert set(existing_indexes()) == set(wanted) == set(index_names(first.tenant.pk))
    assert len(wanted) == 4
    grouping = statements(active_config(first.tenant), "statistics")
    assert existing_statistics() == set(grouping)
    assert sorted(grouping.values()) == [
        f"CREATE STATISTICS IF NOT EXISTS {name} ON ((data->>'{key}')) FROM records_record"
        for key, name in sorted((s.split("'")[1], n) for n, s in grouping.items())
    ]
    statement = next(s for s in wanted.values() if "'amount'" in s)
    assert "(tenant_id, ((CASE WHEN (data->>'amount') ~" in statement
    assert "THEN (data->>'amount')::numeric END)), id)" in statement
    assert "WHERE entity = 'deal' AND deleted_at IS NULL" in statement
    assert sync_indexes(first.tenant.pk, active_config(first.tenant)) == {
        "created": [],
        "dropped": [],
        "failed": [],
    }
    # A second tenant on the same pack builds nothing and is counted in.
    assert sync_indexes(second.tenant.pk, active_config(second.tenant))["created"] == []
    assert tenant_indexes(second.tenant.pk) == tenant_indexes(first.tenant.pk)
    assert all(
        sorted(row.tenant_ids) == sorted([first.tenant.pk, second.tenant.pk])
        for row in FieldIndex.objects.using("owner").all()
    )


def unindex_amount(made):
    document = copy.deepcopy(document_of(active_version(made.tenant)))
    field(document, "deal", "amount").pop("indexed")
    save_draft(made.tenant, document, overwrite=True)
    publish(made.tenant)


def test_an_index_is_dropped_when_no_tenant_indexes_the_field_any_more(make_tenant):
    first = make_tenant("idx2", pack="starter")
    second = make_tenant("idx2-b", pack="starter")
    for made in (first, second):
        sync_indexes(made.tenant.pk, active_config(made.tenant))
    unindex_amount(first)
    result = sync_indexes(first.tenant.pk, active_config(first.tenant))
    # The second tenant still wants it: it stays.
    assert result == {"created": [], "dropped": [], "failed": []}
    assert len(index_names(first.tenant.pk)) == 3
    assert len(existing_indexes()) == 4
    unindex_amount(second)
    result = sync_indexes(second.tenant.pk, active_config(second.tenant))
    assert (len(result["created"]), len(result["dropped"])) == (0, 1), result
    assert len(existing_indexes()) == 3, (result, existing_indexes())
    assert FieldIndex.objects.using("owner").filter(kind="index").count() == 3
    assert len(existing_statistics()) == 2


def add_field(made, entity, spec):
    document = copy.deepcopy(document_of(active_version(made.tenant)))
    next(e for e in document["entities"] if e["key"] == entity)["fields"].append(spec)
    save_draft(made.tenant, document, overwrite=True)
    publish(made.tenant)


def test_another_tenants_text_under_an_indexed_numeric_key_cannot_break_its_writes(
    make_tenant,
):
    numeric = make_tenant("idx4", pack="starter")
    add_field(
        numeric,
        "company",
        {"key": "score", "type": "decimal", "label": {"en": "Score"}, "indexed": True},
    )
    assert any(
        "'score')::numeric" in statement
        for statement in statements(active_config(numeric.tenant)).values()
    )
    sync_indexes(numeric.tenant.pk, active_config(numeric.tenant))
    # The same entity and field key, but text, in another tenant.
    other = make_tenant("idx4-b", pack="starter")
    add_field(other, "company", {"key": "score", "type": "text", "label": {"en": "Score"}})
    service = RecordService(other.tenant, other.admin)
    company = service.create("company", {"name": "C", "score": "a lot"})
    assert service.get("company", company.id).values["score"] == "a lot"
    numeric_service = RecordService(numeric.tenant, numeric.admin)
    numeric_service.create("company", {"name": "N", "score": "12.5"})
    page = numeric_service.query("company", filter_tree={"field": "score", "op": "gt", "value": 10})
    assert [row.values["name"] for row in page.rows] == ["N"]


def test_legacy_per_tenant_indexes_are_dropped_by_a_sync(make_tenant):
    made = make_tenant("idx5", pack="starter")
    legacy = f"rec_t{made.tenant.pk}_0123456789abcdef"
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX {legacy} ON records_record ((data->>'name')) "
            f"WHERE tenant_id = {made.tenant.pk}"
        )
    result = sync_indexes(made.tenant.pk, active_config(made.tenant))
    assert legacy in result["dropped"]
    assert legacy not in existing_indexes("rec_t")


def test_the_command_syncs_a_tenants_indexes(make_tenant):
    made = make_tenant("idx6", pack="starter")
    out = io.StringIO()
    call_command("records", "sync-indexes", "--tenant", "idx6", stdout=out)
    assert out.getvalue().count("created ") == 6
    assert "4 field index(es) and 2 statistics serve idx6." in out.getvalue()
    assert len(index_names(made.tenant.pk)) == 4


def test_queries_sorted_on_an_indexed_field_use_its_index(make_tenant):
    made = make_tenant("idx3", pack="starter")
    service = RecordService(made.tenant, made.admin)
    company = service.create("company", {"name": "C"})
    service.bulk_create(
        "deal", [{"name": f"D{n}", "company": company.id, "amount": n} for n in range(300)]
    )
    sync_indexes(made.tenant.pk, active_config(made.tenant))
    with connections["owner"].cursor() as cursor:  # only the owner may analyze
        cursor.execute("ANALYZE records_record")
    captured = []
    with tenant_context(made.tenant):
        with connection.execute_wrapper(
            lambda execute, sql, params, many, context: (
                captured.append((sql, params)) or execute(sql, params, many, context)
            )
        ):
            page = service.query(
                "deal", order_by=[{"field": "amount", "direction": "desc"}], first=5
            )
        assert [row.values["amount"] for row in page.rows] == [299, 298, 297, 296, 295]
        sql, params = next((s, p) for s, p in captured if "ORDER BY" in s)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "rec_f_" in plan


def test_a_range_filter_on_an_indexed_field_is_an_index_condition(make_tenant):
    """Under row-level security only leakproof conditions reach an index (tenants/leakproof.py):
    without the marks, this range would be a filter over every entry of the index."""
    made = make_tenant("idx7", pack="starter")
    service = RecordService(made.tenant, made.admin)
    company = service.create("company", {"name": "C"})
    service.bulk_create(
        "deal",
        [
            {"name": f"D{n}", "company": company.id, "close_date": f"2024-{1 + n % 12:02d}-01"}
            for n in range(240)
        ],
    )
    sync_indexes(made.tenant.pk, active_config(made.tenant))
    with connections["owner"].cursor() as cursor:  # only the owner may analyze
        cursor.execute("ANALYZE records_record")
    captured = []
    with tenant_context(made.tenant):
        with connection.execute_wrapper(
            lambda execute, sql, params, many, context: (
                captured.append((sql, params)) or execute(sql, params, many, context)
            )
        ):
            page = service.query(
                "deal",
                filter_tree={
                    "field": "close_date",
                    "op": "between",
                    "value": ["2024-03-01", "2024-03-31"],
                },
                order_by=[{"field": "close_date"}],
                first=50,
            )
        assert len(page.rows) == 20
        sql, params = next((s, p) for s, p in captured if "ORDER BY" in s)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Cond: ((tenant_id = " in plan
    assert "(data ->> 'close_date'::text) >= '2024-03-01'::text" in plan.split("Index Cond:")[1]
