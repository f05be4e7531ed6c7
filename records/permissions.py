"""The single place where the records service asks whether an action is allowed.

Role permissions (issue 5) replace this with object, field and record-level checks; every
service method already calls :meth:`Permissions.check` before it reads or writes.
"""

from __future__ import annotations


class Permissions:
    def __init__(self, tenant, user):
        self.tenant = tenant
        self.user = user

    def check(self, action: str, entity, record) -> None:
        """Raise when ``user`` may not ``action`` the record; everything is allowed for now."""

    def read_scope(self, entity) -> tuple[str, list]:
        """SQL (over alias ``r``) limiting the records the user may read; all of them for now."""
        return "TRUE", []
