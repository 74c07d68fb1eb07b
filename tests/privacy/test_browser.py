"""In headless Chromium: a manager opens a call's page, every raw payload unfolded, and no full number is on it; the
audit log then shows who did what, in the manager's language."""
import re

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import menu_link, next_page

from .conftest import CALLEE, MASKED

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
PASSWORD = "privacy journeys pw"
# Any mainland mobile written whole, however it is spaced.
WHOLE_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9A-Za-z])")


@pytest.fixture(autouse=True)
def _blank_page_afterwards(browser, live_server, transactional_db):
    yield
    browser.get("about:blank")


@pytest.mark.parametrize("language,width,heading", [("zh-hans", 1366, "原始报文"), ("en", 390, "Raw payload")])
def test_a_manager_sees_no_full_number_anywhere_on_a_call_page(browser, live_server, login_as, manager, dialled, language, width,
                                                               heading):
    manager.set_password(PASSWORD)
    manager.save()
    browser.set_window_size(width, 900)
    try:
        login_as("manager", PASSWORD)
        browser.add_cookie({"name": "django_language", "value": language})
        with next_page(browser):
            browser.get(f"{live_server.url}/calls/{dialled.pk}/")
        for details in browser.find_elements(By.CSS_SELECTOR, "#va-call-timeline details"):
            browser.execute_script("arguments[0].open = true", details)
        text = browser.find_element(By.TAG_NAME, "body").text
        assert heading in text and MASKED in text
        assert "138****8000" in text  # the number given as a parameter, in the text heard
        assert not WHOLE_MOBILE.search(text), WHOLE_MOBILE.search(text)
        assert CALLEE not in browser.page_source and "13800138000" not in browser.page_source  # nor hidden in the markup
    finally:
        browser.set_window_size(1366, 900)


def test_the_audit_log_shows_the_operators_dial_to_a_manager(browser, live_server, login_as, manager, operator, dialled):
    manager.set_password(PASSWORD)
    manager.save()
    login_as("manager", PASSWORD)
    browser.add_cookie({"name": "django_language", "value": "en"})
    with next_page(browser):
        browser.get(live_server.url + "/")
    with next_page(browser):
        menu_link(browser, "Audit log").click()
    rows = browser.find_elements(By.CSS_SELECTOR, "#va-audit-entries tbody tr")
    dial = next(row.text for row in rows if "Test call placed" in row.text)
    assert "operator" in dial and dialled.out_id in dial and MASKED in dial
    assert CALLEE not in browser.page_source
