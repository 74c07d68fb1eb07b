"""Lists and the dashboard on a 390 px phone: every table a stack of cards (status in view, nothing scrolled
sideways, names written across the card), chart text at a readable size, in both languages."""
import pytest
from selenium.webdriver.common.by import By

from tests.accessibility.conftest import PASSWORD, demo  # noqa: F401  (the demo register and history, passwords known)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("demo")]

LISTS = ["/calls/", "/register/qualifications/", "/register/tts-templates/", "/register/voice-files/",
         "/register/caller-numbers/", "/blocked-numbers/", "/receipt-deliveries/", "/audit/", "/calls/exports/", "/system/health/"]


@pytest.fixture(autouse=True)
def _desktop_afterwards(browser):
    yield
    browser.get("about:blank")
    browser.set_window_size(1366, 900)


def layout(browser) -> dict:
    """What the eye sees of the page's tables: sideways overflow, cells outside the screen, the tallest one-word cell."""
    return browser.execute_script("""
        var width = window.innerWidth, out = [], tallest = 0;
        document.querySelectorAll('table.table-va tbody td, table.table-va tbody th').forEach(function (cell) {
          var box = cell.getBoundingClientRect();
          if (box.width === 0) { return; }
          if (box.right > width + 1) { out.push(cell.textContent.trim().slice(0, 30)); }
          var line = parseFloat(getComputedStyle(cell).lineHeight) || 20;
          tallest = Math.max(tallest, box.height / line);
        });
        var states = Array.from(document.querySelectorAll('table.table-va tbody .va-state'), function (badge) {
          var box = badge.getBoundingClientRect();
          return box.left >= 0 && box.right <= width + 1;
        });
        return {sideways: document.documentElement.scrollWidth > width + 1, outside: out, lines: tallest,
                states: states.length, states_in_view: states.filter(Boolean).length,
                labelled: document.querySelectorAll('table.table-va tbody td[data-label]').length};
    """)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_list_is_readable_on_a_phone(browser, live_server, login_as, language):
    login_as("admin", PASSWORD)
    browser.add_cookie({"name": "django_language", "value": language})
    browser.set_window_size(390, 900)
    for path in LISTS:
        browser.get(live_server.url + path)
        seen = layout(browser)
        assert not seen["sideways"] and seen["outside"] == [], (path, seen)
        assert seen["states"] == seen["states_in_view"], (path, seen)
        # A cell is one card line, not a column a few characters wide (company names once took a line per character).
        assert seen["lines"] < 4.5, (path, seen)
        if path in ("/calls/", "/register/qualifications/"):
            assert seen["states"] > 0 and seen["labelled"] > 0, (path, seen)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_dashboard_text_is_at_least_11_px_on_a_phone(browser, live_server, login_as, language):
    login_as("manager", PASSWORD)
    browser.add_cookie({"name": "django_language", "value": language})
    browser.set_window_size(390, 900)
    browser.get(live_server.url + "/")
    sizes = browser.execute_script("""
        return Array.from(document.querySelectorAll('main svg text, .va-chart-text, .va-share'), function (element) {
          var scale = element.ownerSVGElement ? element.getBoundingClientRect().height / element.getBBox().height : 1;
          return parseFloat(getComputedStyle(element).fontSize) * scale;
        });
    """)
    assert sizes and min(sizes) >= 11, sizes
    assert browser.find_elements(By.CSS_SELECTOR, ".va-shares li")  # the demo has outcomes to show
    seen = layout(browser)
    assert not seen["sideways"] and seen["outside"] == [], seen
