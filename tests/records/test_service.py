"""The records service: every write is normalized, validated and recorded, or refused whole."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from records.errors import RecordError
from records.models import AuditEntry, Record
from records.service import RecordService, render_autonumber
from tenants.context import tenant_context


def codes(error: RecordError) -> list[tuple[str | None, str]]:
    return [(e.field, e.code) for e in error.errors]


def count(service) -> int:
    with tenant_context(service.tenant):
        return Record.objects.count()


def test_create_normalizes_defaults_numbers_and_computes(shop):
    company = shop.create(
        "company", {"name": "  Acme  ", "employees": "12", "email": "Sales@ACME.example"}
    )
    assert company.values == {
        "name": "Acme",
        "employees": 12,
        "email": "Sales@acme.example",
        "tier": "c",
        "credit_limit": Decimal("0.00"),
        "active": True,
        "deal_count": 0,
        "code": f"C-{dt.datetime.now(dt.UTC):%Y}-0001",
    }
    assert (company.version, company.owner_id) == (1, shop.user.pk)


def test_formula_is_computed_from_the_record(shop, company):
    deal = shop.create(
        "deal", {"name": "Big", "company": company.id, "amount": "1000", "probability": 25}
    )
    assert deal.values["weighted_amount"] == Decimal("250.00")
    updated = shop.update("deal", deal.id, {"probability": 50})
    assert updated.values["weighted_amount"] == Decimal("500.00")


def test_formula_over_an_empty_field_has_no_value(shop, company):
    deal = shop.create("deal", {"name": "Small", "company": company.id})
    assert "weighted_amount" not in deal.values


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"name": "X", "nickname": "x"}, [("nickname", "unknown_field")]),
        ({"name": "X", "employees": "many"}, [("employees", "invalid_number")]),
        ({"name": "X", "employees": -1}, [("employees", "below_min")]),
        ({"name": "X", "tier": "z"}, [("tier", "unknown_option")]),
        ({"name": "X", "tags": ["legacy"]}, [("tags", "unknown_option")]),
        ({"name": "X", "code": "C-1"}, [("code", "read_only")]),
        ({"name": "X", "deal_count": 3}, [("deal_count", "read_only")]),
        ({"employees": 3}, [("name", "required")]),
        ({"name": "X", "credit_limit": -5}, [("credit_limit", "rule:credit_not_negative")]),
        ({"name": "X", "website": "ftp://x"}, [("website", "invalid_url")]),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(shop, values, expected):
    with pytest.raises(RecordError) as error:
        shop.create("company", values)
    assert error.value.code == "invalid"
    assert codes(error.value) == expected
    assert count(shop) == 0


def test_all_problems_are_reported_at_once(shop):
    with pytest.raises(RecordError) as error:
        shop.create("company", {"employees": "x", "tier": "z"})
    assert codes(error.value) == [("employees", "invalid_number"), ("tier", "unknown_option")]


def test_rule_message_names_the_field(shop, company):
    with pytest.raises(RecordError) as error:
        shop.create("deal", {"name": "Won", "company": company.id, "stage": "won"})
    assert [e.as_dict() for e in error.value.errors] == [
        {
            "field": "amount",
            "code": "rule:won_needs_amount",
            "message": "A won deal needs an amount",
        }
    ]


def test_unique_value_is_refused_in_the_database_and_freed_by_delete(shop, company):
    with pytest.raises(RecordError) as error:
        shop.create("company", {"name": "Acme"})
    assert codes(error.value) == [("name", "not_unique")]
    shop.delete("company", company.id)
    again = shop.create("company", {"name": "Acme"})
    with pytest.raises(RecordError) as error:
        shop.restore("company", company.id)
    assert codes(error.value) == [("name", "not_unique")]
    assert shop.get("company", again.id).values["name"] == "Acme"


def test_unique_is_per_tenant(shop, company, make_tenant):
    other = make_tenant("other", pack="starter")
    created = RecordService(other.tenant, other.admin).create("company", {"name": "Acme"})
    assert created.values["name"] == "Acme"


def test_lookup_must_name_a_live_record_of_its_target(shop, company):
    deal = shop.create("deal", {"name": "D", "company": company.id})
    for target in (999999, deal.id):
        with pytest.raises(RecordError) as error:
            shop.create("deal", {"name": "E", "company": target})
        assert codes(error.value) == [("company", "invalid_reference")]
    shop.delete("deal", deal.id)
    other = shop.create("company", {"name": "Other"})
    shop.delete("company", other.id)
    with pytest.raises(RecordError) as error:
        shop.create("deal", {"name": "E", "company": other.id})
    assert error.value.errors[0].message == f"there is no company {other.id}"


def test_partial_update_keeps_other_fields_and_bumps_the_version(shop, company):
    updated = shop.update("company", company.id, {"tier": "a"}, version=1)
    assert (updated.version, updated.values["tier"], updated.values["employees"]) == (2, "a", 12)


def test_update_naming_an_old_version_is_a_conflict_and_changes_nothing(shop, company):
    shop.update("company", company.id, {"tier": "a"}, version=1)
    with pytest.raises(RecordError) as error:
        shop.update("company", company.id, {"tier": "b"}, version=1)
    assert error.value.code == "version_conflict"
    assert shop.get("company", company.id).values["tier"] == "a"


def test_update_with_null_clears_a_field_but_not_a_required_one(shop, company):
    cleared = shop.update("company", company.id, {"employees": None})
    assert "employees" not in cleared.values
    with pytest.raises(RecordError) as error:
        shop.update("company", company.id, {"name": None})
    assert codes(error.value) == [("name", "required")]


def test_update_that_changes_nothing_keeps_the_version(shop, company):
    assert shop.update("company", company.id, {"employees": 12}).version == 1


def test_recycle_bin_restore_and_purge(shop, company):
    shop.delete("company", company.id)
    with pytest.raises(RecordError) as error:
        shop.get("company", company.id)
    assert error.value.code == "not_found"
    assert shop.get("company", company.id, include_deleted=True).deleted_at is not None
    restored = shop.restore("company", company.id)
    assert restored.deleted_at is None
    with pytest.raises(RecordError) as error:
        shop.purge("company", company.id)
    assert error.value.code == "not_deleted"
    shop.delete("company", company.id)
    shop.purge("company", company.id)
    assert count(shop) == 0
    with tenant_context(shop.tenant):
        assert AuditEntry.objects.filter(record_id=company.id).count() == 5


def test_delete_is_restricted_while_referenced(shop, company):
    deal = shop.create("deal", {"name": "D", "company": company.id})
    with pytest.raises(RecordError) as error:
        shop.delete("company", company.id)
    assert (error.value.code, error.value.message) == (
        "delete_restricted",
        f"company {company.id} is still referenced by deal {deal.id} (company).",
    )
    assert shop.get("company", company.id).deleted_at is None


def test_delete_sets_null_or_cascades_as_configured(crm):
    parent = crm.create("account", {"name": "Parent"})
    child = crm.create("account", {"name": "Child", "parent": parent.id})
    contact = crm.create("contact", {"full_name": "Li Lei", "account": parent.id})
    crm.delete("account", parent.id)
    assert "parent" not in crm.get("account", child.id).values
    assert crm.get("account", child.id).version == 2
    with pytest.raises(RecordError):
        crm.get("contact", contact.id)
    assert crm.get("contact", contact.id, include_deleted=True).deleted_at is not None


def test_history_records_who_changed_which_field(shop, company):
    shop.update("company", company.id, {"tier": "a", "employees": 20})
    entries = shop.history("company", company.id)
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].user == shop.user
    assert entries[1].changes == [
        {"field": "employees", "old": 12, "new": 20},
        {"field": "tier", "old": "c", "new": "a"},
    ]


def test_entities_without_track_history_keep_no_history(shop):
    import copy

    from metadata.publish import active_version, document_of, publish, save_draft

    document = copy.deepcopy(document_of(active_version(shop.tenant)))
    document["entities"][0]["track_history"] = False
    save_draft(shop.tenant, document, overwrite=True)
    publish(shop.tenant)
    company = shop.create("company", {"name": "Quiet"})
    shop.update("company", company.id, {"employees": 3})
    assert shop.history("company", company.id) == []
    deal = shop.create("deal", {"name": "Loud", "company": company.id})
    assert [entry.action for entry in shop.history("deal", deal.id)] == ["create"]


def test_unknown_entity_and_missing_record_are_refused(shop):
    with pytest.raises(RecordError) as error:
        shop.create("planet", {})
    assert (error.value.code, error.value.message) == (
        "unknown_entity",
        "There is no entity 'planet'.",
    )
    for bad_id in (424242, "1", None, True):
        with pytest.raises(RecordError) as error:
            shop.get("company", bad_id)
        assert error.value.code == "not_found"


def test_another_tenants_record_does_not_exist_for_this_one(shop, company, make_tenant):
    other = make_tenant("other", pack="starter")
    with pytest.raises(RecordError) as error:
        RecordService(other.tenant, other.admin).get("company", company.id)
    assert error.value.code == "not_found"


def test_autonumber_pattern_rendering():
    now = dt.datetime(2026, 3, 7, tzinfo=dt.UTC)
    assert render_autonumber("Q-{YYYY}{MM}{DD}-{0000}", 42, now) == "Q-20260307-0042"
    assert render_autonumber("{YY}/{000}", 12345, now) == "26/12345"


@pytest.mark.django_db(transaction=True)
def test_autonumbers_are_unique_under_concurrent_creates(make_tenant):
    made = make_tenant("race", pack="starter")
    failures = []

    def create_many(prefix: str) -> None:
        try:
            service = RecordService(made.tenant, made.admin)
            for index in range(5):
                service.create("company", {"name": f"{prefix}{index}"})
        except Exception as error:  # noqa: BLE001
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create_many, args=(p,)) for p in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with tenant_context(made.tenant):
        issued = sorted(Record.objects.values_list("data__code", flat=True))
    year = dt.datetime.now(dt.UTC).year
    assert issued == [f"C-{year}-{n:04d}" for n in range(1, 11)]


def test_a_refused_write_inside_a_callers_transaction_leaves_nothing_behind(shop, company):
    # The unique value is claimed after the record row is written; the refusal must undo both
    # even when the caller holds the tenant's transaction and carries on after the error.
    with tenant_context(shop.tenant, user=shop.user):
        with pytest.raises(RecordError):
            shop.create("company", {"name": "Acme", "employees": 1})
        assert Record.objects.filter(entity="company").count() == 1
        shop.create("company", {"name": "Still works"})
    assert count(shop) == 2


def test_a_create_reads_the_active_configuration_once(shop, company):
    from django.test.utils import CaptureQueriesContext

    with tenant_context(shop.tenant, user=shop.user), CaptureQueriesContext(connection) as ctx:
        shop.create("deal", {"name": "D", "company": company.id})
    assert (
        sum("max(number) FROM metadata_configversion" in q["sql"] for q in ctx.captured_queries)
        == 1
    )
