"""Round-robin assignment: the next active member of a pool (a role or a team), in a fixed
order, the position kept per pool under a row lock so concurrent assignments take turns."""

from __future__ import annotations

from tenants.models import Membership, TeamMember, User
from workflows.models import RoundRobin


def pool_members(pool: dict) -> list[int]:
    active = Membership.objects.filter(is_active=True)
    if pool.get("role"):
        return sorted(m.user_id for m in active if pool["role"] in (m.roles or []))
    members = set(
        TeamMember.objects.filter(team__key=pool["team"]).values_list("user_id", flat=True)
    )
    return sorted(m.user_id for m in active if m.user_id in members)


def next_member(tenant, key: str, pool: dict) -> User | None:
    members = pool_members(pool)
    if not members:
        return None
    RoundRobin.objects.get_or_create(tenant=tenant, key=key)
    turn = RoundRobin.objects.select_for_update().get(tenant=tenant, key=key)
    later = [m for m in members if turn.last_user_id is None or m > turn.last_user_id]
    chosen = later[0] if later else members[0]
    turn.last_user_id = chosen
    turn.save(update_fields=["last_user_id"])
    return User.objects.get(pk=chosen)
