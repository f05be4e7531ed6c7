"""The benchmark's generator and hand-written baseline follow the crm pack: the same choices,
rules, defaults and formulas for the fields they model. When the pack changes, these fail and
name what the bench must learn. No database (the stored-form check of ``python -m bench run``
compares generated data with the records service's)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from bench import bulk, dataset
from bench.baseline import (
    DEAL_TYPE_CHOICES,
    FORECAST_CHOICES,
    LEAD_SOURCE_CHOICES,
    LOSS_REASON_CHOICES,
    STAGE_CHOICES,
    BenchOpportunity,
)
from metadata.compiled import compile_document
from metadata.packs import load_pack


@pytest.fixture(scope="module")
def pack():
    return compile_document(1, load_pack("crm"))


def options(config, entity: str, field: str) -> list[str]:
    return [option["value"] for option in config.entities[entity].fields[field].options["options"]]


def test_the_choices_are_the_packs(pack):
    assert [v for v, _ in STAGE_CHOICES] == options(pack, "opportunity", "stage")
    assert [v for v, _ in FORECAST_CHOICES] == options(pack, "opportunity", "forecast_category")
    assert [v for v, _ in DEAL_TYPE_CHOICES] == options(pack, "opportunity", "deal_type")
    assert [v for v, _ in LEAD_SOURCE_CHOICES] == options(pack, "opportunity", "lead_source")
    assert [v for v, _ in LOSS_REASON_CHOICES] == options(pack, "opportunity", "loss_reason")
    assert list(dataset.LOSS_REASONS) == options(pack, "opportunity", "loss_reason")
    assert list(dataset.LEAD_SOURCES) == options(pack, "opportunity", "lead_source")
    assert list(dataset.CHURN_REASONS) == options(pack, "account", "churn_reason")


def test_the_baseline_checks_the_packs_rules_and_required_fields(pack):
    opportunity = pack.entities["opportunity"]

    assert [rule.key for rule in opportunity.rules] == ["won_needs_amount", "lost_needs_reason"]
    assert {k for k, f in opportunity.fields.items() if f.options.get("required")} == {
        "name",
        "account",
        "stage",
    }
    assert opportunity.fields["deal_type"].options["default"] == "new_business"
    assert opportunity.fields["open_date"].options["default"] == {"cel": "now"}


def test_a_lost_opportunity_without_a_reason_and_a_won_one_without_an_amount_are_refused():
    lost = BenchOpportunity(stage="closed_lost")
    won = BenchOpportunity(stage="closed_won")

    with pytest.raises(ValidationError) as refused_lost:
        lost.clean()
    with pytest.raises(ValidationError) as refused_won:
        won.clean()

    assert refused_lost.value.error_dict["loss_reason"][0].code == "lost_needs_reason"
    assert refused_won.value.error_dict["amount"][0].code == "won_needs_amount"


def test_the_baseline_computes_the_packs_formulas_and_defaults():
    row = BenchOpportunity(
        stage="closed_lost",
        loss_reason="price",
        amount=Decimal("1230.00"),
        probability=Decimal("25"),
        open_date=dt.date(2024, 1, 1),
        close_date=dt.date(2024, 3, 2),
    )

    row.clean()

    assert row.weighted_amount == Decimal("307.50")
    assert row.cycle_days == 61
    assert BenchOpportunity().deal_type == "new_business"
    assert BenchOpportunity().open_date == dt.datetime.now(dt.UTC).date()


def test_bulk_rows_are_what_the_pack_accepts(pack):
    rows = bulk.make_rows([1, 2, 3], 500, seed=1)
    today = dt.datetime.now(dt.UTC).date()

    for row in rows:
        opened = dt.date.fromisoformat(row["open_date"])
        assert opened <= dt.date.fromisoformat(row["close_date"])
        assert opened <= today
        assert (row["stage"] == "closed_lost") == ("loss_reason" in row)
        assert row["deal_type"] in options(pack, "opportunity", "deal_type")
        assert row["forecast_category"] in options(pack, "opportunity", "forecast_category")
        assert set(row) <= set(pack.entities["opportunity"].fields)


def test_account_numbers_follow_the_packs_pattern(pack):
    field, number = dataset.account_number_format(pack)

    assert field == "account_number"
    assert number == {"number_prefix": "AC-", "number_width": 6, "number_suffix": ""}


def test_a_configuration_digest_ignores_key_order():
    assert dataset.digest({"a": 1, "b": [1, 2]}) == dataset.digest({"b": [1, 2], "a": 1})
    assert dataset.digest({"a": 1}) != dataset.digest({"a": 2})
