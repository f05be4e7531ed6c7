"""The data part of the publish impact report, over real records."""

import copy

import pytest

from metadata.errors import ConfigError
from metadata.publish import active_version, document_of, publish, save_draft


def edited(service, change) -> dict:
    document = copy.deepcopy(document_of(active_version(service.tenant)))
    change(document)
    return document


def field(document, entity, key):
    entity_doc = next(e for e in document["entities"] if e["key"] == entity)
    return next(f for f in entity_doc["fields"] if f["key"] == key)


def blocked(service, change, strategies=("breaking-api", "convert-types")) -> list[tuple]:
    save_draft(service.tenant, edited(service, change), overwrite=True)
    with pytest.raises(ConfigError) as error:
        publish(service.tenant, strategies=strategies)
    return [(i.code, i.path, i.count, i.sample_ids) for i in error.value.report]


def test_a_field_becoming_required_counts_the_records_without_it(shop):
    a = shop.create("company", {"name": "A"})
    shop.create("company", {"name": "B", "employees": 3})
    c = shop.create("company", {"name": "C"})
    assert blocked(shop, lambda d: field(d, "company", "employees").update(required=True)) == [
        ("required_violations", "company.employees", 2, [a.id, c.id])
    ]


def test_a_field_becoming_unique_lists_the_duplicates(shop):
    a = shop.create("company", {"name": "A", "employees": 5})
    shop.create("company", {"name": "B", "employees": 6})
    c = shop.create("company", {"name": "C", "employees": 5})
    assert blocked(shop, lambda d: field(d, "company", "employees").update(unique=True)) == [
        ("unique_violations", "company.employees", 2, [a.id, c.id])
    ]


def test_a_type_change_counts_the_values_that_cannot_convert(shop):
    shop.create("company", {"name": "A", "credit_limit": "10"})
    b = shop.create("company", {"name": "B", "credit_limit": "10.50"})

    def to_integer(document):
        credit = field(document, "company", "credit_limit")
        for option in ("precision", "scale"):
            credit.pop(option)
        credit["type"] = "integer"

    assert blocked(shop, to_integer, strategies=["breaking-api"]) == [
        ("type_changed", "company.credit_limit", None, []),
        ("conversion_failures", "company.credit_limit", 1, [b.id]),
    ]


def test_a_new_rule_counts_the_records_that_break_it(shop):
    shop.create("company", {"name": "Small", "employees": 3})
    big = shop.create("company", {"name": "Big", "employees": 3000})

    def add_rule(document):
        document["entities"][0]["validations"].append(
            {"key": "not_too_big", "rule": "record.employees < 1000", "message": {"en": "Too big"}}
        )

    assert blocked(shop, add_rule) == [("rule_violations", "company.not_too_big", 1, [big.id])]


def test_accept_violations_lets_the_publish_through(shop):
    shop.create("company", {"name": "A"})
    save_draft(
        shop.tenant,
        edited(shop, lambda d: field(d, "company", "employees").update(required=True)),
        overwrite=True,
    )
    version = publish(shop.tenant, strategies=["breaking-api", "accept-violations"])
    assert [i["code"] for i in version.impact["data"]] == ["required_violations"]
