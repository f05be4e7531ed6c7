"""Schemathesis (GraphQL mode) generates queries and mutations from the crm pack's schema; the
endpoint must answer each with data or errors that carry a code, never a server error."""

import datetime as dt
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from api.schema.builder import build_schema
from api.tokens import issue_token
from metadata.compiled import compile_document
from metadata.packs import load_pack
from records.service import RecordService

# Literals for the custom scalars: valid values and some text that is not one.
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.decimals(
            allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9
        ).map(str),
        st.text(max_size=5),
    ).map(nodes.String),
)
schemathesis.graphql.scalar(
    "Date", st.one_of(st.dates().map(dt.date.isoformat), st.text(max_size=5)).map(nodes.String)
)
schemathesis.graphql.scalar(
    "DateTime",
    st.one_of(
        st.datetimes(timezones=st.just(dt.UTC)).map(dt.datetime.isoformat), st.text(max_size=5)
    ).map(nodes.String),
)
schemathesis.graphql.scalar("GenericScalar", st.text(max_size=10).map(nodes.String))

SDL = str(build_schema(compile_document(1, load_pack("crm"))))
schema = schemathesis.graphql.from_file(SDL)

CODES = {
    "invalid_query",
    "invalid_id",
    "permission_denied",
    "not_found",
    "too_costly",
    "timeout",
    "invalid",
    "version_conflict",
    "delete_restricted",
    "not_deleted",
}


@pytest.fixture
def endpoint(make_tenant, client):
    made = make_tenant("fuzz", pack="crm")
    service = RecordService(made.tenant, made.admin)
    account = service.create("account", {"name": "Acme"})
    service.create("opportunity", {"name": "D", "account": account.id, "stage": "proposal"})
    token = issue_token(made.tenant, made.admin)

    def post(query):
        return client.post(
            "/graphql/",
            {"query": query},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    return post


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_query_gets_a_server_error(case, endpoint):
    response = endpoint(case.body)
    assert response.status_code < 500, (case.body, response.content[:500])
    body = json.loads(response.content)
    assert "data" in body or "errors" in body
    for error in body.get("errors") or []:
        assert error["extensions"]["code"] in CODES, (case.body, error)
