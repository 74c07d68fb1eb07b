"""Single sign-on in a real browser, in both languages: the login page's SSO button, the provider's login form, back
to the console signed in with the mapped role; and the refusal page for an account with no role."""
import pytest
from django.contrib.auth.models import User
from selenium.webdriver.common.by import By

from notifications.roles import MANAGERS, OPERATORS
from tests.accounts import oidc_fixtures
from tests.accounts.oidc_fixtures import PROVIDER_PASSWORD
from tests.browser import conftest as browser_conftest
from tests.browser.conftest import menu_texts, next_page, switch_language

browser = browser_conftest.browser  # the Chromium fixture of tests/browser, used here too
oidc_provider, oidc_settings = oidc_fixtures.oidc_provider, oidc_fixtures.oidc_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def sso_in_browser(browser, live_server, oidc_provider, language, username):
    # Forget both sites' cookies: the provider would otherwise still know the previous test's user.
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.get(live_server.url + "/accounts/login/")
    if language != "zh-hans":
        switch_language(browser, language)
    with next_page(browser):
        browser.find_element(By.ID, "va-sso-login").click()
    assert browser.current_url.startswith(oidc_provider.url)  # the provider's own login form
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(PROVIDER_PASSWORD)
    with next_page(browser):  # the provider's answer, its redirect to the callback, the console's redirect
        browser.find_element(By.ID, "provider-login").click()


@pytest.mark.parametrize(("language", "button", "username", "group", "audit_link"), [
    ("zh-hans", "使用企业账号登录", "manager1", MANAGERS, "审计日志"),
    ("en", "Sign in with company account", "operator1", OPERATORS, None),
    ("en", "Sign in with company account", "manager1", MANAGERS, "Audit log"),
])
def test_sign_in_with_the_sso_button(browser, live_server, oidc_settings, oidc_provider, language, button, username,
                                     group, audit_link):
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.get(live_server.url + "/accounts/login/")
    if language != "zh-hans":
        switch_language(browser, language)
    assert browser.find_element(By.ID, "va-sso-login").text == button

    sso_in_browser(browser, live_server, oidc_provider, language, username)
    assert browser.current_url.rstrip("/") == live_server.url  # the dashboard
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    assert username in browser.find_element(By.CSS_SELECTOR, "nav").text
    nav_links = menu_texts(browser)
    assert (audit_link in nav_links) if audit_link else ("Audit log" not in nav_links and "审计日志" not in nav_links)
    assert list(User.objects.get(username=username).groups.values_list("name", flat=True)) == [group]


@pytest.mark.parametrize(("language", "heading", "message"), [
    ("zh-hans", "单点登录失败", "没有 VoiceAdmin 角色"),
    ("en", "Single sign-on failed", "has no VoiceAdmin role"),
])
def test_an_account_with_no_role_is_refused(browser, live_server, oidc_settings, oidc_provider, language, heading,
                                            message):
    sso_in_browser(browser, live_server, oidc_provider, language, "nogroup1")
    assert browser.current_url == live_server.url + "/oidc/failed/"
    assert browser.find_element(By.TAG_NAME, "h1").text == heading
    assert message in browser.find_element(By.ID, "va-oidc-failure").text
    assert not browser.find_elements(By.CSS_SELECTOR, "nav form[action='/accounts/logout/']")  # nobody signed in
    assert not User.objects.filter(username="nogroup1").exists()
    with next_page(browser):  # back to the login page, still in the chosen language
        browser.find_element(By.CSS_SELECTOR, "main a.btn").click()
    assert "/accounts/login/" in browser.current_url
    assert browser.find_element(By.ID, "va-sso-login").is_displayed()
