"""Unique groups (an entity's ``unique_together``): refused on create, update, restore and
in bulk, with two writers racing; a new group's existing duplicates reported at publish."""

import copy
import threading

import pytest
from django.db import connection

from metadata.errors import ConfigError
from metadata.publish import active_version, document_of, publish
from records.bulk import BulkError, BulkWriter
from records.errors import RecordError
from records.service import RecordService


def with_group(made, group=("company", "close_date")):
    document = copy.deepcopy(document_of(active_version(made.tenant)))
    deal = next(e for e in document["entities"] if e["key"] == "deal")
    deal["unique_together"] = [list(group)]
    return document


@pytest.fixture
def shop(make_tenant):
    made = make_tenant("groups", pack="starter")
    publish(made.tenant, document=with_group(made))
    made.service = RecordService(made.tenant, made.admin)
    made.company = made.service.create("company", {"name": "Acme"}).id
    made.other = made.service.create("company", {"name": "Other"}).id
    return made


def refusal(call) -> list[tuple]:
    with pytest.raises(RecordError) as refused:
        call()
    return [(e.field, e.code) for e in refused.value.errors]


def test_a_group_is_refused_when_another_record_has_all_its_values(shop):
    service, company = shop.service, shop.company
    first = service.create("deal", {"name": "A", "company": company, "close_date": "2027-01-31"})
    taken = {"name": "B", "company": company, "close_date": "2027-01-31"}
    assert refusal(lambda: service.create("deal", taken)) == [("company", "not_unique")]
    # another company, or another date, or no date: each its own
    service.create("deal", {**taken, "company": shop.other})
    second = service.create("deal", {**taken, "close_date": "2027-02-28"})
    service.create("deal", {"name": "C", "company": company})
    # (company, no date) twice is a duplicate too: empty counts when another value is there
    undated = {"name": "D", "company": company}
    assert refusal(lambda: service.create("deal", undated)) == [("company", "not_unique")]
    assert refusal(lambda: service.update("deal", second.id, {"close_date": "2027-01-31"})) == [
        ("company", "not_unique")
    ]
    service.update("deal", second.id, {"name": "B renamed"})  # the group unchanged: fine
    service.delete("deal", first.id)
    service.update("deal", second.id, {"close_date": "2027-01-31"})  # the place is free now
    assert refusal(lambda: service.restore("deal", first.id)) == [("company", "not_unique")]


def test_bulk_rows_sharing_a_group_with_each_other_or_a_stored_record(shop):
    service, company = shop.service, shop.company
    service.create("deal", {"name": "A", "company": company, "close_date": "2027-01-31"})
    rows = [
        {"name": "B", "company": company, "close_date": "2027-03-31"},
        {"name": "C", "company": company, "close_date": "2027-03-31"},
        {"name": "D", "company": company, "close_date": "2027-01-31"},
        {"name": "E", "company": shop.other, "close_date": "2027-01-31"},
    ]
    with pytest.raises(BulkError) as refused:
        BulkWriter(service).create("deal", rows)
    assert [(row.index, [e.code for e in row.errors]) for row in refused.value.rows] == [
        (1, ["not_unique"]),
        (2, ["not_unique"]),
    ]
    assert len(service.query("deal").rows) == 1  # nothing written


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_the_same_group_at_once_one_wins(make_tenant):
    made = make_tenant("racing", pack="starter")
    publish(made.tenant, document=with_group(made))
    company = RecordService(made.tenant, made.admin).create("company", {"name": "Acme"}).id
    outcomes, start = [], threading.Barrier(2)

    def write(name):
        try:
            start.wait()
            RecordService(made.tenant, made.admin).create(
                "deal", {"name": name, "company": company, "close_date": "2027-01-31"}
            )
            outcomes.append("created")
        except RecordError as error:
            outcomes.append(error.errors[0].code)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "not_unique"]


def test_a_new_group_reports_the_records_sharing_it_at_publish(make_tenant):
    made = make_tenant("late", pack="starter")
    service = RecordService(made.tenant, made.admin)
    company = service.create("company", {"name": "Acme"}).id
    twins = [
        service.create("deal", {"name": n, "company": company, "close_date": "2027-01-31"}).id
        for n in ("A", "B")
    ]
    service.create("deal", {"name": "C", "company": company, "close_date": "2027-05-31"})
    with pytest.raises(ConfigError) as refused:
        publish(made.tenant, document=with_group(made))
    (item,) = refused.value.report
    assert (item.code, item.path, item.count, item.sample_ids) == (
        "unique_violations",
        "deal.company+close_date",
        2,
        sorted(twins),
    )
    assert "2 deal record(s) share their company, close_date" in item.message
    # accepted, the group holds from then on for new records
    publish(made.tenant, document=with_group(made), strategies=("accept-violations",))
    with pytest.raises(RecordError):
        service.create("deal", {"name": "D", "company": company, "close_date": "2027-05-31"})


@pytest.mark.parametrize(
    ("group", "message"),
    [
        (["company", "ghost"], "entities[1].unique_together[0][1]: 'ghost' is not a field of deal"),
        (
            ["company", "weighted_amount"],
            "entities[1].unique_together[0][1]: weighted_amount is a formula: it cannot be part "
            "of a unique group",
        ),
    ],
)
def test_a_group_names_stored_single_value_fields(make_tenant, group, message):
    made = make_tenant("bad", pack="starter")
    with pytest.raises(ConfigError) as refused:
        publish(made.tenant, document=with_group(made, group))
    assert [str(p) for p in refused.value.problems] == [message]
