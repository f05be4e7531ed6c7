"""Date-relative automations: fired once per record and moment, when the moment has come and
not long ago."""

import datetime as dt

import pytest

from tenants.context import tenant_context
from tests.workflows.conftest import automation
from workflows.delivery import deliver
from workflows.models import OutboxEvent
from workflows.schedules import fire_due

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_date_relative_automation_fires_once_per_moment(flows, monkeypatch):
    monkeypatch.setattr("workflows.outbox.dispatch", lambda *args, **kwargs: 0)
    service = flows.publish(
        [
            automation(
                "chase",
                [{"type": "set_fields", "values": {"probability": 10}}],
                on="date",
                trigger={"field": "last_contacted", "offset": "PT1H"},
                condition="record.stage == 'new'",
            )
        ]
    )
    company = service.create("company", {"name": "Acme"})
    now = dt.datetime.now(dt.UTC)

    def deal(name, contacted):
        values = {"name": name, "company": company.id}
        if contacted is not None:
            values["last_contacted"] = contacted.isoformat()
        return service.create("deal", values)

    due = deal("due", now - dt.timedelta(hours=2))  # its moment was an hour ago
    deal("later", now)  # in an hour
    deal("long ago", now - dt.timedelta(days=3))  # past the look-back: not fired
    deal("never", None)
    assert len(fire_due(flows.tenant)) == 1
    assert fire_due(flows.tenant) == []  # once
    with tenant_context(flows.tenant):
        (event,) = OutboxEvent.objects.all()
    assert (event.kind, event.workflow, event.record_id) == ("scheduled", "chase", due.id)
    assert deliver(flows.tenant.pk, event.pk) == "done"
    assert service.get("deal", due.id).values["probability"] == 10
    # A new contact moves the moment: it fires again for that one.
    service.update("deal", due.id, {"last_contacted": (now - dt.timedelta(minutes=90)).isoformat()})
    assert len(fire_due(flows.tenant)) == 1
