"""Errors of the records service, each with a stable code (listed in docs/records.md)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RecordErrorCode(StrEnum):
    UNKNOWN_ENTITY = "unknown_entity"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    VERSION_CONFLICT = "version_conflict"
    DELETE_RESTRICTED = "delete_restricted"
    NOT_DELETED = "not_deleted"
    NO_CONFIGURATION = "no_configuration"
    INVALID_QUERY = "invalid_query"
    PERMISSION_DENIED = "permission_denied"
    RECORD_LOCKED = "record_locked"  # pending approval (workflows/approvals.py)


@dataclass(frozen=True)
class FieldError:
    field: str | None
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"field": self.field, "code": self.code, "message": self.message}


class RecordError(Exception):
    def __init__(self, code: RecordErrorCode, message: str, errors: list[FieldError] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = errors or []

    def __str__(self) -> str:
        details = "; ".join(f"{e.field or '*'}: {e.message}" for e in self.errors)
        return f"[{self.code}] {self.message}" + (f" ({details})" if details else "")
