"""Every page of the standard CRM, filled with the demo data, for every role of the pack, in
both languages: what the role may read draws (200), what it may not is refused (403/404),
nothing fails. One fill, one walk: the crm pack's demo data takes a while to make."""

import pytest

from records.demo_data import fill
from records.service import RecordService
from tenants.context import tenant_context
from tests.fixtures import signed_in
from ui_builder.pages import navigation

# Each role of the pack walks in one language; together they cover both.
WALKERS = {
    "tenant_admin": "en",
    "consultant": "zh-hans",
    "sales_director": "en",
    "sales_manager": "zh-hans",
    "sales_rep": "en",
    "marketing": "zh-hans",
    "service_agent": "en",
    "service_manager": "zh-hans",
    "executive": "en",
}
REFUSED = {403, 404}


@pytest.fixture
def filled(make_tenant, add_member):
    made = make_tenant("tour", pack="crm")
    made.users = {
        role: add_member(made.tenant, f"{role}@tour.test", roles=(role,)) for role in WALKERS
    }
    fill(made.tenant, scale="small", seed=5)
    return made


def pages_of(config, service: RecordService) -> list[tuple[str, str, bool]]:
    """(url, what it is, whether the role reads it) for every page of the app."""
    pages = [("/app/r/dashboards/", "dashboards", True)]
    with tenant_context(service.tenant, user=service.user):
        readable = {key for key, _ in navigation(service)}
    for dashboard in config.document["dashboards"]:
        pages.append((f"/app/r/dashboards/{dashboard['key']}/", "dashboard", None))
    for report in config.document["reports"]:
        reads = {report["entity"], *(join["entity"] for join in report.get("join", []))}
        pages.append((f"/app/r/reports/{report['key']}/", "report", reads <= readable))
    views = {(layout["entity"], layout["type"]) for layout in config.document["layouts"]}
    for key in config.entities:
        may_read = key in readable
        pages.append((f"/app/r/{key}/", "list", may_read))
        if (key, "kanban") in views:
            pages.append((f"/app/r/{key}/board/", "board", may_read))
        if (key, "calendar") in views:
            pages.append((f"/app/r/{key}/calendar/", "calendar", may_read))
        if not may_read:
            continue
        first = service.query(key, first=1).rows
        if first:
            pages.append((f"/app/r/{key}/{first[0].id}/", "record", True))
            pages.append((f"/app/r/{key}/{first[0].id}/edit/", "edit", None))
        pages.append((f"/app/r/{key}/new/", "new", None))
    return pages


def test_every_page_of_the_filled_crm_draws_for_every_role_in_both_languages(filled, client):
    config = RecordService(filled.tenant, filled.admin).configuration()
    drawn, refused, failures = 0, 0, []
    for role, language in WALKERS.items():
        user = filled.users[role]
        service = RecordService(filled.tenant, user)
        signed_in(client, user, filled.tenant)
        for url, what, may_read in pages_of(config, service):
            status = client.get(url, HTTP_ACCEPT_LANGUAGE=language).status_code
            if status == 200:
                drawn += 1
            elif status in REFUSED:
                refused += 1
            if (may_read is True and status != 200) or status not in {200, *REFUSED}:
                failures.append((role, language, what, url, status))
        client.logout()
    assert failures == [], "\n".join(map(str, failures))
    assert drawn > 500
    assert refused > 0  # the roles are not all administrators
