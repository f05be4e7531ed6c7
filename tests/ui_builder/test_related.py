"""A record page's related lists (child records by their lookup, in the user's scope), line
items edited inline and saved all or nothing, a new child started from its parent, and the
history timeline for users with view_audit."""

import pytest

from metadata.publish import publish
from records.service import RecordService
from tests.fixtures import signed_in
from tests.ui_builder.test_layouts import DEAL_FORM, OTHERS, document_with


@pytest.fixture
def books(make_tenant, add_member, client):
    made = make_tenant("books", pack="starter")
    publish(made.tenant, document=document_with(made.tenant, [DEAL_FORM, *OTHERS]))
    made.admin_service = RecordService(made.tenant, made.admin)
    made.rep_user = add_member(made.tenant, "rep@books.test")
    made.rep = RecordService(made.tenant, made.rep_user)
    made.company = made.admin_service.create("company", {"name": "Acme"})
    made.first = made.admin_service.create(
        "deal", {"name": "First", "company": made.company.id, "amount": 100, "stage": "new"}
    )
    made.second = made.admin_service.create(
        "deal", {"name": "Second", "company": made.company.id, "amount": 200, "stage": "new"}
    )
    made.hers = made.rep.create(
        "deal", {"name": "Hers", "company": made.company.id, "amount": 5, "stage": "new"}
    )
    made.client = signed_in(client, made.admin, made.tenant)
    return made


def related_of(response):
    return next(
        s.related for _, sections in response.context["page"].tabs for s in sections if s.related
    )


def test_the_related_list_shows_the_children_in_the_users_scope(books, client):
    page = books.client.get(f"/app/r/company/{books.company.id}/")
    lines = related_of(page)
    assert lines.key == "t0s1"
    assert [row.title for row in lines.rows if row.id] == ["First", "Second", "Hers"]
    assert lines.editable
    assert [i.key for i in lines.rows[0].inputs] == [
        f"t0s1-{books.first.id}-name",
        f"t0s1-{books.first.id}-amount",
    ]
    assert lines.rows[-1].id is None  # the line to add
    rep = signed_in(client.__class__(), books.rep_user, books.tenant)
    hers = related_of(rep.get(f"/app/r/company/{books.company.id}/"))
    assert [row.title for row in hers.rows if row.id] == ["Hers"]


def test_lines_are_saved_together(books):
    url = f"/app/r/company/{books.company.id}/related/t0s1/"
    first, second, hers = books.first.id, books.second.id, books.hers.id
    posted = {
        "t0s1-row": [str(first), str(second), str(hers)],
        f"t0s1-{first}-name": "First",
        f"t0s1-{first}-amount": "150",
        f"t0s1-{first}-version": "1",
        f"t0s1-{second}-name": "Second",
        f"t0s1-{second}-amount": "200",
        f"t0s1-{second}-delete": "on",
        f"t0s1-{hers}-name": "Hers",
        f"t0s1-{hers}-amount": "5",
        "t0s1-new-name": "Third",
        "t0s1-new-amount": "300",
    }
    saved = books.client.post(url, posted)
    assert saved.status_code == 302
    deals = {
        d.values["name"]: d.values.get("amount") for d in books.admin_service.query("deal").rows
    }
    assert set(deals) == {"First", "Hers", "Third"}
    assert float(deals["First"]) == 150
    third = next(d for d in books.admin_service.query("deal").rows if d.values["name"] == "Third")
    assert third.values["company"] == books.company.id


def test_a_bad_line_saves_nothing_and_says_where(books):
    url = f"/app/r/company/{books.company.id}/related/t0s1/"
    first, second = books.first.id, books.second.id
    refused = books.client.post(
        url,
        {
            "t0s1-row": [str(first), str(second)],
            f"t0s1-{first}-name": "Renamed",
            f"t0s1-{first}-amount": "100",
            f"t0s1-{second}-name": "Second",
            f"t0s1-{second}-amount": "lots",
        },
    )
    assert refused.status_code == 400
    lines = related_of(refused)
    bad = next(row for row in lines.rows if row.id == second)
    assert bad.errors
    assert bad.errors[0].startswith("Amount:")
    renamed = next(row for row in lines.rows if row.id == first)
    assert renamed.inputs[0].value == "Renamed"  # what she typed is still there
    assert books.admin_service.get("deal", first).values["name"] == "First"  # nothing saved
    # a line of another record is not hers to edit through this one
    other = books.admin_service.create("company", {"name": "Other"})
    stray = books.admin_service.create("deal", {"name": "Stray", "company": other.id})
    refused = books.client.post(
        url, {"t0s1-row": [str(stray.id)], f"t0s1-{stray.id}-name": "Moved"}
    )
    assert refused.status_code == 400
    assert books.admin_service.get("deal", stray.id).values["name"] == "Stray"
    assert books.client.post(f"/app/r/company/{books.company.id}/related/t9s9/").status_code == 404


def test_a_new_child_starts_from_its_parent(books):
    form = books.client.get(f"/app/r/deal/new/?company={books.company.id}")
    company = next(i for s in form.context["edit"].sections for i in s.inputs if i.key == "company")
    assert company.value == str(books.company.id)


def test_the_history_timeline_for_view_audit(books, client):
    books.admin_service.update("deal", books.first.id, {"amount": 175})
    page = books.client.get(f"/app/r/deal/{books.first.id}/")
    history = page.context["page"].history
    assert history[0].action == "changed"
    assert ("Amount", "100.00", "175.00") in history[0].changes
    assert history[-1].action == "created"
    rep = signed_in(client.__class__(), books.rep_user, books.tenant)
    assert rep.get(f"/app/r/deal/{books.hers.id}/").context["page"].history is None


def test_the_history_names_the_records_a_lookup_pointed_at(books):
    globex = books.admin_service.create("company", {"name": "Globex"})
    books.admin_service.update("deal", books.first.id, {"company": globex.id})
    page = books.client.get(f"/app/r/deal/{books.first.id}/")
    history = page.context["page"].history
    assert ("Company", "Acme", "Globex") in history[0].changes  # titles, not #ids
    assert ("Company", "", "Acme") in history[-1].changes
