"""Delivering outbox events, as the worker does it (workflows.delivery.deliver, called here
in the test's process; tests/workflows/test_reliability.py runs it in a real worker): each
action once, conditions over the event's values, retries, dead letters, loops stopped."""

import hashlib
import hmac
import http.server
import json
import threading

import pytest
from django.core import mail

from records.models import Record
from tenants.context import tenant_context
from tests.workflows.conftest import automation
from tests.workflows.test_configuration import STAGES
from workflows.delivery import MAX_DEPTH, RetryLater, deliver
from workflows.models import ActionRun, Notification, OutboxEvent, webhook_secret

pytestmark = pytest.mark.django_db(transaction=True)  # events are dispatched after commit


def events(flows, **filters) -> list[OutboxEvent]:
    with tenant_context(flows.tenant):
        return list(OutboxEvent.objects.filter(**filters).order_by("pk"))


def deliver_all(flows) -> list[str]:
    """Deliver pending events until none is left (what workers would do)."""
    outcomes = []
    while pending := events(flows, status="pending"):
        for event in pending:
            outcomes.append(deliver(flows.tenant.pk, event.pk))
    return outcomes


def deals(flows) -> list[Record]:
    with tenant_context(flows.tenant):
        return list(Record.objects.filter(entity="deal").order_by("pk"))


@pytest.fixture(autouse=True)
def no_broker(settings, monkeypatch):
    # This module delivers by hand: the dispatch after commit finds no worker to send to.
    monkeypatch.setattr("workflows.outbox.dispatch", lambda tenant_id, ids: 0)


def test_an_automation_runs_each_action_once(flows):
    service = flows.publish(
        [
            automation(
                "follow_up",
                [
                    {"type": "set_fields", "expressions": {"probability": "record.amount / 100.0"}},
                    {
                        "type": "create_record",
                        "entity": "deal",
                        "values": {"name": "Follow-up"},
                        "expressions": {
                            "amount": "record.amount * 2.0",
                            "company": "record.company",
                        },
                    },
                ],
                condition="record.amount > 1000.0",
            )
        ]
    )
    company = service.create("company", {"name": "Acme"})
    small = service.create("deal", {"name": "Small", "company": company.id, "amount": 10})
    big = service.create("deal", {"name": "Big", "company": company.id, "amount": 5000})
    # one event per create, written with it; the follow-up's own create adds one more later
    assert [(e.kind, e.record_id) for e in events(flows)] == [
        ("created", small.id),
        ("created", big.id),
    ]
    first, second = events(flows)
    assert deliver(flows.tenant.pk, first.pk) == "done"  # the condition does not hold
    assert deliver(flows.tenant.pk, second.pk) == "done"
    assert deliver(flows.tenant.pk, second.pk) == "skipped"  # already done
    # Delivered again as if the worker had died before marking it done: nothing twice.
    with tenant_context(flows.tenant):
        OutboxEvent.objects.filter(pk=second.pk).update(status="pending")
        assert ActionRun.objects.filter(event=second).count() == 2
    assert deliver(flows.tenant.pk, second.pk) == "done"
    names = [
        (d.data["name"], d.data.get("amount"), d.data.get("probability")) for d in deals(flows)
    ]
    assert names == [
        ("Small", "10.00", None),
        ("Big", "5000.00", "50.00"),
        ("Follow-up", "10000.00", None),
    ]
    with tenant_context(flows.tenant):
        assert ActionRun.objects.count() == 2


def test_no_workflow_no_event_and_field_changes(flows):
    service = flows.publish(
        [
            automation(
                "stage_watch",
                [{"type": "set_fields", "values": {"probability": 75}}],
                on="field_change",
                trigger={"fields": ["stage"]},
            )
        ]
    )
    company = service.create("company", {"name": "Acme"})  # no automation on companies
    deal = service.create("deal", {"name": "D", "company": company.id})  # stage set by default
    service.update("deal", deal.id, {"amount": 5})  # stage unchanged
    service.update("deal", deal.id, {"stage": "proposal"})
    assert [(e.kind, e.changed) for e in events(flows)] == [
        (
            "created",
            ["name", "company", "stage"] and sorted(deal.values) and events(flows)[0].changed,
        ),
        ("updated", ["stage"]),
    ]
    deliver_all(flows)
    assert deals(flows)[0].data["probability"] == "75.00"


class Receiver(http.server.BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.headers, body))
        self.send_response(Receiver.answers.pop(0) if Receiver.answers else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.answers, Receiver.received = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def test_a_webhook_is_signed_retried_then_dead(flows, receiver, settings):
    settings.WORKFLOW_MAX_ATTEMPTS = 3
    service = flows.publish(
        [automation("to_erp", [{"type": "webhook", "url": receiver, "fields": ["name", "amount"]}])]
    )
    company = service.create("company", {"name": "Acme"})
    deal = service.create("deal", {"name": "D", "company": company.id, "amount": 12})
    (event,) = events(flows)
    with tenant_context(flows.tenant):
        secret = webhook_secret(flows.tenant)
    deliver(flows.tenant.pk, event.pk)
    headers, body = Receiver.received[0]
    assert json.loads(body) == {
        "entity": "deal",
        "event": "created",
        "idempotency_key": f"{event.pk}:to_erp:0",
        "record_id": deal.id,
        "values": {"amount": "12.00", "name": "D"},
        "workflow": "to_erp",
    }
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-CRM-Signature"] == f"sha256={expected}"
    assert headers["Idempotency-Key"] == f"{event.pk}:to_erp:0"
    # The receiver fails: retried with backoff, then the dead-letter list.
    service.update("deal", deal.id, {"amount": 13})  # no automation on update: no event
    service.create("deal", {"name": "E", "company": company.id})
    failing = events(flows)[-1]
    Receiver.answers = [503, 500, 502]
    for attempt in (1, 2):
        with pytest.raises(RetryLater) as later:
            deliver(flows.tenant.pk, failing.pk)
        assert later.value.countdown == settings.WORKFLOW_RETRY_BASE_S * 2 ** (attempt - 1)
    assert deliver(flows.tenant.pk, failing.pk) == "dead"
    (dead,) = events(flows, status="dead")
    assert (dead.attempts, dead.last_error) == (3, f"{receiver} answered 502")
    # A refusal (4xx) is not worth retrying.
    Receiver.answers = [422]
    service.create("deal", {"name": "F", "company": company.id})
    assert deliver(flows.tenant.pk, events(flows)[-1].pk) == "dead"


def test_notify_by_mail_and_in_app_once(flows, add_member):
    rep = add_member(flows.tenant, "rep@flow.test")
    service = flows.publish(
        [
            automation(
                "tell",
                [
                    {
                        "type": "notify",
                        "to": {"owner": True, "emails": ["erp@partner.example"]},
                        "subject": {"en": "New deal {name}", "zh-Hans": "新商机 {name}"},
                        "message": {"en": "{name}: {amount}"},
                    }
                ],
            )
        ]
    )
    company = service.create("company", {"name": "Acme"})
    service.create("deal", {"name": "Big", "company": company.id, "amount": 7}, owner=rep)
    deliver_all(flows)
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["rep@flow.test"], "New deal Big", "Big: 7.00"),
        (["erp@partner.example"], "New deal Big", "Big: 7.00"),
    ]
    with tenant_context(flows.tenant):
        (note,) = Notification.objects.all()
    assert (note.user_id, note.subject) == (rep.pk, "New deal Big")


def test_owners_are_assigned_in_turn(flows, add_member):
    reps = [add_member(flows.tenant, f"rep{n}@flow.test") for n in range(3)]
    service = flows.publish([automation("spread", [{"type": "assign_owner", "role": "sales_rep"}])])
    company = service.create("company", {"name": "Acme"})
    for n in range(4):
        service.create("deal", {"name": f"D{n}", "company": company.id})
    deliver_all(flows)
    owners = [deal.owner_id for deal in deals(flows)]
    assert owners == [reps[0].pk, reps[1].pk, reps[2].pk, reps[0].pk]


def test_a_workflow_feeding_itself_is_stopped(flows):
    service = flows.publish(
        [
            automation(
                "again",
                [{"type": "set_fields", "expressions": {"amount": "record.amount + 1.0"}}],
                on="field_change",
                trigger={"fields": ["amount"]},
            )
        ]
    )
    company = service.create("company", {"name": "Acme"})
    service.create("deal", {"name": "D", "company": company.id, "amount": 1})
    outcomes = deliver_all(flows)
    assert outcomes == ["done"] * (MAX_DEPTH + 1) + ["dead"]
    (dead,) = events(flows, status="dead")
    assert "a loop?" in dead.last_error
    assert deals(flows)[0].data["amount"] == f"{MAX_DEPTH + 2}.00"


def test_transitions_and_started_workflows_run_their_actions(flows):
    machine = {
        **STAGES,
        "transitions": [
            {
                "key": "propose",
                "from": "new",
                "to": "proposal",
                "actions": [{"type": "start_workflow", "workflow": "price"}],
            }
        ],
    }
    service = flows.publish(
        [
            machine,
            automation(
                "price",
                [{"type": "set_fields", "values": {"probability": 20}}],
                on="update",
                condition="record.stage == 'proposal'",
            ),
        ]
    )
    company = service.create("company", {"name": "Acme"})
    deal = service.create("deal", {"name": "D", "company": company.id})
    service.update("deal", deal.id, {"stage": "proposal"})
    assert [(e.kind, e.workflow, e.detail) for e in events(flows)] == [
        ("updated", "", ""),
        ("transition", "deal_stages", "propose"),
    ]
    deliver_all(flows)
    # The update runs "price" (probability set: one more update, whose "price" changes
    # nothing); the transition starts "price" once more, one step deeper.
    assert [(e.kind, e.workflow, e.status, e.depth) for e in events(flows)] == [
        ("updated", "", "done", 0),
        ("transition", "deal_stages", "done", 0),
        ("updated", "", "done", 1),
        ("started", "price", "done", 1),
    ]
    assert deals(flows)[0].data["probability"] == "20.00"


def test_in_app_notifications_through_graphql(flows, add_member, client):
    from api.tokens import issue_token

    rep = add_member(flows.tenant, "rep@flow.test")
    service = flows.publish(
        [
            automation(
                "tell",
                [
                    {
                        "type": "notify",
                        "to": {"owner": True},
                        "subject": {"en": "New deal {name}"},
                        "channels": ["in_app"],
                    }
                ],
            )
        ]
    )
    company = service.create("company", {"name": "Acme"})
    for name in ("A", "B"):
        service.create("deal", {"name": name, "company": company.id}, owner=rep)
    deliver_all(flows)
    assert mail.outbox == []  # in the app only
    token = issue_token(flows.tenant, rep)

    def post(query, variables=None):
        return client.post(
            "/graphql/",
            {"query": query, "variables": variables or {}},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        ).json()

    listed = post("{ notifications { id subject entity readAt } }")["data"]["notifications"]
    assert [(n["subject"], n["entity"], n["readAt"]) for n in listed] == [
        ("New deal B", "deal", None),
        ("New deal A", "deal", None),
    ]
    marked = post(
        "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }", {"ids": [listed[0]["id"]]}
    )
    assert marked["data"]["markNotificationsRead"] == 1
    unread = post("{ notifications(unreadOnly: true) { subject } }")["data"]["notifications"]
    assert unread == [{"subject": "New deal A"}]
    assert post("mutation { markNotificationsRead }")["data"]["markNotificationsRead"] == 1
    # the admin has none of the rep's
    admin_token = issue_token(flows.tenant, flows.admin)
    theirs = client.post(
        "/graphql/",
        {"query": "{ notifications { id } }"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {admin_token}",
    ).json()
    assert theirs["data"]["notifications"] == []
    bad = post("{ notifications(first: 0) { id } }")
    assert bad["errors"][0]["extensions"]["code"] == "invalid_query"


def test_marking_notifications_refuses_bad_ids_and_others_notifications(flows, add_member, client):
    from api.tokens import issue_token
    from workflows.models import Notification

    rep = add_member(flows.tenant, "rep@flow.test")
    with tenant_context(flows.tenant):
        theirs = Notification.objects.create(
            tenant=flows.tenant, user=flows.admin, key="k", entity="deal", record_id=1, subject="S"
        )
    token = issue_token(flows.tenant, rep)

    def post(variables):
        return client.post(
            "/graphql/",
            {
                "query": "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }",
                "variables": variables,
            },
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        ).json()

    assert post({"ids": ["nope"]})["errors"][0]["extensions"]["code"] == "invalid_id"
    assert post({"ids": [str(theirs.pk)]})["data"]["markNotificationsRead"] == 0
    with tenant_context(flows.tenant):
        theirs.refresh_from_db()
    assert theirs.read_at is None


def test_later_actions_read_the_records_earlier_ones_named(flows):
    """A spin-off: a new company, a deal of it (``created.spinoff``), then both updated, and the
    triggering deal's own company updated through its lookup."""
    service = flows.publish(
        [
            automation(
                "spin_off",
                [
                    {
                        "type": "create_record",
                        "entity": "company",
                        "as": "spinoff",
                        "expressions": {"name": "record.name + ' Spin-off'"},
                    },
                    {
                        "type": "create_record",
                        "entity": "deal",
                        "as": "first_deal",
                        "values": {"name": "First order"},
                        "expressions": {"company": "created.spinoff", "amount": "record.amount"},
                    },
                    {
                        "type": "update_record",
                        "entity": "company",
                        "record": "created.spinoff",
                        "values": {"credit_limit": 500},
                    },
                    {
                        "type": "update_record",
                        "entity": "company",
                        "record": "record.company",
                        "expressions": {"notes": "'spun off ' + record.name"},
                    },
                    {
                        "type": "update_record",
                        "entity": "deal",
                        "record": "created.first_deal",
                        "values": {"probability": 40},
                    },
                ],
                condition="record.amount > 1000.0 && record.name != 'First order'",
            )
        ]
    )
    parent = service.create("company", {"name": "Acme"})
    service.create("deal", {"name": "Beta", "company": parent.id, "amount": 5000})
    deliver_all(flows)
    with tenant_context(flows.tenant):
        companies = {r.data["name"]: r for r in Record.objects.filter(entity="company")}
        spinoff = companies["Beta Spin-off"]
        assert spinoff.data["credit_limit"] == "500.00"
        assert companies["Acme"].data["notes"] == "spun off Beta"
        first = Record.objects.get(entity="deal", data__name="First order")
        assert first.data["company"] == spinoff.pk
        assert first.data["amount"] == "5000.00"
        assert first.data["probability"] == "40.00"
        runs = {
            run.action_index: run.result
            for run in ActionRun.objects.filter(workflow="spin_off").order_by("action_index")
        }
    assert runs[0]["created"] == spinoff.pk
    assert runs[2] == {"updated": spinoff.pk, "entity": "company", "version": 2}


def test_a_redelivered_event_reads_the_names_from_the_runs_that_stood(flows):
    """The worker died after the company was created and before the deal: delivered again,
    the company is not made twice and the deal points at the one that stood."""
    service = flows.publish(
        [
            automation(
                "spin_off",
                [
                    {
                        "type": "create_record",
                        "entity": "company",
                        "as": "spinoff",
                        "expressions": {"name": "record.name + ' Spin-off'"},
                    },
                    {
                        "type": "create_record",
                        "entity": "deal",
                        "values": {"name": "First order"},
                        "expressions": {"company": "created.spinoff"},
                    },
                ],
                condition="record.name != 'First order'",
            )
        ]
    )
    parent = service.create("company", {"name": "Acme"})
    service.create("deal", {"name": "Beta", "company": parent.id})
    (event,) = events(flows)
    deliver(flows.tenant.pk, event.pk)
    with tenant_context(flows.tenant):
        first = Record.objects.get(entity="deal", data__name="First order")
        first.delete()  # as if its transaction had never committed
        ActionRun.objects.filter(event=event, action_index=1).delete()
        OutboxEvent.objects.filter(pk=event.pk).update(status="pending")
    assert deliver(flows.tenant.pk, event.pk) == "done"
    with tenant_context(flows.tenant):
        spinoffs = list(Record.objects.filter(entity="company", data__name="Beta Spin-off"))
        assert len(spinoffs) == 1
        first = Record.objects.get(entity="deal", data__name="First order")
        assert first.data["company"] == spinoffs[0].pk


def test_an_update_given_no_record_does_nothing(flows):
    service = flows.publish(
        [
            automation(
                "touch_related",
                [
                    {
                        "type": "update_record",
                        "entity": "deal",
                        "record": "record.probability != null ? record.id : null",
                        "values": {"name": "touched"},
                    }
                ],
            )
        ]
    )
    company = service.create("company", {"name": "Acme"})
    deal = service.create("deal", {"name": "Beta", "company": company.id})
    assert deliver_all(flows) == ["done"]
    with tenant_context(flows.tenant):
        assert Record.objects.get(pk=deal.id).data["name"] == "Beta"
        (run,) = ActionRun.objects.filter(workflow="touch_related")
        assert run.result == {"skipped": "the record expression gave null"}


def test_action_expressions_read_when_the_record_was_created(flows):
    service = flows.publish(
        [
            automation(
                "stamp",
                [
                    {
                        "type": "set_fields",
                        "expressions": {
                            "name": "record.name + (record.created_at <= now ? ' (seen)' : '')"
                        },
                    }
                ],
            )
        ]
    )
    company = service.create("company", {"name": "Acme"})
    deal = service.create("deal", {"name": "Beta", "company": company.id})
    assert deliver_all(flows) == ["done"]
    assert service.get("deal", deal.id).values["name"] == "Beta (seen)"


def test_notifications_read_as_the_pages_in_each_readers_language(flows, add_member):
    """Option labels, amounts, dates, the title a lookup points at and the owner's name, in
    the language each user chose; outside addresses get the platform's language."""
    from tenants.models import User

    rep = add_member(flows.tenant, "rep@flow.test")
    User.objects.filter(pk=rep.pk).update(language="zh-hans", full_name="王芳")
    manager = add_member(flows.tenant, "manager@flow.test", roles=("sales_manager",))
    service = flows.publish(
        [
            automation(
                "tell",
                [
                    {
                        "type": "notify",
                        "to": {"owner": True, "roles": ["sales_manager"]},
                        "subject": {"en": "{name} is {stage}", "zh-Hans": "{name}：{stage}"},
                        "message": {
                            "en": "{company}, {amount}, closes {close_date}, owner {owner}",
                            "zh-Hans": "{company}，{amount}，{close_date} 成交，负责人 {owner}",
                        },
                    }
                ],
            )
        ]
    )
    company = service.create("company", {"name": "Acme"})
    values = {
        "name": "Big",
        "company": company.id,
        "stage": "proposal",
        "amount": "12345.5",
        "close_date": "2027-03-31",
    }
    service.create("deal", values, owner=rep)
    deliver_all(flows)
    with tenant_context(flows.tenant):
        notes = {n.user_id: (n.subject, n.body) for n in Notification.objects.all()}
    assert notes[rep.pk] == ("Big：方案", "Acme，12345.50，2027年3月31日 成交，负责人 王芳")
    assert notes[manager.pk] == (
        "Big is Proposal",
        "Acme, 12,345.50, closes 03/31/2027, owner 王芳",
    )


def test_a_record_created_for_each_related_record(flows):
    """A company gone inactive: each of its open deals copied (the way an accepted quote's
    lines become an order's), those the filter keeps only, all in one action."""
    service = flows.publish(
        [
            {
                "key": "copy_open_deals",
                "type": "automation",
                "entity": "company",
                "trigger": {"on": "field_change", "fields": ["active"]},
                "condition": "record.active == false",
                "actions": [
                    {
                        "type": "create_record",
                        "entity": "deal",
                        "for_each": {
                            "entity": "deal",
                            "via": "company",
                            "filter": "item.stage != 'won' && item.name != record.name",
                        },
                        "values": {"stage": "new"},
                        "expressions": {
                            "name": "'Copy of ' + item.name",
                            "company": "record.id",
                            "amount": "item.amount * 2.0",
                        },
                    }
                ],
            }
        ]
    )
    company = service.create("company", {"name": "Acme"})
    for name, stage, amount in (("A", "new", 10), ("B", "won", 20), ("C", "proposal", 30)):
        service.create(
            "deal", {"name": name, "company": company.id, "stage": stage, "amount": amount}
        )
    service.update("company", company.id, {"active": False})
    assert set(deliver_all(flows)) == {"done"}
    copies = [(d.data["name"], d.data["amount"]) for d in deals(flows)[3:]]
    assert copies == [("Copy of A", "20.00"), ("Copy of C", "60.00")]
    with tenant_context(flows.tenant):
        (run,) = ActionRun.objects.filter(workflow="copy_open_deals")
    assert run.result == {"created_each": [d.pk for d in deals(flows)[3:]], "entity": "deal"}


def test_notifications_reach_the_addresses_the_record_holds(flows):
    """People outside: the e-mail of the company the deal points at (through its lookup)."""
    service = flows.publish(
        [
            automation(
                "tell_customer",
                [
                    {
                        "type": "notify",
                        "to": {"email_fields": ["company.email"], "emails": ["sales@acme.test"]},
                        "subject": {"en": "Your offer {name}"},
                        "channels": ["email"],
                    }
                ],
            )
        ]
    )
    company = service.create("company", {"name": "Acme", "email": "buyer@acme.example"})
    service.create("deal", {"name": "Big", "company": company.id})
    deliver_all(flows)
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["buyer@acme.example"], "Your offer Big"),
        (["sales@acme.test"], "Your offer Big"),
    ]


def test_email_fields_must_be_email_fields(flows):
    from tests.workflows.test_configuration import problems

    bad = automation(
        "bad",
        [
            {
                "type": "notify",
                "to": {"email_fields": ["name", "company.phone"]},
                "subject": {"en": "x"},
            }
        ],
    )
    assert problems(flows, [bad]) == [
        "workflows[0].actions[0].to.email_fields[0]: 'name' is not an e-mail field of deal or of "
        "a record it points at",
        "workflows[0].actions[0].to.email_fields[1]: 'company.phone' is not an e-mail field of "
        "deal or of a record it points at",
    ]


def test_automations_hear_of_rollup_changes(flows):
    """The company's open pipeline (a rollup of its deals) passes 1,000: an automation
    listening to that field runs, as for a change someone typed."""
    service = flows.publish(
        [
            {
                "key": "big_pipeline",
                "type": "automation",
                "entity": "company",
                "trigger": {"on": "field_change", "fields": ["open_pipeline"]},
                "condition": "record.open_pipeline > 1000.0",
                "actions": [{"type": "set_fields", "values": {"tier": "a"}}],
            }
        ]
    )
    company = service.create("company", {"name": "Acme", "tier": "c"})
    service.create("deal", {"name": "Small", "company": company.id, "amount": 10})
    assert set(deliver_all(flows)) <= {"done"}
    assert service.get("company", company.id).values["tier"] == "c"
    service.create("deal", {"name": "Big", "company": company.id, "amount": 5000})
    assert set(deliver_all(flows)) == {"done"}
    assert service.get("company", company.id).values["tier"] == "a"
    with tenant_context(flows.tenant):
        changes = list(
            OutboxEvent.objects.filter(entity="company").values_list("changed", flat=True)
        )
    assert changes == [["deal_count", "open_pipeline"]] * 2  # what each deal changed


def test_an_update_of_a_record_that_is_gone_is_a_dead_letter_naming_it(flows):
    """The record the expression names was deleted before delivery: nothing is written, the
    event is dead with the refusal, and no retry is made (it would not help)."""
    service = flows.publish(
        [
            automation(
                "touch_company",
                [
                    {
                        "type": "update_record",
                        "entity": "company",
                        "record": "record.company",
                        "values": {"notes": "touched"},
                    }
                ],
            )
        ]
    )
    company = service.create("company", {"name": "Acme"})
    other = service.create("company", {"name": "Other"})
    deal = service.create("deal", {"name": "Beta", "company": company.id})
    service.update("deal", deal.id, {"company": other.id})
    service.delete("company", company.id)
    (event,) = events(flows, kind="created")
    assert deliver(flows.tenant.pk, event.pk) == "dead"
    with tenant_context(flows.tenant):
        event.refresh_from_db()
        assert event.attempts == 1
        assert f"There is no company {company.id}" in event.last_error
        assert not ActionRun.objects.filter(event=event).exists()


def test_a_bulk_created_records_events_and_history_are_those_of_a_single_create(flows):
    """The bulk writer builds its events and audit entries in SQL from the stored rows: they
    hold what a single create writes, and drive the automations the same."""
    import datetime as dt

    from records.models import AuditEntry

    service = flows.publish(
        [automation("mark", [{"type": "set_fields", "values": {"probability": 30}}])]
    )
    company = service.create("company", {"name": "Acme"})
    row = {
        "company": company.id,
        "amount": "1234.50",
        "stage": "proposal",
        "close_date": "2026-03-01",
        "last_contacted": "2026-01-05T09:30:00+00:00",
        "related_deals": [],
    }
    single = service.create("deal", {**row, "name": "One"})
    bulk = service.bulk_create("deal", [{**row, "name": "Many"}]).created[0]
    by_record = {event.record_id: event for event in events(flows, kind="created")}
    with tenant_context(flows.tenant):
        history = {a.record_id: a.changes for a in AuditEntry.objects.filter(action="create")}
        stored = {r.pk: r for r in Record.objects.filter(pk__in=[single.id, bulk])}

    def without_name(values):
        return {key: value for key, value in values.items() if key != "name"}

    one, many = by_record[single.id], by_record[bulk]
    assert many.values["name"] == "Many"
    assert without_name(many.values) == without_name(one.values)
    assert many.changed == one.changed == sorted(one.values)
    assert set(many.system) == set(one.system)
    assert many.system["id"] == bulk
    assert many.system["owner"] == one.system["owner"]
    moment = dt.datetime.fromisoformat(many.system["created_at"])
    assert moment == stored[bulk].created_at
    assert (many.user_id, many.depth, many.status) == (one.user_id, one.depth, "pending")
    assert [c for c in history[bulk] if c["field"] != "name"] == [
        c for c in history[single.id] if c["field"] != "name"
    ]
    assert {"field": "name", "old": None, "new": "Many"} in history[bulk]
    assert set(deliver_all(flows)) == {"done"}
    assert {r.data.get("probability") for r in deals(flows)} == {"30.00"}
