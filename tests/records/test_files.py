"""File fields through the records service: an upload checked and kept under a random name,
its value saved with the record, refusals that keep nothing and change nothing, upload ids,
the files no record holds cleaned away, and the options checked at publish."""

import copy
import datetime as dt
import os

import pytest
from django.core.management import call_command

from metadata.errors import ConfigError
from metadata.fieldtypes import FieldValueError
from metadata.publish import active_version, document_of, publish
from records import files
from records.errors import RecordError
from records.service import RecordService
from tenants.context import tenant_context
from tests.file_helpers import DOCX, EXE, PDF, PNG, desk, kept, media, upload

__all__ = ["desk", "media"]  # fixtures


def refusal(call) -> tuple[str, list[tuple]]:
    with pytest.raises(RecordError) as caught:
        call()
    return caught.value.code, [(e.field, e.code) for e in caught.value.errors]


def test_an_upload_is_kept_under_a_random_name_and_saved_with_the_record(desk):
    # given a PDF uploaded for the deal's contract
    value = desk.service.store_file("deal", "contract", upload("Q3 合同.pdf", PDF))
    # then it is kept under the tenant's folder by its random id, never by its name
    assert set(value) == {"id", "name", "size", "content_type"}
    assert value["name"] == "Q3 合同.pdf"
    assert (value["size"], value["content_type"]) == (len(PDF), "application/pdf")
    stored = desk.media / "files" / str(desk.tenant.pk) / value["id"][:2] / value["id"]
    assert kept(desk.media) == [stored]
    assert stored.read_bytes() == PDF
    # when a deal is created with it
    deal = desk.service.create(
        "deal", {"name": "Big", "company": desk.company_id, "contract": value}
    )
    # then the record holds the value, and reads it back
    assert desk.service.get("deal", deal.id).values["contract"] == value


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("big.pdf", PDF + b" " * 2000, "file_too_large"),
        ("notes.txt", b"plain text", "file_type_refused"),  # not accepted by the field
        ("program.pdf", EXE, "file_type_refused"),  # forged: not a PDF inside
        ("photo.png", PDF, "file_type_refused"),  # a PDF named .png
        ("letter.docx", PDF, "file_type_refused"),  # a .docx is a zip
        ("empty.pdf", b"", "file_empty"),
    ],
)
def test_a_bad_file_is_refused_at_its_field_and_nothing_is_kept(desk, name, content, code):
    # when a file the field does not take is uploaded
    # then it is refused with the field's error, and no file is kept
    assert refusal(lambda: desk.service.store_file("deal", "contract", upload(name, content))) == (
        "invalid",
        [("contract", code)],
    )
    assert kept(desk.media) == []


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("scan.PNG", PNG, "image/png"),
        (
            "offer.docx",
            DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("contract.pdf", PDF, "application/pdf"),
    ],
)
def test_accepted_types_by_extension_type_and_family(desk, name, content, content_type):
    value = desk.service.store_file("deal", "contract", upload(name, content))
    assert value["content_type"] == content_type


def test_a_field_without_accept_takes_any_file_and_names_unknown_ones_by_content(desk):
    assert desk.service.store_file("deal", "memo", upload("data.bin", b"\x01\x02"))[
        "content_type"
    ] == ("application/octet-stream")
    assert desk.service.store_file("deal", "memo", upload("scan", PNG))["content_type"] == (
        "image/png"
    )
    # text holding binary is not text
    assert refusal(lambda: desk.service.store_file("deal", "memo", upload("a.txt", EXE))) == (
        "invalid",
        [("memo", "file_type_refused")],
    )


def test_the_platform_limit_caps_every_field(desk, settings):
    settings.FILE_MAX_SIZE_MB = 0.00001  # 10 bytes
    assert refusal(lambda: desk.service.store_file("deal", "memo", upload("a.pdf", PDF))) == (
        "invalid",
        [("memo", "file_too_large")],
    )


def test_uploading_needs_write_access_to_a_file_field(desk):
    auditor = RecordService(desk.tenant, desk.auditor)
    # a field hidden from the user does not exist for them
    assert refusal(lambda: auditor.store_file("deal", "contract", upload("a.pdf", PDF))) == (
        "invalid",
        [("contract", "unknown_field")],
    )
    # a field they read only
    assert refusal(lambda: auditor.store_file("deal", "memo", upload("a.pdf", PDF)))[0] == (
        "permission_denied"
    )
    # not a file field
    assert refusal(lambda: desk.service.store_file("deal", "name", upload("a.pdf", PDF))) == (
        "invalid",
        [("name", "not_a_file_field")],
    )
    assert kept(desk.media) == []


def test_a_refused_save_leaves_the_record_unchanged(desk):
    first = desk.service.store_file("deal", "contract", upload("a.pdf", PDF))
    deal = desk.service.create("deal", {"name": "D", "company": desk.company_id, "contract": first})
    # a value the field does not take (an image type sneaked into a value: too large)
    forged = {**first, "size": 10**9}
    assert refusal(lambda: desk.service.update("deal", deal.id, {"contract": forged})) == (
        "invalid",
        [("contract", "file_too_large")],
    )
    wrong_type = {**first, "name": "a.exe", "content_type": "application/x-msdownload"}
    assert refusal(lambda: desk.service.update("deal", deal.id, {"contract": wrong_type})) == (
        "invalid",
        [("contract", "file_type_refused")],
    )
    # a file the platform never kept
    missing = {**first, "id": "f" * 32}
    assert refusal(lambda: desk.service.update("deal", deal.id, {"contract": missing})) == (
        "invalid",
        [("contract", "file_missing")],
    )
    after = desk.service.get("deal", deal.id)
    assert (after.version, after.values["contract"]) == (1, first)


def test_replacing_and_removing_a_file(desk):
    first = desk.service.store_file("deal", "contract", upload("a.pdf", PDF))
    deal = desk.service.create("deal", {"name": "D", "company": desk.company_id, "contract": first})
    second = desk.service.store_file("deal", "contract", upload("b.png", PNG))
    replaced = desk.service.update("deal", deal.id, {"contract": second})
    assert replaced.values["contract"] == second
    removed = desk.service.update("deal", deal.id, {"contract": None})
    assert "contract" not in removed.values
    assert (
        desk.service.query(
            "deal", filter_tree={"field": "contract", "op": "is_null", "value": True}
        )
        .rows[0]
        .id
        == deal.id
    )


def test_an_upload_id_names_the_file_in_its_tenant_only(desk, make_tenant):
    value = desk.service.store_file("deal", "contract", upload("a.pdf", PDF))
    token = files.upload_id(desk.tenant.pk, value)
    deal = desk.service.create("deal", {"name": "D", "company": desk.company_id, "contract": token})
    assert deal.values["contract"] == value
    # another tenant cannot use it
    other = make_tenant("other", pack="starter")
    with tenant_context(other.tenant), pytest.raises(FieldValueError) as caught:
        files.from_upload_id(token)
    assert caught.value.code == "invalid_upload"
    # a forged or altered one names nothing
    assert refusal(
        lambda: desk.service.update("deal", deal.id, {"contract": token[:-2] + "xx"})
    ) == ("invalid", [("contract", "invalid_upload")])


def test_bulk_rows_take_files_and_upload_ids(desk):
    # given two stored files, one named by its upload id
    first = desk.service.store_file("deal", "contract", upload("a.pdf", PDF))
    second = desk.service.store_file("deal", "contract", upload("b.png", PNG))
    rows = [
        {"name": "A", "company": desk.company_id, "contract": first},
        {
            "name": "B",
            "company": desk.company_id,
            "contract": files.upload_id(desk.tenant.pk, second),
        },
    ]
    # when the rows are created in bulk (validated in a second thread)
    created = desk.service.bulk_create("deal", rows, batch_size=1).created
    # then each record holds its file
    assert [desk.service.get("deal", pk).values["contract"] for pk in created] == [first, second]


def test_files_no_record_holds_are_cleaned_once_old(desk):
    held = desk.service.store_file("deal", "contract", upload("held.pdf", PDF))
    deal = desk.service.create("deal", {"name": "D", "company": desk.company_id, "contract": held})
    replaced = desk.service.store_file("deal", "contract", upload("old.pdf", PDF))
    desk.service.update("deal", deal.id, {"contract": replaced})
    desk.service.update("deal", deal.id, {"contract": held})  # `replaced` is held by none
    in_the_bin = desk.service.store_file("deal", "memo", upload("bin.pdf", PDF))
    binned = desk.service.create(
        "deal", {"name": "B", "company": desk.company_id, "memo": in_the_bin}
    )
    desk.service.delete("deal", binned.id)  # in the recycle bin: still held
    fresh = desk.service.store_file("deal", "memo", upload("fresh.pdf", PDF))
    path = lambda value: files.path_of(desk.tenant.pk, value["id"])  # noqa: E731
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).timestamp()
    for value in (held, replaced, in_the_bin):
        os.utime(desk.media / path(value), (old, old))
    # a dry run lists and keeps
    call_command("clean_files", "--tenant", desk.tenant.slug, "--dry-run")
    assert len(kept(desk.media)) == 4
    # then only the old file no record holds goes; the fresh upload may still be saved
    assert files.clean(desk.tenant) == [path(replaced)]
    names = {p.name for p in kept(desk.media)}
    assert names == {held["id"], in_the_bin["id"], fresh["id"]}


@pytest.mark.django_db(transaction=True)  # the worker reads what the test committed
def test_the_beats_daily_task_cleans_every_tenants_files_in_a_worker(desk, test_task_queue):
    from config.celery import app
    from records.tasks import clean_files
    from tests.fixtures import Worker, worker_environment

    assert app.conf.beat_schedule["records-clean-files"]["task"] == "records.tasks.clean_files"
    held = desk.service.store_file("deal", "contract", upload("held.pdf", PDF))
    desk.service.create("deal", {"name": "D", "company": desk.company_id, "contract": held})
    dropped = desk.service.store_file("deal", "contract", upload("dropped.pdf", PDF))
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).timestamp()
    for value in (held, dropped):
        os.utime(desk.media / files.path_of(desk.tenant.pk, value["id"]), (old, old))
    worker = Worker(
        test_task_queue, {**worker_environment(test_task_queue), "MEDIA_ROOT": str(desk.media)}
    )
    try:
        assert clean_files.delay().get(timeout=60) == 1
    finally:
        worker.stop()
    assert [p.name for p in kept(desk.media)] == [held["id"]]


def test_a_file_is_not_groupable_sortable_or_filterable_beyond_emptiness(desk):
    with pytest.raises(RecordError) as grouped:
        desk.service.aggregate("deal", group_by=[{"field": "contract"}])
    assert grouped.value.code == "invalid_query"
    with pytest.raises(RecordError) as sorted_:
        desk.service.query("deal", order_by=[{"field": "contract"}])
    assert sorted_.value.code == "invalid_query"
    with pytest.raises(RecordError) as filtered:
        desk.service.query("deal", filter_tree={"field": "contract", "op": "eq", "value": "a"})
    assert filtered.value.code == "invalid_query"


# --- the options at publish ---------------------------------------------------------------


def publish_problems(tenant, options: dict) -> list[str]:
    document = copy.deepcopy(document_of(active_version(tenant)))
    deal = next(e for e in document["entities"] if e["key"] == "deal")
    deal["fields"].append({"key": "scan", "type": "file", **options})
    with pytest.raises(ConfigError) as caught:
        publish(tenant, document=document)
    return [f"{p.path}: {p.message}" for p in caught.value.problems]


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (
            {"max_size_mb": 26},
            "entities[1].fields[11].max_size_mb: at most 25 MB: the platform's FILE_MAX_SIZE_MB",
        ),
        ({"max_size_mb": 0}, "entities[1].fields[11].max_size_mb: 0 is less than or equal to"),
        ({"accept": ["pdf"]}, "entities[1].fields[11].accept[0]: 'pdf' does not match"),
        ({"accept": []}, "entities[1].fields[11].accept: [] should be non-empty"),
        (
            {"accept": [".pdf", ".pdf"]},
            "entities[1].fields[11].accept[1]: '.pdf' appears twice",
        ),
        ({"unique": True}, "entities[1].fields[11].unique: a file field cannot be unique"),
        ({"indexed": True}, "entities[1].fields[11].indexed: a file field cannot be indexed"),
        ({"options": []}, "Unevaluated properties are not allowed ('options' was unexpected)"),
    ],
)
def test_file_options_are_checked_at_publish(desk, options, problem):
    problems = publish_problems(desk.tenant, options)
    assert len(problems) == 1
    assert problem in problems[0]


def test_the_platform_limit_is_read_when_publishing(desk, settings):
    settings.FILE_MAX_SIZE_MB = 100
    document = copy.deepcopy(document_of(active_version(desk.tenant)))
    deal = next(e for e in document["entities"] if e["key"] == "deal")
    deal["fields"].append({"key": "scan", "type": "file", "max_size_mb": 80, "accept": ["image/*"]})
    assert publish(desk.tenant, document=document).number == 3
