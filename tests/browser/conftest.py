"""Headless Chromium driven by Selenium against the live test server."""
import os
import shutil
import tempfile
from contextlib import contextmanager

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@contextmanager
def next_page(browser, timeout: float = 20):
    """Wait, after the block, until the browser shows a new document: the one a click, a submit or a redirect led to."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    browser.execute_script("window.vaPreviousPage = true")
    yield
    # While the old document goes away, Chromium may answer with errors other than a stale element: keep asking.
    WebDriverWait(browser, timeout, ignored_exceptions=(WebDriverException,)).until(
        lambda b: b.execute_script("return !window.vaPreviousPage && document.readyState === 'complete'")
    )


def menu_link(browser, text: str = "", *, href: str = ""):
    """The top bar's link with this text (or href), its dropdown opened first when the link sits in one, as a person
    opens it: a click on the menu's name."""
    from selenium.webdriver.common.by import By

    selector = f"nav a[href='{href}']" if href else "nav a.nav-link, nav a.dropdown-item"
    link = next(link for link in browser.find_elements(By.CSS_SELECTOR, selector)
                if href or link.get_attribute("textContent").strip() == text)
    if not link.is_displayed():
        browser.execute_script("return arguments[0].closest('.dropdown').querySelector('.dropdown-toggle')", link).click()
    return link


def menu_texts(browser) -> list[str]:
    """Every link of the top bar, those in closed dropdowns too."""
    from selenium.webdriver.common.by import By

    return [link.get_attribute("textContent").strip()
            for link in browser.find_elements(By.CSS_SELECTOR, "nav a.nav-link, nav a.dropdown-item")]


@pytest.fixture(scope="session")
def browser(live_server):
    # Depending on the live server makes Chromium quit (closing its kept-alive connections) before that server stops.
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
                 "--window-size=1366,900", f"--user-data-dir={profile}",
                 # Bootstrap scrolls smoothly otherwise, and a click lands where the element was before the scroll ended.
                 "--force-prefers-reduced-motion"):
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

    def login(username: str, password: str) -> None:
        browser.delete_all_cookies()
        browser.get(live_server.url + "/accounts/login/")
        browser.find_element(By.NAME, "username").send_keys(username)
        browser.find_element(By.NAME, "password").send_keys(password)
        # The click returns before the answer arrives; wait for the next page (the form again when refused).
        with next_page(browser):
            browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()

    return login


def switch_language(browser, code: str) -> None:
    """Choose a language in the top bar's switch and press its button; the page comes back in that language."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "va-language")).select_by_value(code)
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "form.va-lang button[type=submit]").click()
