"""manage.py demo_data: every entity filled through the records service, parents first,
consistent lookups, sensible numbers, end dates after their starts, state machines walked,
refused records repaired, the same seed giving the same data."""

import collections
import datetime as dt
import io
import random
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from metadata.compiled import compile_entity
from records import demo_values
from records.demo_data import DemoData, Report, fill
from records.errors import FieldError, RecordError, RecordErrorCode
from records.reports import run_report
from records.service import RecordService


def run(*args) -> str:
    out = io.StringIO()
    call_command("demo_data", *args, stdout=out)
    return out.getvalue()


def test_every_entity_is_filled_consistently(make_tenant, add_member):
    made = make_tenant("demo-data", pack="starter")
    add_member(made.tenant, "rep@demo-data.test")
    output = run("--tenant", "demo-data")
    assert "records and" in output
    admin = RecordService(made.tenant, made.admin)
    companies = admin.query("company", first=500).rows
    deals = admin.query("deal", first=500).rows
    assert len(companies) >= 20
    assert deals
    company_ids = {c.id for c in companies}
    assert all(d.values["company"] in company_ids for d in deals)
    from tenants.context import tenant_context
    from tenants.models import Membership

    with tenant_context(made.tenant):
        members = set(Membership.objects.values_list("user_id", flat=True))
    assert {d.owner_id for d in deals} <= members  # shared out among the company's members
    names = " ".join(c.values["name"] for c in companies)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in names)  # Chinese names among them
    assert any(ch.isascii() and ch.isalpha() for ch in names)  # and English ones


def test_the_same_seed_gives_the_same_values(make_tenant):
    first = make_tenant("seed-a", pack="starter")
    second = make_tenant("seed-b", pack="starter")
    one = DemoData(first.tenant, seed=3)
    two = DemoData(second.tenant, seed=3)
    entity = one.config.entities["company"]
    made_one, made_two = one.record(entity, None), two.record(entity, None)
    for made in (made_one, made_two):  # a member of each tenant: not the same user
        made.pop("account_manager", None)
    assert made_one == made_two


def test_bad_input_is_refused(make_tenant):
    with pytest.raises(CommandError, match="nowhere"):
        run("--tenant", "nowhere")
    with pytest.raises(CommandError):
        run("--tenant", "x", "--scale", "huge")


def test_setup_demo_makes_the_demo_company_once(db, settings, tmp_path):
    from tenants.context import tenant_context
    from tenants.models import Membership, Tenant

    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("setup_demo", stdout=out)
    first = out.getvalue()
    assert "Created the demo tenant with" in first
    for email in ("admin@", "consultant@", "manager@", "rep@"):
        assert f"e-mail      {email}demo.example.com" in first
    tenant = Tenant.objects.get(slug="demo")
    with tenant_context(tenant):
        members = {m.user.email: m for m in Membership.objects.select_related("user", "manager")}
    assert members["rep@demo.example.com"].manager.email == "manager@demo.example.com"
    assert members["consultant@demo.example.com"].roles == ["consultant"]
    admin = RecordService(tenant, members["admin@demo.example.com"].user)
    assert admin.query("account", with_total=True).total > 0
    again = io.StringIO()
    call_command("setup_demo", stdout=again)
    assert "Created" not in again.getvalue()  # reused


def all_rows(service, entity: str) -> list:
    rows, after = [], None
    while True:
        page = service.query(entity, first=500, after=after)
        rows += page.rows
        if not page.has_next:
            return rows
        after = page.end_cursor


def test_numbers_follow_what_their_key_says():
    rng = random.Random(5)

    def draws(kind, key, options=None):
        return [demo_values.number(rng, kind, key, options or {}) for _ in range(400)]

    quantities = draws("decimal", "quantity", {"min": 0, "scale": 2})
    prices = draws("decimal", "unit_price", {"min": 0})
    capped = draws("currency", "budget", {"max": 5000})
    discounts = draws("percent", "discount", {"min": 0, "max": 100, "default": 0})
    scores = draws("integer", "satisfaction_score", {"min": 1, "max": 5})
    assert {q == q.to_integral_value() and 1 <= q <= 20 for q in quantities} == {True}
    assert min(prices) >= 100
    assert max(prices) <= 200_000
    assert max(capped) <= 5000
    assert sum(d <= 15 for d in discounts) > 0.9 * len(discounts)  # mostly none or a little
    assert 0 < sum(d > 20 for d in discounts) < 0.1 * len(discounts)  # a few for the approval
    assert set(scores) <= {1, 2, 3, 4, 5}


def test_dates_follow_the_dates_the_rules_and_keys_put_before_them():
    entity = compile_entity(
        {
            "key": "ticket",
            "plural_key": "tickets",
            "fields": [
                {"key": "opened_at", "type": "datetime"},
                {"key": "resolved_at", "type": "datetime"},
                {"key": "open_date", "type": "date"},
                {"key": "close_date", "type": "date"},
            ],
            "validations": [
                {
                    "key": "resolved_after_opened",
                    "rule": "record.resolved_at == null || record.resolved_at >= record.opened_at",
                    "message": {"en": "no"},
                    "fields": ["resolved_at"],
                }
            ],
        }
    )
    assert demo_values.follows(entity) == {"resolved_at": "opened_at", "close_date": "open_date"}


def test_refusals_are_counted_per_entity_and_reason():
    report = Report()
    rule = RecordError(
        RecordErrorCode.INVALID, "invalid", [FieldError("satisfaction", "rule:after", "no")]
    )
    report.refuse("case", rule)
    report.refuse("case", rule)
    report.refuse(
        "case", RecordError(RecordErrorCode.INVALID, "invalid", [FieldError("x", "required", "")])
    )
    assert report.refused == {"case": 3}
    assert report.reasons == {"case": {"rule:after": 2, "x: required": 1}}


def test_parents_are_filled_before_the_records_that_name_them(make_tenant):
    made = make_tenant("demo-order", pack="crm")
    order = [entity.key for entity in DemoData(made.tenant).order()]
    position = {key: index for index, key in enumerate(order)}
    assert position["account"] < position["contact"] < position["opportunity"]
    for child in ("follow_up", "activity", "quote", "order", "contract", "commission"):
        assert position["opportunity"] < position[child], child
    assert position["order"] < position["order_line"]
    assert position["order"] < position["commission"]
    assert position["case"] < position["activity"]


def test_the_crm_pack_gets_a_realistic_consistent_dataset(make_tenant, add_member):
    # given: the crm pack and a rep (the crm pack takes a while: one fill, many checks)
    made = make_tenant("demo-crm", pack="crm")
    add_member(made.tenant, "rep@demo-crm.test")
    # when
    report = fill(made.tenant, scale="small", seed=11)
    service = RecordService(made.tenant, made.admin)
    rows = {key: all_rows(service, key) for key in service.configuration().entities}
    by_id = {key: {r.id: r.values for r in found} for key, found in rows.items()}
    # then: nearly every record made is created (the rules' refusals repaired)
    assert sum(report.refused.values()) <= 5, report.reasons
    assert {key for key, found in rows.items() if found} == set(rows)
    assert sum(report.created.values()) >= 800
    # parents before children: commissions, activities and follow-ups name their parents,
    # and a lookup picks a record of the same account
    commissions = [c.values for c in rows["commission"]]
    assert len(commissions) >= 20
    assert all(c.get("order") or c.get("opportunity") for c in commissions)
    opportunities = by_id["opportunity"]
    for child in ("activity", "follow_up", "quote", "order"):
        named = [r.values for r in rows[child] if r.values.get("opportunity")]
        assert len(named) > len(rows[child]) / 2, child
        assert all(opportunities[r["opportunity"]]["account"] == r["account"] for r in named)
    # line items: a few of each, at the product's price, a few discounts above 20 %
    products = by_id["product"]
    lines = [r.values for r in rows["order_line"] + rows["quote_line"]]
    assert {1 <= r["quantity"] <= 20 for r in lines} == {True}
    priced = [r for r in lines if products[r["product"]].get("standard_price") is not None]
    assert priced
    assert all(r["unit_price"] == products[r["product"]]["standard_price"] for r in priced)
    assert 0 < sum((r.get("discount") or 0) > 20 for r in lines) < len(lines) / 10
    assert max(o.values["grand_total"] or 0 for o in rows["order"]) < Decimal(10_000_000)
    # won deals: no loss reason, the probability the stage automation gives; open before close
    won = [v for v in opportunities.values() if v["stage"] == "closed_won"]
    assert won
    assert all(not v.get("loss_reason") and v["probability"] == 100 for v in won)
    lost = [v for v in opportunities.values() if v["stage"] == "closed_lost"]
    assert all(v.get("loss_reason") for v in lost)
    dated = [v for v in opportunities.values() if v.get("open_date") and v.get("close_date")]
    assert all(v["open_date"] <= v["close_date"] for v in dated)
    # orders over two years, repeat customers: RFM gives several segments
    order_dates = [dt.date.fromisoformat(o.values["order_date"]) for o in rows["order"]]
    assert (max(order_dates) - min(order_dates)).days > 365
    assert max(collections.Counter(o.values["account"] for o in rows["order"]).values()) >= 3
    segments = run_report(service, service.configuration().reports["rfm_segments"]).rows
    assert len({row["segment"] for row in segments}) >= 3
    # cases: SLAs met and breached, satisfaction only once resolved
    cases = [c.values for c in rows["case"]]
    assert {c.get("sla_met") for c in cases if c.get("resolved_at")} == {True, False}
    assert not [
        c for c in cases if c.get("satisfaction") and c["status"] not in ("resolved", "closed")
    ]
