"""Approval processes: entry, submitters, steps with criteria, any / all, rejection back to
the previous step, recall, the record lock, self-approval, delegation, escalation, the history,
and two approvers deciding at the same moment."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from records.errors import RecordError
from records.service import RecordService
from tenants.context import tenant_context
from tenants.organisation import set_manager
from workflows import approvals
from workflows.delivery import deliver
from workflows.models import ApprovalRequest, ApprovalTask, Delegation, OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)

DISCOUNT = {
    "key": "discount",
    "type": "approval",
    "entity": "deal",
    "label": {"en": "Discount approval"},
    "entry": "record.amount > 100.0",
    "submitters": {"owner": True},
    "steps": [
        {"key": "manager", "approvers": [{"type": "manager"}]},
        {
            "key": "directors",
            "criteria": "record.amount > 10000.0",
            "approvers": [
                {"type": "role", "role": "sales_manager"},
                {"type": "users", "emails": ["dir@flow.test"]},
            ],
            "mode": "all",
            "on_reject": "previous",
        },
    ],
    "actions": {
        "approved": [{"type": "set_fields", "values": {"probability": 90}}],
        "rejected": [{"type": "set_fields", "values": {"probability": 0}}],
    },
}


@pytest.fixture
def office(flows, add_member, monkeypatch):
    monkeypatch.setattr("workflows.outbox.dispatch", lambda *args, **kwargs: 0)
    admin = flows.publish([DISCOUNT])
    people = {
        "rep": add_member(flows.tenant, "rep@flow.test"),
        "boss": add_member(flows.tenant, "boss@flow.test", roles=("sales_manager",)),
        "dir": add_member(flows.tenant, "dir@flow.test", roles=("sales_rep",)),
        "other": add_member(flows.tenant, "other@flow.test"),
    }
    set_manager(flows.tenant, "rep@flow.test", "boss@flow.test")
    set_manager(flows.tenant, "dir@flow.test", "boss@flow.test")
    flows.as_ = {name: RecordService(flows.tenant, user) for name, user in people.items()}
    flows.as_["admin"] = admin
    flows.users = people
    company = admin.create("company", {"name": "Acme"})
    flows.deal = lambda amount: flows.as_["rep"].create(
        "deal", {"name": f"D{amount}", "company": company.id, "amount": amount}
    )
    return flows


def code_of(call) -> str:
    with pytest.raises(RecordError) as caught:
        call()
    return str(caught.value.code)


def tasks(office, request) -> list[tuple]:
    with tenant_context(office.tenant):
        return [
            (t.step, t.round, t.assignee.email.split("@")[0], t.status)
            for t in ApprovalTask.objects.filter(request_id=request.pk).order_by("pk")
        ]


def history(office, deal) -> list[tuple]:
    return [
        (entry.action, entry.step, entry.user.email.split("@")[0] if entry.user else None)
        for entry in approvals.history(office.as_["admin"], "deal", deal.id)
    ]


def deliver_all(office):
    with tenant_context(office.tenant):
        pending = list(OutboxEvent.objects.filter(status="pending").values_list("pk", flat=True))
    for pk in pending:
        deliver(office.tenant.pk, pk)


def test_submit_lock_approve_and_unlock(office):
    small, deal = office.deal(50), office.deal(500)
    rep, boss = office.as_["rep"], office.as_["boss"]
    assert code_of(lambda: approvals.submit(rep, "deal", small.id, "discount")) == "entry_criteria"
    assert code_of(lambda: approvals.submit(office.as_["boss"], "deal", deal.id, "discount")) == (
        "not_a_submitter"  # only the owner submits
    )
    assert code_of(lambda: approvals.submit(rep, "deal", deal.id, "ghost")) == "no_process"
    request = approvals.submit(rep, "deal", deal.id, "discount", "please")
    assert code_of(lambda: approvals.submit(rep, "deal", deal.id, "discount")) == "already_pending"
    assert tasks(office, request) == [("manager", 1, "boss", "pending")]
    # Locked while pending, but for the tenant admin (edit_locked) and the platform.
    assert code_of(lambda: rep.update("deal", deal.id, {"amount": 600})) == "record_locked"
    assert code_of(lambda: rep.delete("deal", deal.id)) == "record_locked"
    assert code_of(lambda: rep.assign("deal", deal.id, owner=office.users["dir"])) == (
        "record_locked"
    )
    office.as_["admin"].update("deal", deal.id, {"name": "Renamed by the admin"})
    # Only an approver decides.
    assert code_of(lambda: approvals.decide(office.as_["other"], request.pk, "approve")) == (
        "not_an_approver"
    )
    assert [t.request_id for t in approvals.inbox(boss)] == [request.pk]
    approvals.decide(boss, request.pk, "approve", "fine")
    with tenant_context(office.tenant):
        request.refresh_from_db()
    assert request.status == "approved"  # the directors' step does not apply to 500
    assert approvals.inbox(boss) == []
    assert code_of(lambda: approvals.decide(boss, request.pk, "approve")) == "already_decided"
    assert history(office, deal) == [
        ("submitted", "manager", "rep"),
        ("approved", "manager", "boss"),
        ("skipped", "directors", None),
    ]
    deliver_all(office)  # the "approved" actions
    assert rep.get("deal", deal.id).values["probability"] == 90
    rep.update("deal", deal.id, {"amount": 700})  # unlocked


def test_an_all_step_needs_everyone_and_a_rejection_goes_back(office):
    deal = office.deal(50000)
    rep, boss, director = office.as_["rep"], office.as_["boss"], office.as_["dir"]
    request = approvals.submit(rep, "deal", deal.id, "discount")
    approvals.decide(boss, request.pk, "approve")
    assert tasks(office, request)[1:] == [
        ("directors", 1, "boss", "pending"),
        ("directors", 1, "dir", "pending"),
    ]
    approvals.decide(director, request.pk, "approve")
    assert request.status == "pending"
    # The boss rejects at the directors' step: back to the manager's step, a new round.
    approvals.decide(boss, request.pk, "reject", "too much")
    with tenant_context(office.tenant):
        request.refresh_from_db()
    assert (request.status, request.step) == ("pending", "manager")
    assert tasks(office, request)[-1] == ("manager", 2, "boss", "pending")
    approvals.decide(boss, request.pk, "reject", "no")  # the first step ends it
    with tenant_context(office.tenant):
        request.refresh_from_db()
    assert request.status == "rejected"
    deliver_all(office)
    assert rep.get("deal", deal.id).values["probability"] == 0
    assert [h[0] for h in history(office, deal)] == [
        "submitted",
        "approved",
        "approved",
        "rejected",
        "returned",
        "rejected",
    ]


def test_recall_and_decisions_after_it(office):
    deal = office.deal(500)
    request = approvals.submit(office.as_["rep"], "deal", deal.id, "discount")
    assert code_of(lambda: approvals.recall(office.as_["boss"], request.pk)) == "not_the_submitter"
    approvals.recall(office.as_["rep"], request.pk, "changed my mind")
    assert (
        code_of(lambda: approvals.decide(office.as_["boss"], request.pk, "approve")) == "finished"
    )
    assert tasks(office, request) == [("manager", 1, "boss", "closed")]
    office.as_["rep"].update("deal", deal.id, {"amount": 800})  # unlocked again


def test_no_self_approval_and_delegates(flows, add_member, monkeypatch):
    monkeypatch.setattr("workflows.outbox.dispatch", lambda *args, **kwargs: 0)
    process = {
        **DISCOUNT,
        "submitters": {"roles": ["sales_manager", "sales_rep"]},
        "steps": [{"key": "managers", "approvers": [{"type": "role", "role": "sales_manager"}]}],
    }
    solo = {
        **process,
        "key": "solo",
        "steps": [{"key": "boss", "approvers": [{"type": "users", "emails": ["boss@flow.test"]}]}],
    }
    admin = flows.publish([process, solo])
    # Both may change every deal (tenant_admin) and approve (sales_manager).
    boss = add_member(flows.tenant, "boss@flow.test", roles=("sales_manager", "tenant_admin"))
    boss2 = add_member(flows.tenant, "boss2@flow.test", roles=("sales_manager", "tenant_admin"))
    stand_in = add_member(flows.tenant, "standin@flow.test")
    company = admin.create("company", {"name": "Acme"})
    deal = admin.create("deal", {"name": "D", "company": company.id, "amount": 500})
    as_boss = RecordService(flows.tenant, boss)
    request = approvals.submit(as_boss, "deal", deal.id, "discount")
    with tenant_context(flows.tenant):
        assignees = set(request.tasks.values_list("assignee__email", flat=True))
    assert assignees == {"boss2@flow.test"}  # the submitter is not asked
    approvals.recall(as_boss, request.pk)
    now = timezone.now()
    with tenant_context(flows.tenant):
        Delegation.objects.create(
            tenant=flows.tenant,
            user=boss2,
            delegate=stand_in,
            starts=now - dt.timedelta(days=1),
            ends=now + dt.timedelta(days=1),
        )
    again = approvals.submit(RecordService(flows.tenant, boss2), "deal", deal.id, "discount")
    # boss2 submitted: boss approves; boss2 may not approve their own submission
    assert (
        code_of(lambda: approvals.decide(RecordService(flows.tenant, boss2), again.pk, "approve"))
        == "not_an_approver"
    )
    # The only approver submitted it: they may not decide.
    other = admin.create("deal", {"name": "E", "company": company.id, "amount": 500})
    own = approvals.submit(as_boss, "deal", other.id, "solo")
    assert code_of(lambda: approvals.decide(as_boss, own.pk, "approve")) == "self_approval"
    approvals.recall(RecordService(flows.tenant, boss2), again.pk)
    third = approvals.submit(as_boss, "deal", deal.id, "discount")
    # boss2 is away: their stand-in decides for them
    approvals.decide(RecordService(flows.tenant, stand_in), third.pk, "approve")
    with tenant_context(flows.tenant):
        third.refresh_from_db()
    assert third.status == "approved"


def test_late_steps_escalate(office):
    process = {
        **DISCOUNT,
        "steps": [
            {
                "key": "manager",
                "approvers": [{"type": "manager"}],
                "escalation": {
                    "after": "PT1H",
                    "to": [{"type": "users", "emails": ["dir@flow.test"]}],
                },
            },
            {
                "key": "directors",
                "approvers": [{"type": "role", "role": "sales_manager"}],
                "escalation": {"after": "P1D", "decide": "approve"},
            },
        ],
    }
    office.publish([process])
    deal = office.deal(500)
    request = approvals.submit(office.as_["rep"], "deal", deal.id, "discount")
    assert approvals.escalate_due(office.tenant) == 0  # not late yet
    with tenant_context(office.tenant):
        ApprovalTask.objects.filter(request=request).update(due_at=timezone.now())
    assert approvals.escalate_due(office.tenant) == 1
    assert tasks(office, request) == [
        ("manager", 1, "boss", "escalated"),
        ("manager", 2, "dir", "pending"),
    ]
    approvals.decide(office.as_["dir"], request.pk, "approve")
    with tenant_context(office.tenant):
        ApprovalTask.objects.filter(request=request, status="pending").update(due_at=timezone.now())
    assert approvals.escalate_due(office.tenant) == 1  # decided automatically
    with tenant_context(office.tenant):
        request.refresh_from_db()
    assert request.status == "approved"
    assert [h[0] for h in history(office, deal)][-2:] == ["escalated", "approved"]


def test_two_approvers_at_the_same_moment_one_wins(flows, add_member, monkeypatch):
    monkeypatch.setattr("workflows.outbox.dispatch", lambda *args, **kwargs: 0)
    process = {
        **DISCOUNT,
        "submitters": {},
        "steps": [{"key": "managers", "approvers": [{"type": "role", "role": "sales_manager"}]}],
    }
    admin = flows.publish([process])
    managers = [
        add_member(flows.tenant, f"m{n}@flow.test", roles=("sales_manager",)) for n in range(2)
    ]
    company = admin.create("company", {"name": "Acme"})
    deal = admin.create("deal", {"name": "D", "company": company.id, "amount": 500})
    request = approvals.submit(admin, "deal", deal.id, "discount")
    barrier, outcomes = threading.Barrier(2), []

    def decide(user):
        try:
            barrier.wait()
            approvals.decide(RecordService(flows.tenant, user), request.pk, "approve")
            outcomes.append("approved")
        except RecordError as error:
            outcomes.append(f"{error.code}: {error.message}")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(user,)) for user in managers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == [
        "already_decided: This approval request is already approved.",
        "approved",
    ]
    with tenant_context(flows.tenant):
        assert ApprovalRequest.objects.get(pk=request.pk).status == "approved"


def test_approvals_through_graphql(office, client):
    from api.tokens import issue_token

    def post(who, query, variables=None):
        token = issue_token(office.tenant, office.users[who])
        return client.post(
            "/graphql/",
            {"query": query, "variables": variables or {}},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        ).json()

    deal = office.deal(500)
    submit = (
        "mutation($id: ID!) { submitForApproval(entity: deal, id: $id, process: discount, "
        'comment: "please") { request { id process status step recordId submittedBy { id } } '
        "errors { code message } } }"
    )
    answer = post("rep", submit, {"id": str(deal.id)})["data"]["submitForApproval"]
    assert answer["errors"] == []
    request = answer["request"]
    assert (request["status"], request["step"], request["recordId"]) == (
        "pending",
        "manager",
        deal.id,
    )
    again = post("rep", submit, {"id": str(deal.id)})["data"]["submitForApproval"]
    assert again["errors"][0]["code"] == "already_pending"
    inbox = "{ approvalInbox { id step standingIn { id } request { id entity recordId } } }"
    (task,) = post("boss", inbox)["data"]["approvalInbox"]
    assert (task["step"], task["request"]["id"], task["standingIn"]) == (
        "manager",
        request["id"],
        None,
    )
    assert post("other", inbox)["data"]["approvalInbox"] == []
    decide = (
        'mutation($r: ID!) { approve(request: $r, comment: "ok") { request { status } '
        "errors { code message } } }"
    )
    refused = post("other", decide, {"r": request["id"]})["data"]["approve"]
    assert refused == {
        "request": None,
        "errors": [
            {"code": "not_an_approver", "message": "You are not an approver of the step manager."}
        ],
    }
    assert post("boss", decide, {"r": request["id"]})["data"]["approve"] == {
        "request": {"status": "approved"},
        "errors": [],
    }
    recall = "mutation($r: ID!) { recall(request: $r) { request { status } errors { code } } }"
    assert post("rep", recall, {"r": request["id"]})["data"]["recall"]["errors"] == [
        {"code": "already_decided"}
    ]
    missing = post("boss", decide, {"r": "987654"})
    assert missing["errors"][0]["extensions"]["code"] == "not_found"
    trail = (
        "query($id: ID!) { approvalHistory(entity: deal, id: $id) { action step comment "
        "user { id } } }"
    )
    assert post("rep", trail, {"id": str(deal.id)})["data"]["approvalHistory"] == [
        {
            "action": "submitted",
            "step": "manager",
            "comment": "please",
            "user": {"id": str(office.users["rep"].pk)},
        },
        {
            "action": "approved",
            "step": "manager",
            "comment": "ok",
            "user": {"id": str(office.users["boss"].pk)},
        },
        {"action": "skipped", "step": "directors", "comment": "", "user": None},
    ]
    # someone who may not read the deal sees no history of it
    assert post("other", trail, {"id": str(deal.id)})["data"]["approvalHistory"] == []


def test_simulating_an_approval_names_steps_and_approvers(office):
    import io

    from django.core.management import call_command

    deal = office.deal(50000)
    out = io.StringIO()
    call_command(
        "workflow",
        "simulate",
        "--tenant",
        "flow",
        "--workflow",
        "discount",
        "--record",
        str(deal.id),
        stdout=out,
    )
    assert out.getvalue().splitlines()[1:] == [
        "  entry: record.amount > 100.0: holds",
        "  step manager (any): boss@flow.test",
        "  step directors (all): boss@flow.test, dir@flow.test",
        "  on approved: set probability",
        "  on rejected: set probability",
        "Nothing was changed.",
    ]


def test_delegations_by_command(office):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    def run(*args):
        out = io.StringIO()
        call_command("workflow", "delegate", "--tenant", "flow", *args, stdout=out)
        return out.getvalue()

    deal = office.deal(500)
    request = approvals.submit(office.as_["rep"], "deal", deal.id, "discount")
    assert approvals.inbox(office.as_["other"]) == []
    today = timezone.now().date().isoformat()
    assert run(
        "--user", "boss@flow.test", "--to", "other@flow.test", "--from", today, "--until", today
    ) == (f"other@flow.test decides boss@flow.test's approvals from {today} to {today}.\n")
    # made after the submission, it counts all the same
    (task,) = approvals.inbox(office.as_["other"])
    assert task.request_id == request.pk
    approvals.decide(office.as_["other"], request.pk, "approve")
    for args, message in [
        (("--user", "boss@flow.test", "--to", "ghost@flow.test"), "not a member"),
        (("--user", "boss@flow.test", "--to", "boss@flow.test"), "Nobody stands in"),
    ]:
        with pytest.raises(CommandError, match=message):
            run(*args, "--from", today, "--until", today)
    with pytest.raises(CommandError, match="Dates are YYYY-MM-DD"):
        run(
            "--user",
            "boss@flow.test",
            "--to",
            "other@flow.test",
            "--from",
            "soon",
            "--until",
            today,
        )


def test_a_rejection_returns_to_a_named_step(office):
    step = {"approvers": [{"type": "users", "emails": ["boss@flow.test"]}]}
    office.publish(
        [
            {
                **DISCOUNT,
                "steps": [
                    {"key": "first", **step},
                    {"key": "second", **step},
                    {"key": "third", **step, "on_reject": "first"},
                ],
            }
        ]
    )
    deal = office.deal(500)
    request = approvals.submit(office.as_["rep"], "deal", deal.id, "discount")
    for _ in range(2):
        approvals.decide(office.as_["boss"], request.pk, "approve")
    approvals.decide(office.as_["boss"], request.pk, "reject")
    with tenant_context(office.tenant):
        request.refresh_from_db()
    assert (request.status, request.step) == ("pending", "first")
    assert tasks(office, request)[-1] == ("first", 2, "boss", "pending")
