"""Which tenant a request is for: its subdomain, or the one chosen after sign-in."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from tenants.errors import TenantError, TenantErrorCode
from tenants.models import Tenant

SESSION_KEY = "tenant_id"


def slug_from_host(host: str) -> str | None:
    """``demo`` for ``demo.<TENANT_BASE_DOMAIN>``; None for the bare domain or other hosts."""
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    suffix = "." + settings.TENANT_BASE_DOMAIN
    if not hostname.endswith(suffix):
        return None
    label = hostname[: -len(suffix)]
    return label if label and "." not in label else None


def resolve_tenant(request: HttpRequest) -> tuple[Tenant | None, str | None]:
    """The request's tenant and where it came from (``"token"``, ``"host"`` or ``"session"``).

    An API token names its tenant; a subdomain that names no tenant, or another tenant than the
    token's, raises ``TenantError(TENANT_UNKNOWN)``.
    """
    slug = slug_from_host(request.get_host())
    token_tenant = getattr(request, "api_tenant", None)
    if token_tenant is not None:
        if slug is not None and slug != token_tenant.slug:
            raise TenantError(TenantErrorCode.TENANT_UNKNOWN, f"No company is known as {slug!r}.")
        return token_tenant, "token"
    if slug is not None:
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise TenantError(TenantErrorCode.TENANT_UNKNOWN, f"No company is known as {slug!r}.")
        return tenant, "host"
    tenant_id = request.session.get(SESSION_KEY)
    if tenant_id is None:
        return None, None
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        request.session.pop(SESSION_KEY, None)
        return None, None
    return tenant, "session"


def choose_tenant(request: HttpRequest, tenant: Tenant) -> None:
    request.session[SESSION_KEY] = tenant.pk


def forget_tenant(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
