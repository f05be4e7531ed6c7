"""A sales rep fills a form the layout draws: an error shown at its field, a section that
appears when its condition holds, the save; a validation rule's message in Chinese."""

import pytest
from playwright.sync_api import expect

from metadata.publish import publish
from records.service import RecordService
from tests.browser.conftest import choose_lookup, screenshot
from tests.browser.test_sign_in import sign_in
from tests.ui_builder.test_layouts import DEAL_FORM, OTHERS, document_with

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tenant_with_forms(make_tenant, add_member):
    made = make_tenant("acme", name="Acme Ltd", pack="starter")
    publish(made.tenant, document=document_with(made.tenant, [DEAL_FORM, *OTHERS]))
    add_member(made.tenant, "rep@acme.test")
    admin = RecordService(made.tenant, made.admin)
    made.northwind = admin.create("company", {"name": "Northwind"})
    admin.create("company", {"name": "Northgate"})
    admin.create("company", {"name": "Southwind"})
    made.rep_deals = lambda: [v.values["name"] for v in admin.query("deal").rows]
    return made


def test_a_form_with_an_error_and_a_section_that_appears(
    tenant_with_forms, live_server, open_page, tmp_path
):
    page = open_page()
    sign_in(page, live_server, "rep@acme.test")
    page.wait_for_url(f"{live_server.url}/app/")
    page.goto(f"{live_server.url}/app/r/deal/new/")
    page.get_by_label("Name").fill("Browser deal")
    # the company by its type-ahead, with the keyboard: both Norths, then only one
    company = page.get_by_role("combobox", name="Company")
    company.fill("North")
    options = page.locator("#f-company-options [role=option]")
    expect(options).to_have_text(["Northgate", "Northwind"])  # not Southwind
    company.fill("rthw")
    expect(options).to_have_text(["Northwind"])
    company.press("ArrowDown")
    company.press("Enter")
    assert company.input_value() == "Northwind"
    assert page.locator("input[name=company]").input_value() == str(tenant_with_forms.northwind.id)
    page.get_by_label("Stage").select_option("proposal")
    assert page.locator("#f-close_date").count() == 0
    page.get_by_role("button", name="Save").click()
    error = page.locator("#e-amount")
    assert error.inner_text() == "amount is required on this record's form"
    assert page.get_by_label("Name").input_value() == "Browser deal"  # nothing typed is lost
    screenshot(page, "deal-form-error", tmp_path)
    # won: the closing section appears as soon as the stage changes
    page.get_by_label("Stage").select_option("won")
    page.locator("#f-close_date").wait_for()
    page.get_by_label("Amount").fill("500")
    page.locator("#f-close_date").fill("2026-12-01")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/app/r/deal/*/")
    assert page.locator("h1").inner_text() == "Browser deal"
    assert page.get_by_text("Close date").count() == 1


@pytest.mark.parametrize(
    ("locale", "save", "message", "name"),
    [
        ("en-US", "Save", "A won deal needs an amount", "deal-form-rule"),
        ("zh-CN", "保存", "赢单的商机必须填写金额", "deal-form-zh"),
    ],
)
def test_a_rule_message_in_both_languages(
    tenant_with_forms, live_server, open_page, tmp_path, locale, save, message, name
):
    page = open_page(locale=locale)
    sign_in(page, live_server, "rep@acme.test")
    page.wait_for_url(f"{live_server.url}/app/")
    page.goto(f"{live_server.url}/app/r/deal/new/")
    page.locator("#f-name").fill("新商机")
    choose_lookup(page, "f-company", "Northw", "Northwind")
    page.locator("#f-stage").select_option("won")
    page.locator("#f-amount").wait_for()
    page.locator("#f-amount").fill("0")
    page.get_by_role("button", name=save).click()
    assert page.locator("#e-amount").inner_text() == message
    assert tenant_with_forms.rep_deals() == []  # the record was not saved
    screenshot(page, name, tmp_path)
