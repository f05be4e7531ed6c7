"""What the tests of file fields share: a starter-pack tenant whose deals hold files, sample
contents of a few types, and the files kept under a temporary MEDIA_ROOT."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metadata.publish import active_version, document_of, publish
from records.service import RecordService
from tenants.context import tenant_context
from tenants.models import Membership, User
from tests.fixtures import PASSWORD

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
DOCX = b"PK\x03\x04\x14\x00\x06\x00" + b"[Content_Types].xml" + b"\x00" * 40
EXE = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 60
CONTRACT = {
    "key": "contract",
    "type": "file",
    "label": {"en": "Contract", "zh-Hans": "合同"},
    "max_size_mb": 0.001,  # 1048 bytes
    "accept": ["application/pdf", "image/*", ".docx"],
}
AUDITOR = {
    "key": "auditor",
    "label": {"en": "Auditor"},
    "entities": {"deal": {"read": "all", "fields": {"contract": "hidden"}}},
}


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def kept(media: Path) -> list[Path]:
    """The files kept under the temporary MEDIA_ROOT."""
    return sorted(path for path in media.rglob("*") if path.is_file())


@dataclass
class Desk:
    tenant: object
    admin: object
    service: RecordService
    rep: object
    auditor: object
    media: Path
    company_id: int


def with_file_fields(tenant) -> None:
    """The tenant's deals get ``contract`` (PDF, images, .docx; at most about 1 KB) and
    ``memo`` (any file); an ``auditor`` role reads deals without their contract."""
    document = copy.deepcopy(document_of(active_version(tenant)))
    deal = next(e for e in document["entities"] if e["key"] == "deal")
    deal["fields"] += [copy.deepcopy(CONTRACT), {"key": "memo", "type": "file"}]
    document["roles"].append(copy.deepcopy(AUDITOR))
    publish(tenant, document=document)


def member(tenant, email: str, roles: list[str]):
    user = User.objects.create_user(email=email, password=PASSWORD)
    with tenant_context(tenant):
        Membership.objects.create(tenant=tenant, user=user, roles=roles)
    return user


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def desk(make_tenant, media) -> Desk:
    made = make_tenant("files", pack="starter")
    with_file_fields(made.tenant)
    service = RecordService(made.tenant, made.admin)
    company = service.create("company", {"name": "Acme"})
    return Desk(
        tenant=made.tenant,
        admin=made.admin,
        service=service,
        rep=member(made.tenant, "rep@files.test", ["sales_rep"]),
        auditor=member(made.tenant, "auditor@files.test", ["auditor"]),
        media=media,
        company_id=company.id,
    )
