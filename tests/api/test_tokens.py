"""API tokens name their tenant; every bad token is refused with a clear error."""

import pytest
from django.core.management import CommandError, call_command

from api.models import ApiToken
from api.tokens import issue_token, revoke_tokens
from tenants.context import tenant_context
from tenants.models import Membership

WHOAMI = "/api/whoami"


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_command_prints_a_token_that_acts_as_the_user_in_its_tenant(acme, globex, client, capsys):
    call_command("create_api_token", "--tenant", "acme", "--email", "admin@acme.test")
    token = capsys.readouterr().out.strip()
    assert token.startswith("acme.")
    response = client.get(WHOAMI, **bearer(token))
    assert response.status_code == 200
    assert response.json() == {
        "tenant": "acme",
        "user": "admin@acme.test",
        "roles": ["tenant_admin"],
    }


def test_only_a_hash_of_the_secret_is_stored(acme):
    token = issue_token(acme.tenant, acme.admin)
    secret = token.split(".", 1)[1]
    with tenant_context(acme.tenant):
        stored = ApiToken.objects.get()
    assert secret not in (stored.key_hash, stored.key_prefix)
    assert stored.key_prefix == secret[:8]


@pytest.mark.parametrize("token", ["", "acme", "acme.", ".secret", "no-dot-at-all"])
def test_malformed_token_is_refused(acme, client, token):
    response = client.get(WHOAMI, **bearer(token))
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] in {"token_malformed"}


def test_wrong_secret_is_refused(acme, client):
    issue_token(acme.tenant, acme.admin)
    response = client.get(WHOAMI, **bearer("acme.not-the-secret"))
    assert response.status_code == 401
    assert response.json() == {
        "errors": [
            {
                "code": "token_invalid",
                "message": "Invalid or revoked API token.",
                "extensions": {"code": "token_invalid"},
            }
        ]
    }


def test_a_token_presented_under_another_tenants_slug_is_refused(acme, globex, client):
    secret = issue_token(acme.tenant, acme.admin).split(".", 1)[1]
    response = client.get(WHOAMI, **bearer(f"globex.{secret}"))
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_invalid"


def test_token_for_an_unknown_tenant_is_refused(db, client):
    response = client.get(WHOAMI, **bearer("nobody.abcdef"))
    assert response.status_code == 401


def test_token_on_another_tenants_subdomain_gets_404(acme, globex, client):
    token = issue_token(acme.tenant, acme.admin)
    response = client.get(WHOAMI, HTTP_HOST="globex.localhost", **bearer(token))
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "tenant_unknown"


def test_revoked_token_is_refused(acme, client):
    token = issue_token(acme.tenant, acme.admin)
    assert revoke_tokens(acme.tenant, acme.admin) == 1
    assert client.get(WHOAMI, **bearer(token)).status_code == 401


def test_token_of_a_suspended_tenant_answers_suspended(acme, client):
    token = issue_token(acme.tenant, acme.admin)
    acme.tenant.status = "suspended"
    acme.tenant.save()
    response = client.get(WHOAMI, **bearer(token))
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "tenant_suspended"


def test_token_of_a_user_no_longer_a_member_is_refused(acme, client):
    token = issue_token(acme.tenant, acme.admin)
    with tenant_context(acme.tenant):
        Membership.objects.update(is_active=False)
    response = client.get(WHOAMI, **bearer(token))
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_a_member"


def test_command_refuses_a_non_member(acme, globex):
    with pytest.raises(CommandError, match=r"\[not_a_member\]"):
        call_command("create_api_token", "--tenant", "globex", "--email", "admin@acme.test")
    with tenant_context(globex.tenant):
        assert ApiToken.objects.count() == 0


def test_command_refuses_an_unknown_tenant_or_user(acme):
    with pytest.raises(CommandError, match=r"\[tenant_unknown\]"):
        call_command("create_api_token", "--tenant", "nobody", "--email", "admin@acme.test")
    with pytest.raises(CommandError, match=r"\[user_unknown\]"):
        call_command("create_api_token", "--tenant", "acme", "--email", "who@acme.test")


def test_whoami_without_credentials_is_401(db, client):
    response = client.get(WHOAMI)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_an_expired_token_is_refused_with_its_own_code(acme, client, capsys):
    import datetime as dt

    from django.utils import timezone

    call_command(
        "create_api_token", "--tenant", "acme", "--email", "admin@acme.test", "--expires-in", "30"
    )
    token = capsys.readouterr().out.strip()
    assert client.get(WHOAMI, **bearer(token)).status_code == 200
    with tenant_context(acme.tenant):
        stored = ApiToken.objects.get()
        assert stored.last_used is not None
        assert stored.expires > timezone.now() + dt.timedelta(days=29)
        ApiToken.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(WHOAMI, **bearer(token))
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_expired"
    with pytest.raises(CommandError, match="expiry_invalid"):
        call_command(
            "create_api_token", "--tenant", "acme", "--email", "admin@acme.test",
            "--expires-in", "0",
        )  # fmt: skip


def test_the_command_revokes_a_users_tokens(acme, client, capsys):
    token = issue_token(acme.tenant, acme.admin)
    call_command("create_api_token", "--tenant", "acme", "--email", "admin@acme.test", "--revoke")
    assert "Revoked 1 token(s) of admin@acme.test in acme." in capsys.readouterr().out
    response = client.get(WHOAMI, **bearer(token))
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_invalid"
