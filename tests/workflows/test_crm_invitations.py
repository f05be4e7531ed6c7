"""The crm pack's meeting invitations: the attendees (contacts, people outside) get an e-mail
each when the owner asks for it, in the platform's language, with the time and place."""

import pytest
from django.core import mail

from records.service import RecordService
from tenants.context import tenant_context
from workflows.delivery import deliver
from workflows.models import OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("workflows.outbox.dispatch", lambda tenant_id, ids: 0)


def deliver_all(tenant):
    while True:
        with tenant_context(tenant):
            pending = list(
                OutboxEvent.objects.filter(status="pending").values_list("pk", flat=True)
            )
        if not pending:
            return
        for pk in pending:
            deliver(tenant.pk, pk)


def test_attendees_are_invited_when_the_owner_asks(make_tenant):
    made = make_tenant("invite", pack="crm")
    service = RecordService(made.tenant, made.admin)
    account = service.create("account", {"name": "Acme"}).id
    people = [
        service.create(
            "contact", {"full_name": name, "account": account, "email": f"{name}@acme.example"}
        ).id
        for name in ("li", "wang")
    ]
    quiet = service.create(
        "activity",
        {
            "subject": "Internal prep",
            "activity_type": "meeting",
            "start_at": "2027-01-05T09:00:00+08:00",
            "end_at": "2027-01-05T10:00:00+08:00",
            "attendees": people,
        },
    ).id
    deliver_all(made.tenant)
    assert mail.outbox == []  # not asked for
    service.update("activity", quiet, {"notify_attendees": True, "location": "Room 3"})
    deliver_all(made.tenant)
    assert sorted(m.to[0] for m in mail.outbox) == ["li@acme.example", "wang@acme.example"]
    assert mail.outbox[0].subject == "Invitation: Internal prep"
    assert "Where: Room 3" in mail.outbox[0].body
