"""The standard CRM pack: it publishes with no problem, covers the domain's entities and roles in
both languages with pages for every entity, and its dashboards' numbers equal sums computed in
Python from the same records."""

import json
from decimal import Decimal

import pytest

from metadata.packs import PACKS_DIR
from metadata.semantics import validate_document
from records.errors import RecordError
from records.reports import run_report
from records.service import RecordService

PACK = json.loads((PACKS_DIR / "crm.json").read_text())
ENTITIES = {
    "account", "contact", "follow_up", "lead", "opportunity", "activity", "campaign",
    "campaign_member", "case", "product", "price_list", "price_list_item", "quote",
    "quote_line", "order", "order_line", "contract", "knowledge_article", "partner",
    "sales_target", "commission",
}  # fmt: skip
ROLES = {
    "tenant_admin", "consultant", "sales_director", "sales_manager", "sales_rep", "marketing",
    "service_agent", "service_manager", "executive",
}  # fmt: skip


def test_the_pack_publishes_with_no_problem():
    assert validate_document(PACK) == []


def test_the_domain_is_covered_in_both_languages():
    assert {e["key"] for e in PACK["entities"]} == ENTITIES
    assert {r["key"] for r in PACK["roles"]} == ROLES
    for entity in PACK["entities"]:
        assert set(entity["label"]) == {"en", "zh-Hans"}, entity["key"]
        for field in entity["fields"]:
            assert set(field.get("label", {})) == {"en", "zh-Hans"}, (entity["key"], field["key"])
    pages = {(layout["entity"], layout["type"]) for layout in PACK["layouts"]}
    for key in ENTITIES:
        assert (key, "form") in pages
        assert (key, "list") in pages
    assert {("opportunity", "kanban"), ("case", "kanban"), ("activity", "calendar")} <= pages
    kinds = {w["type"] for w in PACK["workflows"]}
    assert kinds == {"automation", "state_machine", "approval"}
    assert len(PACK["reports"]) >= 10
    assert any(d.get("default") for d in PACK["dashboards"])


@pytest.fixture
def book(make_tenant):
    made = make_tenant("pack", pack="crm")
    service = RecordService(made.tenant, made.admin)
    accounts = [service.create("account", {"name": n}).id for n in ("Acme", "Globex", "Initech")]
    stages = ["prospecting", "proposal", "closed_won", "closed_won", "closed_lost", "negotiation"]
    for index, stage in enumerate(stages):
        values = {
            "name": f"Deal {index}",
            "account": accounts[index % 3],
            "stage": stage,
            "amount": str(1000 * (index + 1)),
            "open_date": "2026-01-01",
            "close_date": f"2026-02-{index + 1:02d}",  # cycles of 31 + index days
        }
        if stage == "closed_lost":
            values["loss_reason"] = "price"  # the pack's rule for a lost opportunity
        service.create("opportunity", values)
    for index, (source, path) in enumerate(
        [
            ("web", []),
            ("web", ["qualified", "converted"]),
            ("referral", ["qualified", "converted"]),
            ("web", ["contacted"]),
        ]
    ):
        lead = service.create(
            "lead",
            {
                "full_name": f"Lead {index}",
                "source": source,
                "status": "new",
                "topic": "Renewal",
                "email": f"lead{index}@example.com",
                "account": accounts[0],
            },
        )
        for status in path:  # along the lead's state machine
            service.update("lead", lead.id, {"status": status})
    made.service = service
    return made


def report(key: str) -> dict:
    return next(r for r in PACK["reports"] if r["key"] == key)


def test_the_funnel_and_the_win_rate_equal_python_sums(book):
    deals = [view.values for view in book.service.query("opportunity", first=100).rows]
    funnel = run_report(book.service, report("sales_funnel"))
    by_stage = {row["group"][0]: row for row in funnel.rows}
    for stage in {d["stage"] for d in deals}:
        amounts = [Decimal(str(d["amount"])) for d in deals if d["stage"] == stage]
        assert by_stage[stage]["deals"] == len(amounts)
        assert by_stage[stage]["amount"] == sum(amounts)
    order = [o["value"] for e in PACK["entities"] if e["key"] == "opportunity"
             for f in e["fields"] if f["key"] == "stage" for o in f["options"]]  # fmt: skip
    assert [row["group"][0] for row in funnel.rows] == [s for s in order if s in by_stage]
    (rates,) = run_report(book.service, report("win_rate")).rows
    assert rates["rate"] == pytest.approx(2 / 3)  # two won of three closed
    cycles = [d["cycle_days"] for d in deals if d["stage"] == "closed_won"]
    assert cycles == [33, 34]  # deals 2 and 3: opened on 1 January, closed 3 and 4 February
    assert rates["cycle_days"] == pytest.approx(sum(cycles) / len(cycles))
    (open_row,) = run_report(book.service, report("open_pipeline")).rows
    assert open_row["amount"] == sum(
        Decimal(str(d["amount"])) for d in deals if d["stage"] not in ("closed_won", "closed_lost")
    )


def test_lead_conversion_by_source(book):
    rows = {
        row["group"][0]: row for row in run_report(book.service, report("lead_conversion")).rows
    }
    assert (rows["web"]["leads"], rows["web"]["converted"]) == (3, 1)
    assert rows["web"]["rate"] == pytest.approx(1 / 3)
    assert rows["referral"]["rate"] == pytest.approx(1.0)


def test_lines_take_the_product_price_and_blacklisted_accounts_get_no_new_orders(make_tenant):
    made = make_tenant("prices", pack="crm")
    service = RecordService(made.tenant, made.admin)
    account = service.create("account", {"name": "Acme"}).id
    product = service.create(
        "product", {"name": "Scanner", "code": "SC-1", "standard_price": "1200"}
    ).id
    quote = service.create("quote", {"name": "Q", "account": account}).id
    line = service.create("quote_line", {"quote": quote, "product": product, "quantity": "2"})
    assert line.values["unit_price"] == Decimal(1200)
    order = service.create("order", {"account": account, "order_date": "2026-05-01"}).id
    service.update("account", account, {"blacklisted": True})
    with pytest.raises(RecordError) as refused:
        service.create("order", {"account": account, "order_date": "2026-06-01"})
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("account", "rule:account_not_blacklisted")
    ]
    service.update("order", order, {"description": "still delivered"})  # existing ones go on
