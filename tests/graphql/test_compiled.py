"""The compiled path (api/schema/compiled) answers what it can in one SQL statement and must
say exactly what the resolvers say: every query here runs both ways and the two responses are
compared value for value, key order included."""

import copy
import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.schema.compiled.statements import PreparedStatements, numbered
from api.tokens import issue_token
from metadata.publish import active_version, document_of, publish, save_draft
from records.service import RecordService
from tenants.context import tenant_context
from tenants.models import Membership, User

URL = "/graphql/"
LIMITED = {
    "key": "limited",
    "label": {"en": "Own deals, probabilities hidden"},
    "entities": {
        "deal": {"read": "own", "fields": {"probability": "hidden"}},
        "company": {"read": "own"},
    },
}
DEAL_FIELDS = """
    __typename id recordId version createdAt updatedAt owner { id } createdBy { id __typename }
    name stage amount probability weightedAmount closeDate lastContacted
"""
COMPANY_FIELDS = """
    id code name website email phone address tier tags employees
    annualRevenue { amount currency } creditLimit active founded notes profile
    accountManager { id } dealCount openPipeline
"""


@pytest.fixture
def shop(make_tenant, client):
    made = make_tenant("cmp", pack="starter")
    tenant, admin = made.tenant, made.admin
    document = copy.deepcopy(document_of(active_version(tenant)))
    document["roles"].append(LIMITED)
    save_draft(tenant, document, overwrite=True)
    publish(tenant)
    with tenant_context(tenant):
        rep = User.objects.create_user(email="rep@cmp.test", password="x-Pass-12345")
        Membership.objects.create(tenant=tenant, user=rep, roles=["limited"])
    service = RecordService(tenant, admin)
    north = service.create(
        "company",
        {
            "name": 'Nörd "Ltd"\n北京',
            "website": "https://nord.example",
            "email": "Sales@Nord.example",
            "address": {"street": "1 Rue de l'Été", "city": "Paris", "country": "FR"},
            "tier": "a",
            "tags": ["partner", "reseller"],
            "employees": 42,
            "annual_revenue": {"amount": "1234567.5", "currency": "EUR"},
            "credit_limit": "1000.50",
            "active": False,
            "founded": "1999-12-31",
            "notes": "tab\there, back\\slash",
            "profile": "<p>Hello <b>world</b></p>",
            "account_manager": admin.pk,
        },
        owner=rep,
    )
    south = service.create("company", {"name": "South"})
    deals = []
    for n, (company, contacted) in enumerate(
        [
            (north, "2025-01-31T09:30:00+00:00"),
            (south, "2025-02-01T10:00:00.250000+02:00"),
            (north, None),
            (south, "2024-12-24T23:59:59.999999Z"),
            (north, "2025-01-31T09:30:00+00:00"),
        ]
    ):
        values = {
            "name": f"Deal {n} — Ünïcode",
            "company": company.id,
            "stage": ["new", "proposal", "lost", "won", "new"][n % 5],
            "amount": None if n == 2 else str(1000 * n + 0.25),
            "probability": 10 * n,
            "close_date": f"2025-0{n + 1}-15",
        }
        if contacted:
            values["last_contacted"] = contacted
        deals.append(service.create("deal", values, owner=rep if n % 2 == 0 else admin))
    service.update("deal", deals[1].id, {"related_deals": [deals[0].id, deals[3].id]})
    tokens = {"admin": issue_token(tenant, admin), "rep": issue_token(tenant, rep)}

    def post(query, variables=None, who="admin", compiled=True):
        with override_settings(GRAPHQL_COMPILED=compiled):
            return client.post(
                URL,
                {"query": query, "variables": variables or {}},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {tokens[who]}",
            )

    made.post, made.deals, made.north, made.south = post, deals, north, south
    return made


def both(shop, query, variables=None, who="admin", path="compiled"):
    """The response of each path, checked equal; the compiled path's body."""
    compiled = shop.post(query, variables, who)
    reference = shop.post(query, variables, who, compiled=False)
    assert reference["X-GraphQL-Execution"] == "resolvers"
    assert compiled["X-GraphQL-Execution"] == path
    assert compiled.status_code == reference.status_code
    mine, theirs = json.loads(compiled.content), json.loads(reference.content)
    # json.loads keeps key order: equal dumps means equal values in the same order.
    assert json.dumps(mine) == json.dumps(theirs)
    return mine


PAGES = [
    # every field of both entities, the lookup followed, system fields and __typename
    (
        "query { deals(first: 50) { totalCount pageInfo { hasNextPage hasPreviousPage "
        "startCursor endCursor __typename } edges { __typename cursor node { "
        + DEAL_FIELDS
        + " company { "
        + COMPANY_FIELDS
        + " } } } } }",
        {},
    ),
    ("query { companies { edges { node { " + COMPANY_FIELDS + " } } } }", {}),
    # sorts of each SQL type, nulls placed both ways: the cursors must be the same bytes
    (
        "query($f: DealField!, $d: Direction, $n: Nulls) { deals(first: 2, "
        "orderBy: [{field: $f, direction: $d, nulls: $n}]) { pageInfo { hasNextPage "
        "endCursor } edges { cursor node { name } } } }",
        {"f": "AMOUNT", "d": "DESC", "n": "FIRST"},
    ),
    (
        "query($f: DealField!) { deals(first: 3, orderBy: [{field: $f}]) { "
        "edges { cursor node { name lastContacted } } } }",
        {"f": "LAST_CONTACTED"},
    ),
    (
        "query { deals(first: 3, orderBy: [{field: NAME, direction: DESC}, "
        "{field: CREATED_AT}]) { edges { cursor } } }",
        {},
    ),
    (
        "query { companies(orderBy: [{field: ACTIVE}, {field: UPDATED_AT, direction: DESC}]) "
        "{ edges { cursor node { name } } } }",
        {},
    ),
    # a filter with a lookup hop, a search and the total; aliases, fragments, @include
    (
        "query($with: Boolean!) { open: deals(filter: {stage: {in: [new, proposal]}, "
        'company: {match: {tier: {eq: a}}}}, search: "Deal") { totalCount ...E } '
        "all: deals(first: 1) { n: totalCount ...E @include(if: $with) } } "
        "fragment E on DealConnection { edges { node { ... on Deal { name } } } }",
        {"with": True},
    ),
    ("query { __typename deals(first: 1) { edges { node { name } } } }", {}),
    # multi-lookups in their order, reverse connections (one lookup to the parent)
    (
        "query { deals { edges { node { name relatedDeals { totalCount edges { cursor node { "
        "name company { name } } } pageInfo { hasNextPage endCursor } } } } } }",
        {},
    ),
    (
        "query { deals { edges { node { relatedDeals(first: 1) { pageInfo { hasNextPage "
        "hasPreviousPage startCursor endCursor } edges { node { name } } } } } } }",
        {},
    ),
    (
        "query { companies { edges { node { name deals(first: 2) { totalCount __typename "
        "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
        "edges { cursor node { name company { name } } } } } } } }",
        {},
    ),
    # nothing matches
    (
        'query { deals(filter: {name: {eq: "nobody"}}) { totalCount edges { cursor } '
        "pageInfo { startCursor endCursor hasNextPage } } }",
        {},
    ),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kept", [60, 0], ids=["prepared", "connection-per-request"])
def test_pages_are_the_same_on_both_paths(shop, monkeypatch, kept):
    # Statements are prepared only on connections kept between requests.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", kept)
    for query, variables in PAGES:
        both(shop, query, variables)


@pytest.mark.django_db(transaction=True)
def test_walking_pages_forwards_and_backwards_gives_the_same_cursors(shop):
    forwards = (
        "query($after: String) { deals(first: 2, after: $after, orderBy: [{field: AMOUNT}]) "
        "{ pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
        "edges { cursor node { name } } } }"
    )
    backwards = (
        "query($before: String) { deals(last: 2, before: $before, orderBy: [{field: AMOUNT}]) "
        "{ pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
        "edges { cursor node { name } } } }"
    )
    after, seen = None, []
    while True:
        page = both(shop, forwards, {"after": after})["data"]["deals"]
        seen += [edge["node"]["name"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 5
    before, back = None, []
    while True:
        page = both(shop, backwards, {"before": before})["data"]["deals"]
        back = [edge["node"]["name"] for edge in page["edges"]] + back
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert back == seen


SORTABLE = ["ID", "CREATED_AT", "UPDATED_AT", "NAME", "STAGE", "AMOUNT", "PROBABILITY"]
SORTABLE += ["WEIGHTED_AMOUNT", "CLOSE_DATE", "LAST_CONTACTED", "COMPANY"]
SORTS = st.lists(
    st.fixed_dictionaries(
        {
            "field": st.sampled_from(SORTABLE),
            "direction": st.sampled_from(["ASC", "DESC"]),
            "nulls": st.sampled_from(["FIRST", "LAST"]),
        }
    ),
    max_size=3,
)


@pytest.mark.django_db(transaction=True)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(sorts=SORTS, size=st.integers(1, 3), backwards=st.booleans())
def test_any_sort_walks_the_same_pages_on_both_paths(shop, sorts, size, backwards):
    """Random sorts of every SQL type: the same rows, cursors and page flags each step."""
    direction = "last: $n, before: $c" if backwards else "first: $n, after: $c"
    query = (
        f"query($s: [DealOrderBy!], $n: Int, $c: String) {{ deals({direction}, orderBy: $s) "
        "{ pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
        "edges { cursor node { recordId } } } }"
    )
    cursor, seen = None, []
    for _ in range(6):
        page = both(shop, query, {"s": sorts, "n": size, "c": cursor})["data"]["deals"]
        seen += [edge["node"]["recordId"] for edge in page["edges"]]
        more = page["pageInfo"]["hasPreviousPage" if backwards else "hasNextPage"]
        if not more:
            break
        cursor = page["pageInfo"]["startCursor" if backwards else "endCursor"]
    assert sorted(seen) == sorted(deal.id for deal in shop.deals)


@pytest.mark.django_db(transaction=True)
def test_children_pages_after_a_childs_id(shop):
    query = (
        "query($id: ID!, $after: String) { company(id: $id) { deals(first: 1, after: $after) "
        "{ totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
        "edges { cursor node { name } } } } }"
    )
    after, names = None, []
    while True:
        page = both(shop, query, {"id": str(shop.north.id), "after": after})
        deals = page["data"]["company"]["deals"]
        names += [edge["node"]["name"] for edge in deals["edges"]]
        if not deals["pageInfo"]["hasNextPage"]:
            break
        after = deals["pageInfo"]["endCursor"]
    assert len(names) == deals["totalCount"] == 3
    # as the rep: her own deals of her company, none of South (which she may not read)
    mine = both(shop, query, {"id": str(shop.north.id)}, who="rep")
    assert mine["data"]["company"]["deals"]["totalCount"] == 3
    assert both(shop, query, {"id": str(shop.south.id)}, who="rep")["data"]["company"] is None


@pytest.mark.django_db(transaction=True)
def test_one_record_by_id(shop):
    query = "query($id: ID!) { deal(id: $id) { " + DEAL_FIELDS + " company { name } } }"
    found = both(shop, query, {"id": str(shop.deals[0].id)})
    assert found["data"]["deal"]["recordId"] == shop.deals[0].id
    global_id = found["data"]["deal"]["id"]
    assert both(shop, query, {"id": global_id}) == found
    assert both(shop, query, {"id": "987654321"})["data"]["deal"] is None
    # another entity's record is no deal
    assert both(shop, query, {"id": str(shop.north.id)})["data"]["deal"] is None


@pytest.mark.django_db(transaction=True)
def test_a_limited_user_sees_the_same_on_both_paths(shop):
    page = "query { deals { totalCount edges { node { name company { name } } } } }"
    seen = both(shop, page, who="rep")["data"]["deals"]
    # own deals only (0, 2, 4), and the company South, not hers, reads as null
    assert seen["totalCount"] == 3
    assert {edge["node"]["company"]["name"] for edge in seen["edges"]} == {'Nörd "Ltd"\n北京'}
    south = both(
        shop,
        f'query {{ deals(filter: {{company: {{eq: "{shop.south.id}"}}}}) {{ totalCount }} }}',
        who="rep",
    )
    assert south["data"]["deals"]["totalCount"] == 0
    # a hidden field: the resolvers answer, with the permission error at its path
    hidden = both(
        shop,
        "query { deals { edges { node { name probability } } } }",
        who="rep",
        path="resolvers",
    )
    assert hidden["errors"][0]["extensions"]["code"] == "permission_denied"


RESOLVED = [
    # what only the resolvers answer: mutations, introspection, bad input (each error with
    # its code)
    "query { companies { edges { node { name deals(first: 0) { totalCount } } } } }",
    'query { companies { edges { node { deals(after: "x") { totalCount } } } } }',
    'mutation { createCompany(input: {name: "Made"}) { record { name } errors { code } } }',
    "query { __schema { queryType { name } } }",
    'query { deals(filter: {amount: {gt: "x"}}) { totalCount } }',
    "query { deals(first: 0) { totalCount } }",
    'query { deals(after: "not a cursor") { totalCount } }',
    'query { deal(id: "nonsense") { name } }',
    "query { deals { edges { node { nope } } } }",
    "query { deals { ",
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("query", RESOLVED)
def test_what_needs_the_resolvers_goes_to_them(shop, query):
    body = shop.post(query)
    assert body["X-GraphQL-Execution"] == "resolvers"
    if "mutation" not in query:  # a mutation twice would make two records
        both(shop, query, path="resolvers")


@pytest.mark.django_db(transaction=True)
def test_a_compiled_page_costs_the_same_queries_for_10_or_100_rows(shop):
    service = RecordService(shop.tenant, shop.admin)
    for n in range(100):
        service.create("deal", {"name": f"Bulk {n}", "company": shop.north.id})
    query = (
        "query($n: Int!) { deals(first: $n) { totalCount edges { node { name "
        "company { name tier } owner { id } } } } }"
    )
    shop.post(query, {"n": 1})  # the token's first use of the minute is recorded
    counts = []
    for size in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            response = shop.post(query, {"n": size})
        assert response["X-GraphQL-Execution"] == "compiled"
        assert len(json.loads(response.content)["data"]["deals"]["edges"]) == size
        counts.append(len(queries))
    with CaptureQueriesContext(connection) as resolved:
        shop.post(query, {"n": 100}, compiled=False)
    assert counts[0] == counts[1] < len(resolved)


def test_placeholders_become_numbered_parameters():
    assert numbered("a = %s AND b LIKE '5%%' AND c = ANY(%s)") == (
        "a = $1 AND b LIKE '5%' AND c = ANY($2)",
        2,
    )


@pytest.mark.django_db(transaction=True)
def test_statements_are_prepared_once_per_connection_and_a_failure_changes_nothing():
    with transaction.atomic(), connection.cursor() as cursor:
        prepared = PreparedStatements(connection.connection)
        name = prepared.name_for(cursor, "SELECT %s::int + 1")
        assert name is not None
        assert prepared.name_for(cursor, "SELECT %s::int + 1") == name
        cursor.execute(f"EXECUTE {name} (%s)", [41])
        assert cursor.fetchone()[0] == 42
        assert prepared.name_for(cursor, "SELECT FROM no_such_table") is None
        cursor.execute("SELECT 1")  # the transaction is still usable
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = %s", [name])
        assert cursor.fetchone()[0] == 1
        cursor.execute(f"DEALLOCATE {name}")


@pytest.mark.django_db(transaction=True)
def test_variables_that_are_not_an_object_are_refused(shop):
    response = shop.post("query($n: Int) { deals(first: $n) { totalCount } }", [1, 2])
    assert response.status_code == 400
    error = json.loads(response.content)["errors"][0]
    assert error["extensions"]["code"] == "invalid_query"
    assert error["message"] == "variables must be a JSON object."
