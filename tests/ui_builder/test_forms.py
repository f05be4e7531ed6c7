"""Create and edit forms by the form layout: errors at their fields (rules in the user's
language), sections following the values being typed, a stale edit showing both values."""

from decimal import Decimal

import pytest

from metadata.publish import publish
from records.service import RecordService
from tests.ui_builder.test_layouts import DEAL_FORM, OTHERS, document_with


@pytest.fixture
def desk(make_tenant, add_member, client):
    made = make_tenant("ui", pack="starter")
    publish(made.tenant, document=document_with(made.tenant, [DEAL_FORM, *OTHERS]))
    admin = RecordService(made.tenant, made.admin)
    rep_user = add_member(made.tenant, "rep@ui.test")
    made.rep = RecordService(made.tenant, rep_user)
    made.admin_service = admin
    made.company = admin.create("company", {"name": "Acme"})
    client.force_login(rep_user)
    session = client.session
    session["tenant_id"] = made.tenant.pk
    session.save()
    made.client = client
    return made


def inputs_of(response) -> dict:
    return {
        item.key: item for section in response.context["edit"].sections for item in section.inputs
    }


def test_a_new_record_with_errors_at_their_fields_then_saved(desk):
    form = desk.client.get("/app/r/deal/new/")
    assert form.status_code == 200
    assert list(inputs_of(form)) == ["name", "company", "stage", "amount", "probability"]
    refused = desk.client.post("/app/r/deal/new/", {"name": "", "company": str(desk.company.id)})
    assert refused.status_code == 400
    assert inputs_of(refused)["name"].errors == ["name is required"]
    assert b'aria-invalid="true"' in refused.content
    saved = desk.client.post(
        "/app/r/deal/new/", {"name": "Fresh", "company": str(desk.company.id), "stage": "new"}
    )
    assert saved.status_code == 302
    deal = desk.rep.query("deal").rows[0]
    assert saved["Location"] == f"/app/r/deal/{deal.id}/"
    assert deal.values["name"] == "Fresh"


def test_conditions_follow_the_values_being_typed(desk):
    deal = desk.rep.create("deal", {"name": "D", "company": desk.company.id, "amount": 10})
    url = f"/app/r/deal/{deal.id}/edit/"
    assert "close_date" not in inputs_of(desk.client.get(url))
    preview = desk.client.post(url + "preview/", {"name": "D", "stage": "won", "amount": "10"})
    assert preview.status_code == 200
    assert b'name="close_date"' in preview.content  # the closing section appears
    # required_if: amount is required when the stage is proposal
    refused = desk.client.post(
        url, {"name": "D", "stage": "proposal", "amount": "", "version": "1"}
    )
    assert refused.status_code == 400
    assert inputs_of(refused)["amount"].errors == ["amount is required on this record's form"]


def test_a_rule_speaks_the_users_language(desk):
    deal = desk.rep.create("deal", {"name": "D", "company": desk.company.id, "stage": "new"})
    desk.admin_service.update("deal", deal.id, {"stage": "proposal", "amount": 5})
    refused = desk.client.post(
        f"/app/r/deal/{deal.id}/edit/",
        {"name": "D", "stage": "won", "amount": "0", "version": "2"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert refused.status_code == 400
    assert inputs_of(refused)["amount"].errors == ["赢单的商机必须填写金额"]


def test_a_stale_edit_shows_both_values(desk):
    deal = desk.rep.create("deal", {"name": "Old name", "company": desk.company.id})
    desk.admin_service.update("deal", deal.id, {"name": "Their name"})
    refused = desk.client.post(
        f"/app/r/deal/{deal.id}/edit/", {"name": "My name", "stage": "new", "version": "1"}
    )
    assert refused.status_code == 400
    edit = refused.context["edit"]
    assert edit.errors[0].startswith("Someone else saved this record")
    assert ("Name", "My name", "Their name") in edit.conflict
    assert edit.version == 2  # saving again now applies
    assert desk.rep.get("deal", deal.id).values["name"] == "Their name"  # nothing written


def test_the_approval_panel_refuses_clearly(desk):
    from tests.browser.test_approvals import PROCESS
    from tests.ui_builder.test_layouts import document_with as with_layouts

    document = with_layouts(desk.tenant, [DEAL_FORM, *OTHERS]) | {"workflows": [PROCESS]}
    publish(desk.tenant, document=document)
    theirs = desk.admin_service.create("deal", {"name": "T", "company": desk.company.id})
    mine = desk.rep.create("deal", {"name": "M", "company": desk.company.id})
    # not hers: the record is out of reach altogether
    assert (
        desk.client.post(
            f"/app/r/deal/{theirs.id}/approval/", {"action": "submit", "process": "discount"}
        ).status_code
        == 404
    )
    # hers, but the owner has no manager: nobody to approve, said in words
    answer = desk.client.post(
        f"/app/r/deal/{mine.id}/approval/", {"action": "submit", "process": "discount"}, follow=True
    )
    assert [str(m) for m in answer.context["messages"]] == [
        "The step manager has nobody to approve it."
    ]
    assert desk.client.get("/app/r/approvals/").status_code == 200


def test_a_locked_record_says_so_on_its_form(desk):
    from tenants.organisation import set_manager
    from tests.browser.test_approvals import PROCESS

    document = document_with(desk.tenant, [DEAL_FORM, *OTHERS]) | {"workflows": [PROCESS]}
    publish(desk.tenant, document=document)
    set_manager(desk.tenant, "rep@ui.test", desk.admin.email)
    deal = desk.rep.create("deal", {"name": "D", "company": desk.company.id})
    from workflows import approvals

    approvals.submit(desk.rep, "deal", deal.id, "discount")
    refused = desk.client.post(f"/app/r/deal/{deal.id}/edit/", {"name": "E", "stage": "new"})
    assert refused.status_code == 400
    assert refused.context["edit"].errors == [
        "This deal is waiting for an approval: it cannot be changed until the approval ends or "
        "is recalled."
    ]


def test_field_problems_in_the_users_language(desk):
    def errors(values, **headers):
        answer = desk.client.post(
            "/app/r/deal/new/", {"company": str(desk.company.id), **values}, **headers
        )
        assert answer.status_code == 400
        return {k: item.errors for k, item in inputs_of(answer).items() if item.errors}

    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    assert errors({"name": ""}) == {"name": ["name is required"]}
    assert errors({"name": ""}, **zh) == {"name": ["此字段为必填项。"]}
    assert errors({"name": "D", "amount": "lots"}) == {"amount": ["'lots' is not a number"]}
    assert errors({"name": "D", "amount": "lots"}, **zh) == {"amount": ["请输入数字。"]}


def test_forms_of_a_record_out_of_scope_are_like_missing_ones(desk):
    theirs = desk.admin_service.create("deal", {"name": "T", "company": desk.company.id})
    for url in (f"/app/r/deal/{theirs.id}/edit/", "/app/r/deal/987654/edit/"):
        assert desk.client.get(url).status_code == 404
        assert desk.client.post(url, {"name": "Mine now", "stage": "new"}).status_code == 404
        assert desk.client.post(url + "preview/", {"stage": "won"}).status_code == 404
    assert desk.admin_service.get("deal", theirs.id).values["name"] == "T"  # unchanged
    assert desk.client.get("/app/r/nothing/new/").status_code == 404
    assert desk.client.get(f"/app/r/deal/{theirs.id}/edit/preview/").status_code == 405


def test_an_unknown_approval_action_changes_nothing(desk):
    deal = desk.rep.create("deal", {"name": "D", "company": desk.company.id})
    answer = desk.client.post(f"/app/r/deal/{deal.id}/approval/", {"action": "fly"}, follow=True)
    assert [str(m) for m in answer.context["messages"]] == ["Unknown approval action."]


def test_the_lookup_type_ahead_searches_what_the_user_may_read(desk):
    desk.admin_service.create("company", {"name": "Northgate"})
    desk.admin_service.create("company", {"name": "Southwind"})
    found = desk.client.get("/app/r/company/lookup/?q=wind").json()["results"]
    assert [r["title"] for r in found] == ["Southwind"]
    every = desk.client.get("/app/r/company/lookup/").json()["results"]
    assert [r["title"] for r in every] == ["Acme", "Northgate", "Southwind"]
    # deals: the rep reads her team's only, whatever she types
    desk.admin_service.create("deal", {"name": "Admin's deal", "company": desk.company.id})
    hers = desk.rep.create("deal", {"name": "Her deal", "company": desk.company.id})
    deals = desk.client.get("/app/r/deal/lookup/?q=deal").json()["results"]
    assert deals == [{"id": hers.id, "title": "Her deal"}]
    assert desk.client.get("/app/r/nothing/lookup/?q=x").status_code == 404


def test_a_lookup_lists_its_current_value_even_beyond_the_first_ones(desk, monkeypatch):
    from ui_builder import editing

    monkeypatch.setattr(editing, "LOOKUP_CHOICES", 1)
    zeta = desk.admin_service.create("company", {"name": "Zeta"})
    deal = desk.rep.create("deal", {"name": "D", "company": zeta.id})
    form = editing.build(desk.rep, "deal", deal.id)
    company = next(i for s in form.sections for i in s.inputs if i.key == "company")
    assert company.lookup == "company"
    assert company.choices == [("", "—"), (str(desk.company.id), "Acme"), (str(zeta.id), "Zeta")]


@pytest.fixture
def office(make_tenant, client):
    """The starter pack's own forms, the administrator signed in."""
    from tests.fixtures import signed_in

    made = make_tenant("widgets", pack="starter")
    made.service = RecordService(made.tenant, made.admin)
    made.client = signed_in(client, made.admin, made.tenant)
    return made


def test_composite_fields_are_shown_and_saved_part_by_part(office):
    """An address by its parts, a multi-select, an amount with its currency: shown as the
    record holds them, saved unchanged as they were, then changed."""
    from tests.form_posts import as_sent

    company = office.service.create(
        "company",
        {
            "name": "Acme",
            "address": {"street": "1 Main St", "city": "Paris", "country": "FR"},
            "tags": ["partner", "reseller"],
            "annual_revenue": {"amount": "1000.00", "currency": "USD"},
        },
    )
    url = f"/app/r/company/{company.id}/edit/"
    form = office.client.get(url)
    shown = inputs_of(form)
    assert shown["address"].parts[1][0::2] == ("city", "Paris")
    assert shown["tags"].chosen == ["partner", "reseller"]
    assert (shown["annual_revenue"].value, shown["annual_revenue"].currency) == ("1000.00", "USD")
    sent = as_sent(form)
    assert office.client.post(url, sent).status_code == 302
    assert office.service.get("company", company.id).values == company.values
    # changed: a part cleared and another edited, every tag taken off, another currency
    sent.update(
        {"address.city": ["Lyon"], "address.country": [""], "annual_revenue.currency": ["EUR"]}
    )
    sent.pop("tags")
    assert office.client.post(url, sent).status_code == 302
    saved = office.service.get("company", company.id).values
    assert saved["address"] == {"street": "1 Main St", "city": "Lyon"}
    assert "tags" not in saved
    assert saved["annual_revenue"] == {"amount": Decimal("1000.00"), "currency": "EUR"}
    # a bad part is refused at the address, its parts shown as typed, nothing saved
    sent = as_sent(office.client.get(url))
    sent.update({"address.country": ["France"], "address.city": ["Nice"]})
    refused = office.client.post(url, sent)
    assert refused.status_code == 400
    assert refused.context["edit"].errors == []
    assert len(inputs_of(refused)["address"].errors) == 1  # said at the address
    assert office.service.get("company", company.id).values == saved


def test_a_form_saved_unchanged_keeps_what_its_inputs_cannot_show(office):
    """A date-time shows minutes: unchanged, it keeps its seconds; related records are
    chosen several at a time."""
    from tests.form_posts import as_sent

    company = office.service.create("company", {"name": "Acme"})
    first, second = (
        office.service.create("deal", {"name": n, "company": company.id}) for n in ("A", "B")
    )
    deal = office.service.create(
        "deal",
        {
            "name": "C",
            "company": company.id,
            "last_contacted": "2025-03-01T09:30:45.123456+00:00",
            "related_deals": [first.id],
        },
    )
    url = f"/app/r/deal/{deal.id}/edit/"
    sent = as_sent(office.client.get(url))
    assert sent["related_deals"] == [str(first.id)]
    assert office.client.post(url, sent).status_code == 302
    assert office.service.get("deal", deal.id).values == deal.values
    sent["related_deals"] = [str(first.id), str(second.id)]
    sent["last_contacted"] = ["2025-03-02T10:00"]
    assert office.client.post(url, sent).status_code == 302
    saved = office.service.get("deal", deal.id).values
    assert saved["related_deals"] == [first.id, second.id]
    assert saved["last_contacted"] == "2025-03-02T10:00:00.000000Z"


def test_a_field_the_user_may_only_read_is_not_on_the_form_and_no_edit_without_update(
    office, add_member, client
):
    from metadata.publish import active_version, document_of
    from tests.fixtures import signed_in

    document = document_of(active_version(office.tenant))
    document["roles"].append(
        {
            "key": "closer",
            "label": {"en": "Closer"},
            "entities": {
                "deal": {"read": "all", "update": "own", "fields": {"amount": "read"}},
                "company": {"read": "all"},
            },
        }
    )
    publish(office.tenant, document=document)
    company = office.service.create("company", {"name": "Acme"})
    user = add_member(office.tenant, "closer@widgets.test", ["closer"])
    closer = RecordService(office.tenant, user)
    mine = office.service.create("deal", {"name": "Mine", "company": company.id}, owner=user)
    theirs = office.service.create("deal", {"name": "Theirs", "company": company.id})
    browser = signed_in(client.__class__(), user, office.tenant)
    form = browser.get(f"/app/r/deal/{mine.id}/edit/")
    assert form.status_code == 200
    assert "amount" not in inputs_of(form)
    assert "name" in inputs_of(form)
    assert browser.get(f"/app/r/deal/{theirs.id}/edit/").status_code == 404
    # her record's page offers its edit form; one she only reads does not
    assert browser.get(f"/app/r/deal/{mine.id}/").context["page"].may_edit is True
    page = browser.get(f"/app/r/deal/{theirs.id}/")
    assert page.status_code == 200
    assert page.context["page"].may_edit is False
    assert f"/app/r/deal/{theirs.id}/edit/".encode() not in page.content
    assert closer.get("deal", theirs.id).values["name"] == "Theirs"  # she reads it
