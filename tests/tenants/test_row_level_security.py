"""Isolation proven in PostgreSQL itself: raw SQL, as the runtime role, under a tenant."""

import pytest
from django.db import DatabaseError, connection, connections, transaction

from tenants.checks import runtime_role_problems
from tenants.context import tenant_context, user_context
from tenants.models import Membership

TENANT_TABLES_SQL = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
  FROM pg_class c
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace
 ORDER BY c.relname
"""

# Unique constraints and unique indexes that are not the primary key, with their columns.
UNIQUE_KEYS_SQL = """
SELECT t.relname, i.relname,
       array(SELECT a.attname FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
             ORDER BY k.n) AS columns
  FROM pg_index x
  JOIN pg_class t ON t.oid = x.indrelid
  JOIN pg_class i ON i.oid = x.indexrelid
 WHERE x.indisunique AND NOT x.indisprimary AND t.relname = ANY(%s)
"""


def tenant_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(TENANT_TABLES_SQL)
        return [row[0] for row in cursor.fetchall()]


def raw_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
        return cursor.fetchone()[0]


def test_every_tenant_owned_table_has_forced_rls_and_a_policy(db):
    with connection.cursor() as cursor:
        cursor.execute(TENANT_TABLES_SQL)
        rows = cursor.fetchall()
    assert "tenants_membership" in [row[0] for row in rows]
    unprotected = [
        name
        for name, enabled, forced, policies in rows
        if not (enabled and forced and policies >= 1)
    ]
    assert unprotected == []


def test_every_unique_key_of_a_tenant_owned_table_includes_tenant_id(db):
    tables = tenant_tables()
    with connection.cursor() as cursor:
        cursor.execute(UNIQUE_KEYS_SQL, [tables])
        keys = cursor.fetchall()
    assert ("tenants_membership", "membership_unique_user", ["tenant_id", "user_id"]) in [
        (table, index, list(columns)) for table, index, columns in keys
    ]
    without_tenant = [
        (table, index) for table, index, columns in keys if "tenant_id" not in columns
    ]
    assert without_tenant == []


@pytest.mark.django_db(databases=["default", "owner"])
def test_runtime_role_is_neither_superuser_nor_owner_nor_bypassing():
    assert runtime_role_problems("default") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        runtime = cursor.fetchone()[0]
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'tenants_membership'")
        owner = cursor.fetchone()[0]
    assert runtime != owner


def test_raw_sql_under_one_tenant_sees_no_row_of_another_in_any_table(acme, globex):
    tables = tenant_tables()
    with tenant_context(globex.tenant):
        assert raw_count("tenants_membership") == 1
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT count(*) FROM {connection.ops.quote_name(table)} WHERE tenant_id <> %s",
                [acme.tenant.pk],
            )
            assert cursor.fetchone()[0] == 0, table
        cursor.execute("SELECT tenant_id FROM tenants_membership")
        assert [row[0] for row in cursor.fetchall()] == [acme.tenant.pk]


def test_with_no_tenant_set_tenant_owned_tables_show_no_rows(acme, globex):
    for table in tenant_tables():
        assert raw_count(table) == 0, table
    assert Membership.objects.count() == 0


def test_insert_with_another_tenants_id_is_refused_by_postgresql(acme, globex):
    with pytest.raises(DatabaseError, match="row-level security"), tenant_context(acme.tenant):
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO tenants_membership (tenant_id, user_id, roles, is_active, created) "
                "VALUES (%s, %s, '{}', true, now())",
                [globex.tenant.pk, acme.admin.pk],
            )
    with tenant_context(globex.tenant):
        assert Membership.objects.count() == 1


def test_update_moving_a_row_to_another_tenant_is_refused(acme, globex):
    with pytest.raises(DatabaseError, match="row-level security"), tenant_context(acme.tenant):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE tenants_membership SET tenant_id = %s", [globex.tenant.pk])
    with tenant_context(acme.tenant):
        assert list(Membership.objects.values_list("tenant_id", flat=True)) == [acme.tenant.pk]


def test_update_and_delete_of_another_tenants_rows_touch_nothing(acme, globex):
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tenants_membership SET is_active = false WHERE tenant_id = %s",
            [globex.tenant.pk],
        )
        assert cursor.rowcount == 0
        cursor.execute("DELETE FROM tenants_membership WHERE tenant_id = %s", [globex.tenant.pk])
        assert cursor.rowcount == 0
    with tenant_context(globex.tenant):
        assert Membership.objects.filter(is_active=True).count() == 1


def test_tenant_setting_ends_with_its_transaction(acme):
    with tenant_context(acme.tenant):
        assert Membership.objects.count() == 1
    # Same connection, next transaction: nothing is visible any more.
    with transaction.atomic():
        assert Membership.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_an_outermost_context_sets_the_tenant_once_and_its_commit_ends_it(make_tenant):
    from django.test.utils import CaptureQueriesContext

    made = make_tenant("outer")
    with CaptureQueriesContext(connection) as captured:
        with tenant_context(made.tenant):
            assert Membership.objects.count() == 1
    assert sum("set_config" in q["sql"] for q in captured.captured_queries) == 1
    with transaction.atomic():
        assert Membership.objects.count() == 0


def test_nested_context_restores_the_outer_tenant(acme, globex):
    with tenant_context(acme.tenant):
        with tenant_context(globex.tenant):
            assert list(Membership.objects.values_list("tenant_id", flat=True)) == [
                globex.tenant.pk
            ]
        assert list(Membership.objects.values_list("tenant_id", flat=True)) == [acme.tenant.pk]


def test_failed_nested_context_restores_the_outer_tenant(acme, globex):
    with tenant_context(acme.tenant):
        with pytest.raises(ZeroDivisionError), tenant_context(globex.tenant):
            1 / 0  # noqa: B018
        assert list(Membership.objects.values_list("tenant_id", flat=True)) == [acme.tenant.pk]


def test_a_user_reads_their_own_memberships_across_tenants_and_no_others(acme, globex, add_member):
    rep = add_member(acme.tenant, "rep@example.test")
    add_member(globex.tenant, "rep@example.test")
    with user_context(rep):
        assert sorted(Membership.objects.values_list("tenant_id", flat=True)) == sorted(
            [acme.tenant.pk, globex.tenant.pk]
        )
        assert not Membership.objects.exclude(user=rep).exists()


def test_user_scope_cannot_write_memberships(acme, globex, add_member):
    rep = add_member(acme.tenant, "rep@example.test")
    with pytest.raises(DatabaseError, match="row-level security"), user_context(rep):
        Membership.objects.create(tenant=globex.tenant, user=rep, roles=["tenant_admin"])
    with user_context(rep), connection.cursor() as cursor:
        cursor.execute("DELETE FROM tenants_membership WHERE user_id = %s", [rep.pk])
        assert cursor.rowcount == 0


def test_tenant_context_requires_a_tenant(db):
    with pytest.raises(ValueError, match="needs a tenant"), tenant_context(None):
        pass


def test_under_a_tenant_a_user_sees_none_of_their_other_memberships(acme, globex, add_member):
    rep = add_member(acme.tenant, "rep@example.test")
    add_member(globex.tenant, "rep@example.test")
    with tenant_context(acme.tenant, user=rep), connection.cursor() as cursor:
        cursor.execute("SELECT tenant_id FROM tenants_membership WHERE user_id = %s", [rep.pk])
        assert [row[0] for row in cursor.fetchall()] == [acme.tenant.pk]


def test_inner_context_for_the_same_tenant_adds_no_round_trips(acme, django_assert_num_queries):
    with tenant_context(acme.tenant, user=acme.admin):
        with django_assert_num_queries(1), tenant_context(acme.tenant):
            assert Membership.objects.count() == 1
