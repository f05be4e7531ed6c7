"""Privileges of the runtime role, granted by the owner after every migration.

The runtime role may read and write rows (row-level security still filters them) and use
sequences; it owns nothing, so it can neither alter tables nor turn their policies off.
"""

from django.db import connections


def runtime_role(app_alias: str = "default") -> str:
    return connections[app_alias].settings_dict["USER"]


def grant_runtime_privileges(owner_alias: str = "owner", app_alias: str = "default") -> str:
    role = runtime_role(app_alias)
    connection = connections[owner_alias]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(
                "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
            )
            if not cursor.fetchone()[0]:
                raise RuntimeError(
                    f"The runtime role {role!r} does not exist and the owner role cannot create "
                    "it: create it (LOGIN NOSUPERUSER NOBYPASSRLS) or set DATABASE_APP_URL."
                )
            password = connections[app_alias].settings_dict.get("PASSWORD") or None
            cursor.execute(
                f"CREATE ROLE {quote(role)} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB PASSWORD %s",
                [password],
            )
        cursor.execute("SELECT current_database()")
        database = cursor.fetchone()[0]
        for statement in (
            f"GRANT CONNECT ON DATABASE {quote(database)} TO {quote(role)}",
            f"GRANT USAGE ON SCHEMA public TO {quote(role)}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quote(role)}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quote(role)}",
            f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {quote(role)}",
        ):
            cursor.execute(statement)
    return role
