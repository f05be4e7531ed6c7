"""File fields in the app: the record form's file input (upload, replace, remove, a refusal that
keeps nothing), the record page's download link, and downloads only for users who may read
the record and the field."""

import copy

import pytest

from metadata.publish import active_version, document_of, publish
from records.service import RecordService
from tests.file_helpers import PDF, PNG, desk, kept, media, upload
from tests.ui_builder.test_studio import draft_entity, save_item, studio

__all__ = ["desk", "media", "studio"]  # fixtures
DEAL_LIST = {
    "key": "deals",
    "type": "list",
    "entity": "deal",
    "default": True,
    "columns": ["name", "stage", "contract"],
}


@pytest.fixture
def browser(desk, client):
    def sign_in(user):
        client.force_login(user)
        session = client.session
        session["tenant_id"] = desk.tenant.pk
        session.save()
        return client

    return sign_in


def inputs_of(response) -> dict:
    return {
        item.key: item for section in response.context["edit"].sections for item in section.inputs
    }


def a_deal(desk, **values):
    return desk.service.create("deal", {"name": "Deal", "company": desk.company_id, **values})


def test_the_form_takes_a_file_and_the_page_links_its_download(desk, browser):
    client = browser(desk.admin)
    form = client.get("/app/r/deal/new/")
    assert b'enctype="multipart/form-data"' in form.content
    contract = inputs_of(form)["contract"]
    assert (contract.kind, contract.accept) == ("file", "application/pdf,image/*,.docx")
    assert (
        b'type="file" name="contract" id="f-contract" accept="application/pdf,image/*,.docx"'
        in (form.content)
    )
    saved = client.post(
        "/app/r/deal/new/",
        {
            "name": "With contract",
            "company": str(desk.company_id),
            "contract": upload("合同.pdf", PDF),
        },
    )
    assert saved.status_code == 302
    deal = desk.service.query(
        "deal", filter_tree={"field": "name", "op": "eq", "value": "With contract"}
    ).rows[0]
    assert deal.values["contract"]["name"] == "合同.pdf"
    assert len(kept(desk.media)) == 1
    url = f"/app/r/deal/{deal.id}/files/contract/"
    page = client.get(f"/app/r/deal/{deal.id}/")
    assert f'<a href="{url}" download>合同.pdf</a>'.encode() in page.content
    edit = client.get(f"/app/r/deal/{deal.id}/edit/")
    assert inputs_of(edit)["contract"].file.url == url
    assert b'name="remove_contract"' in edit.content


def test_the_form_replaces_and_removes_the_file(desk, browser):
    client = browser(desk.admin)
    deal = a_deal(desk, contract=desk.service.store_file("deal", "contract", upload("a.pdf", PDF)))
    url = f"/app/r/deal/{deal.id}/edit/"
    replaced = client.post(
        url, {"name": "Deal", "version": "1", "contract": upload("scan.png", PNG)}
    )
    assert replaced.status_code == 302
    assert desk.service.get("deal", deal.id).values["contract"]["name"] == "scan.png"
    # saving other fields keeps the file
    client.post(url, {"name": "Renamed", "version": "2"})
    assert desk.service.get("deal", deal.id).values["contract"]["name"] == "scan.png"
    removed = client.post(url, {"name": "Renamed", "version": "3", "remove_contract": "1"})
    assert removed.status_code == 302
    assert "contract" not in desk.service.get("deal", deal.id).values


def test_a_refused_file_is_shown_at_its_field_and_nothing_changes(desk, browser):
    client = browser(desk.admin)
    first = desk.service.store_file("deal", "contract", upload("a.pdf", PDF))
    deal = a_deal(desk, contract=first)
    refused = client.post(
        f"/app/r/deal/{deal.id}/edit/",
        {"name": "Changed", "version": "1", "contract": upload("big.pdf", PDF * 40)},
    )
    assert refused.status_code == 400
    assert inputs_of(refused)["contract"].errors == ["the file is 2.1 KB; at most 1 KB is taken"]
    after = desk.service.get("deal", deal.id)
    assert (after.version, after.values["name"], after.values["contract"]) == (1, "Deal", first)
    assert len(kept(desk.media)) == 1  # only the first


def test_a_refused_file_speaks_the_users_language(desk, browser):
    refused = browser(desk.admin).post(
        "/app/r/deal/new/",
        {"name": "D", "company": str(desk.company_id), "contract": upload("a.txt", b"text")},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert refused.status_code == 400
    assert inputs_of(refused)["contract"].errors == ["此处不接受这种类型的文件。"]
    assert kept(desk.media) == []


def test_a_file_kept_for_a_save_refused_elsewhere_is_offered_again(desk, browser):
    client = browser(desk.admin)
    refused = client.post(
        "/app/r/deal/new/",
        {"name": "", "company": str(desk.company_id), "contract": upload("offer.pdf", PDF)},
    )
    assert refused.status_code == 400
    contract = inputs_of(refused)["contract"]
    assert (contract.upload_name, contract.errors) == ("offer.pdf", [])
    assert f'name="upload_contract" value="{contract.upload}"'.encode() in refused.content
    saved = client.post(
        "/app/r/deal/new/",
        {"name": "Second try", "company": str(desk.company_id), "upload_contract": contract.upload},
    )
    assert saved.status_code == 302
    deal = desk.service.query("deal").rows[0]
    assert deal.values["contract"]["name"] == "offer.pdf"
    assert len(kept(desk.media)) == 1


def test_a_download_sends_the_file_under_its_name(desk, browser):
    deal = a_deal(
        desk, contract=desk.service.store_file("deal", "contract", upload("Q3 合同.pdf", PDF))
    )
    response = browser(desk.admin).get(f"/app/r/deal/{deal.id}/files/contract/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''Q3%20%E5%90%88%E5%90%8C.pdf"
    )
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_download_is_a_404_for_whoever_may_not_read_the_record_or_the_field(desk, browser):
    deal = a_deal(
        desk,
        contract=desk.service.store_file("deal", "contract", upload("a.pdf", PDF)),
        memo=desk.service.store_file("deal", "memo", upload("memo.png", PNG)),
    )
    contract = f"/app/r/deal/{deal.id}/files/contract/"
    memo = f"/app/r/deal/{deal.id}/files/memo/"
    # a rep reads only their own deals: neither file
    rep = browser(desk.rep)
    assert (rep.get(contract).status_code, rep.get(memo).status_code) == (404, 404)
    # an auditor reads the deal and its memo, not its contract (hidden from the role)
    auditor = browser(desk.auditor)
    assert RecordService(desk.tenant, desk.auditor).get("deal", deal.id).values["name"] == "Deal"
    assert (auditor.get(contract).status_code, auditor.get(memo).status_code) == (404, 200)
    # the rep downloads a file of their own deal
    own = RecordService(desk.tenant, desk.rep)
    mine = own.create(
        "deal",
        {
            "name": "Mine",
            "company": desk.company_id,
            "memo": own.store_file("deal", "memo", upload("m.pdf", PDF)),
        },
    )
    assert browser(desk.rep).get(f"/app/r/deal/{mine.id}/files/memo/").status_code == 200
    # nothing that is not a file, or no file, or no record
    admin = browser(desk.admin)
    assert admin.get(f"/app/r/deal/{deal.id}/files/name/").status_code == 404
    assert admin.get(f"/app/r/deal/{mine.id}/files/contract/").status_code == 404
    assert admin.get("/app/r/deal/999999/files/contract/").status_code == 404


def test_the_list_links_the_file_and_its_csv_export_writes_the_name(desk, browser):
    document = copy.deepcopy(document_of(active_version(desk.tenant)))
    document["layouts"].append(DEAL_LIST)
    publish(desk.tenant, document=document)
    deal = a_deal(desk, contract=desk.service.store_file("deal", "contract", upload("a.pdf", PDF)))
    listed = browser(desk.admin).get("/app/r/deal/")
    columns = {column.key: column for column in listed.context["page"].columns}
    assert (columns["stage"].sort_query, columns["contract"].sort_query) == ("sort=stage", "")
    assert f'<a href="/app/r/deal/{deal.id}/files/contract/" download>a.pdf</a>'.encode() in (
        listed.content
    )
    response = browser(desk.admin).get("/app/r/deal/export.csv")
    body = b"".join(response.streaming_content).decode()
    assert "a.pdf" in body
    assert "<a" not in body


def test_the_studio_edits_a_file_fields_options(studio):
    page = studio.client.get("/studio/config/entities/deal/fields/new/?type=file")
    properties = page.context["form"].schema["properties"]
    assert properties["max_size_mb"]["type"] == "number"
    assert properties["accept"]["items"]["type"] == "string"
    assert "options" not in properties
    url = "/studio/config/entities/deal/fields/new/?type=file"
    item = {"key": "scan", "type": "file", "label": {"en": "Scan"}, "max_size_mb": 500}
    refused = save_item(studio, url, item)
    assert refused.status_code == 422
    assert refused.context["form"].fields["item"].widget.error_map == {
        "max_size_mb": ["at most 25 MB: the platform's FILE_MAX_SIZE_MB"]
    }
    saved = save_item(studio, url, {**item, "max_size_mb": 5, "accept": ["application/pdf"]})
    assert saved.status_code == 302
    assert draft_entity(studio, "deal")["fields"][-1] == {
        "key": "scan",
        "type": "file",
        "label": {"en": "Scan"},
        "max_size_mb": 5,
        "accept": ["application/pdf"],
    }
