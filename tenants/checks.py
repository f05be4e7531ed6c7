"""The runtime role must be subject to row-level security: refuse to run otherwise. And warn
when the functions the query compiler needs leakproof are not (tenants/leakproof.py)."""

from django.core import checks
from django.db import connections

RUNTIME_ROLE_SQL = """
SELECT r.rolname, r.rolsuper, r.rolbypassrls,
       (SELECT count(*) FROM pg_class c
         WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p')
           AND c.relnamespace = 'public'::regnamespace) AS owned_tables
  FROM pg_roles r WHERE r.rolname = current_user
"""


def runtime_role_problems(alias: str = "default") -> list[str]:
    with connections[alias].cursor() as cursor:
        cursor.execute(RUNTIME_ROLE_SQL)
        role, is_superuser, bypasses_rls, owned_tables = cursor.fetchone()
    problems = []
    if is_superuser:
        problems.append(f"the runtime role {role!r} is a superuser")
    if bypasses_rls:
        problems.append(f"the runtime role {role!r} has BYPASSRLS")
    if owned_tables:
        problems.append(f"the runtime role {role!r} owns {owned_tables} tables")
    return problems


@checks.register(checks.Tags.database)
def check_runtime_role(app_configs, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    return [
        checks.Error(
            f"Row-level security would not apply: {problem}.",
            hint="Connect the default alias as a role that is neither superuser nor "
            "table owner and lacks BYPASSRLS (see docs/operations.md).",
            id="tenants.E001",
        )
        for problem in runtime_role_problems("default")
    ]


@checks.register(checks.Tags.database)
def check_leakproof_functions(app_configs, databases=None, **kwargs):
    from tenants import leakproof

    if not databases or "default" not in databases:
        return []
    with connections["default"].cursor() as cursor:
        return leakproof_warnings(leakproof.missing(cursor))


def leakproof_warnings(absent: list[str]) -> list[checks.Warning]:
    from tenants import leakproof

    if not absent:
        return []
    return [
        checks.Warning(
            "Filters on indexed fields cannot use their indexes under row-level security: "
            + ", ".join(absent)
            + " not marked LEAKPROOF.",
            hint="As a superuser, in this database: " + "; ".join(leakproof.statements()) + ".",
            id="tenants.W001",
        )
    ]
