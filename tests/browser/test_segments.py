"""A marketer turns a segment (a saved view of contacts) into a campaign's member list with the
bulk action *Add to Campaign*, choosing the campaign with the type-ahead."""

import pytest

from records.service import RecordService
from tests.browser.conftest import choose_lookup, screenshot
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_segment_becomes_a_campaign_member_list(
    make_tenant, add_member, live_server, open_page, tmp_path
):
    made = make_tenant("acme", name="Acme Ltd")
    add_member(made.tenant, "mia@acme.test", roles=("marketing",))
    admin = RecordService(made.tenant, made.admin)
    admin.create("campaign", {"name": "Autumn fair", "campaign_type": "event"})
    spring = admin.create("campaign", {"name": "Spring launch", "campaign_type": "email"})
    for name, title in [("Ann", "Buyer"), ("Bob", "Buyer"), ("Cid", "Engineer")]:
        admin.create("contact", {"full_name": name, "title": title})
    page = open_page()
    sign_in(page, live_server, "mia@acme.test")
    page.wait_for_url(f"{live_server.url}/app/")
    page.goto(f"{live_server.url}/app/r/contact/?f=title|eq|Buyer")
    page.get_by_label("Save this list as").fill("Buyers")
    page.get_by_role("button", name="Save view").click()
    page.wait_for_url("**view=*")
    page.get_by_label("Action").select_option(label="Add to Campaign")
    choose_lookup(page, "bulk-target-3", "spr", "Spring launch")
    page.get_by_label("to all 2 records of the list").check()
    screenshot(page, "contact-list-add-to-campaign", tmp_path)
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("2 records done.").wait_for()
    members = admin.query("campaign_member").rows
    assert sorted(m.values["campaign"] for m in members) == [spring.id, spring.id]
    assert admin.get("campaign", spring.id).values["member_count"] == 2
