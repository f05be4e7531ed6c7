"""API tokens: issue one for a member of a tenant, and authenticate a presented token."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from api.errors import ApiError, ApiErrorCode
from api.models import ApiToken
from tenants.context import tenant_context
from tenants.models import Membership, Tenant, User

# last_used is written at most this often: a write (and its commit's flush) on every request
# would cost more than the rest of a small query.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Authenticated:
    tenant: Tenant
    user: User
    token: ApiToken
    membership: Membership | None  # the user's active membership, None if no longer one


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    tenant: Tenant, user: User, name: str = "integration", *, expires_in_days: int | None = None
) -> str:
    """Create a token for a member of the tenant and return its only plain-text copy; it
    expires after ``expires_in_days`` (1 to 3,650) when given, otherwise when revoked."""
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise ApiError(
            ApiErrorCode.EXPIRY_INVALID, "A token expires after 1 to 3,650 days, or never."
        )
    expires = timezone.now() + dt.timedelta(days=expires_in_days) if expires_in_days else None
    secret = secrets.token_urlsafe(32)
    with tenant_context(tenant):
        if not Membership.objects.filter(tenant=tenant, user=user, is_active=True).exists():
            raise ApiError(
                ApiErrorCode.NOT_A_MEMBER,
                f"{user.email} is not a member of the tenant {tenant.slug}.",
            )
        ApiToken.objects.create(
            tenant=tenant,
            user=user,
            name=name,
            key_prefix=secret[:8],
            key_hash=_hash(secret),
            expires=expires,
        )
    return f"{tenant.slug}.{secret}"


def _columns(model, alias: str) -> tuple[list[str], str]:
    fields = model._meta.concrete_fields
    return [f.attname for f in fields], ", ".join(f'{alias}."{f.column}"' for f in fields)


def _instance(model, names: list[str], values) -> object | None:
    return None if values[0] is None else model.from_db("default", names, list(values))


def authenticate(raw: str) -> Authenticated:
    """The tenant, user and token a presented token stands for; ApiError when it is not valid.

    Every API request starts here, so it reads in two statements what the ORM would read in
    four (the ORM's query building cost more than the database's work, bench/README.md)."""
    slug, dot, secret = (raw or "").strip().partition(".")
    if not dot or not slug or not secret:
        raise ApiError(
            ApiErrorCode.TOKEN_MALFORMED, "Malformed API token: expected <tenant>.<secret>."
        )
    invalid = ApiError(ApiErrorCode.TOKEN_INVALID, "Invalid or revoked API token.")
    tenant_names, tenant_sql = _columns(Tenant, "t")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {tenant_sql} FROM tenants_tenant t WHERE t.slug = %s", [slug])
        row = cursor.fetchone()
    if row is None:
        raise invalid
    tenant = _instance(Tenant, tenant_names, row)
    token_names, token_sql = _columns(ApiToken, "k")
    user_names, user_sql = _columns(User, "u")
    member_names, member_sql = _columns(Membership, "m")
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {token_sql}, {user_sql}, {member_sql} FROM api_apitoken k "
            "JOIN tenants_user u ON u.id = k.user_id LEFT JOIN tenants_membership m "
            "ON m.tenant_id = k.tenant_id AND m.user_id = k.user_id AND m.is_active "
            "WHERE k.key_hash = %s AND k.revoked IS NULL",
            [_hash(secret)],
        )
        row = cursor.fetchone()
        if row is None:
            raise invalid
        split = (len(token_names), len(token_names) + len(user_names))
        token = _instance(ApiToken, token_names, row[: split[0]])
        user = _instance(User, user_names, row[split[0] : split[1]])
        membership = _instance(Membership, member_names, row[split[1] :])
        if not user.is_active:
            raise invalid
        token.user = user
        now = timezone.now()
        if token.expires is not None and token.expires <= now:
            raise ApiError(
                ApiErrorCode.TOKEN_EXPIRED,
                f"The API token expired on {token.expires:%Y-%m-%d}; ask for a new one.",
            )
        if token.last_used is None or now - token.last_used >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return Authenticated(tenant=tenant, user=user, token=token, membership=membership)


def revoke_tokens(tenant: Tenant, user: User) -> int:
    with tenant_context(tenant):
        return ApiToken.objects.filter(user=user, revoked__isnull=True).update(
            revoked=timezone.now()
        )
