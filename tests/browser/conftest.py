"""Headless Chromium driven by Selenium against the live test server."""
import os
import shutil
import tempfile

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        if os.environ.get("VOICEADMIN_REQUIRE_BROWSER"):
            pytest.fail("Chromium and chromedriver are required (Debian packages chromium, chromium-driver)")
        pytest.skip("Chromium is not installed (Debian packages chromium, chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="va-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1366,900", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # Browse like the console's users, whose browsers ask for Chinese (headless Chromium ignores --lang).
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(3)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def login_as(browser, live_server):
    """Log a user in through the real login form; returns a function taking (username, password)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    def login(username: str, password: str) -> None:
        browser.delete_all_cookies()
        browser.get(live_server.url + "/accounts/login/")
        browser.find_element(By.NAME, "username").send_keys(username)
        browser.find_element(By.NAME, "password").send_keys(password)
        form = browser.find_element(By.CSS_SELECTOR, "main form")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        # The click returns before the answer arrives; wait for the next page (the form again when refused).
        WebDriverWait(browser, 10).until(expected_conditions.staleness_of(form))

    return login
