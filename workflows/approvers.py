"""Approver kinds, as a registry: who may decide a step of an approval process. Each kind owns
its options' JSON Schema, its checks at publish and how it names users for a record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from metadata.fieldtypes.base import Problem
from metadata.registry import Registry


class ApproverKind:
    key: ClassVar[str]
    description: ClassVar[str]
    params_schema: ClassVar[dict] = {}
    required_params: ClassVar[tuple[str, ...]] = ()

    def check(self, spec: dict, path: str, ctx, entity: dict) -> Iterator[Problem]:
        return iter(())

    def users(self, spec: dict, tenant, record) -> list[int]:
        """The active members it names for ``record`` (a records_record row)."""
        raise NotImplementedError


approver_kinds = Registry("approver kind")
register = approver_kinds.register


def active(user_ids) -> list[int]:
    from tenants.models import Membership

    wanted = {int(u) for u in user_ids if u}
    found = Membership.objects.filter(user_id__in=wanted, is_active=True, user__is_active=True)
    return sorted(found.values_list("user_id", flat=True))


@register
class NamedUsers(ApproverKind):
    key = "users"
    description = "Named users, by e-mail (members of the tenant)."
    params_schema = {
        "emails": {"type": "array", "items": {"type": "string", "format": "email"}, "minItems": 1}
    }
    required_params = ("emails",)

    def users(self, spec, tenant, record):
        from tenants.models import Membership

        emails = [e.lower() for e in spec["emails"]]
        found = Membership.objects.filter(user__email__in=emails, is_active=True)
        return active(found.values_list("user_id", flat=True))


@register
class Role(ApproverKind):
    key = "role"
    description = "Every active member holding the role."
    params_schema = {"role": {"$ref": "#/$defs/key"}}
    required_params = ("role",)

    def check(self, spec, path, ctx, entity):
        if spec["role"] not in ctx.role_keys:
            yield Problem(f"{path}.role", "unknown_role", f"there is no role {spec['role']!r}")

    def users(self, spec, tenant, record):
        from tenants.models import Membership

        holders = [
            m.user_id
            for m in Membership.objects.filter(is_active=True)
            if spec["role"] in (m.roles or [])
        ]
        return active(holders)


@register
class Team(ApproverKind):
    key = "team"
    description = "Every member of the team."
    params_schema = {"team": {"$ref": "#/$defs/key"}}
    required_params = ("team",)

    def users(self, spec, tenant, record):
        from tenants.models import TeamMember

        members = TeamMember.objects.filter(team__key=spec["team"])
        return active(members.values_list("user_id", flat=True))


@register
class Manager(ApproverKind):
    key = "manager"
    description = "The manager of the record's owner (their reporting line)."

    def users(self, spec, tenant, record):
        from tenants.models import Membership

        owner = Membership.objects.filter(user_id=record.owner_id, is_active=True).first()
        return active([owner.manager_id] if owner and owner.manager_id else [])


@register
class UserField(ApproverKind):
    key = "field"
    description = "The user held in a user field of the record."
    params_schema = {"field": {"$ref": "#/$defs/key"}}
    required_params = ("field",)

    def check(self, spec, path, ctx, entity):
        field = next((f for f in entity.get("fields", []) if f["key"] == spec["field"]), None)
        if field is None or field["type"] != "user":
            yield Problem(
                f"{path}.field",
                "not_a_user_field",
                f"{spec['field']!r} is not a user field of {entity['key']}",
            )

    def users(self, spec, tenant, record):
        return active([record.data.get(spec["field"])])
