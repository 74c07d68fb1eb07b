"""Idle session timeout: sign-out after SESSION_IDLE_MINUTES without the user's own requests; polling does not count."""
import time

import pytest
from django.test import Client

from notifications.idle import LAST_ACTIVITY_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(operator) -> Client:
    client = Client()
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    assert client.get("/").status_code == 200  # the first request records activity
    return client


def _age(client: Client, seconds: float) -> None:
    session = client.session
    session[LAST_ACTIVITY_KEY] = session[LAST_ACTIVITY_KEY] - seconds
    session.save()


def test_idle_longer_than_the_limit_signs_out_with_a_message(signed_in, settings):
    settings.SESSION_IDLE_MINUTES = 10
    _age(signed_in, 11 * 60)
    response = signed_in.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "signed out after 10 minutes without activity" in response.content.decode()
    assert signed_in.get("/").status_code == 302  # stays signed out


def test_activity_within_the_limit_keeps_the_session(signed_in, settings):
    settings.SESSION_IDLE_MINUTES = 10
    _age(signed_in, 9 * 60)
    assert signed_in.get("/").status_code == 200
    _age(signed_in, 9 * 60)  # renewed by the previous request
    assert signed_in.get("/").status_code == 200


def test_status_polling_is_not_activity(signed_in, settings):
    settings.SESSION_IDLE_MINUTES = 10
    _age(signed_in, 9 * 60)
    before = signed_in.session[LAST_ACTIVITY_KEY]
    signed_in.get("/system/health/status/")
    signed_in.get("/calls/1/status/")
    assert signed_in.session[LAST_ACTIVITY_KEY] == before
    _age(signed_in, 2 * 60)  # 11 minutes since the last own request, polls in between
    assert signed_in.get("/").status_code == 302


def test_keep_alive_renews_and_needs_csrf(operator, settings):
    settings.SESSION_IDLE_MINUTES = 10
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    client.get("/")
    _age(client, 9 * 60)
    assert client.post("/accounts/keep-alive/").status_code == 403  # no CSRF token
    token = client.cookies["csrftoken"].value
    assert client.post("/accounts/keep-alive/", HTTP_X_CSRFTOKEN=token).status_code == 204
    assert time.time() - client.session[LAST_ACTIVITY_KEY] < 5


def test_pages_carry_the_warning_driven_by_the_setting(signed_in, settings):
    settings.SESSION_IDLE_MINUTES = 7
    html = signed_in.get("/").content.decode()
    assert 'data-idle-seconds="420"' in html and 'role="alert"' in html and "js/idle.js" in html
    assert "Stay signed in" in html


def test_default_is_thirty_minutes(settings):
    assert settings.SESSION_IDLE_MINUTES == 30
