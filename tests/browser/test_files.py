"""A sales rep attaches a file in a real browser: the file chosen survives the form's sections
being drawn again as values change, is saved with the deal, and the record page links it."""

import copy

import pytest

from metadata.publish import publish
from records.service import RecordService
from tests.browser.conftest import choose_lookup, screenshot
from tests.browser.test_sign_in import sign_in
from tests.file_helpers import PDF, kept, media, with_file_fields
from tests.ui_builder.test_layouts import DEAL_FORM, OTHERS, document_with

__all__ = ["media"]  # fixtures
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tenant_with_files(make_tenant, add_member, media):
    made = make_tenant("acme", name="Acme Ltd", pack="starter")
    with_file_fields(made.tenant)
    form = copy.deepcopy(DEAL_FORM)
    form["tabs"][0]["sections"][0]["fields"].append("contract")
    publish(made.tenant, document=document_with(made.tenant, [form, *OTHERS]))
    add_member(made.tenant, "rep@acme.test")
    made.service = RecordService(made.tenant, made.admin)
    made.service.create("company", {"name": "Northwind"})
    made.media = media
    return made


def test_a_chosen_file_survives_the_sections_redrawn_and_is_saved(
    tenant_with_files, live_server, open_page, tmp_path
):
    page = open_page()
    sign_in(page, live_server, "rep@acme.test")
    page.wait_for_url(f"{live_server.url}/app/")
    page.goto(f"{live_server.url}/app/r/deal/new/")
    page.get_by_label("Name").fill("With a contract")
    choose_lookup(page, "f-company", "North", "Northwind")
    page.set_input_files(
        "#f-contract", files=[{"name": "合同.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    # the stage makes the closing section appear: the sections are drawn again
    page.get_by_label("Stage").select_option("won")
    page.locator("#f-close_date").wait_for()
    assert page.eval_on_selector("#f-contract", "input => input.files[0].name") == "合同.pdf"
    assert kept(tenant_with_files.media) == []  # the redraw sent no file
    page.get_by_label("Amount").fill("500")
    page.locator("#f-close_date").fill("2026-12-01")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/app/r/deal/*/")
    link = page.get_by_role("link", name="合同.pdf")
    deal = tenant_with_files.service.query("deal").rows[0]
    assert link.get_attribute("href") == f"/app/r/deal/{deal.id}/files/contract/"
    assert deal.values["contract"]["size"] == len(PDF)
    assert len(kept(tenant_with_files.media)) == 1
    screenshot(page, "deal-with-file", tmp_path)
