"""The Usage journey in headless Chromium, in both languages: a manager opens Usage from the top bar, reads the
month's cost, follows the page's hint to the price list, enters the contract's notification price, and sees the calls
that had none priced after the next billing run; every page passes axe."""
import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from notifications.services.stats import daily_stats_refresh
from notifications.services.usage import calls_bill
from tests.accessibility.conftest import axe_violations
from tests.browser.conftest import browser, login_as, next_page  # noqa: F401  (fixtures shared with the browser tests)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TEXT = {
    "en": {"menu": "Usage", "missing": "Voice notification prices are set by your contract", "prices": "Price list",
           "entered": "Price entered.", "unpriced": "2 answered calls have no price"},
    "zh-hans": {"menu": "用量", "missing": "语音通知价格由合同约定", "prices": "价目表", "entered": "价格已录入。",
                "unpriced": "2 通已接通呼叫没有价格"},
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_manager_reads_the_cost_and_enters_the_contracts_price(browser, live_server, login_as, manager, make_call,  # noqa: F811
                                                                 language):
    text = TEXT[language]
    for seconds in (30, 90):
        make_call(code="200000", duration=seconds)
    calls_bill()
    daily_stats_refresh(days=[timezone.localdate()])
    manager.set_password("manager-password")
    manager.save()
    login_as("manager", "manager-password")
    browser.add_cookie({"name": "django_language", "value": language})
    with next_page(browser):
        browser.get(live_server.url + "/")
    with next_page(browser):
        browser.find_element(By.LINK_TEXT, text["menu"]).click()
    assert text["missing"] in browser.find_element(By.ID, "va-usage-prices-missing").text
    assert text["unpriced"] in browser.find_element(By.ID, "va-usage-total").text
    assert browser.find_element(By.CSS_SELECTOR, "[data-figure=month_cost]").text == "¥0.00"
    assert axe_violations(browser) == []

    with next_page(browser):
        browser.find_element(By.LINK_TEXT, text["prices"]).click()
    Select(browser.find_element(By.NAME, "mode")).select_by_value("public")
    Select(browser.find_element(By.NAME, "kind")).select_by_value("notification")
    Select(browser.find_element(By.NAME, "unit")).select_by_value("minute")
    browser.find_element(By.NAME, "unit_price").send_keys("0.05")
    date_input = browser.find_element(By.NAME, "effective_from")
    browser.execute_script("arguments[0].value = arguments[1]", date_input, timezone.localdate().replace(day=1).isoformat())
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    assert text["entered"] in browser.find_element(By.CSS_SELECTOR, ".va-messages").text
    assert "¥0.0500" in browser.find_element(By.ID, "va-price-list").text
    assert axe_violations(browser) == []

    calls_bill()  # the next billing run prices the calls that had none (1 + 2 started minutes)
    daily_stats_refresh(days=[timezone.localdate()])
    with next_page(browser):
        browser.get(live_server.url + "/usage/")
    assert browser.find_element(By.CSS_SELECTOR, "[data-figure=month_cost]").text == "¥0.15"
    assert browser.find_elements(By.ID, "va-usage-prices-missing") == []
