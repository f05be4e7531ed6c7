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


def test_a_date_trigger_watches_a_formula(flows, monkeypatch):
    """The moment is computed: a deal is chased 30 days after its close date, through a
    formula giving that day; a change of the date moves the moment."""
    monkeypatch.setattr("workflows.outbox.dispatch", lambda *args, **kwargs: 0)
    from metadata.publish import active_version, document_of, publish

    document = document_of(active_version(flows.tenant))
    deal = next(e for e in document["entities"] if e["key"] == "deal")
    deal["fields"].append(
        {
            "key": "chase_on",
            "type": "formula",
            "result_type": "datetime",
            "expression": "record.close_date + duration('720h')",
        }
    )
    document["workflows"] = [
        automation(
            "chase_late",
            [{"type": "set_fields", "values": {"probability": 5}}],
            on="date",
            trigger={"field": "chase_on"},
        )
    ]
    publish(flows.tenant, document=document)
    from records.service import RecordService

    service = RecordService(flows.tenant, flows.admin)
    company = service.create("company", {"name": "Acme"})
    today = dt.datetime.now(dt.UTC).date()
    due = service.create(
        "deal", {"name": "due", "company": company.id, "close_date": str(today - dt.timedelta(30))}
    )
    service.create("deal", {"name": "not yet", "company": company.id, "close_date": str(today)})
    assert len(fire_due(flows.tenant)) == 1
    with tenant_context(flows.tenant):
        (event,) = OutboxEvent.objects.all()
    assert (event.workflow, event.record_id) == ("chase_late", due.id)
    assert deliver(flows.tenant.pk, event.pk) == "done"
    assert service.get("deal", due.id).values["probability"] == 5


def test_a_date_trigger_on_a_text_formula_is_refused(flows):
    from metadata.errors import ConfigError
    from metadata.publish import active_version, document_of, publish

    document = document_of(active_version(flows.tenant))
    deal = next(e for e in document["entities"] if e["key"] == "deal")
    deal["fields"].append(
        {"key": "label", "type": "formula", "result_type": "text", "expression": "record.name"}
    )
    document["workflows"] = [
        automation(
            "odd",
            [{"type": "set_fields", "values": {"probability": 5}}],
            on="date",
            trigger={"field": "label"},
        )
    ]
    with pytest.raises(ConfigError) as refused:
        publish(flows.tenant, document=document)
    assert [str(p) for p in refused.value.problems] == [
        "workflows[0].trigger.field: label is formula, not a date"
    ]
