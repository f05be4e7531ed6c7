"""The curl and Python examples of docs/graphql.md, run against a live server with a real
token (the GraphQL examples run in test_api.py)."""

import contextlib
import io
import subprocess
from pathlib import Path

import pytest

from api.tokens import issue_token
from records.service import RecordService

DOC = Path(__file__).resolve().parents[2] / "docs" / "graphql.md"
HOST = "https://crm.example"
TOKEN = "acme.Yk3…"


def blocks(language: str) -> list[str]:
    text = DOC.read_text()
    return [block.split("```", 1)[0] for block in text.split(f"```{language}\n")[1:]]


@pytest.fixture
def served(make_tenant, live_server):
    made = make_tenant("acme", pack="crm")
    RecordService(made.tenant, made.admin).create("account", {"name": "Acme Ltd"})
    token = issue_token(made.tenant, made.admin)
    return lambda text: text.replace(HOST, live_server.url).replace(TOKEN, token)


@pytest.mark.django_db(transaction=True)
def test_the_curl_example_answers(served):
    (script,) = [b for b in blocks("bash") if "curl" in b]
    command = served(script[script.index("curl") :])
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert '"name":"Acme Ltd"' in result.stdout


@pytest.mark.django_db(transaction=True)
def test_the_python_example_answers(served):
    (example,) = blocks("python")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(served(example), str(DOC), "exec"), {})  # noqa: S102  (our own docs)
    assert "Acme Ltd" in out.getvalue()
