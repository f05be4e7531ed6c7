"""File fields for integrators: ``POST /api/files/`` keeps a file and answers an upload id, a
mutation's input names it, and queries read ``File { name size contentType url }`` the same on
the compiled path and the resolvers; the URL downloads it with the same token."""

import json

import pytest
from django.test.utils import override_settings

from api.tokens import issue_token
from records import files
from tests.file_helpers import EXE, PDF, PNG, desk, kept, media, upload

__all__ = ["desk", "media"]  # fixtures

URL = "/graphql/"
DEALS = "query { deals { edges { node { name contract { name size contentType url } } } } }"


@pytest.fixture
def api(desk, client):
    tokens = {
        "admin": issue_token(desk.tenant, desk.admin),
        "auditor": issue_token(desk.tenant, desk.auditor),
        "rep": issue_token(desk.tenant, desk.rep),
    }

    def post(query, variables=None, who="admin", compiled=True):
        with override_settings(GRAPHQL_COMPILED=compiled):
            return client.post(
                URL,
                {"query": query, "variables": variables or {}},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {tokens[who]}",
            )

    def send(name, content, field="contract", who="admin", entity="deal"):
        return client.post(
            "/api/files/",
            {"entity": entity, "field": field, "file": upload(name, content)},
            HTTP_AUTHORIZATION=f"Bearer {tokens[who]}",
        )

    def get(url, who="admin"):
        return client.get(url, HTTP_AUTHORIZATION=f"Bearer {tokens[who]}")

    desk.post, desk.send, desk.get = post, send, get
    return desk


def both(api, query, variables=None, who="admin", path="compiled") -> dict:
    compiled, reference = api.post(query, variables, who), api.post(query, variables, who, False)
    assert (compiled["X-GraphQL-Execution"], reference["X-GraphQL-Execution"]) == (
        path,
        "resolvers",
    )
    mine, theirs = json.loads(compiled.content), json.loads(reference.content)
    assert json.dumps(mine) == json.dumps(theirs)
    return mine


CREATE = """
mutation($input: DealInput!) {
  createDeal(input: $input) { record { recordId contract { name size contentType } }
  errors { field code message } }
}"""


def test_an_upload_id_from_the_api_is_saved_by_a_mutation_and_read_on_both_paths(api):
    # when a file is uploaded for deal.contract with the API token
    sent = api.send("Q3 合同.pdf", PDF)
    assert sent.status_code == 201
    answer = sent.json()
    assert {k: answer[k] for k in ("name", "size", "contentType")} == {
        "name": "Q3 合同.pdf",
        "size": len(PDF),
        "contentType": "application/pdf",
    }
    # and a mutation names its upload id
    created = api.post(
        CREATE, {"input": {"name": "Big", "company": api.company_id, "contract": answer["upload"]}}
    ).json()["data"]["createDeal"]
    assert created["errors"] == []
    assert created["record"]["contract"] == {
        "name": "Q3 合同.pdf",
        "size": len(PDF),
        "contentType": "application/pdf",
    }
    deal_id = created["record"]["recordId"]
    # then both paths read the same File, its url the download view on the request's host
    body = both(api, DEALS)
    node = body["data"]["deals"]["edges"][0]["node"]
    assert node["contract"]["url"] == f"http://testserver/app/r/deal/{deal_id}/files/contract/"
    # and the url downloads it with the same token
    download = api.get(node["contract"]["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF


def test_empty_files_and_the_is_null_filter_on_both_paths(api):
    api.service.create("deal", {"name": "Without", "company": api.company_id})
    value = api.service.store_file("deal", "contract", upload("a.png", PNG))
    api.service.create("deal", {"name": "With", "company": api.company_id, "contract": value})
    body = both(
        api,
        "query($empty: Boolean) { deals(filter: {contract: {isNull: $empty}}) { totalCount "
        "edges { node { name contract { __typename name } memo { name } } } } }",
        {"empty": False},
    )
    assert body["data"]["deals"]["edges"] == [
        {
            "node": {
                "name": "With",
                "contract": {"__typename": "File", "name": "a.png"},
                "memo": None,
            }
        }
    ]
    single = both(
        api,
        "query($id: ID!) { deal(id: $id) { contract { contentType size } } }",
        {"id": str(api.service.query("deal", first=1).rows[0].id)},
    )
    assert single["data"]["deal"] is not None


def test_a_field_hidden_from_the_caller_is_refused_on_the_resolvers(api):
    value = api.service.store_file("deal", "contract", upload("a.pdf", PDF))
    deal = api.service.create("deal", {"name": "D", "company": api.company_id, "contract": value})
    body = both(api, DEALS, who="auditor", path="resolvers")
    assert body["errors"][0]["extensions"]["code"] == "permission_denied"
    assert api.get(f"/app/r/deal/{deal.id}/files/contract/", who="auditor").status_code == 404
    assert api.get(f"/app/r/deal/{deal.id}/files/contract/", who="rep").status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "field", "status", "code"),
    [
        ("big.pdf", PDF * 40, "contract", 400, "file_too_large"),
        ("notes.txt", b"text", "contract", 400, "file_type_refused"),
        ("program.pdf", EXE, "contract", 400, "file_type_refused"),
        ("a.pdf", PDF, "name", 400, "not_a_file_field"),
        ("a.pdf", PDF, "nothing", 400, "unknown_field"),
    ],
)
def test_a_refused_upload_keeps_nothing(api, name, content, field, status, code):
    sent = api.send(name, content, field=field)
    assert sent.status_code == status
    assert sent.json()["errors"][0]["code"] == code
    assert kept(api.media) == []


def test_uploads_need_a_file_a_token_and_write_access(api, client):
    assert client.post("/api/files/", {"entity": "deal", "field": "contract"}).status_code == 401
    missing = client.post(
        "/api/files/",
        {"entity": "deal", "field": "contract"},
        HTTP_AUTHORIZATION=f"Bearer {issue_token(api.tenant, api.admin)}",
    )
    assert (missing.status_code, missing.json()["errors"][0]["code"]) == (400, "no_file")
    hidden = api.send("a.pdf", PDF, who="auditor")
    assert (hidden.status_code, hidden.json()["errors"][0]["code"]) == (400, "unknown_field")
    read_only = api.send("a.pdf", PDF, field="memo", who="auditor")
    assert (read_only.status_code, read_only.json()["errors"][0]["code"]) == (
        403,
        "permission_denied",
    )
    assert api.send("a.pdf", PDF, entity="nothing").status_code == 404
    assert kept(api.media) == []


def test_a_body_larger_than_the_platform_limit_is_refused_before_it_is_read(api, settings):
    settings.FILE_MAX_SIZE_MB = 0.01
    sent = api.send("a.pdf", PDF + b" " * 100_000)
    assert (sent.status_code, sent.json()["errors"][0]["code"]) == (413, "file_too_large")
    assert kept(api.media) == []


def test_a_bad_upload_id_is_refused_and_the_record_is_unchanged(api):
    value = api.service.store_file("deal", "contract", upload("a.pdf", PDF))
    deal = api.service.create("deal", {"name": "D", "company": api.company_id, "contract": value})
    update = """
    mutation($id: ID!, $input: DealPatch!) {
      updateDeal(id: $id, input: $input) { record { version } errors { field code } }
    }"""
    for bad in ("nonsense", files.upload_id(api.tenant.pk + 1, value)):
        answer = api.post(update, {"id": str(deal.id), "input": {"contract": bad, "name": "X"}})
        assert answer.json()["data"]["updateDeal"] == {
            "record": None,
            "errors": [{"field": "contract", "code": "invalid_upload"}],
        }
    after = api.service.get("deal", deal.id)
    assert (after.version, after.values["name"], after.values["contract"]) == (1, "D", value)
    removed = api.post(update, {"id": str(deal.id), "input": {"contract": None}}).json()
    assert removed["data"]["updateDeal"] == {"record": {"version": 2}, "errors": []}


def test_the_schema_names_the_file_types(api):
    from api.schema.builder import build_schema
    from metadata.compiled import active_config

    sdl = str(build_schema(active_config(api.tenant)))
    assert "type File {" in sdl
    assert "contract: File" in sdl
    assert "input FileFilter {\n  isNull: Boolean\n}" in sdl
    assert '"""\n  An upload id from POST /api/files/' in sdl


def test_metadata_names_what_a_file_field_takes(api):
    body = api.post("{ _metadata }").json()["data"]["_metadata"]
    deal = next(e for e in body["entities"] if e["key"] == "deal")
    contract = next(f for f in deal["fields"] if f["key"] == "contract")
    assert {k: contract[k] for k in ("type", "accept", "maxSizeMb")} == {
        "type": "file",
        "accept": ["application/pdf", "image/*", ".docx"],
        "maxSizeMb": 0.001,
    }
