"""List pages: the filter builder (operators by field type, bad conditions named), sorting by a
column, bulk actions within the user's permissions, and saved views (private or shared with a
team)."""

import pytest

from metadata.publish import publish
from records.service import RecordService
from tenants.context import tenant_context
from tenants.models import Team, TeamMember
from tests.fixtures import signed_in
from tests.ui_builder.test_layouts import DEAL_FORM, OTHERS, document_with
from ui_builder.models import SavedView


@pytest.fixture
def desk(make_tenant, add_member, client):
    made = make_tenant("lists", pack="starter")
    publish(made.tenant, document=document_with(made.tenant, [DEAL_FORM, *OTHERS]))
    made.admin_service = RecordService(made.tenant, made.admin)
    made.rep_user = add_member(made.tenant, "rep@lists.test")
    made.rep = RecordService(made.tenant, made.rep_user)
    company = made.admin_service.create("company", {"name": "Acme"})
    made.deals = {
        name: made.rep.create(
            "deal", {"name": name, "company": company.id, "amount": amount, "stage": stage}
        )
        for name, amount, stage in [
            ("Alpha", 100, "new"),
            ("Beta", 5000, "proposal"),
            ("Gamma", 900, "proposal"),
        ]
    }
    made.others = made.admin_service.create("deal", {"name": "Admin's", "company": company.id})
    made.client = signed_in(client, made.rep_user, made.tenant)
    return made


def names(response) -> list[str]:
    return [row.title for row in response.context["page"].rows]


def test_conditions_filter_by_the_operators_of_each_field_type(desk):
    page = desk.client.get("/app/r/deal/?f=amount|gt|500")
    assert names(page) == ["Beta", "Gamma"]  # the layout sorts by amount, descending
    both = desk.client.get(
        "/app/r/deal/?f=amount|gt|500&f=stage|in|proposal,new&f=name|contains|am"
    )
    assert names(both) == ["Gamma"]
    built = desk.client.get("/app/r/deal/?new_field=name&new_op=starts_with&new_value=Al")
    assert names(built) == ["Alpha"]
    assert "f=name%7Cstarts_with%7CAl" in built.context["page"].state.query()
    offered = {item["key"]: item for item in built.context["page"].filterable}
    amount_ops = [op for op, _ in offered["amount"]["operators"]]
    assert "gt" in amount_ops
    assert "contains" not in amount_ops


def test_bad_conditions_are_named_and_left_out(desk):
    page = desk.client.get("/app/r/deal/?f=amount|contains|5&f=nothing|eq|1&f=name|eq|")
    problems = page.context["page"].state.problems
    assert len(problems) == 3
    assert "amount cannot be filtered with “contains”." in problems
    assert len(names(page)) == 3  # the rep's three deals, unfiltered
    typed = desk.client.get("/app/r/deal/?f=amount|gt|lots")
    assert typed.status_code == 200
    assert typed.context["page"].state.problems  # the service's refusal, shown
    assert len(names(typed)) == 3


def test_a_column_sorts_and_toggles(desk):
    page = desk.client.get("/app/r/deal/?sort=name")
    assert names(page) == ["Alpha", "Beta", "Gamma"]
    column = page.context["page"].title_column  # the name is the title: its own column
    assert "name" not in [c.key for c in page.context["page"].columns]
    assert column.sorted == "ascending"
    assert column.sort_query == "sort=-name"
    assert names(desk.client.get("/app/r/deal/?sort=-name")) == ["Gamma", "Beta", "Alpha"]
    assert b'aria-sort="ascending"' in page.content


def test_bulk_actions_within_the_users_permissions(desk, add_member):
    page = desk.client.get("/app/r/deal/")
    offered = [a["key"] for a in page.context["page"].actions]
    assert offered == ["delete", "assign"]  # no mass_update for reps
    ids = [desk.deals["Alpha"].id, desk.deals["Beta"].id, desk.others.id]
    done = desk.client.post(
        "/app/r/deal/bulk/",
        {"action": "delete", "record": [str(i) for i in ids], "query": "sort=name"},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == "/app/r/deal/?sort=name"
    text = done.content.decode()
    assert "2 records done." in text
    assert f"Record {desk.others.id}:" in text  # not hers: refused, not deleted
    assert names(done) == ["Gamma"]
    assert desk.admin_service.get("deal", desk.others.id).values["name"] == "Admin's"
    refused = desk.client.post(
        "/app/r/deal/bulk/",
        {"action": "set_field", "record": [str(desk.deals["Gamma"].id)], "field": "amount"},
        follow=True,
    )
    assert "You may not do this." in refused.content.decode()
    nothing = desk.client.post("/app/r/deal/bulk/", {"action": "assign", "owner": "x"}, follow=True)
    assert "Choose the records first." in nothing.content.decode()


def test_mass_update_sets_a_field_through_the_records_service(desk):
    admin = signed_in(desk.client.__class__(), desk.admin, desk.tenant)
    page = admin.get("/app/r/deal/")
    assert "set_field" in [a["key"] for a in page.context["page"].actions]
    ids = [str(desk.deals["Alpha"].id), str(desk.deals["Gamma"].id)]
    admin.post(
        "/app/r/deal/bulk/",
        {"action": "set_field", "record": ids, "field": "stage", "value": "won"},
    )
    stages = {d.values["name"]: d.values["stage"] for d in desk.admin_service.query("deal").rows}
    assert stages["Alpha"] == stages["Gamma"] == "won"
    assert stages["Beta"] == "proposal"
    bad = admin.post(
        "/app/r/deal/bulk/",
        {"action": "set_field", "record": ids, "field": "stage", "value": "nonsense"},
        follow=True,
    )
    assert bad.content.decode().count("Record ") == 2  # each refused with the reason
    assert desk.admin_service.get("deal", desk.deals["Alpha"].id).values["stage"] == "won"


def test_saved_views_private_or_shared_with_a_team(desk, add_member, client):
    saved = desk.client.post(
        "/app/r/deal/views/", {"name": "Big ones", "query": "f=amount|gt|500&sort=name"}
    )
    assert saved.status_code == 302
    with tenant_context(desk.tenant):
        view = SavedView.objects.get(name="Big ones")
    assert saved["Location"] == f"/app/r/deal/?view={view.pk}"
    shown = desk.client.get(saved["Location"])
    assert names(shown) == ["Beta", "Gamma"]
    assert shown.context["current_view"].pk == view.pk
    # a teammate does not see a private view; shared with the team, she does
    mate = add_member(desk.tenant, "mate@lists.test")
    with tenant_context(desk.tenant):
        team = Team.objects.create(tenant=desk.tenant, key="east", name="East")
        TeamMember.objects.create(tenant=desk.tenant, team=team, user=desk.rep_user)
        TeamMember.objects.create(tenant=desk.tenant, team=team, user=mate)
    other = signed_in(client.__class__(), mate, desk.tenant)
    assert other.get(f"/app/r/deal/?view={view.pk}").status_code == 404
    desk.client.post(
        "/app/r/deal/views/",
        {"name": "Big ones", "query": "f=amount|gt|500", "team": str(team.pk)},
    )
    with tenant_context(desk.tenant):
        assert SavedView.objects.count() == 1  # saved again under its name: replaced
    assert other.get(f"/app/r/deal/?view={view.pk}").status_code == 200
    # she cannot delete it; its owner can
    other.post(f"/app/r/deal/views/{view.pk}/delete/")
    with tenant_context(desk.tenant):
        assert SavedView.objects.count() == 1
    # bad input: no name, a team that is not hers
    nameless = desk.client.post("/app/r/deal/views/", {"name": " ", "query": ""}, follow=True)
    assert "Give the view a name." in nameless.content.decode()
    with tenant_context(desk.tenant):
        west = Team.objects.create(tenant=desk.tenant, key="west", name="West")
    foreign = desk.client.post(
        "/app/r/deal/views/", {"name": "X", "query": "", "team": str(west.pk)}, follow=True
    )
    assert "only with a team of yours" in foreign.content.decode()
    desk.client.post(f"/app/r/deal/views/{view.pk}/delete/")
    with tenant_context(desk.tenant):
        assert SavedView.objects.count() == 0


def test_a_bulk_action_on_every_record_of_the_list(desk):
    done = desk.client.post(
        "/app/r/deal/bulk/",
        {"action": "delete", "every": "1", "query": "f=amount|gt|500"},
        follow=True,
    )
    assert "2 records done." in done.content.decode()
    assert names(desk.client.get("/app/r/deal/")) == ["Alpha"]  # below 500: untouched
