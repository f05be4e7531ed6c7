"""Files of file fields, kept through Django's storage API (``STORAGES["files"]``).

A file is kept under ``files/<tenant id>/<ab>/<id>``, ``id`` 32 random hex digits: never the
user's file name, which the record keeps only to show and to name downloads. Uploading checks
the content before anything is written: its size against the field's limit, its type from the
name's extension (Python's ``mimetypes`` table and a few of its own) against the field's
``accept``, and the first bytes against the signatures of the types that have one, so that a
program renamed ``report.pdf`` is refused (``file_type_refused``).

The records service's ``store_file`` calls :func:`store` and hands back the value for
``create`` / ``update``; the API's ``POST /api/files/`` gives an upload id (a signed, 24-hour
name of that value for the tenant) that a mutation's input names instead. Files no record
holds any more (replaced, removed, purged, or uploaded for a save that was refused) are
deleted by :func:`clean` (``manage.py clean_files``) once they are older than the upload ids.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import secrets
from typing import Any

from django.core import signing
from django.core.files.storage import storages
from django.db import connection
from django.utils import timezone

from metadata.fieldtypes.base import FieldValueError
from metadata.fieldtypes.files import check_limits, clean_name, extension, size_limit
from tenants.context import current_tenant_id, tenant_context

UPLOAD_TTL = dt.timedelta(hours=24)  # how long an upload id names its file
UPLOAD_SALT = "records.files.upload"
HEAD = 2048  # bytes read to tell the content's type
OCTET_STREAM = "application/octet-stream"

# Extensions Python's own table lacks (that table is used alone: the same on every machine).
EXTRA_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".msg": "application/vnd.ms-outlook",
    ".webp": "image/webp",
    ".heif": "image/heif",
    ".avif": "image/avif",
    ".gz": "application/gzip",
    ".tgz": "application/gzip",
    ".7z": "application/x-7z-compressed",
    ".rar": "application/vnd.rar",
    ".md": "text/markdown",
    ".rtf": "application/rtf",
}
TYPES = mimetypes.MimeTypes()

# Content families by their first bytes: (family, [(offset, bytes)...]).
SIGNATURES = (
    ("pdf", [(0, b"%PDF-")]),
    ("png", [(0, b"\x89PNG\r\n\x1a\n")]),
    ("jpeg", [(0, b"\xff\xd8\xff")]),
    ("gif", [(0, b"GIF87a")]),
    ("gif", [(0, b"GIF89a")]),
    ("webp", [(0, b"RIFF"), (8, b"WEBP")]),
    ("tiff", [(0, b"II*\x00")]),
    ("tiff", [(0, b"MM\x00*")]),
    ("zip", [(0, b"PK\x03\x04")]),
    ("zip", [(0, b"PK\x05\x06")]),
    ("ole", [(0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")]),  # doc, xls, ppt, msg
    ("gzip", [(0, b"\x1f\x8b")]),
    ("7z", [(0, b"7z\xbc\xaf\x27\x1c")]),
    ("rar", [(0, b"Rar!\x1a\x07")]),
    ("iso_media", [(4, b"ftyp")]),  # mp4, mov, m4a, heic, avif
    ("executable", [(0, b"\x7fELF")]),
)
# The family a content type's files belong to, for the types that have a signature.
FAMILY_OF = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/tiff": "tiff",
    "application/zip": "zip",
    "application/epub+zip": "zip",
    **{EXTRA_TYPES[ext]: "zip" for ext in (".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp")},
    "application/msword": "ole",
    "application/vnd.ms-excel": "ole",
    "application/vnd.ms-powerpoint": "ole",
    "application/vnd.ms-outlook": "ole",
    "application/gzip": "gzip",
    "application/x-7z-compressed": "7z",
    "application/vnd.rar": "rar",
    "video/mp4": "iso_media",
    "video/quicktime": "iso_media",
    "video/3gpp": "iso_media",
    "audio/mp4": "iso_media",
    "image/heic": "iso_media",
    "image/heif": "iso_media",
    "image/avif": "iso_media",
}
# The type a file with no known extension takes from its content.
FAMILY_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "zip": "application/zip",
    "gzip": "application/gzip",
    "7z": "application/x-7z-compressed",
    "rar": "application/vnd.rar",
    "iso_media": "video/mp4",
}
TEXT_TYPES = ("application/json", "application/xml", "message/rfc822", "image/svg+xml")


def storage():
    return storages["files"]


def path_of(tenant_id: int, file_id: str) -> str:
    return f"files/{int(tenant_id)}/{file_id[:2]}/{file_id}"


def type_of_name(name: str) -> str:
    ext = extension(name)
    return EXTRA_TYPES.get(ext) or TYPES.guess_type(f"x{ext}")[0] or OCTET_STREAM


def family_of(head: bytes) -> str | None:
    for family, parts in SIGNATURES:
        if all(head[offset : offset + len(part)] == part for offset, part in parts):
            return family
    return None


def sniff(head: bytes, name: str) -> str:
    """The content type of a file named ``name`` starting with ``head``, or file_type_refused
    when the content is not what the name says (a program named ``.pdf``, text with binary
    in it)."""
    content_type = type_of_name(name)
    found = family_of(head)
    expected = FAMILY_OF.get(content_type)
    forged = FieldValueError(
        "file_type_refused",
        f"the content of {name!r} is not what its name says ({content_type})",
    )
    if found != expected:
        if expected is None and content_type == OCTET_STREAM and found in FAMILY_TYPES:
            return FAMILY_TYPES[found]  # no known extension: the content says what it is
        raise forged
    textual = content_type.startswith("text/") or content_type in TEXT_TYPES
    if textual and b"\x00" in head:
        raise forged
    return content_type


def store(tenant_id: int, field: dict, upload) -> dict:
    """Check an uploaded file (a Django ``File``) against the field and keep it; the value a
    record holds for it. FieldValueError, with nothing written, when the field refuses it."""
    name = clean_name(getattr(upload, "name", ""))
    size = upload.size
    if not size:
        raise FieldValueError("file_empty", f"{name!r} is empty")
    if size > size_limit(field):  # before reading any of it
        check_limits(field, name, size, OCTET_STREAM)
    upload.seek(0)
    head = upload.read(HEAD)
    upload.seek(0)
    content_type = sniff(head, name)
    check_limits(field, name, size, content_type)
    file_id = secrets.token_hex(16)
    where = path_of(tenant_id, file_id)
    saved = storage().save(where, upload)
    if saved != where:  # a storage that renamed it: the record could not find it again
        storage().delete(saved)
        raise RuntimeError(f"the file storage kept {where} as {saved}")
    return {"id": file_id, "name": name, "size": size, "content_type": content_type}


def is_kept(file_id: str) -> bool:
    """Whether the tenant of the open transaction keeps this file."""
    tenant_id = current_tenant_id()
    return tenant_id is not None and storage().exists(path_of(tenant_id, file_id))


def open_file(tenant_id: int, value: dict):
    """The kept file of a stored value, open for reading; FileNotFoundError when it is gone."""
    return storage().open(path_of(tenant_id, value["id"]), "rb")


def discard(tenant_id: int, values: list[dict]) -> None:
    """Delete files just stored for a save that was refused (no record holds them)."""
    for value in values:
        storage().delete(path_of(tenant_id, value["id"]))


# -- upload ids (the API) ----------------------------------------------------------------


def upload_id(tenant_id: int, value: dict) -> str:
    """A signed name of a stored value, valid for UPLOAD_TTL in this tenant only."""
    return signing.dumps({"t": tenant_id, "v": value}, salt=UPLOAD_SALT, compress=True)


def from_upload_id(text: str) -> Any:
    """The value an upload id names, for the tenant of the open transaction."""
    try:
        signed = signing.loads(text, salt=UPLOAD_SALT, max_age=UPLOAD_TTL)
    except signing.BadSignature as error:  # SignatureExpired too
        raise FieldValueError(
            "invalid_upload",
            "not an upload id from POST /api/files/, or older than "
            f"{int(UPLOAD_TTL.total_seconds() // 3600)} hours",
        ) from error
    if not isinstance(signed, dict) or signed.get("t") != current_tenant_id():
        raise FieldValueError("invalid_upload", "the upload id belongs to another company")
    return signed.get("v")


# -- files no record holds ---------------------------------------------------------------


def held_ids(tenant) -> set[str]:
    """The file ids the tenant's records hold, live or in the recycle bin, in any field (one
    a newer configuration removed too, which a rollback may bring back)."""
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT v->>'id' FROM records_record r, jsonb_each(r.data) AS e(k, v) "
            "WHERE jsonb_typeof(v) = 'object' AND v ? 'content_type' AND v ? 'id'"
        )
        return {row[0] for row in cursor.fetchall()}


def kept_files(tenant_id: int) -> list[str]:
    """The paths of the tenant's kept files."""
    kept = []
    root = f"files/{int(tenant_id)}"
    try:
        folders, _ = storage().listdir(root)
    except FileNotFoundError:
        return []
    for folder in folders:
        _, names = storage().listdir(f"{root}/{folder}")
        kept += [f"{root}/{folder}/{name}" for name in names]
    return kept


def clean(tenant, *, older_than: dt.timedelta = UPLOAD_TTL, dry_run: bool = False) -> list[str]:
    """Delete the tenant's files that no record holds and that were kept more than
    ``older_than`` ago (younger ones may still be named by an upload id); their paths."""
    held = held_ids(tenant)
    before = timezone.now() - older_than
    deleted = []
    for path in kept_files(tenant.pk):
        if path.rsplit("/", 1)[-1] in held or storage().get_modified_time(path) > before:
            continue
        if not dry_run:
            storage().delete(path)
        deleted.append(path)
    return deleted
