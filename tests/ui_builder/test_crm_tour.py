"""The standard CRM filled with the demo data, toured by every role of the pack: every page of
the app in both languages (what the role may read draws, what it may not is refused, nothing
fails), and every entity's list through the GraphQL API, every field of it, answered the same
by the compiled path and the resolvers. One fill for both walks: the crm pack's demo data takes
a while to make."""

import json

import pytest
from django.test import Client, override_settings
from graphql import GraphQLObjectType, get_named_type, is_leaf_type

from api.schema.cache import schemas
from api.tokens import issue_token
from records.demo_data import fill
from records.errors import RecordError
from records.service import RecordService
from tenants.context import tenant_context
from tests.fixtures import signed_in
from tests.form_posts import as_sent
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
# The roles that also walk the API: all of it, a rep's own records, a service agent's cases,
# and one with hidden fields (marketing may not see products' cost and margin).
API_WALKERS = ("tenant_admin", "sales_rep", "service_agent", "marketing")


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


def test_every_page_and_every_api_list_of_the_filled_crm_for_every_role(filled, client):
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
    differences, answered, compiled_for_the_admin = walk_the_api(filled)
    assert differences == [], "\n".join(map(str, differences[:3]))
    assert answered > 40  # lists with rows, over the four roles
    # the administrator's lists, every field of every entity, all in one statement each (the
    # other roles' lookups to what they may not read, or hidden fields, go to the resolvers)
    assert len(compiled_for_the_admin) == len(config.entities)
    problems, saved = save_every_form_unchanged(filled, client)
    assert problems == [], "\n".join(map(str, problems))
    assert saved > 25


def leaves(graphql_type) -> str:
    """The selection of an object's fields that take no argument (children's connections
    do): leaves as they are, objects (a lookup, an amount with its currency, an address, a
    file) by their own leaves."""
    chosen = []
    for name, field in graphql_type.fields.items():
        inner = get_named_type(field.type)
        if field.args:
            continue
        if is_leaf_type(inner):
            chosen.append(name)
        elif isinstance(inner, GraphQLObjectType):
            own = [
                key
                for key, part in inner.fields.items()
                if is_leaf_type(get_named_type(part.type)) and not part.args
            ]
            if own:
                chosen.append(f"{name} {{ {' '.join(own)} }}")
    return " ".join(chosen)


def list_queries(schema) -> dict[str, str]:
    """Per connection of the query root, a query of its first rows with every field."""
    queries = {}
    for name, field in schema.query_type.fields.items():
        connection = get_named_type(field.type)
        if not connection.name.endswith("Connection"):
            continue
        node = get_named_type(connection.fields["edges"].type).fields["node"].type
        queries[name] = (
            f"{{ {name}(first: 20) {{ totalCount pageInfo {{ hasNextPage endCursor }} "
            f"edges {{ cursor node {{ {leaves(get_named_type(node))} }} }} }} }}"
        )
    return queries


def walk_the_api(filled) -> list[tuple]:
    config = RecordService(filled.tenant, filled.admin).configuration()
    queries = list_queries(schemas.get(filled.tenant.pk, config).graphql_schema)
    differences, answered, compiled_paths = [], 0, set()
    for role in API_WALKERS:
        token = issue_token(filled.tenant, filled.users[role])
        for name, query in queries.items():
            bodies = []
            for compiled in (True, False):
                with override_settings(GRAPHQL_COMPILED=compiled):
                    response = Client().post(
                        "/graphql/",
                        {"query": query},
                        content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {token}",
                    )
                # json.loads keeps key order: equal dumps, equal values in the same order
                bodies.append((response.status_code, json.dumps(json.loads(response.content))))
                if response["X-GraphQL-Execution"] == "compiled":
                    compiled_paths.add((role, name))
            (status, body), reference = bodies
            if bodies[0] != reference or status != 200:
                differences.append((role, name, bodies[0], reference))
            elif (json.loads(body).get("data") or {}).get(name, {}).get("edges"):
                answered += 1
    return differences, answered, {name for role, name in compiled_paths if role == "tenant_admin"}


# Who opens every record form and saves it unchanged, in which language (numbers and dates
# are written in the form as the language writes them, and must read back the same).
SAVERS = {"tenant_admin": "en", "sales_manager": "zh-hans"}


def save_every_form_unchanged(filled, client) -> tuple[list[tuple], int]:
    """Per role, the first record of each entity it may edit: the form as shown, saved as is,
    must change none of its values."""
    config = RecordService(filled.tenant, filled.admin).configuration()
    problems, saved = [], 0
    for role, language in SAVERS.items():
        service = RecordService(filled.tenant, filled.users[role])
        signed_in(client, filled.users[role], filled.tenant)
        for key in config.entities:
            try:
                first = service.query(key, first=1).rows
            except RecordError:
                continue  # the role reads none of them
            if not first:
                continue
            url = f"/app/r/{key}/{first[0].id}/edit/"
            form = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
            if form.status_code in REFUSED:
                continue  # the role may not edit it
            answer = client.post(url, as_sent(form), HTTP_ACCEPT_LANGUAGE=language)
            after = service.get(key, first[0].id).values
            if answer.status_code != 302 or after != first[0].values:
                changed = {
                    k
                    for k in set(after) | set(first[0].values)
                    if after.get(k) != first[0].values.get(k)
                }
                problems.append((role, key, answer.status_code, sorted(changed)))
            else:
                saved += 1
        client.logout()
    return problems, saved
