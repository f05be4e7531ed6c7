"""The standard CRM's main flows, end to end, with a real Celery worker delivering what they
start: convert a lead into a new account, move an opportunity to won, approve a discounted quote
through two steps, escalate an overdue case (the beat's date automations), renew a contract.

Each flow runs twice, once through the records service (the app's road) and once through the
GraphQL API over HTTP (an integrator's), by the users a real company has: a rep reporting to a
sales manager, and a sales director."""

import datetime as dt
import time
from decimal import Decimal

import pytest

from api.tokens import issue_token
from records.bulk import BulkWriter
from records.errors import RecordError
from records.service import RecordService
from tenants.context import tenant_context
from tenants.services import add_member
from tests.fixtures import PASSWORD
from workflows import approvals
from workflows import services as workflow_services
from workflows.models import Notification, OutboxEvent
from workflows.tasks import run_schedules

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_S = 90


class ServiceRoad:
    """The flows through the records service and the workflow services."""

    def __init__(self, company):
        self.tenant = company.tenant

    def service(self, user):
        return RecordService(self.tenant, user)

    def create(self, user, entity, values) -> int:
        return self.service(user).create(entity, values).id

    def update(self, user, entity, record_id, values) -> None:
        self.service(user).update(entity, record_id, values)

    def transition(self, user, entity, record_id, key) -> None:
        workflow_services.transition(self.service(user), entity, record_id, key, {})

    def submit(self, user, entity, record_id, process) -> int:
        return approvals.submit(self.service(user), entity, record_id, process, "please").pk

    def approve(self, user, request_id) -> str:
        return approvals.decide(self.service(user), request_id, "approve", "fine").status


class GraphQLRoad:
    """The same flows as an integrator makes them: GraphQL over HTTP, a token per user."""

    def __init__(self, company, client):
        self.tenant, self.client, self.tokens = company.tenant, client, {}

    def post(self, user, query, variables):
        token = self.tokens.get(user.pk) or issue_token(self.tenant, user)
        self.tokens[user.pk] = token
        response = self.client.post(
            "/graphql/",
            {"query": query, "variables": variables},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        body = response.json()
        assert "errors" not in body, body
        (payload,) = body["data"].values()
        assert payload["errors"] == [], payload
        return payload

    @staticmethod
    def name(entity: str) -> str:
        return "".join(part.title() for part in entity.split("_"))

    @staticmethod
    def camel(values: dict) -> dict:
        def key(name):
            head, *rest = name.split("_")
            return head + "".join(part.title() for part in rest)

        return {key(k): v for k, v in values.items()}

    def create(self, user, entity, values) -> int:
        name = self.name(entity)
        query = f"""mutation($input: {name}Input!) {{
            create{name}(input: $input) {{ record {{ recordId }} errors {{ field code message }} }}
        }}"""
        return self.post(user, query, {"input": self.camel(values)})["record"]["recordId"]

    def update(self, user, entity, record_id, values) -> None:
        name = self.name(entity)
        query = f"""mutation($id: ID!, $input: {name}Patch!) {{
            update{name}(id: $id, input: $input) {{ record {{ recordId }} errors {{ code }} }}
        }}"""
        self.post(user, query, {"id": str(record_id), "input": self.camel(values)})

    def transition(self, user, entity, record_id, key) -> None:
        name = self.name(entity)
        query = f"""mutation($id: ID!) {{
            transition{name}(id: $id, transition: {key}) {{
                record {{ recordId }} errors {{ code }}
            }}
        }}"""
        self.post(user, query, {"id": str(record_id)})

    def submit(self, user, entity, record_id, process) -> int:
        query = f"""mutation($id: ID!) {{
            submitForApproval(entity: {entity}, id: $id, process: {process}, comment: "please") {{
                request {{ id }} errors {{ code message }}
            }}
        }}"""
        return int(self.post(user, query, {"id": str(record_id)})["request"]["id"])

    def approve(self, user, request_id) -> str:
        query = """mutation($request: ID!) {
            approve(request: $request, comment: "fine") {
                request { status } errors { code message }
            }
        }"""
        return self.post(user, query, {"request": str(request_id)})["request"]["status"]


@pytest.fixture
def company(make_tenant, start_worker):
    start_worker()
    made = make_tenant("flows", pack="crm")
    tenant = made.tenant
    made.director = add_member(
        tenant, email="director@flows.test", password=PASSWORD, roles=["sales_director"]
    )
    made.manager = add_member(
        tenant, email="manager@flows.test", password=PASSWORD, roles=["sales_manager"]
    )
    made.rep = add_member(
        tenant, email="rep@flows.test", password=PASSWORD, roles=["sales_rep"], manager=made.manager
    )
    made.admin_service = RecordService(tenant, made.admin)
    return made


@pytest.fixture(params=["service", "graphql"])
def road(request, company, client):
    return ServiceRoad(company) if request.param == "service" else GraphQLRoad(company, client)


def settled(company) -> None:
    """Wait until the worker has delivered every event (those they start included)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        with tenant_context(company.tenant):
            statuses = set(OutboxEvent.objects.values_list("status", flat=True))
        if statuses <= {"done"}:
            return
        assert "dead" not in statuses, dead_letters(company)
        time.sleep(0.3)
    raise AssertionError(f"events still pending after {WAIT_S} s")


def dead_letters(company) -> list:
    with tenant_context(company.tenant):
        return list(OutboxEvent.objects.filter(status="dead").values_list("workflow", "last_error"))


def records(company, entity: str, **where) -> list[dict]:
    rows = company.admin_service.query(entity, first=100).rows
    return [
        {"id": row.id, "owner": row.owner_id, **row.values}
        for row in rows
        if all(row.values.get(k) == v for k, v in where.items())
    ]


def notified(company, user, subject_start: str) -> bool:
    with tenant_context(company.tenant):
        return Notification.objects.filter(user=user, subject__startswith=subject_start).exists()


def test_a_lead_converts_into_an_account_a_contact_and_an_opportunity(company, road):
    lead = road.create(
        company.rep,
        "lead",
        {
            "full_name": "Wang Fang",
            "company": "Northwind Trading",
            "email": "wang.fang@northwind.example",
            "source": "self_generated",  # the rep's own: not reassigned by the round robin
            "topic": "Warehouse scanners",
            "estimated_amount": "250000",
            "expected_close_date": "2027-03-31",
        },
    )
    road.transition(company.rep, "lead", lead, "qualify")
    road.transition(company.rep, "lead", lead, "convert_to_new_account")
    settled(company)

    (account,) = records(company, "account", name="Northwind Trading")
    assert account["source_lead"] == lead
    (contact,) = records(company, "contact", full_name="Wang Fang")
    assert (contact["account"], contact["email"]) == (account["id"], "wang.fang@northwind.example")
    (opportunity,) = records(company, "opportunity", source_lead=lead)
    assert opportunity["account"] == account["id"]
    assert (opportunity["name"], opportunity["amount"]) == ("Warehouse scanners", Decimal(250000))
    assert opportunity["probability"] == Decimal(10)  # the stage defaults ran on it too
    converted = company.admin_service.get("lead", lead).values
    assert (converted["status"], converted["account"]) == ("converted", account["id"])
    assert converted["converted_at"] is not None
    for record in (account, contact, opportunity):  # the rep owns what the lead became
        assert record["owner"] == company.rep.pk


def test_an_opportunity_is_won(company, road):
    account = road.create(company.rep, "account", {"name": "Globex"})
    deal = road.create(
        company.rep,
        "opportunity",
        {"name": "Globex fleet", "account": account, "amount": "80000", "stage": "proposal"},
    )
    road.update(company.rep, "opportunity", deal, {"stage": "closed_won"})
    settled(company)
    won = company.admin_service.get("opportunity", deal).values
    assert (won["probability"], won["forecast_category"]) == (Decimal(100), "commit")
    assert notified(company, company.rep, "Won: Globex fleet")
    assert notified(company, company.manager, "Won: Globex fleet")


def test_a_discounted_quote_is_approved_then_accepted_into_an_order(company, road):
    account = road.create(company.rep, "account", {"name": "Initech"})
    deal = road.create(
        company.rep,
        "opportunity",
        {"name": "Initech scanners", "account": account, "stage": "proposal", "amount": "5500"},
    )
    product = company.admin_service.create(
        "product", {"name": "Scanner", "code": "SC-1", "standard_price": "1000"}
    ).id
    quote = road.create(
        company.rep,
        "quote",
        {"name": "Initech scanners", "account": account, "opportunity": deal},
    )
    line = road.create(
        company.rep,
        "quote_line",
        {
            "quote": quote,
            "product": product,
            "quantity": "10",
            "unit_price": "1000",
            "discount": 45,
        },
    )
    request = road.submit(company.rep, "quote", quote, "quote_discount_approval")
    settled(company)
    assert company.admin_service.get("quote", quote).values["status"] == "in_approval"
    # While it waits, the quote and its lines are locked: no lower price slips in.
    rep = RecordService(company.tenant, company.rep)
    new_line = {"quote": quote, "product": product, "quantity": "1", "unit_price": "1"}
    for attempt in (
        lambda: rep.update("quote_line", line, {"discount": 60}),
        lambda: rep.create("quote_line", new_line),
        lambda: rep.delete("quote_line", line),
        lambda: BulkWriter(rep).create("quote_line", [new_line]),
    ):
        with pytest.raises(RecordError) as refused:
            attempt()
        assert "record_locked" in str(refused.value) + str(getattr(refused.value, "rows", ""))
    assert company.admin_service.get("quote", quote).values["line_count"] == 1
    assert road.approve(company.manager, request) == "pending"  # the director's step is next
    assert road.approve(company.director, request) == "approved"
    settled(company)
    approved = company.admin_service.get("quote", quote).values
    assert (approved["status"], approved["approved_discount"]) == ("approved", Decimal(45))
    assert notified(company, company.rep, "Discount approved: Initech scanners")

    # The customer accepts: the quote becomes an order with the same lines, the deal is won.
    road.create(
        company.rep,
        "quote_line",
        {"quote": quote, "product": product, "quantity": "1", "unit_price": "500"},
    )
    road.transition(company.rep, "quote", quote, "send")
    road.transition(company.rep, "quote", quote, "accept")
    settled(company)
    (order,) = records(company, "order", quote=quote)
    assert (order["account"], order["opportunity"], order["status"]) == (account, deal, "draft")
    lines = [
        (line["product"], line["quantity"], line["unit_price"], line["discount"])
        for line in sorted(records(company, "order_line", order=order["id"]), key=lambda r: r["id"])
    ]
    assert lines == [
        (product, Decimal(10), Decimal(1000), Decimal(45)),
        (product, Decimal(1), Decimal(500), Decimal(0)),
    ]
    accepted = company.admin_service.get("quote", quote).values
    ordered = company.admin_service.get("order", order["id"]).values
    assert ordered["grand_total"] == accepted["grand_total"] == Decimal("6780.00")
    assert company.admin_service.get("opportunity", deal).values["stage"] == "closed_won"


def test_an_overdue_case_is_escalated_by_the_beat(company, road):
    five_hours_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)).isoformat()
    overdue = road.create(
        company.rep,
        "case",
        {
            "subject": "Scanner does not start",
            "description": "Dead on arrival",
            "priority": "urgent",
            "opened_at": five_hours_ago,
        },
    )
    in_time = road.create(
        company.rep,
        "case",
        {"subject": "Manual wanted", "description": "Where is it?", "priority": "urgent"},
    )
    settled(company)
    assert run_schedules.delay().get(timeout=WAIT_S) >= 1  # what the beat runs every minute
    settled(company)
    assert company.admin_service.get("case", overdue).values["escalated"] is True
    assert company.admin_service.get("case", in_time).values["escalated"] is False
    number = company.admin_service.get("case", overdue).values["number"]
    assert notified(company, company.rep, f"Case {number} is past its SLA")


def test_a_contract_is_renewed(company, road):
    account = road.create(company.rep, "account", {"name": "Umbrella"})
    ends = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=90)  # its renewal moment is today
    contract = road.create(
        company.rep,
        "contract",
        {
            "name": "Umbrella support",
            "account": account,
            "status": "active",
            "start_date": str(ends - dt.timedelta(days=365)),
            "end_date": str(ends),
            "value": {"amount": "120000", "currency": "CNY"},
        },
    )
    settled(company)
    assert run_schedules.delay().get(timeout=WAIT_S) >= 1
    settled(company)
    (renewal,) = records(company, "opportunity", contract=contract)
    assert (renewal["deal_type"], renewal["amount"]) == ("renewal", Decimal(120000))
    road.update(company.rep, "opportunity", renewal["id"], {"stage": "closed_won"})
    settled(company)
    assert company.admin_service.get("contract", contract).values["status"] == "renewed"
    (successor,) = records(company, "contract", opportunity=renewal["id"])
    successor = company.admin_service.get("contract", successor["id"]).values
    assert successor["status"] == "active"
    assert str(successor["start_date"]) == str(ends + dt.timedelta(days=1))
    assert successor["value"] == {"amount": Decimal(120000), "currency": "CNY"}
