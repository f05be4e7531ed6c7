"""Warnings that do not stop a save: possible duplicates (duplicate_check) and conflicts (a
double-booked meeting), read through the user's scope; shown on the record page."""

import pytest

from metadata.errors import ConfigError
from metadata.publish import active_version, document_of, publish
from records.service import RecordService
from records.warnings import warnings_of
from tests.fixtures import signed_in


@pytest.fixture
def crm_with_people(make_tenant, add_member):
    made = make_tenant("warn", pack="crm")
    made.rep = add_member(made.tenant, "rep@warn.test", roles=("sales_rep",))
    made.other = add_member(made.tenant, "other@warn.test", roles=("sales_rep",))
    made.admin_service = RecordService(made.tenant, made.admin)
    return made


def found(service, entity_key, record_id) -> list[tuple]:
    config = service.configuration()
    entity = config.entities[entity_key]
    view = service.get(entity_key, record_id)
    return [
        (w.kind, w.fields, sorted(r.id for r in w.records))
        for w in warnings_of(service, entity, view)
    ]


def meeting(service, subject, start, end, **extra):
    values = {
        "subject": subject,
        "activity_type": "meeting",
        "start_at": f"2027-01-05T{start}:00+08:00",
        "end_at": f"2027-01-05T{end}:00+08:00",
        **extra,
    }
    return service.create("activity", values).id


def test_a_meeting_overlapping_another_of_the_same_owner_is_a_conflict(crm_with_people):
    rep = RecordService(crm_with_people.tenant, crm_with_people.rep)
    other = RecordService(crm_with_people.tenant, crm_with_people.other)
    first = meeting(rep, "Kick-off", "09:00", "10:00")
    touching = meeting(rep, "Next", "10:00", "11:00")  # ends where the first starts: fine
    overlapping = meeting(rep, "Double", "09:30", "10:30")
    canceled = meeting(rep, "Dropped", "09:00", "10:00", status="canceled")
    meeting(other, "Someone else's", "09:00", "10:00")  # another owner
    assert found(rep, "activity", first) == [
        ("double_booked", ["start_at", "end_at"], [overlapping])
    ]
    assert found(rep, "activity", overlapping) == [
        ("double_booked", ["start_at", "end_at"], sorted([first, touching]))
    ]
    assert found(rep, "activity", canceled) == []


def test_possible_duplicates_are_named_per_field_within_the_users_scope(crm_with_people):
    admin = crm_with_people.admin_service
    rep = RecordService(crm_with_people.tenant, crm_with_people.rep)
    lead = {"source": "web", "status": "new"}
    mine = rep.create("lead", {**lead, "full_name": "Li Lei", "email": "li@example.com"}).id
    twin = rep.create("lead", {**lead, "full_name": "Lei Li", "email": "li@example.com"}).id
    hidden = admin.create(
        "lead",
        {**lead, "full_name": "Li L.", "email": "li@example.com"},
        owner=crm_with_people.other,
    ).id
    assert found(rep, "lead", mine) == [("duplicate", ["email"], [twin])]  # not the hidden one
    assert found(admin, "lead", mine) == [("duplicate", ["email"], sorted([twin, hidden]))]


def test_the_record_page_shows_the_warnings_with_links(crm_with_people, client):
    rep = RecordService(crm_with_people.tenant, crm_with_people.rep)
    first = meeting(rep, "Kick-off", "09:00", "10:00")
    second = meeting(rep, "Double", "09:30", "10:30")
    signed_in(client, crm_with_people.rep, crm_with_people.tenant)
    page = client.get(f"/app/r/activity/{first}/")
    text = page.content.decode()
    assert "Overlaps with another activity of the same owner" in text
    assert f'href="/app/r/activity/{second}/"' in text
    alone = meeting(rep, "Alone", "15:00", "16:00")
    assert "record-warnings" not in client.get(f"/app/r/activity/{alone}/").content.decode()


def test_conflicts_are_checked_at_publish(make_tenant):
    made = make_tenant("badwarn", pack="starter")
    document = document_of(active_version(made.tenant))
    deal = next(e for e in document["entities"] if e["key"] == "deal")
    deal["conflicts"] = [
        {"key": "c", "start": "name", "end": "close_date", "same": ["ghost"], "filter": "1"}
    ]
    with pytest.raises(ConfigError) as refused:
        publish(made.tenant, document=document)
    assert [str(p) for p in refused.value.problems] == [
        "entities[1].conflicts[0].start: 'name' is not a date or date-time field of deal",
        "entities[1].conflicts[0].same[0]: 'ghost' is not a single-valued field of deal (or owner)",
        "entities[1].conflicts[0].filter: must give a bool, but gives an int",
    ]


def test_integrators_read_the_warnings_in_graphql(crm_with_people, client):
    from api.tokens import issue_token

    rep = RecordService(crm_with_people.tenant, crm_with_people.rep)
    first = meeting(rep, "Kick-off", "09:00", "10:00")
    second = meeting(rep, "Double", "09:30", "10:30")
    token = issue_token(crm_with_people.tenant, crm_with_people.rep)
    query = """query($id: ID!) {
      recordWarnings(entity: activity, id: $id) { kind fields message records { recordId title } }
    }"""
    response = client.post(
        "/graphql/",
        {"query": query, "variables": {"id": str(first)}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.json()["data"]["recordWarnings"] == [
        {
            "kind": "double_booked",
            "fields": ["start_at", "end_at"],
            "message": "Overlaps with another activity of the same owner",
            "records": [{"recordId": second, "title": "Double"}],
        }
    ]
    missing = client.post(
        "/graphql/",
        {"query": query, "variables": {"id": "999999"}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    ).json()
    assert missing["errors"][0]["extensions"]["code"] == "not_found"
