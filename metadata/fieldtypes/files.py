"""A file attached to a record: one per field, kept by records/files.py.

The record holds what the file is, never the file itself:
``{"id": "<random key>", "name": "report.pdf", "size": 1234, "content_type": "application/pdf"}``.
Values come from an upload (records/files.py ``store`` checks the content, keeps it and gives
this object, or an upload id naming it for the API), so the type checks the object's shape, the
field's size and type limits, and that the file is kept for the tenant.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings

from metadata.fieldtypes.base import CEL_MAP, FieldType, FieldValueError, Problem, register

ACCEPT_ITEM = r"^(\.[a-z0-9][a-z0-9._+-]{0,15}|[a-z]+/(\*|[a-z0-9][a-z0-9.+-]{0,99}))$"
FILE_OPTIONS = {
    "max_size_mb": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 2000,
        "description": "The largest file taken, in MB (default and upper bound: the platform's "
        "FILE_MAX_SIZE_MB).",
    },
    "accept": {
        "type": "array",
        "minItems": 1,
        "maxItems": 50,
        "items": {"type": "string", "pattern": ACCEPT_ITEM},
        "description": 'What files are taken: extensions (".docx"), content types '
        '("application/pdf") or families ("image/*"); any file when absent.',
    },
}
FILE_ID = re.compile(r"^[0-9a-f]{32}$")
CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,99}/[a-z0-9][a-z0-9.+-]{0,99}$")
VALUE_KEYS = ("id", "name", "size", "content_type")
MAX_NAME = 255
MB = 1024 * 1024


def size_limit(field: dict) -> int:
    """The largest size in bytes the field takes: its own limit within the platform's."""
    platform = settings.FILE_MAX_SIZE_MB
    return int(min(field.get("max_size_mb", platform), platform) * MB)


def human_size(size: float) -> str:
    """``2.5 MB``, ``12 KB``, ``300 bytes``."""
    for unit, scale in (("MB", MB), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{int(size)} bytes"


def extension(name: str) -> str:
    """The name's extension in lower case with its dot (``.pdf``), or ``""``."""
    return PurePosixPath(name).suffix.lower()


def accepts(field: dict, name: str, content_type: str) -> bool:
    """Whether the field's ``accept`` list takes a file of this name and content type."""
    accept = field.get("accept")
    if not accept:
        return True
    for item in accept:
        if item.startswith("."):
            if extension(name) == item:
                return True
        elif item.endswith("/*"):
            if content_type.startswith(item[:-1]):
                return True
        elif content_type == item:
            return True
    return False


def clean_name(name: Any) -> str:
    """The name a file is shown and downloaded under: no folders, no control characters, at
    most 255 characters with its extension kept."""
    text = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    if text in ("", ".", ".."):
        return "file"
    if len(text) > MAX_NAME:
        suffix = extension(text)[:20]
        text = text[: MAX_NAME - len(suffix)] + suffix
    return text


def check_limits(field: dict, name: str, size: int, content_type: str) -> None:
    """file_too_large / file_type_refused for a file the field does not take."""
    limit = size_limit(field)
    if size > limit:
        raise FieldValueError(
            "file_too_large",
            f"the file is {human_size(size)}; at most {human_size(limit)} is taken",
        )
    if not accepts(field, name, content_type):
        raise FieldValueError(
            "file_type_refused",
            f"{name!r} ({content_type}) is not a type this field takes: "
            + ", ".join(field["accept"]),
        )


@register
class File(FieldType):
    key = "file"
    description = (
        "One file (an attachment): its name, size and content type; the file is kept apart."
    )
    option_schema = FILE_OPTIONS
    cel_type = CEL_MAP
    filter_operators = ("is_null",)
    sortable = False
    can_be_indexed = False
    widget = "file"
    graphql_type = "File"

    def check_options(self, field, path, ctx):
        platform = settings.FILE_MAX_SIZE_MB
        if field.get("max_size_mb", 0) > platform:
            yield Problem(
                f"{path}.max_size_mb",
                "above_platform_limit",
                f"at most {human_size(platform * MB)}: the platform's FILE_MAX_SIZE_MB",
            )
        seen = set()
        for index, item in enumerate(field.get("accept", [])):
            if item in seen:
                yield Problem(
                    f"{path}.accept[{index}]", "duplicate_accept", f"{item!r} appears twice"
                )
            seen.add(item)

    def normalize(self, value: Any, field: dict) -> dict:
        from records import files  # the storage; imported late (records imports metadata)

        if isinstance(value, str):
            value = files.from_upload_id(value)
        if not isinstance(value, dict):
            raise FieldValueError(
                "invalid_type", f"expected an upload id or a file, got {type(value).__name__}"
            )
        if set(value) != set(VALUE_KEYS):
            raise FieldValueError("invalid_file", f"a file has exactly {', '.join(VALUE_KEYS)}")
        file_id, name, size, content_type = (value[key] for key in VALUE_KEYS)
        if not isinstance(file_id, str) or not FILE_ID.match(file_id):
            raise FieldValueError("invalid_file", "the file id is not one the platform gives")
        if not isinstance(name, str) or clean_name(name) != name:
            raise FieldValueError("invalid_file", "the file name is not a plain file name")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise FieldValueError("invalid_file", "the size is a positive number of bytes")
        if not isinstance(content_type, str) or not CONTENT_TYPE.match(content_type):
            raise FieldValueError("invalid_file", f"{content_type!r} is not a content type")
        check_limits(field, name, size, content_type)
        if not files.is_kept(file_id):
            raise FieldValueError("file_missing", "the file is not kept (upload it again)")
        return {key: value[key] for key in VALUE_KEYS}

    def graphql_json_sql(self, stored, field):
        return None  # File objects carry their download URL: the planner builds them

    def to_cel(self, stored, field):
        return {key: stored[key] for key in VALUE_KEYS}

    def cel_sample(self, field, variant):
        return {
            "id": "0" * 32,
            "name": ["report.pdf", "photo.png"][variant],
            "size": [1234, 5678][variant],
            "content_type": ["application/pdf", "image/png"][variant],
        }
