"""Renames, type changes and purges move the stored data in resumable batches."""

import copy
from decimal import Decimal

import pytest
from django.core.management import call_command

from metadata.publish import active_version, document_of, publish, save_draft
from records.models import Record, SchemaJob, SchemaJobFailure
from records.schema_jobs import run_batch, run_pending
from tenants.context import tenant_context


def republish(
    service,
    change,
    strategies=("breaking-api", "convert-types", "remove-fields", "accept-violations"),
):
    document = copy.deepcopy(document_of(active_version(service.tenant)))
    change(document)
    save_draft(service.tenant, document, overwrite=True)
    return publish(service.tenant, strategies=strategies)


def field(document, entity, key):
    entity_doc = next(e for e in document["entities"] if e["key"] == entity)
    return next(f for f in entity_doc["fields"] if f["key"] == key)


def jobs(service):
    with tenant_context(service.tenant):
        return list(
            SchemaJob.objects.order_by("id").values_list("kind", "status", "processed", "failed")
        )


def raw_data(service, pk):
    with tenant_context(service.tenant):
        return Record.objects.get(pk=pk).data


def test_a_field_rename_moves_the_values_in_batches(shop):
    created = [shop.create("company", {"name": f"C{n}", "employees": n}) for n in range(5)]
    republish(
        shop,
        lambda d: field(d, "company", "employees").update(
            key="headcount", renamed_from="employees"
        ),
    )
    assert jobs(shop) == [("rename_field", "pending", 0, 0)]
    with tenant_context(shop.tenant):
        job_id = SchemaJob.objects.get().pk
    assert run_batch(shop.tenant.pk, job_id, batch_size=2) is False
    assert jobs(shop) == [("rename_field", "running", 2, 0)]
    assert "headcount" in raw_data(shop, created[0].id)
    assert "employees" in raw_data(shop, created[4].id)
    assert run_pending(shop.tenant.pk, batch_size=2) == 1
    assert jobs(shop) == [("rename_field", "done", 5, 0)]
    assert [shop.get("company", c.id).values["headcount"] for c in created] == [0, 1, 2, 3, 4]


def test_a_type_change_converts_and_reports_what_cannot_convert(shop):
    ok = shop.create("company", {"name": "A", "credit_limit": "12"})
    bad = shop.create("company", {"name": "B", "credit_limit": "12.50"})

    def to_integer(document):
        credit = field(document, "company", "credit_limit")
        for option in ("precision", "scale"):
            credit.pop(option)
        credit["type"] = "integer"

    republish(shop, to_integer)
    run_pending(shop.tenant.pk)
    assert jobs(shop) == [("convert_field", "done", 2, 1)]
    assert shop.get("company", ok.id).values["credit_limit"] == 12
    assert "credit_limit" not in raw_data(shop, bad.id)
    with tenant_context(shop.tenant):
        failure = SchemaJobFailure.objects.get()
    assert (failure.record_id, failure.value) == (bad.id, "12.50")
    assert "not a whole number" in failure.reason


def test_conversion_to_a_wider_type_keeps_every_value(shop):
    company = shop.create("company", {"name": "A", "employees": 42})
    republish(shop, lambda d: field(d, "company", "employees").update(type="decimal"))
    run_pending(shop.tenant.pk)
    assert shop.get("company", company.id).values["employees"] == Decimal("42.00")


def test_a_job_interrupted_between_batches_resumes(shop):
    created = [shop.create("company", {"name": f"C{n}", "employees": n}) for n in range(3)]
    republish(
        shop,
        lambda d: field(d, "company", "employees").update(key="staff", renamed_from="employees"),
    )
    with tenant_context(shop.tenant):
        job_id = SchemaJob.objects.get().pk
    run_batch(shop.tenant.pk, job_id, batch_size=1)
    # a worker dies here; the next run picks up after the committed batch
    run_pending(shop.tenant.pk, batch_size=1)
    assert jobs(shop) == [("rename_field", "done", 3, 0)]
    assert [shop.get("company", c.id).values["staff"] for c in created] == [0, 1, 2]


def test_a_removed_field_keeps_its_data_until_purged(shop, capsys):
    company = shop.create("company", {"name": "A", "employees": 7})

    def remove(document):
        document["entities"][0]["fields"] = [
            f for f in document["entities"][0]["fields"] if f["key"] != "employees"
        ]

    republish(shop, remove)
    assert jobs(shop) == []
    assert raw_data(shop, company.id)["employees"] == 7
    call_command(
        "records", "purge-field", "--tenant", "shop", "--entity", "company", "--field", "employees"
    )
    call_command("records", "run-jobs", "--tenant", "shop")
    assert "employees" not in raw_data(shop, company.id)
    call_command("records", "jobs", "--tenant", "shop")
    assert "purge_field    company              done     100.0%  1/1 rows, 0 failed" in (
        capsys.readouterr().out
    )


def test_purging_a_field_that_still_exists_is_refused(shop):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=r"\[invalid\] company.employees is still a field"):
        call_command(
            "records",
            "purge-field",
            "--tenant",
            "shop",
            "--entity",
            "company",
            "--field",
            "employees",
        )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_publish_hands_its_job_to_a_real_worker(celery_worker_queue, make_tenant):
    import time

    from records.service import RecordService

    made = make_tenant("jobs", pack="starter")
    service = RecordService(made.tenant, made.admin)
    company = service.create("company", {"name": "A", "employees": 3})
    republish(
        service,
        lambda d: field(d, "company", "employees").update(
            key="headcount", renamed_from="employees"
        ),
    )
    deadline = time.monotonic() + 60
    while jobs(service)[0][1] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert jobs(service) == [("rename_field", "done", 1, 0)]
    assert service.get("company", company.id).values["headcount"] == 3
