"""The System health page in headless Chromium: reached from the banner, coloured by state, refreshing itself."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import browser, login_as, next_page  # noqa: F401  (fixtures shared with the browser tests)
from tests.health.conftest import all_tasks_fresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RED_BACKGROUND = "rgba(254, 226, 226, 1)"
GREEN_BACKGROUND = "rgba(220, 252, 231, 1)"


def test_manager_follows_the_banner_and_watches_the_page_turn_green(browser, live_server, login_as, manager, settings):  # noqa: F811
    settings.HEALTH_PAGE_REFRESH_SECONDS = 2
    manager.set_password("manager-password")
    manager.save()
    login_as("manager", "manager-password")

    # Nothing has run yet: every console page says so, with a way to the details.
    banner = browser.find_element(By.CSS_SELECTOR, ".va-health-banner")
    assert banner.get_attribute("data-state") == "critical"
    assert "alert-danger" in banner.get_attribute("class")
    with next_page(browser):
        banner.find_element(By.CSS_SELECTOR, "a").click()
    assert browser.current_url == live_server.url + "/system/health/"
    assert browser.find_elements(By.CSS_SELECTOR, ".va-health-banner") == []
    # The page's link is marked current in its menu, and the menu holding it too.
    current = browser.find_element(By.CSS_SELECTOR, ".va-navbar .dropdown-item.active")
    assert current.get_attribute("href").endswith("/system/health/")
    assert browser.find_elements(By.CSS_SELECTOR, ".va-navbar .nav-link.active") == [
        browser.execute_script("return arguments[0].closest('.dropdown').querySelector('.dropdown-toggle')", current)]

    overall = browser.find_element(By.ID, "va-health-overall")
    assert overall.get_attribute("data-state") == "critical"
    badge = overall.find_element(By.CSS_SELECTOR, ".va-state")
    assert badge.text.strip()  # the state in words ...
    assert badge.value_of_css_property("background-color") == RED_BACKGROUND  # ... and in colour
    follow_up = browser.find_element(By.CSS_SELECTOR, 'tr[data-check="task:calls_follow_up"]')
    assert follow_up.get_attribute("data-state") == "critical"

    # The scheduler catches up: the page shows it on its own, without being reloaded.
    browser.execute_script("window.vaSamePage = true")
    all_tasks_fresh()
    WebDriverWait(browser, 15).until(
        lambda b: b.find_element(By.ID, "va-health-overall").get_attribute("data-state") == "ok"
    )
    assert browser.execute_script("return window.vaSamePage === true")
    badge = browser.find_element(By.CSS_SELECTOR, "#va-health-overall .va-state")
    assert badge.value_of_css_property("background-color") == GREEN_BACKGROUND
    assert browser.find_element(By.CSS_SELECTOR, 'tr[data-check="task:calls_follow_up"]').get_attribute("data-state") == "ok"
    assert "text-danger" not in browser.find_element(By.ID, "va-health-refresh").get_attribute("class")


def test_operator_is_refused_the_page(browser, live_server, login_as, operator):  # noqa: F811
    operator.set_password("operator-password")
    operator.save()
    login_as("operator", "operator-password")
    assert browser.find_elements(By.CSS_SELECTOR, 'a[href="/system/health/"]') == []
    browser.get(live_server.url + "/system/health/")
    assert "403" in browser.find_element(By.TAG_NAME, "h1").text
