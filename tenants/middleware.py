"""Resolve the tenant of each request and run the view inside that tenant's transaction."""

from __future__ import annotations

import structlog
from django.http import JsonResponse
from django.shortcuts import render

from tenants.context import tenant_context
from tenants.errors import TenantError, TenantErrorCode
from tenants.resolution import forget_tenant, resolve_tenant
from tenants.services import membership_in

# Paths that never belong to a tenant.
TENANTLESS_PREFIXES = ("/healthz", "/static/")


def error_response(request, code: TenantErrorCode, message: str, status: int):
    if request.path.startswith(("/graphql", "/api/")) or "application/json" in request.headers.get(
        "Accept", ""
    ):
        return JsonResponse({"errors": [{"code": code.value, "message": message}]}, status=status)
    return render(
        request, "tenants/error.html", {"code": code.value, "message": message}, status=status
    )


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        if request.path.startswith(TENANTLESS_PREFIXES):
            return self.get_response(request)
        try:
            tenant, source = resolve_tenant(request)
        except TenantError as error:
            return error_response(request, error.code, error.message, status=404)
        if tenant is None:
            return self.get_response(request)
        if tenant.is_suspended:
            return error_response(
                request,
                TenantErrorCode.TENANT_SUSPENDED,
                f"The company {tenant.name} is suspended.",
                status=403,
            )
        user = request.user if request.user.is_authenticated else None
        if user is not None:
            if source == "token":
                membership = request.api_membership  # read with the token (api/middleware.py)
            else:
                membership = membership_in(tenant, user)
            if membership is None:
                if source == "token":
                    return error_response(
                        request,
                        TenantErrorCode.NOT_A_MEMBER,
                        f"The token's user is no longer a member of {tenant.name}.",
                        status=401,
                    )
                if source == "host":
                    return error_response(
                        request,
                        TenantErrorCode.TENANT_UNKNOWN,
                        f"No company is known as {tenant.slug!r}.",
                        status=404,
                    )
                forget_tenant(request)
                return self.get_response(request)
            request.membership = membership
        request.tenant = tenant
        structlog.contextvars.bind_contextvars(
            tenant=tenant.slug, user_id=user.pk if user else None
        )
        with tenant_context(tenant, user=user):
            return self.get_response(request)
