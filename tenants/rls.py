"""Row-level security for tenant-owned tables, as migration operations.

Every tenant-owned table gets RLS enabled *and forced* (so even the table owner is subject to it)
and a policy that lets a row be seen or written only when its ``tenant_id`` equals the tenant set
for the transaction (``crm_current_tenant()``, see ``tenants.context``). The runtime role is not
the owner, not a superuser and lacks BYPASSRLS, so nothing it runs can reach another tenant's rows.
"""

from django.db import migrations

CURRENT_SCOPE_FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION crm_current_tenant() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::bigint $$;
CREATE OR REPLACE FUNCTION crm_current_user() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::bigint $$;
"""
DROP_SCOPE_FUNCTIONS_SQL = """
DROP FUNCTION IF EXISTS crm_current_tenant();
DROP FUNCTION IF EXISTS crm_current_user();
"""


def create_scope_functions() -> migrations.RunSQL:
    return migrations.RunSQL(CURRENT_SCOPE_FUNCTIONS_SQL, DROP_SCOPE_FUNCTIONS_SQL)


class EnableTenantIsolation(migrations.operations.base.Operation):
    """Enable and force RLS on a model's table with the tenant isolation policy.

    ``self_read_column`` names a user column whose rows that user may also *read* across tenants
    while no tenant is set (a user lists their own memberships before choosing a tenant); under
    a tenant only that tenant's rows are visible, and writes are always tenant-bound.
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, self_read_column: str | None = None):
        self.model_name = model_name
        self.self_read_column = self_read_column

    def state_forwards(self, app_label, state):
        pass

    def deconstruct(self):
        kwargs = {"model_name": self.model_name}
        if self.self_read_column:
            kwargs["self_read_column"] = self.self_read_column
        return self.__class__.__qualname__, [], kwargs

    def _table(self, app_label, state) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        table = schema_editor.quote_name(self._table(app_label, to_state))
        statements = [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (tenant_id = crm_current_tenant()) "
            "WITH CHECK (tenant_id = crm_current_tenant())",
        ]
        if self.self_read_column:
            column = schema_editor.quote_name(self.self_read_column)
            statements.append(
                f"CREATE POLICY self_read ON {table} FOR SELECT "
                f"USING (crm_current_tenant() IS NULL AND {column} = crm_current_user())"
            )
        for statement in statements:
            schema_editor.execute(statement)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        table = schema_editor.quote_name(self._table(app_label, from_state))
        schema_editor.execute(f"DROP POLICY IF EXISTS self_read ON {table}")
        schema_editor.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self):
        return f"Enable tenant row-level security on {self.model_name}"

    @property
    def migration_name_fragment(self):
        return f"rls_{self.model_name.lower()}"
