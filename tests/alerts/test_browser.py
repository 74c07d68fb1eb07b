"""The Alerts page in headless Chromium, in Chinese then English: badge, page, acknowledge, resolve, a new rule."""
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from notifications.models import Alert, AlertRule, CallerNumber, CallRecord
from notifications.services.alerts import alerts_check
from tests.accessibility.conftest import axe_violations
from tests.browser.conftest import browser, login_as, menu_link, next_page, switch_language  # noqa: F401

from .conftest import NOW, at, make_rule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RED, YELLOW, GREEN = "rgba(220, 53, 69, 1)", "rgba(255, 193, 7, 1)", "rgba(25, 135, 84, 1)"


def test_a_manager_works_through_an_alert_in_both_languages(browser, live_server, login_as, manager, make_call,  # noqa: F811
                                                            qualification, monkeypatch):
    monkeypatch.setattr("notifications.views.alerts.REFRESH_SECONDS", 1)
    make_rule("backlog", name="队列积压", params={"source": "queue", "minutes": 10})
    make_call(CallRecord.Status.QUEUED, created=at(minutes=-20))
    alerts_check(now=NOW)
    alert = Alert.objects.get()
    manager.set_password("manager-password")
    manager.save()
    login_as("manager", "manager-password")

    # Chinese first (the browser asks for it): the top bar's menu carries the count, and so does the link.
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hans"
    toggle_badge = browser.find_element(By.CSS_SELECTOR, ".nav-link.dropdown-toggle [data-va-alerts-count]")
    assert toggle_badge.text.startswith("1")
    with next_page(browser):
        menu_link(browser, href="/alerts/").click()
    card = browser.find_element(By.CSS_SELECTOR, f'[aria-labelledby="alert-{alert.pk}-title"]')
    assert "队列积压" in card.text
    state = card.find_element(By.CSS_SELECTOR, "h2 .badge")
    assert state.value_of_css_property("background-color") == RED
    assert axe_violations(browser) == []

    # Another alert opens while the page is shown: its counts follow without a reload.
    browser.execute_script("window.vaSamePage = true")
    make_rule("expiry", name="号码续费提醒", params={"days": 30})
    CallerNumber.objects.create(number="057188880001", qualification=qualification, status=CallerNumber.Status.ACTIVE,
                                expires_on=timezone.localdate(NOW) + timedelta(days=7))
    alerts_check(now=NOW)
    WebDriverWait(browser, 10).until(
        lambda b: b.find_element(By.CSS_SELECTOR, '[data-va-alerts-state="open"]').text == "2"
        and b.find_element(By.CSS_SELECTOR, ".nav-link.dropdown-toggle [data-va-alerts-count]").text.startswith("2"))
    assert browser.execute_script("return window.vaSamePage === true")
    AlertRule.objects.filter(name="号码续费提醒").delete()
    cache.clear()  # the top bar's count is shared a few seconds

    switch_language(browser, "en")
    card = browser.find_element(By.CSS_SELECTOR, f'[aria-labelledby="alert-{alert.pk}-title"]')
    assert card.find_element(By.CSS_SELECTOR, "h2 .badge").text == "Open"
    with next_page(browser):
        card.find_element(By.XPATH, ".//button[contains(., 'Acknowledge')]").click()
    card = browser.find_element(By.CSS_SELECTOR, f'[aria-labelledby="alert-{alert.pk}-title"]')
    state = card.find_element(By.CSS_SELECTOR, "h2 .badge")
    assert state.text == "Acknowledged" and state.value_of_css_property("background-color") == YELLOW
    card.find_element(By.TAG_NAME, "summary").click()
    assert "Acknowledged — manager" in card.find_element(By.TAG_NAME, "ol").text
    with next_page(browser):
        card.find_element(By.XPATH, ".//button[contains(., 'Resolve')]").click()
    assert "No alert here" not in browser.page_source
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, 'a[href="?state=resolved"]').click()
    state = browser.find_element(By.CSS_SELECTOR, f'[aria-labelledby="alert-{alert.pk}-title"] h2 .badge')
    assert state.text == "Resolved" and state.value_of_css_property("background-color") == GREEN
    assert browser.find_elements(By.CSS_SELECTOR, ".nav-link.dropdown-toggle [data-va-alerts-count]") == []
    assert axe_violations(browser) == []

    # A new rule: only the chosen kind's thresholds are shown, and a bad one is marked next to its field.
    browser.get(live_server.url + "/alerts/rules/new/")
    assert browser.find_element(By.CSS_SELECTOR, '[data-va-alert-kind="answer_rate"]').is_displayed()
    Select(browser.find_element(By.ID, "id_kind")).select_by_value("expiry")
    assert not browser.find_element(By.CSS_SELECTOR, '[data-va-alert-kind="answer_rate"]').is_displayed()
    browser.find_element(By.ID, "id_name").send_keys("号码到期")
    days = browser.find_element(By.ID, "id_expiry__days")
    days.clear()
    days.send_keys("0")
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    assert "greater than or equal to 1" in browser.find_element(By.ID, "id_expiry__days_error").text
    assert axe_violations(browser) == []
    days = browser.find_element(By.ID, "id_expiry__days")
    days.clear()
    days.send_keys("7")
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    assert AlertRule.objects.get(name="号码到期").params == {"days": 7}
    assert "号码到期" in browser.find_element(By.TAG_NAME, "table").text
