"""The kanban board: a card dragged to another column moves through the records service and
the state machine; a move the machine refuses is said in words and nothing moves."""

import pytest

from metadata.publish import publish
from records.service import RecordService
from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.ui_builder.test_layouts import DEAL_FORM, OTHERS, document_with
from tests.workflows.test_configuration import STAGES

pytestmark = pytest.mark.django_db(transaction=True)
CORNER = {"x": 4, "y": 4}  # grab the card by its edge, not by its link or its form


def test_dragging_a_card_follows_the_state_machine(
    make_tenant, add_member, live_server, open_page, tmp_path
):
    made = make_tenant("acme", name="Acme Ltd", pack="starter")
    document = document_with(made.tenant, [DEAL_FORM, *OTHERS]) | {"workflows": [STAGES]}
    publish(made.tenant, document=document)
    rep = add_member(made.tenant, "rep@acme.test")
    company = RecordService(made.tenant, made.admin).create("company", {"name": "Northwind"})
    service = RecordService(made.tenant, rep)
    ready = service.create("deal", {"name": "Ready", "company": company.id, "amount": 800})
    service.create("deal", {"name": "Early", "company": company.id})
    page = open_page()
    sign_in(page, live_server, "rep@acme.test")
    page.wait_for_url(f"{live_server.url}/app/")
    page.goto(f"{live_server.url}/app/r/deal/board/")
    new, proposal = (
        page.get_by_role("region", name="New"),
        page.get_by_role("region", name="Proposal"),
    )
    assert new.locator(".kcard").count() == 2
    # drag "Ready" to Proposal: allowed (it has an amount)
    with page.expect_navigation():
        new.locator(".kcard", has_text="Ready").drag_to(proposal, source_position=CORNER)
    proposal = page.get_by_role("region", name="Proposal")
    assert proposal.locator(".kcard", has_text="Ready").count() == 1
    assert service.get("deal", ready.id).values["stage"] == "proposal"
    # "Early" has no amount: the machine refuses, the reason is shown, nothing moves
    with page.expect_navigation():
        page.get_by_role("region", name="New").locator(".kcard", has_text="Early").drag_to(
            page.get_by_role("region", name="Proposal"), source_position=CORNER
        )
    assert page.get_by_role("status").inner_text() == (
        "propose needs amount; amount is required on this record's form"
    )
    assert page.get_by_role("region", name="New").locator(".kcard", has_text="Early").count() == 1
    # the keyboard way: the card's own "move to" list
    card = page.get_by_role("region", name="Proposal").locator(".kcard", has_text="Ready")
    card.get_by_label("Move to").select_option("won")
    with page.expect_navigation():  # the status below is the new page's, not the last one's
        card.get_by_role("button", name="Move").click()
    assert page.get_by_role("status").inner_text() == "win: only sales_manager may do it"
    screenshot(page, "deal-board", tmp_path)
