"""Who may enter the studio.

Wagtail admits a user holding ``wagtailadmin.access_admin``. Nobody holds it as a Django
permission here: platform staff enter everywhere, and a tenant's member enters the tenant chosen
for the session when one of their roles has the ``configure`` permission in its active version.
"""

from __future__ import annotations

from metadata.compiled import active_config
from tenants.context import current_tenant_id
from tenants.models import Membership, Tenant

STUDIO_PERMISSION = "wagtailadmin.access_admin"


def may_configure(user, tenant) -> bool:
    """The user may change this tenant's configuration (staff always may)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff:
        return True
    if tenant is None:
        return False
    config = active_config(tenant)
    if config is None:
        return False
    roles = (
        Membership.objects.filter(user=user, tenant=tenant, is_active=True)
        .values_list("roles", flat=True)
        .first()
    )
    return bool(roles) and config.grants(roles, "configure")


class StudioAccessBackend:
    """Grants the studio's one Django permission; authenticates nobody."""

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None

    def has_perm(self, user, perm, obj=None) -> bool:
        if perm != STUDIO_PERMISSION:
            return False
        tenant_id = current_tenant_id()
        tenant = Tenant.objects.filter(pk=tenant_id).first() if tenant_id else None
        return may_configure(user, tenant)
