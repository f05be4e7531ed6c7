"""Why may user U do (or not do) X on record R: the role, scope or sharing that decided.

Built from the same pieces the records service enforces (records/permissions.py), evaluated one
by one for the record, so the explanation cannot drift from the enforcement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from metadata.compiled import active_config
from records.errors import RecordError, RecordErrorCode
from records.permissions import Permissions
from tenants.context import tenant_context

ACTIONS = ("create", "read", "update", "delete")


@dataclass
class Explanation:
    allowed: bool
    decision: str
    reasons: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [("ALLOWED: " if self.allowed else "DENIED: ") + self.decision]
        return "\n".join(lines + [f"  - {reason}" for reason in self.reasons])


def explain(
    tenant, user, entity_key: str, action: str, record_id: int | None = None, field_key=None
) -> Explanation:
    if action not in ACTIONS:
        raise RecordError(
            RecordErrorCode.INVALID, f"The action is one of {', '.join(ACTIONS)}, not {action!r}."
        )
    with tenant_context(tenant, user=user):
        config = active_config(tenant)
        if config is None or entity_key not in config.entities:
            raise RecordError(RecordErrorCode.UNKNOWN_ENTITY, f"There is no entity {entity_key!r}.")
        entity = config.entities[entity_key]
        if field_key is not None and field_key not in entity.fields:
            raise RecordError(RecordErrorCode.INVALID, f"{entity_key} has no field {field_key!r}.")
        permissions = Permissions(tenant, user)
        me = permissions.principal
        access = permissions.access(config, entity)
        reasons = [f"roles held: {', '.join(me.roles) or 'none'}"]
        for role in me.roles:
            grant = next((g for g in access.grants if g.role == role), None)
            if role not in config.roles:
                reasons.append(f"role {role}: not in the configuration, grants nothing")
            elif grant is None:
                reasons.append(f"role {role}: no access to {entity_key}")
            else:
                scopes = ", ".join(f"{a} {s}" for a, s in grant.scopes.items())
                reasons.append(
                    f"role {role}: create {'yes' if grant.create else 'no'}, {scopes}"
                    + (f", fields {grant.fields}" if grant.fields else "")
                )
        if action == "create":
            allowed = access.create
            verdict = _creating(allowed, entity_key, access)
        elif record_id is None:
            scopes = sorted(access.scopes[action])
            allowed = bool(scopes)
            verdict = (
                f"may {action} {entity.plural_key} within: {', '.join(scopes)}"
                if allowed
                else f"no role grants {action} on {entity.plural_key}"
            )
        else:
            allowed, verdict = _on_record(permissions, config, entity, action, record_id, reasons)
        if field_key is not None:
            allowed, verdict = _on_field(access, action, field_key, allowed, verdict, reasons)
    return Explanation(allowed, verdict, reasons)


def _creating(allowed: bool, entity_key: str, access) -> str:
    if allowed:
        roles = ", ".join(g.role for g in access.grants if g.create)
        return f"may create {entity_key} (role {roles})"
    return f"no role grants create on {entity_key}"


def _matches(record_id: int, sql: str, params: list) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM records_record r WHERE r.id = %s AND ({sql}))",
            [record_id, *params],
        )
        return cursor.fetchone()[0]


def _on_record(permissions, config, entity, action, record_id, reasons) -> tuple[bool, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT owner_id, team_id, shared_by_rules FROM records_record "
            "WHERE id = %s AND entity = %s",
            [record_id, entity.key],
        )
        row = cursor.fetchone()
    if row is None:
        return False, f"there is no {entity.key} {record_id}"
    owner, team, rules = row
    reasons.append(f"record {record_id}: owner {owner}, team {team}, meets rules {rules or []}")
    steps = ("read",) if action == "read" else ("read", action)
    for step in steps:
        decided = [
            why
            for why, sql, params in permissions.scope_parts(config, entity, step)
            if _matches(record_id, sql, params)
        ]
        if not decided:
            return False, (
                f"no role, share or sharing rule lets the user {step} {entity.key} {record_id}"
                + (" (so it does not exist for them)" if step == "read" else "")
            )
        reasons.append(f"{step}: allowed by {'; '.join(decided)}")
    return True, f"may {action} {entity.key} {record_id}"


def _on_field(access, action, field_key, allowed, verdict, reasons) -> tuple[bool, str]:
    level = access.field_access(field_key)
    setters = [g.role for g in access.grants if g.fields.get(field_key, "edit") == level]
    reasons.append(f"field {field_key}: {level} (widest, from {', '.join(setters) or 'no role'})")
    needed = "edit" if action in ("create", "update") else "read"
    if level == "hidden" or (needed == "edit" and level != "edit"):
        return False, f"{verdict}, but field {field_key} is {level} for the user"
    return allowed, verdict
