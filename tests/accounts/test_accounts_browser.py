"""Browser journeys: a manager invites someone who then signs in for the first time; a forgotten password reset."""
import re

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from notifications.roles import MANAGERS, OPERATORS
from tests.browser import conftest as browser_conftest
from tests.browser.conftest import menu_link, next_page, switch_language

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
# The Chromium fixtures of tests/browser, used here too.
browser = browser_conftest.browser
login_as = browser_conftest.login_as
PASSWORD = "Amber-meadow-5817"


def _submit(browser) -> None:
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()


def _set_password(browser, live_server, path: str, new_password_label: str) -> None:
    browser.get(live_server.url + path)
    assert new_password_label in browser.find_element(By.CSS_SELECTOR, "label[for=id_new_password1]").text
    browser.find_element(By.NAME, "new_password1").send_keys(PASSWORD)
    browser.find_element(By.NAME, "new_password2").send_keys(PASSWORD)
    _submit(browser)


@pytest.mark.parametrize("language, new_password_label", [("zh-hans", "新密码"), ("en", "New password")])
def test_manager_invites_and_the_invited_person_signs_in(browser, live_server, login_as, language, new_password_label):
    boss = User.objects.create_user("boss", password="boss-password-123")
    boss.groups.add(Group.objects.get(name=MANAGERS))
    mail.outbox.clear()
    login_as("boss", "boss-password-123")
    if language == "en":
        switch_language(browser, "en")
    with next_page(browser):
        menu_link(browser, href="/accounts/users/").click()
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "main a[href='/accounts/users/invite/']").click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    browser.find_element(By.NAME, "email").send_keys("first.timer@example.com")
    Select(browser.find_element(By.NAME, "role")).select_by_value(OPERATORS)
    _submit(browser)
    assert "first.timer@example.com" in browser.find_element(By.CSS_SELECTOR, ".va-messages").text
    assert "first.timer@example.com" in browser.find_element(By.CSS_SELECTOR, "main table").text

    path = re.search(r"https?://[^/\s]+(/accounts/invitation/\S+/)", mail.outbox[-1].body).group(1)
    browser.delete_all_cookies()
    if language == "en":
        browser.get(live_server.url + "/accounts/login/")
        switch_language(browser, "en")
    _set_password(browser, live_server, path, new_password_label)
    assert "/accounts/login/" in browser.current_url
    if language == "en":
        assert "Your password is set" in browser.find_element(By.CSS_SELECTOR, ".va-messages").text
    login_as("first.timer@example.com", PASSWORD)
    assert browser.current_url.rstrip("/") == live_server.url
    assert "first.timer@example.com" in browser.find_element(By.CSS_SELECTOR, "nav").text
    # The link was used: it now explains itself.
    browser.get(live_server.url + path)
    assert not browser.find_elements(By.NAME, "new_password1")


@pytest.mark.parametrize("language, new_password_label", [("zh-hans", "新密码"), ("en", "New password")])
def test_forgotten_password_is_reset_by_email(browser, live_server, login_as, language, new_password_label):
    User.objects.create_user("forgetful", email="forgetful@example.com", password="long-forgotten-1")
    mail.outbox.clear()
    browser.delete_all_cookies()
    browser.get(live_server.url + "/accounts/login/")
    if language == "en":
        switch_language(browser, "en")
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "main a[href='/accounts/password-reset/']").click()
    browser.find_element(By.NAME, "email").send_keys("forgetful@example.com")
    _submit(browser)
    assert "/accounts/password-reset/done/" in browser.current_url
    path = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/)", mail.outbox[-1].body).group(1)
    _set_password(browser, live_server, path, new_password_label)
    assert "/accounts/password-reset/complete/" in browser.current_url
    login_as("forgetful", PASSWORD)
    assert browser.current_url.rstrip("/") == live_server.url


def test_account_pages_pass_axe_in_both_languages(browser, live_server, login_as):
    from tests.accessibility.conftest import axe_violations, submit_empty

    boss = User.objects.create_user("boss", password="boss-password-123", email="boss@example.com")
    boss.groups.add(Group.objects.get(name=MANAGERS))
    User.objects.create_user("someone", email="someone@example.com").set_unusable_password()
    found = []
    for language in ("zh-hans", "en"):
        login_as("boss", "boss-password-123")
        browser.add_cookie({"name": "django_language", "value": language})
        for path in ("/accounts/users/", "/accounts/users/invite/"):
            browser.get(live_server.url + path)
            found += [f"{language} {path}: {line}" for line in axe_violations(browser)]
        assert submit_empty(browser)
        found += [f"{language} invite (empty submit): {line}" for line in axe_violations(browser)]
        browser.delete_all_cookies()
        browser.get(live_server.url + "/accounts/login/")
        browser.add_cookie({"name": "django_language", "value": language})
        for path in ("/accounts/password-reset/", "/accounts/password-reset/done/",
                     "/accounts/password-reset/MQ/bad-token/", "/accounts/invitation/MQ/bad-token/"):
            browser.get(live_server.url + path)
            found += [f"{language} {path}: {line}" for line in axe_violations(browser)]
    assert found == [], "\n".join(found)


def test_idle_warning_appears_and_stay_signed_in_renews(browser, live_server, login_as, settings):
    from selenium.webdriver.support.ui import WebDriverWait

    settings.SESSION_IDLE_MINUTES = 0.1  # six seconds: the warning comes after three
    User.objects.create_user("idler", password="idler-password-123")
    login_as("idler", "idler-password-123")
    switch_language(browser, "en")
    warning = browser.find_element(By.ID, "va-idle-warning")
    assert not warning.is_displayed()
    WebDriverWait(browser, 10).until(lambda b: warning.is_displayed())
    assert warning.find_element(By.CSS_SELECTOR, "[role=alert]").text.startswith("You will be signed out soon")
    browser.find_element(By.CSS_SELECTOR, "[data-idle-stay]").click()
    WebDriverWait(browser, 5).until(lambda b: not warning.is_displayed())
    # Left alone now, the page goes to the login page with the reason.
    WebDriverWait(browser, 15).until(lambda b: "/accounts/login/" in b.current_url)
    WebDriverWait(browser, 5).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".va-messages"))
    assert "without activity" in browser.find_element(By.CSS_SELECTOR, ".va-messages").text
