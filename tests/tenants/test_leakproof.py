"""The functions field filters rely on are leakproof, so indexes serve them under RLS."""

import pytest
from django.db import connection

from tenants import leakproof
from tenants.checks import check_leakproof_functions, leakproof_warnings

pytestmark = pytest.mark.django_db


def test_the_test_database_has_the_marks_and_the_check_is_quiet():
    with connection.cursor() as cursor:
        assert leakproof.missing(cursor) == []
    assert check_leakproof_functions(None, databases=["default"]) == []


def test_a_function_without_the_mark_is_reported_with_the_statements_to_run():
    numeric_input = "pg_catalog.numeric_in(cstring, oid, integer)"  # raises on bad input
    with connection.cursor() as cursor:
        absent = leakproof.missing(cursor, (numeric_input,))
    assert absent == [numeric_input]
    (warning,) = leakproof_warnings(absent)
    assert warning.id == "tenants.W001"
    assert numeric_input in warning.msg
    assert "ALTER FUNCTION pg_catalog.jsonb_object_field_text(jsonb, text) LEAKPROOF" in (
        warning.hint
    )


def test_a_marked_database_needs_nothing_from_the_runtime_role():
    """The runtime role is no superuser, yet finds the marks set: nothing to do. (That a
    non-superuser cannot set missing marks is tested on a fresh embedded server.)"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0] is False
        assert leakproof.mark_if_superuser(cursor) is True
