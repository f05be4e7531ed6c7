"""The tenant's GraphQL API over HTTP with an API token: queries, filters, pages, mutations,
permissions and errors."""

import pytest

from api.schema.cache import schemas
from api.tokens import issue_token
from records.service import RecordService

# The small CRM these tests rename and remove fields of (tests/fixtures.py).
pytestmark = pytest.mark.usefixtures("small_crm_pack")

URL = "/graphql/"


@pytest.fixture
def crm_api(make_tenant, client):
    made = make_tenant("gql", pack="crm")
    token = issue_token(made.tenant, made.admin)
    service = RecordService(made.tenant, made.admin)
    acme = service.create("account", {"name": "Acme", "industry": "technology"})
    other = service.create("account", {"name": "Other", "industry": "retail"})
    for n in range(5):
        service.create(
            "opportunity",
            {
                "name": f"Deal {n}",
                "account": (acme if n % 2 == 0 else other).id,
                "stage": "proposal" if n < 3 else "closed_won",
                "amount": 1000 * (n + 1),
                "close_date": f"2025-0{n + 1}-15",
            },
        )

    def post(query, variables=None, token_=token):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token_}"} if token_ else {}
        return client.post(
            URL,
            {"query": query, "variables": variables or {}},
            content_type="application/json",
            **headers,
        )

    made.post = post
    made.acme = acme
    made.service = service
    return made


def data(response):
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_a_filtered_sorted_page_with_a_lookup_and_the_total(crm_api):
    query = """
    query($after: String) {
      opportunities(
        filter: {stage: {eq: proposal}, account: {match: {industry: {eq: technology}}}}
        orderBy: [{field: CLOSE_DATE, direction: DESC}]
        first: 1, after: $after
      ) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor node { id recordId name amount closeDate stage account { name } } }
      }
    }"""
    first = data(crm_api.post(query))["opportunities"]
    assert first["totalCount"] == 2  # deals 0 and 2: proposal, at Acme
    node = first["edges"][0]["node"]
    assert (node["name"], node["amount"], node["closeDate"]) == ("Deal 2", "3000.00", "2025-03-15")
    assert node["account"] == {"name": "Acme"}
    assert first["pageInfo"]["hasNextPage"] is True
    after = first["pageInfo"]["endCursor"]
    second = data(crm_api.post(query, {"after": after}))["opportunities"]
    assert [e["node"]["name"] for e in second["edges"]] == ["Deal 0"]
    assert second["pageInfo"]["hasNextPage"] is False


def test_one_record_by_global_or_plain_id(crm_api):
    query = "query($id: ID!) { account(id: $id) { id recordId name } }"
    by_plain = data(crm_api.post(query, {"id": str(crm_api.acme.id)}))["account"]
    by_global = data(crm_api.post(query, {"id": by_plain["id"]}))["account"]
    assert by_plain == by_global
    assert by_plain["recordId"] == crm_api.acme.id
    assert data(crm_api.post(query, {"id": "999999999"}))["account"] is None


def test_create_update_delete_restore_with_field_errors(crm_api):
    create = """
    mutation($input: OpportunityInput!) {
      createOpportunity(input: $input) {
        record { recordId name version } errors { field code message }
      }
    }"""
    bad = data(crm_api.post(create, {"input": {"name": "X", "account": "999999"}}))
    assert bad["createOpportunity"]["record"] is None
    codes = {(e["field"], e["code"]) for e in bad["createOpportunity"]["errors"]}
    assert ("account", "invalid_reference") in codes
    good = data(
        crm_api.post(
            create,
            {"input": {"name": "New", "account": str(crm_api.acme.id), "stage": "proposal"}},
        )
    )["createOpportunity"]
    assert good["errors"] == []
    record_id = good["record"]["recordId"]
    update = """
    mutation($id: ID!, $input: OpportunityPatch!, $version: Int) {
      updateOpportunity(id: $id, input: $input, version: $version) {
        record { name version } errors { code message }
      }
    }"""
    stale = data(crm_api.post(update, {"id": str(record_id), "input": {"name": "B"}, "version": 7}))
    assert stale["updateOpportunity"]["errors"][0]["code"] == "version_conflict"
    updated = data(
        crm_api.post(update, {"id": str(record_id), "input": {"name": "B"}, "version": 1})
    )
    assert updated["updateOpportunity"]["record"] == {"name": "B", "version": 2}
    deleted = data(
        crm_api.post(
            "mutation($id: ID!) { deleteOpportunity(id: $id) { id errors { code } } }",
            {"id": str(record_id)},
        )
    )
    assert deleted["deleteOpportunity"]["errors"] == []
    restored = data(
        crm_api.post(
            "mutation($id: ID!) { restoreOpportunity(id: $id) "
            "{ record { name } errors { code } } }",
            {"id": str(record_id)},
        )
    )
    assert restored["restoreOpportunity"]["record"] == {"name": "B"}


def test_bad_requests_get_errors_with_codes_and_never_a_500(crm_api):
    no_token = crm_api.post("{ accounts { totalCount } }", token_=None)
    assert no_token.status_code == 401
    assert no_token.json()["errors"][0]["extensions"]["code"] == "not_authenticated"
    wrong = crm_api.post("{ accounts { totalCount } }", token_="gql.not-a-token")
    assert wrong.status_code == 401
    assert wrong.json()["errors"][0]["extensions"]["code"] == "token_invalid"
    for query in (
        "{ accounts { nope } }",
        "{ accounts(",
        '{ accounts(first: "x") { totalCount } }',
    ):
        response = crm_api.post(query)
        assert response.status_code == 400, query
        assert response.json()["errors"][0]["extensions"]["code"] == "invalid_query"
    too_many = crm_api.post("{ accounts(first: 10000) { totalCount } }")
    assert too_many.status_code == 200
    error = too_many.json()["errors"][0]
    assert error["extensions"]["code"] == "invalid_query"
    assert "first must be between 1 and 500" in error["message"]


def test_permissions_apply_to_queries_and_mutations(crm_api, add_member):
    rep = add_member(crm_api.tenant, "rep@gql.test", roles=("service_agent",))
    token = issue_token(crm_api.tenant, rep)
    denied = crm_api.post("{ opportunities { totalCount } }", token_=token)
    error = denied.json()["errors"][0]
    assert error["extensions"]["code"] == "permission_denied"
    assert "You may not read opportunities." in error["message"]
    accounts = crm_api.post(
        "{ accounts { edges { node { name creditLimit { amount } } } } }", token_=token
    )
    body = accounts.json()
    assert "data" in body, body
    assert [e["node"]["name"] for e in body["data"]["accounts"]["edges"]] == ["Acme", "Other"]
    create = crm_api.post(
        'mutation { createAccount(input: {name: "X"}) { record { name } errors { code } } }',
        token_=token,
    )
    assert create.json()["errors"][0]["extensions"]["code"] == "permission_denied"


def test_the_schema_follows_a_publish_and_is_cached_per_version(crm_api):
    import copy

    from metadata.publish import active_version, document_of, publish

    builds = schemas.builds
    crm_api.post("{ accounts { totalCount } }")
    crm_api.post("{ accounts { totalCount } }")
    assert schemas.builds - builds <= 1
    document = copy.deepcopy(document_of(active_version(crm_api.tenant)))
    account = next(e for e in document["entities"] if e["key"] == "account")
    account["fields"].append({"key": "vat_number", "type": "text", "label": {"en": "VAT"}})
    publish(crm_api.tenant, document=document)
    body = data(crm_api.post("{ accounts { edges { node { vatNumber } } } }"))
    assert body["accounts"]["edges"][0]["node"] == {"vatNumber": None}


def test_metadata_lists_entities_and_fields(crm_api):
    meta = data(crm_api.post("{ _metadata }"))["_metadata"]
    keys = [entity["key"] for entity in meta["entities"]]
    assert keys == ["account", "contact", "opportunity"]
    stage = next(
        f
        for e in meta["entities"]
        if e["key"] == "opportunity"
        for f in e["fields"]
        if f["key"] == "stage"
    )
    assert stage["type"] == "choice"
    assert stage["required"] is True
    assert [o["value"] for o in stage["options"]][:2] == ["prospecting", "qualification"]


def test_the_sdl_command_prints_each_version(crm_api):
    import io

    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("graphql_schema", "--tenant", "gql", stdout=out)
    sdl = out.getvalue()
    assert "type Opportunity {" in sdl
    assert "filter: OpportunityFilter" in sdl
    assert "createOpportunity(input: OpportunityInput!): OpportunityPayload!" in sdl
    with pytest.raises(CommandError, match="version_unknown"):
        call_command("graphql_schema", "--tenant", "gql", "--version", "9")


def docs_examples() -> list[str]:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "graphql.md").read_text()
    return [block.split("```", 1)[0] for block in text.split("```graphql\n")[1:]]


def test_every_graphql_example_in_the_docs_runs(crm_api):
    examples = docs_examples()
    assert len(examples) >= 4
    for example in examples:
        body = crm_api.post(example).json()
        assert "errors" not in body, (example, body)
        assert body["data"]


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "resolvers"])
def test_a_page_costs_the_same_queries_for_10_and_100_rows(crm_api, settings, compiled):
    """With a lookup and a reverse-relation connection, on both execution paths."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.GRAPHQL_COMPILED = compiled
    accounts = crm_api.service.bulk_create(
        "account", [{"name": f"Branch {n}", "parent": crm_api.acme.id} for n in range(100)]
    )
    crm_api.service.bulk_create(
        "opportunity",
        [
            {"name": f"Bulk {n}", "account": accounts.created[n % 100], "stage": "proposal"}
            for n in range(200)
        ],
    )
    query = (
        'query($n: Int) { accounts(first: $n, filter: {name: {startsWith: "Branch"}}) { '
        "edges { node { name parent { name } opportunities(first: 5) { totalCount "
        "edges { node { name } } } } } } }"
    )
    crm_api.post(query, {"n": 1})  # the token's first use of the minute is recorded
    counts = []
    for size in (10, 100):
        with CaptureQueriesContext(connection) as captured:
            response = crm_api.post(query, {"n": size})
        rows = data(response)["accounts"]["edges"]
        assert response["X-GraphQL-Execution"] == ("compiled" if compiled else "resolvers")
        assert len(rows) == size
        assert all(row["node"]["parent"]["name"] == "Acme" for row in rows)
        assert all(row["node"]["opportunities"]["totalCount"] == 2 for row in rows)
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_grouped_aggregates_with_buckets(crm_api):
    query = """
    {
      opportunitiesAggregate(
        groupBy: [{field: STAGE}, {field: CLOSE_DATE, bucket: QUARTER}]
        metrics: [{fn: COUNT}, {fn: SUM, field: AMOUNT, as: "total"}]
        filter: {amount: {gte: "2000"}}
      ) { group metrics }
    }"""
    rows = data(crm_api.post(query))["opportunitiesAggregate"]
    assert rows == [
        {
            "group": {"stage": "closed_won", "close_date:quarter": "2025-04-01"},
            "metrics": {"count": 2, "total": "9000.00"},
        },
        {
            "group": {"stage": "proposal", "close_date:quarter": "2025-01-01"},
            "metrics": {"count": 2, "total": "5000.00"},
        },
    ]
    bad = crm_api.post("{ opportunitiesAggregate(metrics: [{fn: SUM, field: NAME}]) { group } }")
    error = bad.json()["errors"][0]
    assert error["extensions"]["code"] == "invalid_query"
    assert "sum needs a number field; name is text" in error["message"]


@pytest.mark.django_db(transaction=True)  # as in production: no transaction around requests
@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "resolvers"])
def test_limits_depth_and_statement_time(crm_api, settings, compiled):
    settings.GRAPHQL_COMPILED = compiled
    deep = "{ opportunities { edges { node { account " + "{ parent " * 6 + "{ name }"
    deep += " }" * 6 + " } } } }"  # ten levels of selections
    error = crm_api.post(deep).json()["errors"][0]
    assert error["extensions"]["code"] == "invalid_query"
    assert "exceeds maximum operation depth of 8" in error["message"]
    # A statement that runs past the timeout is stopped, with its own code.
    settings.GRAPHQL_STATEMENT_TIMEOUT_MS = 1
    from django.db import connection as db

    # PostgreSQL words a cancel "due to statement timeout", or "due to user request" when the
    # timer fires as a statement ends: both are the timeout (SQLSTATE 57014).
    for stall in ("SELECT pg_sleep(0.05)", "SELECT pg_cancel_backend(pg_backend_pid())"):

        def slow_reads(execute, sql, params, many, context, stall=stall):
            if "FROM records_record r" in sql or sql.startswith("EXECUTE crm_gql_"):
                execute(stall, None, False, context)
            return execute(sql, params, many, context)

        with db.execute_wrapper(slow_reads):
            response = crm_api.post("{ accounts { totalCount } }")
        slow = response.json()
        assert response["X-GraphQL-Execution"] == ("compiled" if compiled else "resolvers")
        assert slow["errors"][0]["extensions"]["code"] == "timeout", stall
        assert slow["errors"][0]["message"].startswith("The query took too long and was stopped")


def test_a_hidden_field_is_null_with_an_error_at_its_path(crm_api, add_member):
    import copy

    from metadata.publish import active_version, document_of, publish

    document = copy.deepcopy(document_of(active_version(crm_api.tenant)))
    document["roles"].append(
        {
            "key": "auditor",
            "label": {"en": "Auditor"},
            "entities": {"account": {"read": "all", "fields": {"industry": "hidden"}}},
        }
    )
    publish(crm_api.tenant, document=document)
    auditor = add_member(crm_api.tenant, "auditor@gql.test", roles=("auditor",))
    token = issue_token(crm_api.tenant, auditor)
    body = crm_api.post(
        "{ accounts(first: 1) { edges { node { name industry } } } }", token_=token
    ).json()
    assert body["data"]["accounts"]["edges"][0]["node"] == {"name": "Acme", "industry": None}
    (error,) = body["errors"]
    assert error["path"] == ["accounts", "edges", 0, "node", "industry"]
    assert error["extensions"]["code"] == "permission_denied"
    # Filtering on it is refused like an unknown field; _metadata does not list it.
    refused = crm_api.post(
        "{ accounts(filter: {industry: {eq: retail}}) { totalCount } }", token_=token
    ).json()
    assert "account has no field 'industry'" in refused["errors"][0]["message"]
    meta = crm_api.post("{ _metadata }", token_=token).json()["data"]["_metadata"]
    account = next(e for e in meta["entities"] if e["key"] == "account")
    assert "industry" not in [f["key"] for f in account["fields"]]


def test_a_publish_preview_names_what_it_breaks_in_the_graphql_schema(crm_api):
    import copy

    from metadata.publish import active_version, document_of, preview

    document = copy.deepcopy(document_of(active_version(crm_api.tenant)))
    opportunity = next(e for e in document["entities"] if e["key"] == "opportunity")
    opportunity["fields"] = [f for f in opportunity["fields"] if f["key"] != "forecast_category"]
    stage = next(f for f in opportunity["fields"] if f["key"] == "stage")
    stage["options"] = [o for o in stage["options"] if o["value"] != "negotiation"]
    items = [
        (item.code, item.path, item.message, item.blocking)
        for item in preview(crm_api.tenant, document).report.items
        if item.code == "graphql_breaking"
    ]
    assert (
        "graphql_breaking",
        "field_removed",
        "Opportunity.forecastCategory was removed.",
        False,
    ) in items
    assert (
        "graphql_breaking",
        "value_removed_from_enum",
        "negotiation was removed from enum type OpportunityStage.",
        False,
    ) in items


def test_upsert_matches_on_a_unique_field_all_or_nothing(crm_api):
    mutation = """
    mutation($inputs: [AccountInput!]!) {
      upsertAccounts(inputs: $inputs, matchOn: NAME) {
        created updated records { name industry } errors { row field code }
      }
    }"""
    done = data(
        crm_api.post(
            mutation,
            {"inputs": [{"name": "Acme", "industry": "retail"}, {"name": "Initech"}]},
        )
    )["upsertAccounts"]
    assert (done["created"], done["updated"], done["errors"]) == (1, 1, [])
    assert {r["name"]: r["industry"] for r in done["records"]}["Acme"] == "retail"
    failed = data(
        crm_api.post(
            mutation, {"inputs": [{"name": "Globex"}, {"name": "Bad", "parent": "999999"}]}
        )
    )["upsertAccounts"]
    assert failed["errors"] == [{"row": 1, "field": "parent", "code": "invalid_reference"}]
    assert failed["records"] == []
    names = data(crm_api.post("{ accounts(first: 50) { edges { node { name } } } }"))
    assert "Globex" not in [e["node"]["name"] for e in names["accounts"]["edges"]]


def test_reverse_relations_are_connections_without_n_plus_1(crm_api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    query = """
    query($n: Int) {
      accounts(first: $n) {
        edges { node { name opportunities(first: 2) {
          totalCount pageInfo { hasNextPage } edges { node { name account { name } } }
        } } }
      }
    }"""
    first = data(crm_api.post(query, {"n": 10}))["accounts"]["edges"]
    acme = next(e["node"] for e in first if e["node"]["name"] == "Acme")
    assert acme["opportunities"]["totalCount"] == 3  # deals 0, 2 and 4
    assert acme["opportunities"]["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["name"] for e in acme["opportunities"]["edges"]] == ["Deal 0", "Deal 2"]
    assert acme["opportunities"]["edges"][0]["node"]["account"] == {"name": "Acme"}
    crm_api.service.bulk_create("account", [{"name": f"Extra {n}"} for n in range(100)])
    crm_api.post(query, {"n": 1})  # the token's first use of the minute is recorded
    counts = []
    for size in (10, 100):
        with CaptureQueriesContext(connection) as captured:
            rows = data(crm_api.post(query, {"n": size}))["accounts"]["edges"]
        assert len(rows) == size
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    from metadata.compiled import active_config

    sdl = str(schemas.get(crm_api.tenant.pk, active_config(crm_api.tenant)))
    # Account.contacts (contact.account) and Contact.contacts (contact.reports_to)
    assert sdl.count("contacts(first: Int = 20, after: String): ContactConnection!") == 2
    # The next children of one parent, by cursor.
    more = """
    query($after: String) { accounts(filter: {name: {eq: "Acme"}}) { edges { node {
      opportunities(first: 2, after: $after) { pageInfo { hasPreviousPage hasNextPage endCursor }
        edges { node { name } } } } } } }"""
    page = data(crm_api.post(more))["accounts"]["edges"][0]["node"]["opportunities"]
    rest = data(crm_api.post(more, {"after": page["pageInfo"]["endCursor"]}))
    rest = rest["accounts"]["edges"][0]["node"]["opportunities"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["Deal 4"]
    assert (rest["pageInfo"]["hasPreviousPage"], rest["pageInfo"]["hasNextPage"]) == (True, False)
    bad = crm_api.post(more, {"after": "x"}).json()
    assert bad["errors"][0]["extensions"]["code"] == "invalid_query"


def test_costly_queries_and_too_many_requests_are_refused(crm_api, settings):
    settings.GRAPHQL_MAX_COST = 1000
    costly = """
    query($n: Int) {
      accounts(first: $n) { edges { node { name opportunities(first: 50) {
        edges { node { name amount } } } } } }
    }"""
    refused = crm_api.post(costly, {"n": 100})
    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "too_costly"
    assert "more than the limit of 1,000" in error["message"]
    assert "errors" not in crm_api.post(costly, {"n": 2}).json()
    settings.GRAPHQL_RATE_PER_MINUTE = 3
    from django.core.cache import cache

    cache.clear()
    statuses = [crm_api.post("{ accounts { totalCount } }").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = crm_api.post("{ accounts { totalCount } }").json()
    assert limited["errors"][0]["extensions"]["code"] == "rate_limited"


def test_query_cost_counts_fields_under_each_page():
    from graphql import parse

    from api.schema.limits import query_cost

    document = parse(
        "query Q($n: Int) { a(first: $n) { x y b(first: 3) { z } } ...F } fragment F on Q { c }"
    )
    # a, c: 1 each; x, y, b: 10 each; z: 30
    assert query_cost(document, {"n": 10}, "Q") == 1 + 10 + 10 + 10 + 30 + 1


def test_system_fields_and_the_web_session(crm_api, client):
    query = "{ accounts(first: 1) { edges { node { owner { id } createdBy { id } version } } } }"
    node = data(crm_api.post(query))["accounts"]["edges"][0]["node"]
    assert node == {
        "owner": {"id": str(crm_api.admin.pk)},
        "createdBy": {"id": str(crm_api.admin.pk)},
        "version": 1,
    }
    # A signed-in user of the web app, in the tenant chosen in the session.
    client.force_login(crm_api.admin)
    from tenants.resolution import SESSION_KEY

    session = client.session
    session[SESSION_KEY] = crm_api.tenant.pk
    session.save()
    response = client.post(URL, {"query": query}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["data"]["accounts"]["edges"][0]["node"]["version"] == 1
    page = client.get(URL, HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert b"graphiql" in page.content.lower()


def test_backward_pages_with_last_and_before(crm_api):
    query = """
    query($before: String) {
      opportunities(last: 2, before: $before, orderBy: [{field: CLOSE_DATE}]) {
        pageInfo { hasPreviousPage hasNextPage startCursor }
        edges { node { name } }
      }
    }"""
    last = data(crm_api.post(query))["opportunities"]
    assert [e["node"]["name"] for e in last["edges"]] == ["Deal 3", "Deal 4"]
    assert last["pageInfo"]["hasPreviousPage"] is True
    earlier = data(crm_api.post(query, {"before": last["pageInfo"]["startCursor"]}))
    assert [e["node"]["name"] for e in earlier["opportunities"]["edges"]] == ["Deal 1", "Deal 2"]
    both = crm_api.post("{ opportunities(first: 1, last: 1) { totalCount } }").json()
    assert both["errors"][0]["extensions"]["code"] == "invalid_query"


def test_false_values_lookup_emptiness_and_ids_inside_a_hop_filter(crm_api):
    parent = crm_api.service.create("account", {"name": "Holding", "blacklisted": True})
    crm_api.service.update("account", crm_api.acme.id, {"parent": parent.id})

    def names(filter_text):
        query = f"{{ accounts(filter: {filter_text}) {{ edges {{ node {{ name }} }} }} }}"
        return sorted(e["node"]["name"] for e in data(crm_api.post(query))["accounts"]["edges"])

    # eq: false is a condition, not an operator left off.
    assert names("{blacklisted: {eq: false}}") == ["Acme", "Other"]
    assert names("{parent: {isNull: false}}") == ["Acme"]
    global_id = data(crm_api.post(f'{{ account(id: "{parent.id}") {{ id }} }}'))["account"]["id"]
    hop = f'{{account: {{match: {{parent: {{eq: "{global_id}"}}}}}}}}'
    query = f"{{ opportunities(filter: {hop}) {{ totalCount }} }}"
    assert data(crm_api.post(query))["opportunities"]["totalCount"] == 3  # Acme's deals
    wrong_type = crm_api.post(f'{{ opportunity(id: "{global_id}") {{ name }} }}').json()
    assert wrong_type["errors"][0]["extensions"]["code"] == "invalid_id"
    assert "is not the id of a Opportunity" in wrong_type["errors"][0]["message"]
