"""``create_tenant``: what it creates, and every bad input refused with nothing created."""

import pytest
from django.core.management import CommandError, call_command

from tenants.context import tenant_context
from tenants.models import Membership, Tenant, User
from tests.fixtures import PASSWORD


def run(*args):
    call_command("create_tenant", *args)


def counts():
    return Tenant.objects.count(), User.objects.count()


def test_creates_the_tenant_and_its_administrator(db, capsys):
    run(
        "acme",
        "--name",
        "Acme Ltd",
        "--pack",
        "crm",
        "--admin-email",
        "Boss@Acme.test",
        "--admin-password",
        PASSWORD,
    )
    tenant = Tenant.objects.get(slug="acme")
    assert (tenant.name, tenant.pack, tenant.status) == ("Acme Ltd", "crm", "active")
    admin = User.objects.get(email="boss@acme.test")
    assert admin.check_password(PASSWORD)
    with tenant_context(tenant):
        assert list(Membership.objects.values_list("user__email", "roles")) == [
            ("boss@acme.test", ["tenant_admin"])
        ]
    assert "Created tenant acme" in capsys.readouterr().out


@pytest.mark.parametrize("slug", ["A", "Acme", "1acme", "acme-", "ac--me", "ac_me", "a" * 33, ""])
def test_malformed_slug_is_refused(db, slug):
    with pytest.raises(CommandError, match=r"\[slug_invalid\]"):
        run(slug, "--name", "X", "--admin-email", "a@x.test", "--admin-password", PASSWORD)
    assert counts() == (0, 0)


def test_reserved_slug_is_refused(db):
    with pytest.raises(CommandError, match=r"\[slug_reserved\]"):
        run("studio", "--name", "X", "--admin-email", "a@x.test", "--admin-password", PASSWORD)
    assert counts() == (0, 0)


def test_taken_slug_is_refused_and_creates_nothing(acme):
    before = counts()
    with pytest.raises(CommandError, match=r"\[slug_taken\] The slug 'acme' is already taken"):
        run("acme", "--name", "Other", "--admin-email", "new@x.test", "--admin-password", PASSWORD)
    assert counts() == before
    assert Tenant.objects.get(slug="acme").name == "Acme Ltd"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("3141592653589", "entirely numeric"),
    ],
)
def test_weak_password_is_refused_and_creates_nothing(db, password, reason):
    with pytest.raises(CommandError, match=rf"\[password_weak\].*{reason}"):
        run("acme", "--name", "Acme", "--admin-email", "a@acme.test", "--admin-password", password)
    assert counts() == (0, 0)


def test_invalid_email_is_refused(db):
    with pytest.raises(CommandError, match=r"\[email_invalid\]"):
        run("acme", "--name", "Acme", "--admin-email", "not-an-email", "--admin-password", PASSWORD)
    assert counts() == (0, 0)


def test_blank_name_is_refused(db):
    with pytest.raises(CommandError, match=r"\[name_required\]"):
        run("acme", "--name", "  ", "--admin-email", "a@acme.test", "--admin-password", PASSWORD)
    assert counts() == (0, 0)


@pytest.mark.parametrize("pack", ["../etc", "nope", ""])
def test_unknown_pack_is_refused(db, pack):
    with pytest.raises(
        CommandError, match=r"\[pack_unknown\] Unknown pack .*available: crm, starter"
    ):
        run(
            "acme",
            "--name",
            "Acme",
            "--pack",
            pack,
            "--admin-email",
            "a@acme.test",
            "--admin-password",
            PASSWORD,
        )
    assert counts() == (0, 0)


def test_existing_user_becomes_admin_of_a_second_tenant_with_their_password(acme):
    run(
        "globex",
        "--name",
        "Globex",
        "--admin-email",
        "admin@acme.test",
        "--admin-password",
        PASSWORD,
    )
    assert User.objects.count() == 1
    with tenant_context(Tenant.objects.get(slug="globex")):
        assert Membership.objects.get().user == acme.admin


def test_existing_user_with_a_different_password_is_refused(acme):
    before = counts()
    with pytest.raises(CommandError, match=r"\[user_password_mismatch\]"):
        run(
            "globex",
            "--name",
            "Globex",
            "--admin-email",
            "admin@acme.test",
            "--admin-password",
            "another-good-password-7",
        )
    assert counts() == before


def test_suspend_and_activate(acme, capsys):
    call_command("tenant", "suspend", "acme")
    assert Tenant.objects.get(slug="acme").is_suspended
    call_command("tenant", "activate", "acme")
    assert not Tenant.objects.get(slug="acme").is_suspended


def test_suspending_an_unknown_tenant_is_refused(db):
    with pytest.raises(CommandError, match=r"\[tenant_unknown\]"):
        call_command("tenant", "suspend", "nobody")
