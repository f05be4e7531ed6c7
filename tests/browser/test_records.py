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
