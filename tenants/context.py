"""The current tenant: set per transaction in PostgreSQL, mirrored in a context variable.

Row-level security policies compare ``tenant_id`` with ``crm_current_tenant()``, which reads the
``app.tenant_id`` setting. :func:`tenant_context` sets it with ``set_config(..., true)``, the
function form of ``SET LOCAL``, so it lasts exactly one transaction and can never leak into the
next request that reuses the connection. Outside such a block tenant-owned tables show no rows.

Use it wherever code runs outside a request (Celery tasks, management commands)::

    from tenants.context import tenant_context

    with tenant_context(tenant):          # a Tenant or its id
        Membership.objects.count()        # only this tenant's rows
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connections, transaction


@dataclass(frozen=True)
class DatabaseScope:
    tenant_id: int | None
    user_id: int | None


_scope: ContextVar[DatabaseScope | None] = ContextVar("crm_database_scope", default=None)


def current_tenant_id() -> int | None:
    """The id of the tenant whose transaction is open, or None."""
    scope = _scope.get()
    return scope.tenant_id if scope else None


def current_user_id() -> int | None:
    scope = _scope.get()
    return scope.user_id if scope else None


def _apply(alias: str, scope: DatabaseScope | None) -> None:
    tenant = "" if scope is None or scope.tenant_id is None else str(scope.tenant_id)
    user = "" if scope is None or scope.user_id is None else str(scope.user_id)
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.tenant_id', %s, true), set_config('app.user_id', %s, true)",
            [tenant, user],
        )


def _covers(outer: DatabaseScope | None, scope: DatabaseScope) -> bool:
    """The user only widens what is visible when no tenant is set, so a scope with the same
    tenant covers a request for that tenant without a user."""
    if outer is None or scope.tenant_id is None:
        return outer == scope
    return outer.tenant_id == scope.tenant_id and scope.user_id in (None, outer.user_id)


def _pk(value) -> int | None:
    if value is None:
        return None
    return int(getattr(value, "pk", value))


@contextmanager
def database_scope(
    *, tenant=None, user=None, using: str = "default", savepoint: bool = False
) -> Iterator[None]:
    """Run the block in a transaction whose row-level security scope is tenant and/or user.

    Nested blocks are savepoints; the outer scope comes back when the inner block ends. A block
    nested in a transaction of the same scope adds nothing, unless ``savepoint`` asks that an
    error in it undo exactly its own writes (every write of the records service does).
    """
    scope = DatabaseScope(tenant_id=_pk(tenant), user_id=_pk(user))
    outer = _scope.get()
    if _covers(outer, scope) and connections[using].in_atomic_block:
        # Already inside this tenant's transaction (a service called from a request or task):
        # no extra round trips, but a savepoint when the block must be undone on its own.
        if savepoint:
            with transaction.atomic(using=using):
                yield
        else:
            yield
        return
    nested = connections[using].in_atomic_block
    with transaction.atomic(using=using):
        _apply(using, scope)
        token = _scope.set(scope)
        try:
            yield
        finally:
            _scope.reset(token)
        # In a savepoint, success releases it and would keep the inner value (an error's
        # rollback restores the setting by itself); an outermost transaction's commit ends
        # the setting with it.
        if nested and outer != scope:
            _apply(using, outer)


def tenant_context(tenant, *, user=None, using: str = "default", savepoint: bool = False):
    """Run the block in one transaction scoped to ``tenant`` (a Tenant or its id)."""
    if tenant is None:
        raise ValueError("tenant_context needs a tenant")
    return database_scope(tenant=tenant, user=user, using=using, savepoint=savepoint)


def user_context(user, *, using: str = "default"):
    """A transaction in which a user sees their own memberships across tenants, nothing else."""
    return database_scope(user=user, using=using)
