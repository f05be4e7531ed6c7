"""A consultant shapes the pages in the studio and a sales rep works in them: a new field and a
layout section added with the editors (no JSON typed), the review, the publish, and the rep
filling the new field; a bad key refused at its input."""

import re

import pytest

from metadata.publish import active_version, publish, save_draft
from records.service import RecordService
from tests.browser.conftest import choose_lookup, screenshot
from tests.browser.test_sign_in import sign_in
from tests.ui_builder.test_layouts import DEAL_FORM, OTHERS, document_with

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def company(make_tenant, add_member):
    made = make_tenant("acme", name="Acme Ltd", pack="starter")
    save_draft(made.tenant, document_with(made.tenant, [DEAL_FORM, *OTHERS]), overwrite=True)
    publish(made.tenant)
    add_member(made.tenant, "rep@acme.test")
    RecordService(made.tenant, made.admin).create("company", {"name": "Northwind"})
    return made


def editor_input(page, *path):
    return page.locator(f"[name='rjf§{'§'.join(map(str, path))}']")


def add_button(page, title: str, below=None):
    """The "Add item" button of the editor's group titled ``title`` (within ``below``)."""
    scope = below if below is not None else page
    group = scope.locator(
        "xpath=.//div[contains(@class,'rjf-form-group-inner')]"
        f"[div[contains(@class,'rjf-form-group-title')][starts-with(normalize-space(.),'{title}')]]"
    ).last
    return group.locator("xpath=./button[contains(@class,'rjf-add-button')]")


def test_a_consultant_adds_a_field_and_a_section_and_a_rep_fills_it(
    company, live_server, open_page, tmp_path
):
    studio = open_page()
    sign_in(studio, live_server, "admin@acme.test")
    studio.wait_for_url(f"{live_server.url}/app/")
    # a new field: its type first, then the editor drawn for that type
    studio.goto(f"{live_server.url}/studio/config/entities/deal/")
    studio.get_by_role("link", name="Add a field").click()
    studio.get_by_label("Type").select_option("text")
    studio.get_by_role("button", name="Continue").click()
    editor_input(studio, "key").wait_for()
    editor_input(studio, "key").fill("Nick Name")  # not a key: refused at its input
    editor_input(studio, "label", "en").fill("Nickname")
    editor_input(studio, "label", "zh-Hans").fill("昵称")
    studio.get_by_role("button", name="Save to draft").click()
    studio.locator("[data-problems]").wait_for()
    assert "does not match" in studio.locator(".rjf-error-text").first.inner_text()
    assert editor_input(studio, "label", "zh-Hans").input_value() == "昵称"  # nothing lost
    editor_input(studio, "key").fill("nickname")
    studio.get_by_role("button", name="Save to draft").click()
    studio.wait_for_url("**/studio/config/entities/deal/fields/nickname/")
    screenshot(studio, "studio-field-editor", tmp_path)
    # a section in the reps' form, with the new field chosen from the entity's fields
    studio.goto(f"{live_server.url}/studio/config/layouts/deal_form_reps/")
    add_button(studio, "Sections").click()
    editor_input(studio, "tabs", 0, "sections", 2, "label", "en").fill("Personal")
    editor_input(studio, "tabs", 0, "sections", 2, "label", "zh-Hans").fill("个人")
    section = studio.locator(
        "xpath=//input[@name='rjf§tabs§0§sections§2§key']"
        "/ancestor::div[contains(@class,'rjf-form-group-children')][1]"
    )
    add_button(studio, "Fields", below=section).click()
    editor_input(studio, "tabs", 0, "sections", 2, "fields", 0).select_option("nickname")
    screenshot(studio, "studio-layout-editor", tmp_path)
    studio.get_by_role("button", name="Save to draft").click()
    studio.wait_for_url("**/studio/config/layouts/deal_form_reps/")
    assert "Saved to the draft." in studio.locator(".messages").inner_text()
    # review, then publish
    studio.goto(f"{live_server.url}/studio/config/publish/")
    diff = studio.locator("[data-diff]").inner_text()
    assert "nickname" in diff
    screenshot(studio, "studio-review", tmp_path)
    number = active_version(company.tenant).number
    studio.get_by_label("Comment").fill("Nickname for reps")
    studio.locator("[data-publish]").click()
    studio.wait_for_url(f"**/studio/config/versions/{number + 1}/")
    # the rep sees the new section and fills the new field
    rep = open_page()
    sign_in(rep, live_server, "rep@acme.test")
    rep.wait_for_url(f"{live_server.url}/app/")
    rep.goto(f"{live_server.url}/app/r/deal/new/")
    assert rep.locator("fieldset legend", has_text="Personal").count() == 1
    rep.locator("#f-name").fill("With a nickname")
    choose_lookup(rep, "f-company", "north", "Northwind")
    assert rep.locator("label[for=f-nickname]").inner_text() == "Nickname"
    rep.locator("#f-nickname").fill("Nicky")
    rep.locator("#f-stage").select_option("new")
    screenshot(rep, "rep-fills-the-new-field", tmp_path)
    rep.get_by_role("button", name="Save").click()
    rep.wait_for_url(re.compile(r".*/app/r/deal/\d+/$"))
    assert rep.get_by_text("Nicky").count() == 1
    deal = RecordService(company.tenant, company.admin).query("deal", search=None).rows
    assert any(view.values.get("nickname") == "Nicky" for view in deal)
