"""Errors of the tenants domain, each with a stable code."""

from enum import StrEnum


class TenantErrorCode(StrEnum):
    SLUG_INVALID = "slug_invalid"
    SLUG_RESERVED = "slug_reserved"
    SLUG_TAKEN = "slug_taken"
    NAME_REQUIRED = "name_required"
    PACK_INVALID = "pack_invalid"
    PACK_UNKNOWN = "pack_unknown"
    EMAIL_INVALID = "email_invalid"
    PASSWORD_WEAK = "password_weak"
    USER_PASSWORD_MISMATCH = "user_password_mismatch"
    TENANT_UNKNOWN = "tenant_unknown"
    TENANT_SUSPENDED = "tenant_suspended"
    NOT_A_MEMBER = "not_a_member"
    TEAM_INVALID = "team_invalid"
    TEAM_TAKEN = "team_taken"
    TEAM_UNKNOWN = "team_unknown"
    REPORTING_CYCLE = "reporting_cycle"


class TenantError(Exception):
    def __init__(self, code: TenantErrorCode, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
