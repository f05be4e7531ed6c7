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
