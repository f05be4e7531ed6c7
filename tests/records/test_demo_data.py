"""manage.py demo_data: every entity filled through the records service, consistent lookups,
end dates after their starts, state machines walked, the same seed giving the same data."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from records.demo_data import DemoData
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
    owners = {d.owner_id for d in deals}
    assert len(owners) >= 1
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
