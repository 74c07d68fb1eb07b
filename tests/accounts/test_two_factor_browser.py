"""Two-factor sign-in in a real browser, in both languages: enrol, sign out, sign in again with a code."""
import base64
import time

import pytest
from django.contrib.auth.models import Group, User
from django_otp.oath import TOTP
from selenium.webdriver.common.by import By

from notifications.roles import MANAGERS
from tests.browser import conftest as browser_conftest
from tests.browser.conftest import next_page, switch_language

browser = browser_conftest.browser  # the Chromium fixture of tests/browser, used here too

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.VOICEADMIN_REQUIRE_2FA = True


def code_for(secret: str, steps_ahead: int = 0) -> str:
    totp = TOTP(base64.b32decode(secret), 30, 0, 6, 0)
    totp.time = time.time() + steps_ahead * 30
    return f"{totp.token():06d}"


def submit(browser, name, value):
    field = browser.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()


def sign_in(browser, live_server, language, username, password):
    browser.delete_all_cookies()
    browser.get(live_server.url + "/accounts/login/")
    if language != "zh-hans":
        switch_language(browser, language)
    browser.find_element(By.NAME, "username").send_keys(username)
    submit(browser, "password", password)


@pytest.mark.parametrize(("language", "heading", "enrolled", "verify"), [
    ("zh-hans", "设置两步验证", "两步验证已设置", "两步验证"),
    ("en", "Set up two-factor sign-in", "Two-factor sign-in is set up", "Two-factor sign-in"),
])
def test_manager_enrols_then_signs_in_with_a_code(browser, live_server, language, heading, enrolled, verify):
    if time.time() % 30 > 20:  # enrolment and sign-in use this window and the next: keep both ahead of us
        time.sleep(30 - time.time() % 30 + 0.1)
    user = User.objects.create_user("boss", password="correct horse battery")
    user.groups.add(Group.objects.get(name=MANAGERS))

    sign_in(browser, live_server, language, "boss", "correct horse battery")
    assert "/accounts/two-factor/setup/" in browser.current_url
    assert heading in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_elements(By.CSS_SELECTOR, "main svg")
    secret = browser.find_element(By.ID, "va-2fa-secret").text.replace(" ", "")

    submit(browser, "code", "000000" if code_for(secret) != "000000" else "111111")
    assert browser.find_elements(By.CSS_SELECTOR, ".invalid-feedback")
    time.sleep(1.1)  # the wait after one wrong code
    submit(browser, "code", code_for(secret))
    assert enrolled in browser.find_element(By.TAG_NAME, "h1").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#va-recovery-codes li")) == 10
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "main a.btn-primary").click()
    assert browser.current_url.rstrip("/") == live_server.url

    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "nav form[action='/accounts/logout/'] button").click()

    sign_in(browser, live_server, language, "boss", "correct horse battery")
    assert "/accounts/two-factor/?next=" in browser.current_url
    assert verify in browser.find_element(By.TAG_NAME, "h1").text
    submit(browser, "code", code_for(secret, steps_ahead=1))  # the enrolment code's window is used up
    assert browser.current_url.rstrip("/") == live_server.url
    assert "boss" in browser.find_element(By.CSS_SELECTOR, "nav").text


def test_two_factor_pages_pass_axe(browser, live_server):
    from tests.accessibility.conftest import axe_violations

    found = []
    for language in ("zh-hans", "en"):
        user = User.objects.create_user(f"boss-{language}", password="correct horse battery")
        user.groups.add(Group.objects.get(name=MANAGERS))
        sign_in(browser, live_server, language, user.username, "correct horse battery")
        found += [f"{language} setup: {line}" for line in axe_violations(browser)]
        submit(browser, "code", "12")  # refused: the error summary and the field error
        found += [f"{language} setup, refused: {line}" for line in axe_violations(browser)]
        secret = browser.find_element(By.ID, "va-2fa-secret").text.replace(" ", "")
        time.sleep(1.1)  # the wait after one wrong code
        submit(browser, "code", code_for(secret))
        found += [f"{language} recovery codes: {line}" for line in axe_violations(browser)]
        sign_in(browser, live_server, language, user.username, "correct horse battery")
        assert "/accounts/two-factor/?next=" in browser.current_url
        found += [f"{language} verify: {line}" for line in axe_violations(browser)]
    assert found == [], "\n".join(found)
