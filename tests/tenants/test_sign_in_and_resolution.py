"""Sign-in, the tenant chooser and tenant resolution through the web app."""

from django.urls import reverse

from tenants.resolution import SESSION_KEY
from tests.fixtures import PASSWORD

LOGIN = "/app/login/"


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def test_sign_in_page_is_served(db, client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_anonymous_user_is_sent_to_sign_in(db, client):
    response = client.get("/app/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_member_of_one_tenant_lands_in_it(acme, client):
    response = sign_in(client, "admin@acme.test")
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == acme.tenant.pk
    home = client.get("/app/")
    assert home.status_code == 200
    assert "Welcome to Acme Ltd" in home.content.decode()
    assert "tenant_admin" in home.content.decode()


def test_wrong_password_is_refused(acme, client):
    response = sign_in(client, "admin@acme.test", "wrong-password-1")
    assert response.status_code == 200
    assert "enter a correct" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_member_of_several_tenants_chooses_one(acme, globex, add_member, client):
    add_member(globex.tenant, "admin@acme.test")
    response = sign_in(client, "admin@acme.test")
    assert response.url == reverse("tenants:choose")
    page = client.get(reverse("tenants:choose")).content.decode()
    assert "Acme Ltd" in page
    assert "Globex Corp" in page
    chosen = client.post(reverse("tenants:choose"), {"tenant": "globex"})
    assert chosen.status_code == 302
    assert "Welcome to Globex Corp" in client.get("/app/").content.decode()


def test_choosing_a_tenant_one_does_not_belong_to_is_refused(acme, globex, client):
    sign_in(client, "admin@acme.test")
    response = client.post(reverse("tenants:choose"), {"tenant": "globex"})
    assert response.status_code == 400
    assert "no access to that company" in response.content.decode()
    assert client.session[SESSION_KEY] == acme.tenant.pk


def test_user_without_membership_cannot_sign_in(db, client, django_user_model):
    django_user_model.objects.create_user(email="lonely@example.test", password=PASSWORD)
    response = sign_in(client, "lonely@example.test")
    assert response.status_code == 200
    assert "belongs to no company" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_subdomain_names_the_tenant(acme, globex, client):
    response = sign_in(client, "admin@acme.test", HTTP_HOST="acme.localhost")
    assert response.status_code == 302
    page = client.get("/app/", HTTP_HOST="acme.localhost").content.decode()
    assert "Welcome to Acme Ltd" in page


def test_unknown_subdomain_gets_a_clear_404(db, client):
    response = client.get(LOGIN, HTTP_HOST="nobody.localhost")
    assert response.status_code == 404
    assert "No company is known as &#x27;nobody&#x27;" in response.content.decode()


def test_member_of_one_tenant_on_anothers_subdomain_gets_404(acme, globex, client):
    client.force_login(acme.admin)
    response = client.get("/app/", HTTP_HOST="globex.localhost")
    assert response.status_code == 404
    assert "Globex" not in response.content.decode()


def test_sign_in_on_anothers_subdomain_is_refused(acme, globex, client):
    response = sign_in(client, "admin@acme.test", HTTP_HOST="globex.localhost")
    assert response.status_code == 200
    assert "no access to this company" in response.content.decode()


def test_suspended_tenant_answers_only_suspended(acme, client):
    sign_in(client, "admin@acme.test")
    acme.tenant.status = "suspended"
    acme.tenant.save()
    response = client.get("/app/")
    assert response.status_code == 403
    assert "The company Acme Ltd is suspended." in response.content.decode()
    json_response = client.get("/app/", HTTP_ACCEPT="application/json")
    assert json_response.json() == {
        "errors": [{"code": "tenant_suspended", "message": "The company Acme Ltd is suspended."}]
    }


def test_suspended_tenant_subdomain_answers_suspended(acme, client):
    acme.tenant.status = "suspended"
    acme.tenant.save()
    response = client.get(LOGIN, HTTP_HOST="acme.localhost")
    assert response.status_code == 403
    assert 'data-error-code="tenant_suspended"' in response.content.decode()


def test_sign_in_page_in_simplified_chinese(db, client):
    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "<h1>登录" in page
    assert "电子邮箱" in page


def test_home_page_in_the_users_language(acme, client):
    acme.admin.language = "zh-hans"
    acme.admin.save()
    sign_in(client, "admin@acme.test")
    assert "欢迎来到 Acme Ltd" in client.get("/app/").content.decode()


def test_repeated_failures_lock_the_account_out(acme, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "admin@acme.test", "wrong-password-1")
    response = sign_in(client, "admin@acme.test")  # even the right password now
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out(acme, client):
    sign_in(client, "admin@acme.test")
    response = client.post(reverse("tenants:logout"))
    assert response.status_code == 302
    assert client.get("/app/").status_code == 302
