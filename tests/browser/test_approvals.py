"""A rep submits a deal for approval, her manager approves it from the inbox, the rep sees the
outcome: the approval panel in a real browser."""

import pytest

from metadata.publish import publish
from records.service import RecordService
from tenants.organisation import set_manager
from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.ui_builder.test_layouts import DEAL_FORM, OTHERS, document_with

pytestmark = pytest.mark.django_db(transaction=True)

PROCESS = {
    "key": "discount",
    "type": "approval",
    "entity": "deal",
    "label": {"en": "Discount approval", "zh-Hans": "折扣审批"},
    "submitters": {"owner": True},
    "steps": [{"key": "manager", "approvers": [{"type": "manager"}]}],
}


def test_a_manager_approves_and_the_rep_sees_it(
    make_tenant, add_member, live_server, open_page, tmp_path
):
    made = make_tenant("acme", name="Acme Ltd", pack="starter")
    publish(
        made.tenant,
        document=document_with(made.tenant, [DEAL_FORM, *OTHERS]) | {"workflows": [PROCESS]},
    )
    rep = add_member(made.tenant, "rep@acme.test")
    add_member(made.tenant, "boss@acme.test", roles=("sales_manager",))
    set_manager(made.tenant, "rep@acme.test", "boss@acme.test")
    company = RecordService(made.tenant, made.admin).create("company", {"name": "Northwind"})
    deal = RecordService(made.tenant, rep).create(
        "deal", {"name": "Discounted", "company": company.id, "amount": 900}
    )
    record_url = f"{live_server.url}/app/r/deal/{deal.id}/"
    # the rep submits
    page = open_page()
    sign_in(page, live_server, "rep@acme.test")
    page.wait_for_url(f"{live_server.url}/app/")
    page.goto(record_url)
    page.get_by_label("Comment").fill("15% for a 3-year deal")
    page.get_by_role("button", name="Submit for approval").click()
    assert page.get_by_role("status").inner_text() == "Submitted for approval."
    assert "Waiting for approval at the step manager." in page.content()
    # the manager finds it in the inbox and approves
    boss = open_page()
    sign_in(boss, live_server, "boss@acme.test")
    boss.wait_for_url(f"{live_server.url}/app/")
    boss.get_by_role("link", name="Approvals").click()
    boss.get_by_role("link", name=f"deal {deal.id}").click()
    boss.get_by_label("Comment").fill("fine")
    screenshot(boss, "approval-panel", tmp_path)
    boss.get_by_role("button", name="Approve").click()
    assert boss.get_by_role("status").inner_text() == "Your decision is recorded."
    # the rep sees the outcome in the history
    page.goto(record_url)
    history = page.get_by_role("table", name="Approval history").inner_text()
    assert "submitted" in history
    assert "approved" in history
    assert "boss@acme.test" in history
    assert "Waiting for approval" not in page.content()
