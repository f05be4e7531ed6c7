"""The consultant studio at /studio/: who enters, editing the draft item by item with problems at
their elements, review and publish, history and rollback, preview as a role, the roles matrix,
explain access, failed deliveries and the tenants page for staff."""

import json

import pytest

from metadata.publish import get_draft, publish, save_draft
from tests.ui_builder.test_layouts import DEAL_FORM, OTHERS, document_with


def signed_in(client, user, tenant):
    client.force_login(user)
    session = client.session
    session["tenant_id"] = tenant.pk
    session.save()
    return client


@pytest.fixture
def studio(make_tenant, add_member, client):
    made = make_tenant("atelier", pack="starter")
    document = document_with(made.tenant, [DEAL_FORM, *OTHERS])
    save_draft(made.tenant, document, overwrite=True)
    publish(made.tenant)
    made.rep_user = add_member(made.tenant, "rep@atelier.test")
    made.client = signed_in(client, made.admin, made.tenant)
    return made


def editor_item(response) -> dict:
    return json.loads(response.context["form"]["item"].value())


def save_item(studio, url, item, etag=None):
    etag = get_draft(studio.tenant).etag if etag is None else etag
    return studio.client.post(url, {"item": json.dumps(item), "etag": etag})


def test_consultants_enter_the_studio_and_reps_do_not(studio, client, django_user_model):
    page = studio.client.get("/studio/config/")
    assert page.status_code == 200
    assert b"Entities and fields" in page.content
    rep = signed_in(client.__class__(), studio.rep_user, studio.tenant)
    refused = rep.get("/studio/config/")
    assert refused.status_code == 302
    assert refused["Location"].startswith("/app/login/")
    assert rep.get("/studio/config/entities/").status_code == 302


def test_a_field_is_edited_in_the_draft_and_a_bad_value_is_refused_at_its_element(studio):
    url = "/studio/config/entities/deal/fields/amount/"
    page = studio.client.get(url)
    assert page.status_code == 200
    item = editor_item(page)
    assert item["key"] == "amount"
    item["label"] = {"en": "Deal value", "zh-Hans": "金额"}
    saved = save_item(studio, url, item)
    assert saved.status_code == 302
    draft = get_draft(studio.tenant)
    amount = next(
        f
        for e in draft.document["entities"]
        if e["key"] == "deal"
        for f in e["fields"]
        if f["key"] == "amount"
    )
    assert amount["label"] == {"en": "Deal value", "zh-Hans": "金额"}
    # a key that breaks the pattern: refused, shown at the key, nothing saved
    bad = {**item, "key": "Bad Key"}
    refused = save_item(studio, url, bad, etag=draft.etag)
    assert refused.status_code == 422
    assert "key" in refused.context["form"].fields["item"].widget.error_map
    assert get_draft(studio.tenant).etag == draft.etag


def test_a_stale_etag_is_refused(studio):
    url = "/studio/config/entities/deal/fields/amount/"
    item = editor_item(studio.client.get(url))
    assert save_item(studio, url, {**item, "help": {"en": "first"}}).status_code == 302
    etag = get_draft(studio.tenant).etag
    assert save_item(studio, url, {**item, "help": {"en": "second"}}, etag=etag).status_code == 302
    stale = save_item(studio, url, {**item, "help": {"en": "third"}}, etag=etag)
    assert stale.status_code == 200
    assert b"changed since you read it" in stale.content
    assert get_draft(studio.tenant).document != {}


def draft_entity(studio, key):
    return next(e for e in get_draft(studio.tenant).document["entities"] if e["key"] == key)


def test_a_new_field_chooses_its_type_first_then_gets_that_types_options(studio):
    starter = studio.client.get("/studio/config/entities/deal/fields/new/")
    assert starter.status_code == 200
    assert "type" in starter.context["form"].fields
    page = studio.client.get("/studio/config/entities/deal/fields/new/?type=choice")
    assert page.status_code == 200
    properties = page.context["form"].schema["properties"]
    assert "options" in properties  # the choice type's options
    assert "min" not in properties
    item = {
        "key": "region",
        "type": "choice",
        "label": {"en": "Region", "zh-Hans": "区域"},
        "options": [{"value": "north"}, {"value": "south"}],
    }
    saved = save_item(studio, "/studio/config/entities/deal/fields/new/?type=choice", item)
    assert saved.status_code == 302
    assert saved["Location"] == "/studio/config/entities/deal/fields/region/"
    assert draft_entity(studio, "deal")["fields"][-1]["key"] == "region"


def test_a_rule_whose_cel_does_not_compile_is_refused_at_the_rule(studio):
    url = "/studio/config/entities/deal/"
    item = editor_item(studio.client.get(url))
    assert "fields" not in item  # edited one by one on their own pages
    item["validations"] = [
        {"key": "positive", "rule": "record.amount >", "message": {"en": "Positive"}}
    ]
    before = get_draft(studio.tenant).etag
    refused = save_item(studio, url, item)
    assert refused.status_code == 422
    errors = refused.context["form"].fields["item"].widget.error_map
    assert list(errors) == ["validations§0§rule"]
    assert get_draft(studio.tenant).etag == before
    item["validations"][0]["rule"] = "!has(record.amount) || record.amount > 0"
    assert save_item(studio, url, item).status_code == 302
    deal = draft_entity(studio, "deal")
    assert deal["validations"][0]["key"] == "positive"
    assert [f["key"] for f in deal["fields"]][:2] == ["name", "company"]  # fields kept


def test_the_layout_editor_offers_the_entitys_fields_and_a_missing_one_is_refused(studio):
    url = "/studio/config/layouts/deal_form_reps/"
    page = studio.client.get(url)
    schema = page.context["form"].schema
    section = schema["properties"]["tabs"]["items"]["properties"]["sections"]["items"]
    offered = section["properties"]["fields"]["items"]["oneOf"][0]["choices"]
    assert {c["value"] for c in offered} >= {"name", "amount", "stage"}
    item = editor_item(page)
    item["tabs"][0]["sections"].append({"label": {"en": "Extra"}, "fields": ["nonexistent"]})
    refused = save_item(studio, url, item)
    assert refused.status_code == 422
    assert any("nonexistent" in message for _, message in refused.context["problems"])
    item["tabs"][0]["sections"][-1]["fields"] = ["close_date"]
    assert save_item(studio, url, item).status_code == 302


def test_items_are_added_moved_and_removed(studio):
    added = studio.client.post(
        "/studio/config/entities/new/",
        {
            "key": "visit",
            "plural_key": "visits",
            "label_en": "Visit",
            "label_zh": "拜访",
            "etag": get_draft(studio.tenant).etag,
        },
    )
    assert added.status_code == 302
    visit = draft_entity(studio, "visit")
    assert visit["fields"][0]["key"] == "name"
    assert visit["label"]["zh-Hans"] == "拜访"
    bad = studio.client.post(
        "/studio/config/entities/new/",
        {"key": "Visit!", "plural_key": "visits", "label_en": "V"},
    )
    assert bad.status_code == 200
    assert bad.context["form"].errors["key"]
    keys = lambda: [e["key"] for e in get_draft(studio.tenant).document["entities"]]  # noqa: E731
    last = keys()
    etag = get_draft(studio.tenant).etag
    studio.client.post("/studio/config/entities/visit/move/", {"direction": "up", "etag": etag})
    assert keys() == [*last[:-2], "visit", last[-2]]
    etag = get_draft(studio.tenant).etag
    studio.client.post("/studio/config/entities/visit/delete/", {"etag": etag})
    assert "visit" not in keys()
    assert studio.client.post("/studio/config/entities/nothing/delete/").status_code == 404
