"""API tokens: issue one for a member of a tenant, and authenticate a presented token."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

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


def authenticate(raw: str) -> Authenticated:
    """The tenant, user and token a presented token stands for; ApiError when it is not valid."""
    slug, dot, secret = (raw or "").strip().partition(".")
    if not dot or not slug or not secret:
        raise ApiError(
            ApiErrorCode.TOKEN_MALFORMED, "Malformed API token: expected <tenant>.<secret>."
        )
    invalid = ApiError(ApiErrorCode.TOKEN_INVALID, "Invalid or revoked API token.")
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise invalid
    with tenant_context(tenant):
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=_hash(secret), revoked__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise invalid
        now = timezone.now()
        if token.expires is not None and token.expires <= now:
            raise ApiError(
                ApiErrorCode.TOKEN_EXPIRED,
                f"The API token expired on {token.expires:%Y-%m-%d}; ask for a new one.",
            )
        if token.last_used is None or now - token.last_used >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        membership = Membership.objects.filter(
            tenant=tenant, user=token.user, is_active=True
        ).first()
    return Authenticated(tenant=tenant, user=token.user, token=token, membership=membership)


def revoke_tokens(tenant: Tenant, user: User) -> int:
    with tenant_context(tenant):
        return ApiToken.objects.filter(user=user, revoked__isnull=True).update(
            revoked=timezone.now()
        )
