"""Single sign-on with OpenID Connect, against a real provider (django-oauth-toolkit in a subprocess): the test client
follows the console's redirect to the provider, signs in at its login form and comes back with the code."""
import logging
import os
import subprocess
import sys
import time

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from notifications.auth_oidc_discovery import discover
from notifications.models import AuditEntry
from notifications.roles import MANAGERS, OPERATORS
from tests.accounts import oidc_fixtures
from tests.accounts.oidc_fixtures import CLIENT_SECRET, ROOT, free_port, sign_in_at_provider
from tests.accounts.signin import signs_in

oidc_provider, oidc_settings = oidc_fixtures.oidc_provider, oidc_fixtures.oidc_settings  # the fixtures, used here

pytestmark = pytest.mark.django_db

AUDIT_URL = reverse("notifications:audit_log")


def sso(client: Client, username: str):
    """Press the SSO button, sign in at the provider, come back: the console's answer to the callback."""
    start = client.get(reverse("oidc_authentication_init"))
    assert start.status_code == 302, start.content[:300]
    callback = sign_in_at_provider(start["Location"], username)
    assert callback.startswith("http://testserver/oidc/callback/?code="), callback
    return client.get(callback.removeprefix("http://testserver"), follow=True)


def signed_in_user(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def role_names(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


@pytest.mark.parametrize(("username", "group", "sees_audit_log"), [
    ("operator1", OPERATORS, False),
    ("manager1", MANAGERS, True),
])
def test_sign_in_through_the_provider_gives_the_mapped_role(oidc_settings, username, group, sees_audit_log):
    client = Client()
    response = sso(client, username)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/"  # the dashboard
    assert username in response.content.decode()  # the top bar names the signed-in user
    assert (AUDIT_URL in response.content.decode()) is sees_audit_log  # managers' menu has the audit log
    user = signed_in_user(client)
    assert user.username == username and role_names(user) == [group]
    assert not user.is_superuser and not user.is_staff and not user.has_usable_password()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SIGN_IN, user=user).count() == 1


def test_a_group_change_at_the_provider_changes_the_role_at_the_next_sign_in(oidc_settings, oidc_provider):
    client = Client()
    sso(client, "manager1")
    assert role_names(signed_in_user(client)) == [MANAGERS]
    oidc_provider.set_groups("manager1", "voice-operators")
    try:
        client = Client()
        response = sso(client, "manager1")
        assert role_names(signed_in_user(client)) == [OPERATORS]
        assert AUDIT_URL not in response.content.decode()
        # Groups that are no role are left alone.
        User.objects.get(username="manager1").groups.add(Group.objects.create(name="Night shift"))
        oidc_provider.set_groups("manager1", "voice-managers")
        client = Client()
        sso(client, "manager1")
        assert role_names(signed_in_user(client)) == [MANAGERS, "Night shift"]
    finally:
        oidc_provider.set_groups("manager1", "voice-managers")


def test_sso_never_makes_a_superuser_nor_changes_a_superusers_groups(oidc_settings):
    root = User.objects.create_superuser("operator1", "root@example.test", "local-root-pass")
    client = Client()
    assert sso(client, "operator1").status_code == 200
    root.refresh_from_db()
    assert signed_in_user(client) == root
    assert root.is_superuser and role_names(root) == []  # the provider's "voice-operators" did not touch it
    # And a new account made by SSO is never a superuser, whatever its role.
    sso(Client(), "manager1")
    assert not User.objects.get(username="manager1").is_superuser


@pytest.mark.parametrize(("language", "text"), [
    ("zh-hans", "您在身份提供方的账号没有 VoiceAdmin 角色"),
    ("en", "Your account at the identity provider has no VoiceAdmin role"),
])
def test_claims_mapping_to_no_role_are_refused_audited_and_sign_in_nobody(oidc_settings, settings, language, text):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = sso(client, "nogroup1")
    assert response.redirect_chain[-1][0] == reverse("oidc_failure")
    assert response.status_code == 403
    assert text in response.content.decode()
    assert signed_in_user(client) is None and not User.objects.filter(username="nogroup1").exists()
    assert client.get("/").status_code == 302  # still signed out: the console sends them to the login page
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.SIGN_IN_FAILED)
    assert [(e.target_label, e.details["reason"]) for e in entries] == [("nogroup1", "no_role")]


@pytest.fixture
def local_operator(db):
    user = User.objects.create_user("localop", password="local-operator-pass")
    user.groups.add(Group.objects.get(name=OPERATORS))
    return user


@pytest.mark.parametrize("broken", ["wrong token endpoint", "unreachable port", "wrong client secret"])
def test_a_misconfigured_provider_shows_the_failure_page_and_password_sign_in_still_works(
        oidc_settings, oidc_provider, local_operator, caplog, broken):
    caplog.set_level(logging.DEBUG)
    if broken == "wrong token endpoint":
        oidc_settings.OIDC_OP_TOKEN_ENDPOINT = oidc_provider.url + "/o/no-such-token/"
    elif broken == "unreachable port":
        oidc_settings.OIDC_OP_TOKEN_ENDPOINT = f"http://127.0.0.1:{free_port()}/o/token/"
    else:
        oidc_settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET + "-wrong"
    client = Client()
    response = sso(client, "operator1")
    assert response.redirect_chain[-1][0] == reverse("oidc_failure")
    assert response.status_code == 502
    assert "无法连接身份提供方" in response.content.decode()  # the console's default language
    assert signed_in_user(client) is None
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SIGN_IN_FAILED, details__reason="provider_error").exists()
    assert signs_in("localop", "local-operator-pass")
    assert "OIDC sign-in failed" in caplog.text  # the failure was logged ...
    assert CLIENT_SECRET not in caplog.text and CLIENT_SECRET not in response.content.decode()  # ... not the secret


def test_sso_switched_off_or_without_endpoints_leads_to_the_failure_page(settings, local_operator):
    settings.OIDC_ENABLED = False
    assert b'id="va-sso-login"' not in Client().get("/accounts/login/").content
    assert Client().get(reverse("oidc_authentication_init")).status_code == 502
    # What a failed discovery at start-up leaves: SSO on, no endpoints. No redirect loop, the page says why.
    settings.OIDC_ENABLED = True
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = settings.OIDC_OP_TOKEN_ENDPOINT = ""
    client = Client()
    login_page = client.get("/accounts/login/").content.decode()
    assert 'id="va-sso-login"' in login_page and 'name="password"' in login_page
    response = client.get(reverse("oidc_authentication_init"))
    assert response.status_code == 502 and b'id="va-oidc-failure"' in response.content
    assert client.get(reverse("oidc_authentication_callback") + "?code=x&state=y").status_code == 502
    assert signs_in("localop", "local-operator-pass")


def _settings_at_start_up(discovery_url: str) -> tuple[subprocess.CompletedProcess, float]:
    """Start the console's settings and system checks in a fresh process, as `manage.py` would."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "voiceadmin.settings.test", "OIDC_ENABLED": "1",
           "OIDC_OP_DISCOVERY_URL": discovery_url, "OIDC_TIMEOUT": "3"}
    for name in ("OIDC_OP_TOKEN_ENDPOINT", "OIDC_OP_AUTHORIZATION_ENDPOINT"):
        env.pop(name, None)
    code = ("import django; django.setup(); from django.core.management import call_command; call_command('check');"
            " from django.conf import settings; print('TOKEN=' + settings.OIDC_OP_TOKEN_ENDPOINT)")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    return done, time.monotonic() - started


def test_discovery_at_start_up_reads_the_endpoints(oidc_provider):
    done, _ = _settings_at_start_up(oidc_provider.url + "/o/.well-known/openid-configuration/")
    assert done.returncode == 0, done.stderr
    assert f"TOKEN={oidc_provider.url}/o/token/" in done.stdout


@pytest.mark.parametrize("where", ["down", "not json"])
def test_a_failed_discovery_does_not_stop_the_console_from_starting(oidc_provider, where):
    url = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration" if where == "down" else \
        oidc_provider.url + "/accounts/login/"  # an HTML page
    done, seconds = _settings_at_start_up(url)
    assert done.returncode == 0, done.stderr
    assert "TOKEN=\n" in done.stdout  # no endpoints: the SSO button leads to the failure page
    assert "OIDC discovery failed" in done.stderr
    assert seconds < 30
    assert discover(url, 3) == {}


def test_a_hung_discovery_is_cut_short_by_the_timeout():
    import socket

    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        assert discover(f"http://127.0.0.1:{silent.getsockname()[1]}/", 1) == {}
        assert time.monotonic() - started < 5


class TestLocalLoginOff:
    @pytest.fixture(autouse=True)
    def local_off(self, oidc_settings):
        oidc_settings.LOCAL_LOGIN_ENABLED = False

    @pytest.mark.parametrize(("language", "notice", "refusal"), [
        ("zh-hans", "密码登录已关闭", "您的账号已关闭密码登录"),
        ("en", "Password sign-in is off", "Password sign-in is off for your account"),
    ])
    def test_operator_password_refused_with_a_clear_message(self, local_operator, settings, language, notice, refusal):
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        page = client.get("/accounts/login/").content.decode()
        assert notice in page and 'id="va-sso-login"' in page and 'id="va-password-login"' in page
        response = client.post("/accounts/login/", {"username": "localop", "password": "local-operator-pass"})
        assert response.status_code == 200 and refusal in response.content.decode()
        assert signed_in_user(client) is None
        # A wrong password gets the usual answer: the message tells nobody which accounts are superusers.
        wrong = client.post("/accounts/login/", {"username": "localop", "password": "wrong"}).content.decode()
        assert refusal not in wrong

    def test_superuser_password_and_sso_still_work(self, superuser):
        assert signs_in("root", "not-used-in-tests")
        client = Client()
        assert sso(client, "operator1").status_code == 200
        assert role_names(signed_in_user(client)) == [OPERATORS]
