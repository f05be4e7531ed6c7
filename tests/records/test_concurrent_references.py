"""Lookups stay consistent when a target is deleted while a reference to it is being written."""

import threading
import time

import pytest
from django.db import connection

from records.errors import RecordError
from records.service import RecordService
from tenants.context import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(target, results, key):
    def run():
        try:
            results[key] = target()
        except RecordError as error:
            results[key] = error.code
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_delete_waits_for_an_open_reference_and_is_then_restricted(make_tenant):
    made = make_tenant("race", pack="starter")
    service = RecordService(made.tenant, made.admin)
    company = service.create("company", {"name": "Target"})
    referenced, release, results = threading.Event(), threading.Event(), {}

    def create_deal_and_hold():
        with tenant_context(made.tenant, user=made.admin):
            deal = service.create("deal", {"name": "D", "company": company.id})
            referenced.set()
            release.wait(10)
        return deal.id

    writer = in_thread(create_deal_and_hold, results, "writer")
    referenced.wait(10)
    deleter = in_thread(lambda: service.delete("company", company.id), results, "deleter")
    time.sleep(0.5)
    assert deleter.is_alive()  # blocked by the writer's FOR KEY SHARE lock
    release.set()
    writer.join()
    deleter.join()
    assert results["deleter"] == "delete_restricted"
    assert service.get("company", company.id).deleted_at is None


def test_a_reference_waits_for_an_open_delete_and_is_then_refused(make_tenant):
    made = make_tenant("race2", pack="starter")
    service = RecordService(made.tenant, made.admin)
    company = service.create("company", {"name": "Target"})
    deleted, release, results = threading.Event(), threading.Event(), {}

    def delete_and_hold():
        with tenant_context(made.tenant, user=made.admin):
            service.delete("company", company.id)
            deleted.set()
            release.wait(10)

    deleter = in_thread(delete_and_hold, results, "deleter")
    deleted.wait(10)
    writer = in_thread(
        lambda: service.create("deal", {"name": "D", "company": company.id}), results, "writer"
    )
    time.sleep(0.5)
    assert writer.is_alive()  # waits for the delete's FOR UPDATE lock
    release.set()
    deleter.join()
    writer.join()
    assert results["writer"] == "invalid"
    with tenant_context(made.tenant):
        from records.models import Reference

        assert Reference.objects.filter(target_id=company.id).count() == 0
