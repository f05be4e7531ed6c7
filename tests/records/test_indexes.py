"""Field indexes follow the configuration: created and dropped concurrently, used by queries."""

import copy

import pytest
from django.db import connection, connections

from metadata.compiled import active_config
from metadata.publish import active_version, document_of, publish, save_draft
from records.indexes import existing_indexes, sync_indexes, wanted_indexes
from records.service import RecordService
from tenants.context import tenant_context

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])


def field(document, entity, key):
    entity_doc = next(e for e in document["entities"] if e["key"] == entity)
    return next(f for f in entity_doc["fields"] if f["key"] == key)


def test_indexed_and_unique_fields_get_partial_indexes_per_tenant(make_tenant):
    made = make_tenant("idx", pack="starter")
    tenant_id = made.tenant.pk
    result = sync_indexes(tenant_id, active_config(made.tenant))
    # starter: company.name (unique), company.email, deal.amount and deal.close_date (indexed)
    assert len(result["created"]) == 4
    assert set(existing_indexes(tenant_id)) == set(
        wanted_indexes(tenant_id, active_config(made.tenant))
    )
    statement = next(
        s for s in wanted_indexes(tenant_id, active_config(made.tenant)).values() if "'amount'" in s
    )
    assert "((data->>'amount')::numeric)" in statement
    assert f"WHERE tenant_id = {tenant_id} AND entity = 'deal'" in statement
    assert sync_indexes(tenant_id, active_config(made.tenant)) == {
        "created": [],
        "dropped": [],
        "failed": [],
    }


def test_an_index_is_dropped_when_the_field_is_no_longer_indexed(make_tenant):
    made = make_tenant("idx2", pack="starter")
    sync_indexes(made.tenant.pk, active_config(made.tenant))
    document = copy.deepcopy(document_of(active_version(made.tenant)))
    field(document, "deal", "amount").pop("indexed")
    save_draft(made.tenant, document, overwrite=True)
    publish(made.tenant)
    result = sync_indexes(made.tenant.pk, active_config(made.tenant))
    assert (len(result["created"]), len(result["dropped"])) == (0, 1)
    assert len(existing_indexes(made.tenant.pk)) == 3


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
    assert f"rec_t{made.tenant.pk}_" in plan
