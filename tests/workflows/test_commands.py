"""``manage.py workflow``: dead letters, retry, simulate, the webhook secret; and taking a
transition by name."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from records.errors import RecordError
from tenants.context import tenant_context
from tests.workflows.conftest import automation
from tests.workflows.test_configuration import STAGES
from workflows import services
from workflows.delivery import deliver
from workflows.models import OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> str:
    out = io.StringIO()
    call_command("workflow", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def dead(flows, monkeypatch):
    monkeypatch.setattr("workflows.outbox.dispatch", lambda *args, **kwargs: 0)
    service = flows.publish(
        [
            STAGES,
            automation(
                "to_erp",
                [
                    {"type": "set_fields", "values": {"probability": 5}},
                    {"type": "webhook", "url": "http://127.0.0.1:1/hook"},
                ],
                condition="record.amount > 10.0",
            ),
        ]
    )
    company = service.create("company", {"name": "Acme"})
    flows.deal = service.create("deal", {"name": "D", "company": company.id, "amount": 50})
    flows.service = service
    with tenant_context(flows.tenant):
        flows.event = OutboxEvent.objects.get()
    return flows


def test_dead_letters_listed_and_retried(dead, settings):
    settings.WORKFLOW_MAX_ATTEMPTS = 1
    assert run("deadletters", "--tenant", "flow") == "No dead letters.\n"
    assert deliver(dead.tenant.pk, dead.event.pk) == "dead"
    listing = run("deadletters", "--tenant", "flow")
    assert f"{dead.event.pk}\t" in listing
    assert "created\tdeal" in listing
    assert "1 attempt(s)\thttp://127.0.0.1:1/hook unreachable" in listing
    assert run("retry", "--tenant", "flow", "--all") == "1 event(s) handed to the workers again.\n"
    with tenant_context(dead.tenant):
        event = OutboxEvent.objects.get()
    assert (event.status, event.attempts) == ("pending", 0)
    # the set_fields applied before the webhook failed is not applied twice
    assert deliver(dead.tenant.pk, event.pk) == "dead"
    with tenant_context(dead.tenant):
        assert event.runs.count() == 1
    with pytest.raises(CommandError, match="No such dead letter."):
        run("retry", "--tenant", "flow", "--event", "987654")


def test_simulate_says_what_would_happen_and_changes_nothing(dead):
    out = run("simulate", "--tenant", "flow", "--workflow", "to_erp", "--record", str(dead.deal.id))
    assert out == (
        f"to_erp (automation) on record {dead.deal.id}:\n"
        "  trigger: create\n"
        "  condition: record.amount > 10.0: holds\n"
        "  action 1: set probability\n"
        "  action 2: POST to http://127.0.0.1:1/hook\n"
        "Nothing was changed.\n"
    )
    machine = run(
        "simulate", "--tenant", "flow", "--workflow", "deal_stages", "--record", str(dead.deal.id)
    )
    assert machine.splitlines()[1:4] == [
        "  stage is 'new'",
        "  propose: -> proposal",
        "  lose: -> lost; condition holds",
    ]
    with pytest.raises(CommandError, match="There is no active workflow 'ghost'"):
        run("simulate", "--tenant", "flow", "--workflow", "ghost", "--record", "1")
    with pytest.raises(CommandError, match="There is no deal 987654"):
        run("simulate", "--tenant", "flow", "--workflow", "to_erp", "--record", "987654")
    with pytest.raises(CommandError):
        run("simulate", "--tenant", "nobody", "--workflow", "to_erp", "--record", "1")


def test_the_webhook_secret_is_shown_and_rotated(dead):
    first = run("webhook-secret", "--tenant", "flow").strip()
    assert len(first) >= 40
    assert run("webhook-secret", "--tenant", "flow").strip() == first
    assert run("webhook-secret", "--tenant", "flow", "--rotate").strip() != first


def test_a_transition_taken_by_name(dead):
    deal = dead.deal
    with pytest.raises(RecordError, match="deal has no transition 'fly'"):
        services.transition(dead.service, "deal", deal.id, "fly")
    with pytest.raises(RecordError, match="win does not leave 'new'"):
        services.transition(dead.service, "deal", deal.id, "win")
    moved = services.transition(dead.service, "deal", deal.id, "propose")
    assert moved.values["stage"] == "proposal"


def test_the_transition_mutation(dead, client):
    from api.tokens import issue_token

    token = issue_token(dead.tenant, dead.admin)

    def post(query, variables):
        return client.post(
            "/graphql/",
            {"query": query, "variables": variables},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        ).json()

    query = (
        "mutation($id: ID!, $t: DealTransition!, $input: DealPatch) { transitionDeal(id: $id, "
        "transition: $t, input: $input) { record { stage amount } errors { field code message } } }"
    )
    refused = post(query, {"id": str(dead.deal.id), "t": "win"})["data"]["transitionDeal"]
    assert refused == {
        "record": None,
        "errors": [
            {
                "field": None,
                "code": "invalid",
                "message": "win does not leave 'new' (it leaves proposal).",
            }
        ],
    }
    taken = post(query, {"id": str(dead.deal.id), "t": "propose", "input": {"amount": "99"}})
    assert taken["data"]["transitionDeal"] == {
        "record": {"stage": "proposal", "amount": "99.00"},
        "errors": [],
    }
    unknown = post(query, {"id": str(dead.deal.id), "t": "fly"})
    assert unknown["errors"][0]["extensions"]["code"] == "invalid_query"
