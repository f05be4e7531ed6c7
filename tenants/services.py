"""Provisioning and resolving tenants. Commands and views call these; they hold no logic."""

from __future__ import annotations

import re

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from metadata.errors import ConfigError
from metadata.packs import apply_pack, available_packs
from tenants.context import tenant_context, user_context
from tenants.errors import TenantError, TenantErrorCode
from tenants.models import Membership, Tenant, User

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
# Words that would collide with the platform's own hosts and paths.
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "app",
        "graphql",
        "healthz",
        "static",
        "studio",
        "www",
        "mail",
        "public",
        "system",
    }
)
TENANT_ADMIN_ROLE = "tenant_admin"


def validate_slug(slug: str) -> None:
    if not SLUG_PATTERN.match(slug or "") or "--" in slug:
        raise TenantError(
            TenantErrorCode.SLUG_INVALID,
            f"Invalid slug {slug!r}: use 2 to 32 lower-case letters, digits and single hyphens, "
            "starting with a letter and not ending with a hyphen.",
            field="slug",
        )
    if slug in RESERVED_SLUGS:
        raise TenantError(
            TenantErrorCode.SLUG_RESERVED,
            f"The slug {slug!r} is reserved by the platform.",
            field="slug",
        )


def create_tenant(
    *, slug: str, name: str, pack: str, admin_email: str, admin_password: str
) -> Tenant:
    """Create a tenant with its first administrator; everything is checked before any write."""
    validate_slug(slug)
    if not (name or "").strip():
        raise TenantError(TenantErrorCode.NAME_REQUIRED, "The tenant needs a name.", field="name")
    if pack not in available_packs():
        raise TenantError(
            TenantErrorCode.PACK_UNKNOWN,
            f"Unknown pack {pack!r}; available: {', '.join(available_packs())}.",
            field="pack",
        )
    email = (admin_email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise TenantError(
            TenantErrorCode.EMAIL_INVALID,
            f"Invalid administrator e-mail {admin_email!r}.",
            field="admin_email",
        ) from error

    with transaction.atomic():
        if Tenant.objects.filter(slug=slug).exists():
            raise TenantError(
                TenantErrorCode.SLUG_TAKEN, f"The slug {slug!r} is already taken.", field="slug"
            )
        user = User.objects.filter(email=email).first()
        if user is None:
            _validate_password(admin_password, User(email=email))
            user = User.objects.create_user(email=email, password=admin_password)
        elif not user.check_password(admin_password):
            raise TenantError(
                TenantErrorCode.USER_PASSWORD_MISMATCH,
                f"A user {email} already exists and the password given is not theirs; give "
                "their current password to make them this tenant's administrator.",
                field="admin_password",
            )
        try:
            with transaction.atomic():
                tenant = Tenant.objects.create(slug=slug, name=name.strip(), pack=pack)
        except IntegrityError as error:  # a concurrent create_tenant took the slug
            raise TenantError(
                TenantErrorCode.SLUG_TAKEN, f"The slug {slug!r} is already taken.", field="slug"
            ) from error
        with tenant_context(tenant):
            Membership.objects.create(tenant=tenant, user=user, roles=[TENANT_ADMIN_ROLE])
        try:
            apply_pack(tenant, pack, user=user)
        except ConfigError as error:  # a shipped pack that does not validate: a platform bug
            raise TenantError(
                TenantErrorCode.PACK_INVALID, error.details(), field="pack"
            ) from error
    return tenant


def add_member(tenant: Tenant, *, email: str, password: str, roles, manager=None) -> User:
    """A user (created with ``password`` if new) with ``roles`` in ``tenant``, reporting to
    ``manager`` (a member). Checked before any write."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise TenantError(
            TenantErrorCode.EMAIL_INVALID, f"Invalid e-mail {email!r}.", field="email"
        ) from error
    with transaction.atomic():
        user = User.objects.filter(email=email).first()
        if user is None:
            _validate_password(password, User(email=email))
            user = User.objects.create_user(email=email, password=password)
        with tenant_context(tenant):
            Membership.objects.update_or_create(
                tenant=tenant,
                user=user,
                defaults={"roles": list(roles), "manager": manager, "is_active": True},
            )
    return user


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password or "", user=user)
    except ValidationError as error:
        raise TenantError(
            TenantErrorCode.PASSWORD_WEAK,
            "Weak administrator password: " + " ".join(error.messages),
            field="admin_password",
        ) from error


def get_tenant(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise TenantError(TenantErrorCode.TENANT_UNKNOWN, f"No company is known as {slug!r}.")
    return tenant


def set_tenant_status(slug: str, status: str) -> Tenant:
    tenant = get_tenant(slug)
    if status not in Tenant.Status.values:
        raise TenantError(TenantErrorCode.TENANT_UNKNOWN, f"Unknown status {status!r}.")
    tenant.status = status
    tenant.save(update_fields=["status"])
    return tenant


def memberships_of(user: User) -> list[Membership]:
    """The user's active memberships in every tenant, read under the user's own scope."""
    with user_context(user):
        return list(
            Membership.objects.filter(user=user, is_active=True)
            .select_related("tenant")
            .order_by("tenant__name")
        )


def membership_in(tenant: Tenant, user: User) -> Membership | None:
    with tenant_context(tenant, user=user):
        return Membership.objects.filter(tenant=tenant, user=user, is_active=True).first()
