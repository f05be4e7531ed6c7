"""A tenant's organisation: teams, who belongs to them, and reporting lines.

Permission scopes read these (records/permissions.py): ``team`` reaches the user's teammates and
their teams' records, ``subordinates`` everyone reporting to the user, however indirectly.
"""

from __future__ import annotations

import re

from django.db import transaction

from tenants.context import tenant_context
from tenants.errors import TenantError, TenantErrorCode
from tenants.models import Membership, Team, TeamMember, User

TEAM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _membership(tenant, email: str) -> Membership:
    membership = Membership.objects.select_related("user").filter(user__email__iexact=email).first()
    if membership is None:
        raise TenantError(
            TenantErrorCode.NOT_A_MEMBER, f"{email} is not a member of {tenant.slug}.", "user"
        )
    return membership


def create_team(tenant, key: str, name: str) -> Team:
    if not TEAM_KEY.match(key or ""):
        raise TenantError(
            TenantErrorCode.TEAM_INVALID,
            f"Invalid team key {key!r}: lower-case letters, digits and underscores, starting "
            "with a letter.",
            "key",
        )
    if not (name or "").strip():
        raise TenantError(TenantErrorCode.TEAM_INVALID, "The team needs a name.", "name")
    with tenant_context(tenant):
        if Team.objects.filter(key=key).exists():
            raise TenantError(TenantErrorCode.TEAM_TAKEN, f"The team {key!r} exists.", "key")
        return Team.objects.create(tenant=tenant, key=key, name=name.strip())


def team(tenant, key: str) -> Team:
    with tenant_context(tenant):
        found = Team.objects.filter(key=key).first()
    if found is None:
        raise TenantError(TenantErrorCode.TEAM_UNKNOWN, f"There is no team {key!r}.", "team")
    return found


def add_to_team(tenant, key: str, email: str) -> TeamMember:
    with tenant_context(tenant):
        found = team(tenant, key)
        user = _membership(tenant, email).user
        member, _ = TeamMember.objects.get_or_create(tenant=tenant, team=found, user=user)
        return member


def remove_from_team(tenant, key: str, email: str) -> bool:
    with tenant_context(tenant):
        found = team(tenant, key)
        user = _membership(tenant, email).user
        deleted, _ = TeamMember.objects.filter(team=found, user=user).delete()
        return bool(deleted)


def set_manager(tenant, email: str, manager_email: str | None) -> Membership:
    """Make ``manager_email`` the user's manager (None: nobody); refused when it would close
    a loop in the reporting lines."""
    with tenant_context(tenant), transaction.atomic():
        membership = _membership(tenant, email)
        manager: User | None = None
        if manager_email:
            manager = _membership(tenant, manager_email).user
            # Walk up from the new manager: meeting the user means a cycle.
            chain, boss = set(), manager.pk
            while boss is not None and boss not in chain:
                chain.add(boss)
                boss = (
                    Membership.objects.filter(user_id=boss)
                    .values_list("manager_id", flat=True)
                    .first()
                )
            if membership.user_id in chain:
                raise TenantError(
                    TenantErrorCode.REPORTING_CYCLE,
                    f"{manager_email} reports to {email} already: the line would go in a circle.",
                    "manager",
                )
        membership.manager = manager
        membership.save(update_fields=["manager"])
        return membership
