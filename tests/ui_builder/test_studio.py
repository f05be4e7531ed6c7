"""The consultant studio at /studio/: who enters, editing the draft item by item with problems at
their elements, review and publish, history and rollback, preview as a role, the roles matrix,
explain access, failed deliveries and the tenants page for staff."""

import json

import pytest

from metadata.publish import active_version, document_of, get_draft, publish, save_draft
from records.service import RecordService
from tests.fixtures import signed_in
from tests.ui_builder.test_layouts import DEAL_FORM, OTHERS, document_with


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
    help_ = draft_entity(studio, "deal")["fields"]
    amount = next(f for f in help_ if f["key"] == "amount")
    assert amount["help"] == {"en": "second"}  # the stale save changed nothing
    assert get_draft(studio.tenant).etag != etag


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


def test_review_shows_the_diff_and_breaking_changes_then_publishes(studio):
    before = active_version(studio.tenant).number
    url = "/studio/config/entities/deal/fields/close_date/delete/"
    studio.client.post(url, {"etag": get_draft(studio.tenant).etag})
    review = studio.client.get("/studio/config/publish/")
    assert review.status_code == 200
    assert "close_date" in review.context["diff"]
    # the layouts still name the removed field: a problem with its path, no publish button
    assert any("close_date" in message for _, message in review.context["problems"])
    assert b"data-publish" not in review.content
    refused = studio.client.post("/studio/config/publish/", {"comment": "try"})
    assert refused.status_code == 422
    assert active_version(studio.tenant).number == before
    layout = editor_item(studio.client.get("/studio/config/layouts/deal_form_reps/"))
    del layout["tabs"][0]["sections"][1]  # the closing section, with close_date
    assert save_item(studio, "/studio/config/layouts/deal_form_reps/", layout).status_code == 302
    review = studio.client.get("/studio/config/publish/")
    assert not review.context["problems"]
    assert any("close_date" in item.path for item in review.context["breaking"])
    blocked = studio.client.post("/studio/config/publish/", {"comment": "drop close_date"})
    assert blocked.status_code == 422  # decisions needed: removing a field breaks integrators
    assert blocked.context["refused"].report
    published = studio.client.post(
        "/studio/config/publish/",
        {"comment": "drop close_date", "strategies": ["remove-fields", "breaking-api"]},
    )
    assert published.status_code == 302
    assert active_version(studio.tenant).number == before + 1
    assert published["Location"] == f"/studio/config/versions/{before + 1}/"
    page = studio.client.get(published["Location"])
    assert b"drop close_date" in page.content


def test_history_lists_versions_and_rolls_back(studio):
    number = active_version(studio.tenant).number
    url = "/studio/config/entities/deal/fields/amount/"
    item = editor_item(studio.client.get(url))
    save_item(studio, url, {**item, "label": {"en": "Value"}})
    studio.client.post("/studio/config/publish/", {"comment": "relabel"})
    assert active_version(studio.tenant).number == number + 1
    listing = studio.client.get("/studio/config/versions/")
    assert [v.number for v in listing.context["versions"]][:2] == [number + 1, number]
    old = studio.client.get(f"/studio/config/versions/{number}/")
    assert "Value" in old.context["against_active"]
    rolled = studio.client.post(f"/studio/config/versions/{number}/rollback/")
    assert rolled.status_code == 302
    newest = active_version(studio.tenant)
    assert (newest.number, newest.rollback_of) == (number + 2, number)
    amount = next(
        f
        for e in document_of(newest)["entities"]
        if e["key"] == "deal"
        for f in e["fields"]
        if f["key"] == "amount"
    )
    assert amount["label"]["en"] == "Amount"
    assert studio.client.get("/studio/config/versions/999/").status_code == 404


def test_preview_draws_the_form_and_list_a_role_sees_from_the_draft(studio):
    # the draft only: a new field placed in the reps' form, not published
    url = "/studio/config/entities/deal/fields/new/?type=text"
    save_item(studio, url, {"key": "nickname", "type": "text", "label": {"en": "Nickname"}})
    layout = editor_item(studio.client.get("/studio/config/layouts/deal_form_reps/"))
    layout["tabs"][0]["sections"][0]["fields"].append("nickname")
    save_item(studio, "/studio/config/layouts/deal_form_reps/", layout)
    chooser = studio.client.get("/studio/config/preview/?entity=deal&role=sales_rep&kind=form")
    assert chooser.context["ready"]
    assert b"/studio/config/preview/page/?entity=deal" in chooser.content
    form = studio.client.get("/studio/config/preview/page/?entity=deal&role=sales_rep&kind=form")
    assert form.status_code == 200
    keys = [i.key for s in form.context["edit"].sections for i in s.inputs]
    assert keys == ["name", "company", "stage", "amount", "probability", "nickname"]
    admin_form = studio.client.get(
        "/studio/config/preview/page/?entity=deal&role=tenant_admin&kind=form"
    )
    assert [i.key for s in admin_form.context["edit"].sections for i in s.inputs] == [
        "name",
        "company",
        "amount",
    ]
    listing = studio.client.get("/studio/config/preview/page/?entity=deal&role=sales_rep&kind=list")
    assert listing.context["listing"].columns == ["Name", "Stage", "Amount"]  # as the app shows
    assert listing.context["listing"].rows[0][0] == "Name 1"
    bad = studio.client.get("/studio/config/preview/page/?entity=nope&role=sales_rep&kind=form")
    assert bad.status_code == 400
    # the published configuration did not change
    assert "nickname" not in str(document_of(active_version(studio.tenant)))


def test_the_roles_matrix_edits_one_roles_grants(studio):
    page = studio.client.get("/studio/config/roles-matrix/?role=sales_rep")
    assert page.status_code == 200
    rows = {row["key"]: row for row in page.context["editing"]["rows"]}
    assert "deal" in rows
    posted = {"role": "sales_rep", "etag": get_draft(studio.tenant).etag}
    for key in rows:
        if key == "deal":
            posted |= {"deal.create": "on", "deal.read": "team", "deal.update": "own"}
    saved = studio.client.post("/studio/config/roles-matrix/", posted)
    assert saved.status_code == 302
    rep = next(r for r in get_draft(studio.tenant).document["roles"] if r["key"] == "sales_rep")
    assert rep["entities"]["deal"] == {"create": True, "read": "team", "update": "own"}
    assert "*" not in rep["entities"] or rep["entities"]["*"] == {}
    bad = studio.client.post(
        "/studio/config/roles-matrix/", {**posted, "deal.read": "everything"}, follow=True
    )
    assert b"Unknown scope everything" in bad.content
    assert studio.client.get("/studio/config/roles-matrix/?role=ghost").status_code == 404


def test_explain_access_for_a_member_and_a_record(studio):
    rep = RecordService(studio.tenant, studio.rep_user)
    admin = RecordService(studio.tenant, studio.admin)
    company = admin.create("company", {"name": "Acme"})
    theirs = admin.create("deal", {"name": "Not hers", "company": company.id})
    page = studio.client.get(
        f"/studio/explain/?email=rep@atelier.test&entity=deal&action=read&record={theirs.id}"
    )
    assert page.status_code == 200
    explanation = page.context["explanation"]
    assert not explanation.allowed
    assert any("sales_rep" in reason for reason in explanation.reasons)
    mine = rep.create("deal", {"name": "Hers", "company": company.id})
    allowed = studio.client.get(
        f"/studio/explain/?email=rep@atelier.test&entity=deal&action=read&record={mine.id}"
    )
    assert allowed.context["explanation"].allowed
    stranger = studio.client.get("/studio/explain/?email=nobody@x.test&entity=deal")
    assert stranger.context["form"].errors["email"]


def test_failed_deliveries_are_listed_and_retried(studio, monkeypatch):
    from django.utils import timezone

    from tenants.context import tenant_context
    from workflows.models import OutboxEvent

    handed = []
    monkeypatch.setattr("workflows.services.dispatch", lambda *a, **k: handed.append(a))
    with tenant_context(studio.tenant):
        event = OutboxEvent.objects.create(
            tenant=studio.tenant,
            kind="created",
            entity="deal",
            record_id=1,
            config_version=1,
            values={},
            system={},
            created_at=timezone.now(),
            status=OutboxEvent.Status.DEAD,
            attempts=5,
            finished_at=timezone.now(),
            last_error="http://127.0.0.1:1/hook unreachable",
        )
    page = studio.client.get("/studio/dead-letters/")
    assert b"unreachable" in page.content
    nothing = studio.client.post("/studio/dead-letters/retry/", {"event": ["x"]})
    assert nothing.status_code == 302
    with tenant_context(studio.tenant):
        assert OutboxEvent.objects.get().status == "dead"
    studio.client.post("/studio/dead-letters/retry/", {"event": [str(event.pk)]})
    with tenant_context(studio.tenant):
        assert OutboxEvent.objects.get().status == "pending"
    assert handed


def test_only_staff_see_and_create_companies(studio, django_user_model):
    refused = studio.client.get("/studio/tenants/")  # Wagtail: back to the studio's home
    assert (refused.status_code, refused["Location"]) == (302, "/studio/")
    staff = django_user_model.objects.create_user(
        email="ops@platform.test", password="x-Very-long-pw-1", is_staff=True
    )
    studio.client.force_login(staff)
    page = studio.client.get("/studio/tenants/")
    assert page.status_code == 200
    bad = studio.client.post(
        "/studio/tenants/",
        {
            "slug": "studio",
            "name": "X",
            "pack": "starter",
            "admin_email": "a@x.test",
            "admin_password": "x-Very-long-pw-1",
        },
    )
    assert bad.status_code == 422
    assert "reserved" in str(bad.context["form"].errors["slug"])
    made = studio.client.post(
        "/studio/tenants/",
        {
            "slug": "newco",
            "name": "New Co",
            "pack": "starter",
            "admin_email": "boss@newco.test",
            "admin_password": "x-Very-long-pw-1",
        },
    )
    assert made.status_code == 302
    assert b"newco" in studio.client.get("/studio/tenants/").content


def test_the_studio_home_leads_to_the_draft(studio):
    home = studio.client.get("/studio/")
    assert home.status_code == 200
    assert b"data-studio-home" in home.content
    assert b"The draft equals the active version" in home.content


def test_the_studio_speaks_chinese(studio):
    page = studio.client.get("/studio/config/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert "版本历史" in text  # our pages
    assert "草稿" in text
    review = studio.client.get("/studio/config/publish/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "检查并发布" in review.content.decode()


def test_a_published_key_changed_in_the_editor_is_a_rename(studio):
    url = "/studio/config/entities/deal/fields/amount/"
    item = editor_item(studio.client.get(url))
    saved = save_item(studio, url, {**item, "key": "value"})
    assert saved["Location"] == "/studio/config/entities/deal/fields/value/"
    field = next(f for f in draft_entity(studio, "deal")["fields"] if f["key"] == "value")
    assert field["renamed_from"] == "amount"
    # a field only in the draft renames without a trace
    new = "/studio/config/entities/deal/fields/new/?type=text"
    save_item(studio, new, {"key": "draft_only", "type": "text"})
    item = editor_item(studio.client.get("/studio/config/entities/deal/fields/draft_only/"))
    save_item(studio, "/studio/config/entities/deal/fields/draft_only/", {**item, "key": "later"})
    later = next(f for f in draft_entity(studio, "deal")["fields"] if f["key"] == "later")
    assert "renamed_from" not in later


def test_an_editor_post_that_is_not_json_changes_nothing(studio):
    etag = get_draft(studio.tenant).etag
    url = "/studio/config/entities/deal/fields/amount/"
    refused = studio.client.post(url, {"item": "{not json", "etag": etag})
    assert refused.status_code == 422
    assert refused.context["problems"] == [("", "The editor sent no item.")]
    assert get_draft(studio.tenant).etag == etag
    assert studio.client.get("/studio/config/fields/").status_code == 404  # only under an entity
