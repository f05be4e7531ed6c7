"""Errors of the API layer, each with a stable code (listed in docs/graphql.md)."""

from enum import StrEnum


class ApiErrorCode(StrEnum):
    TOKEN_MALFORMED = "token_malformed"
    TOKEN_INVALID = "token_invalid"
    TOKEN_EXPIRED = "token_expired"
    EXPIRY_INVALID = "expiry_invalid"
    NOT_A_MEMBER = "not_a_member"


class ApiError(Exception):
    def __init__(self, code: ApiErrorCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
