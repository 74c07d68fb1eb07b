"""Lockout and unlock in a real browser, in both languages: a person is locked after too many wrong passwords, a
manager unlocks from the menu, the person then signs in. The two come from different addresses (behind a proxy,
the header names them), as the person's address is locked too."""
import pytest
from django.contrib.auth.models import Group, User
from selenium.webdriver.common.by import By

from notifications.roles import MANAGERS
from tests.accessibility.conftest import axe_violations
from tests.browser import conftest as browser_conftest
from tests.browser.conftest import menu_link, next_page, switch_language

browser = browser_conftest.browser  # the Chromium fixture of tests/browser, used here too

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PERSON_ADDRESS = "203.0.113.7"
TEXT = {
    "zh-hans": {"locked": "登录已锁定", "why": "登录失败次数过多。登录已锁定 15 分钟。", "menu": "已锁定的登录",
                "unlock": "解锁 person", "unlocked": "已解锁 person 的登录。", "none": "没有被锁定的登录。"},
    "en": {"locked": "Sign-in locked", "why": "Too many failed sign-ins. Sign-in is locked for 15 minutes.",
           "menu": "Locked sign-ins", "unlock": "Unlock person", "unlocked": "Sign-in unlocked for person.",
           "none": "No sign-in is locked."},
}


@pytest.fixture(autouse=True)
def behind_a_proxy(settings, browser):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = 15 / 60
    settings.SIGNIN_CLIENT_IP_HEADER = "X-Forwarded-For"
    browser.execute_cdp_cmd("Network.enable", {})
    yield
    from_address(browser, None)


def from_address(browser, address):
    """Send what a proxy would add for this browser's requests (None: nothing, REMOTE_ADDR counts)."""
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"X-Forwarded-For": address} if address else {}})


def sign_in(browser, live_server, language, username, password):
    browser.delete_all_cookies()
    browser.get(live_server.url + "/accounts/login/")
    if language != "zh-hans":
        switch_language(browser, language)
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()


def heading(browser) -> str:
    return browser.find_element(By.TAG_NAME, "h1").text


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_person_locked_out_then_unlocked_by_a_manager(browser, live_server, language):
    text = TEXT[language]
    User.objects.create_user("person", password="correct horse battery")
    User.objects.create_user("boss", password="boss password").groups.add(Group.objects.get(name=MANAGERS))

    from_address(browser, PERSON_ADDRESS)
    for _ in range(2):
        sign_in(browser, live_server, language, "person", "wrong guess")
        assert "/accounts/login/" in browser.current_url and browser.find_elements(By.NAME, "password")
        assert text["locked"] not in heading(browser)
    sign_in(browser, live_server, language, "person", "wrong guess")
    assert text["locked"] in heading(browser)
    assert text["why"] in browser.find_element(By.CSS_SELECTOR, "main .card [role=alert]").text
    assert axe_violations(browser) == []
    sign_in(browser, live_server, language, "person", "correct horse battery")  # the right password: still locked
    assert text["locked"] in heading(browser)

    from_address(browser, None)  # the manager, at another address
    sign_in(browser, live_server, language, "boss", "boss password")
    with next_page(browser):
        menu_link(browser, text["menu"]).click()
    assert text["menu"] in heading(browser)
    rows = browser.find_element(By.CSS_SELECTOR, "main table tbody").text
    assert "person" in rows and PERSON_ADDRESS in rows
    assert axe_violations(browser) == []
    with next_page(browser):
        browser.find_element(By.XPATH, f"//main//button[normalize-space()='{text['unlock']}']").click()
    main = browser.find_element(By.TAG_NAME, "main").text
    assert text["unlocked"] in main and text["none"] in main

    from_address(browser, PERSON_ADDRESS)
    sign_in(browser, live_server, language, "person", "correct horse battery")
    assert browser.current_url.rstrip("/") == live_server.url
    assert browser.find_elements(By.CSS_SELECTOR, "nav form[action='/accounts/logout/'] button")
