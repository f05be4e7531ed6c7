"""A sales rep works in the pages the layouts draw: her list, a record by its form; a record
outside her scope stays out of reach even by typing its address."""

import pytest

from metadata.publish import publish
from records.service import RecordService
from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.ui_builder.test_layouts import DEAL_FORM, OTHERS, document_with

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rep_sees_her_deals_and_not_the_others(
    make_tenant, add_member, live_server, open_page, tmp_path
):
    made = make_tenant("acme", name="Acme Ltd", pack="starter")
    publish(made.tenant, document=document_with(made.tenant, [DEAL_FORM, *OTHERS]))
    rep = add_member(made.tenant, "rep@acme.test")
    admin = RecordService(made.tenant, made.admin)
    company = admin.create("company", {"name": "Northwind"})
    mine = RecordService(made.tenant, rep).create(
        "deal", {"name": "Big renewal", "company": company.id, "amount": 125000}
    )
    theirs = admin.create("deal", {"name": "Secret deal", "company": company.id})
    page = open_page()
    sign_in(page, live_server, "rep@acme.test")
    page.wait_for_url(f"{live_server.url}/app/")
    page.get_by_role("navigation", name="Records").get_by_role("link", name="Deals").click()
    page.wait_for_url(f"{live_server.url}/app/r/deal/")
    rows = page.locator("tbody tr")
    assert rows.count() == 1
    assert "125,000.00" in rows.first.inner_text()
    screenshot(page, "deal-list", tmp_path)
    page.get_by_role("link", name="Big renewal").click()
    page.wait_for_url(f"{live_server.url}/app/r/deal/{mine.id}/")
    assert page.locator("h1").inner_text() == "Big renewal"
    assert page.get_by_text("Northwind").count() == 1
    screenshot(page, "deal-record", tmp_path)
    # typing the address of a deal she may not read: the same answer as a missing one
    response = page.goto(f"{live_server.url}/app/r/deal/{theirs.id}/")
    assert response.status == 404
    assert "Secret deal" not in page.content()
    assert page.goto(f"{live_server.url}/app/r/deal/987654/").status == 404


def test_a_rep_filters_sorts_saves_the_view_and_acts_in_bulk(
    make_tenant, add_member, live_server, open_page, tmp_path
):
    made = make_tenant("acme", name="Acme Ltd", pack="starter")
    publish(made.tenant, document=document_with(made.tenant, [DEAL_FORM, *OTHERS]))
    rep = RecordService(made.tenant, add_member(made.tenant, "rep@acme.test"))
    company = RecordService(made.tenant, made.admin).create("company", {"name": "Northwind"})
    for name, amount in [("Small", 50), ("Medium", 900), ("Large", 8000)]:
        rep.create("deal", {"name": name, "company": company.id, "amount": amount})
    page = open_page()
    sign_in(page, live_server, "rep@acme.test")
    page.wait_for_url(f"{live_server.url}/app/")
    page.goto(f"{live_server.url}/app/r/deal/")
    page.get_by_text("Filter", exact=True).click()
    page.get_by_label("Field").first.select_option("amount")
    page.get_by_label("Condition").select_option("gt")  # offered for a number
    page.get_by_label("Value").fill("500")
    page.get_by_role("button", name="Add condition").click()
    page.wait_for_url("**new_field=amount*")
    titles = page.locator("tbody th[scope=row]")
    assert titles.all_inner_texts() == ["Large", "Medium"]  # the layout's sort: amount desc
    page.get_by_role("link", name="Name").click()  # sort by the title column
    page.wait_for_url("**sort=name*")
    assert titles.all_inner_texts() == ["Large", "Medium"]
    page.get_by_label("Save this list as").fill("Worth a call")
    page.get_by_role("button", name="Save view").click()
    page.wait_for_url("**view=*")
    assert page.locator("h1").inner_text() == "Deals · Worth a call"
    screenshot(page, "deal-list-view", tmp_path)
    # bulk: delete the two chosen with "choose all"
    page.get_by_label("Choose every record on this page").check()
    page.get_by_label("Action").select_option("delete")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("2 records done.").wait_for()
    assert titles.all_inner_texts() == []
    page.get_by_label("View", exact=True).select_option(label="All records")
    page.wait_for_url(f"{live_server.url}/app/r/deal/?view=")
    assert titles.all_inner_texts() == ["Small"]


def test_line_items_are_edited_on_the_parents_page(make_tenant, live_server, open_page, tmp_path):
    made = make_tenant("acme", name="Acme Ltd", pack="starter")
    publish(made.tenant, document=document_with(made.tenant, [DEAL_FORM, *OTHERS]))
    admin = RecordService(made.tenant, made.admin)
    company = admin.create("company", {"name": "Northwind"})
    first = admin.create("deal", {"name": "Licences", "company": company.id, "amount": 1000})
    page = open_page()
    sign_in(page, live_server, made.admin.email)
    page.wait_for_url(f"{live_server.url}/app/")
    page.goto(f"{live_server.url}/app/r/company/{company.id}/")
    page.locator(f"#f-t0s1-{first.id}-amount").fill("1250")
    page.locator("#f-t0s1-new-amount").fill("300")  # a new line without its name
    page.get_by_role("button", name="Save the lines").click()
    page.locator(".lines tr.invalid").wait_for()
    assert "Name:" in page.locator(".lines tr.invalid").inner_text()
    assert page.locator(f"#f-t0s1-{first.id}-amount").input_value() == "1250"  # kept
    assert admin.get("deal", first.id).values["amount"] == 1000  # nothing saved
    page.locator("#f-t0s1-new-name").fill("Support")
    page.get_by_role("button", name="Save the lines").click()
    page.get_by_text("Saved.").wait_for()
    assert page.locator(".lines tbody th a").all_inner_texts() == ["Licences", "Support"]
    screenshot(page, "company-lines", tmp_path)


def test_the_pages_fit_a_phones_width(make_tenant, add_member, live_server, open_page, tmp_path):
    made = make_tenant("acme", name="Acme Ltd", pack="starter")
    publish(made.tenant, document=document_with(made.tenant, [DEAL_FORM, *OTHERS]))
    rep = RecordService(made.tenant, add_member(made.tenant, "rep@acme.test"))
    company = RecordService(made.tenant, made.admin).create("company", {"name": "Northwind"})
    deal = rep.create("deal", {"name": "On the road", "company": company.id, "amount": 42000})
    page = open_page(width=390)
    sign_in(page, live_server, "rep@acme.test")
    page.wait_for_url(f"{live_server.url}/app/")
    for path in ("/app/r/deal/", f"/app/r/deal/{deal.id}/", "/app/r/deal/new/"):
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the phone"
    screenshot(page, "deal-form-phone", tmp_path)
