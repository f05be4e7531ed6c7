"""related.<lookup>.<field> in formulas, defaults and validation rules: the record a lookup
points at, read when the record is saved (one by one and in bulk)."""

import copy
from decimal import Decimal

import pytest

from metadata.errors import ConfigError
from metadata.publish import active_version, document_of, publish
from records.bulk import BulkError, BulkWriter
from records.errors import RecordError
from records.service import RecordService


def reading_the_company(document):
    deal = next(e for e in document["entities"] if e["key"] == "deal")
    deal["fields"].append(
        {
            "key": "company_tier",
            "type": "formula",
            "result_type": "text",
            "expression": "related.company.tier",
        }
    )
    probability = next(f for f in deal["fields"] if f["key"] == "probability")
    probability["default"] = {"cel": "related.company.tier == 'a' ? 50.0 : 10.0"}
    deal.setdefault("validations", []).append(
        {
            "key": "active_company",
            "rule": "related.company.active",
            "message": {"en": "The company is not active"},
            "fields": ["company"],
        }
    )
    return document


@pytest.fixture
def shop(make_tenant):
    made = make_tenant("related", pack="starter")
    document = reading_the_company(copy.deepcopy(document_of(active_version(made.tenant))))
    publish(made.tenant, document=document)
    return RecordService(made.tenant, made.admin)


def test_formulas_defaults_and_rules_read_the_record_a_lookup_points_at(shop):
    gold = shop.create("company", {"name": "Gold", "tier": "a"}).id
    plain = shop.create("company", {"name": "Plain", "tier": "c"}).id
    closed = shop.create("company", {"name": "Closed", "active": False}).id
    deal = shop.create("deal", {"name": "Big", "company": gold}).values
    assert (deal["company_tier"], deal["probability"]) == ("a", 50)
    other = shop.create("deal", {"name": "Small", "company": plain})
    assert (other.values["company_tier"], other.values["probability"]) == ("c", 10)
    with pytest.raises(RecordError) as refused:
        shop.create("deal", {"name": "Nope", "company": closed})
    assert [(e.field, e.code) for e in refused.value.errors] == [("company", "rule:active_company")]
    # A copy of the moment: the company's change reaches the deal when the deal is saved.
    shop.update("company", plain, {"tier": "b"})
    assert shop.get("deal", other.id).values["company_tier"] == "c"
    shop.update("deal", other.id, {"amount": 5})
    assert shop.get("deal", other.id).values["company_tier"] == "b"
    # moving the deal re-reads the new company
    shop.update("deal", other.id, {"company": gold})
    assert shop.get("deal", other.id).values["company_tier"] == "a"


def test_bulk_rows_read_their_records_too(shop):
    gold = shop.create("company", {"name": "Gold", "tier": "a"}).id
    closed = shop.create("company", {"name": "Closed", "active": False}).id
    BulkWriter(shop).create("deal", [{"name": f"D{n}", "company": gold} for n in range(3)])
    tiers = {row.values["company_tier"] for row in shop.query("deal").rows}
    assert tiers == {"a"}
    with pytest.raises(BulkError) as refused:
        BulkWriter(shop).create(
            "deal", [{"name": "ok", "company": gold}, {"name": "x", "company": closed}]
        )
    assert [row.index for row in refused.value.rows] == [1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda deal: deal["fields"].append(
                {
                    "key": "x",
                    "type": "formula",
                    "result_type": "text",
                    "expression": "related.ghost.name",
                }
            ),
            "'ghost' is not a lookup of the record (related.ghost)",
        ),
        (
            lambda deal: deal["fields"].append(
                {
                    "key": "x",
                    "type": "formula",
                    "result_type": "text",
                    "expression": "related.company.ghost",
                }
            ),
            "unknown field 'ghost' in related.company.ghost",
        ),
        (
            lambda deal: deal["fields"].append(
                {
                    "key": "x",
                    "type": "formula",
                    "result_type": "integer",
                    "expression": "related.company.name",
                }
            ),
            "must give an int, but gives a string",
        ),
    ],
)
def test_related_reads_are_checked_at_publish(make_tenant, change, message):
    made = make_tenant("badrelated", pack="starter")
    document = copy.deepcopy(document_of(active_version(made.tenant)))
    change(next(e for e in document["entities"] if e["key"] == "deal"))
    with pytest.raises(ConfigError) as refused:
        publish(made.tenant, document=document)
    assert [p.message for p in refused.value.problems] == [message]


def test_related_is_unknown_to_workflow_conditions(make_tenant):
    made = make_tenant("badrelated", pack="starter")
    document = copy.deepcopy(document_of(active_version(made.tenant)))
    document["workflows"] = [
        {
            "key": "w",
            "type": "automation",
            "entity": "deal",
            "trigger": {"on": "create"},
            "condition": "related.company.active",
            "actions": [{"type": "set_fields", "values": {"probability": 1}}],
        }
    ]
    with pytest.raises(ConfigError) as refused:
        publish(made.tenant, document=document)
    assert [p.message for p in refused.value.problems] == [
        "related.<lookup>.<field> is only known to formulas, defaults and validation rules"
    ]


def test_a_formula_gives_an_amount_of_money(make_tenant):
    made = make_tenant("money", pack="starter")
    document = copy.deepcopy(document_of(active_version(made.tenant)))
    company = next(e for e in document["entities"] if e["key"] == "company")
    company["fields"].append(
        {
            "key": "revenue_per_head",
            "type": "formula",
            "result_type": "currency",
            "scale": 2,
            "expression": "{'amount': record.annual_revenue.amount / double(record.employees), "
            "'currency': record.annual_revenue.currency}",
        }
    )
    publish(made.tenant, document=document)
    service = RecordService(made.tenant, made.admin)
    acme = service.create(
        "company",
        {"name": "Acme", "employees": 4, "annual_revenue": {"amount": "1000", "currency": "USD"}},
    )
    assert acme.values["revenue_per_head"] == {"amount": Decimal("250.00"), "currency": "USD"}
    found = service.query(
        "company", filter_tree={"field": "revenue_per_head", "op": "gt", "value": 100}
    ).rows
    assert [row.id for row in found] == [acme.id]
