"""Errors of the metadata domain, each with a stable code."""

from __future__ import annotations

from enum import StrEnum


class ConfigErrorCode(StrEnum):
    INVALID_JSON = "invalid_json"
    INVALID_CONFIG = "invalid_config"
    ETAG_CONFLICT = "etag_conflict"
    PUBLISH_BLOCKED = "publish_blocked"
    NOTHING_TO_PUBLISH = "nothing_to_publish"
    VERSION_UNKNOWN = "version_unknown"
    PACK_UNKNOWN = "pack_unknown"
    STRATEGY_UNKNOWN = "strategy_unknown"
    CONFIGURE_DENIED = "configure_denied"


class ConfigError(Exception):
    def __init__(self, code: ConfigErrorCode, message: str, *, problems=None, report=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.problems = problems or []
        self.report = report

    def details(self) -> str:
        lines = [f"[{self.code}] {self.message}"]
        lines += [f"  {problem}" for problem in self.problems]
        if self.report is not None:
            lines += [
                f"  {item.path}: {item.message} (accept with --force {item.strategy})"
                for item in self.report
            ]
        return "\n".join(lines)
