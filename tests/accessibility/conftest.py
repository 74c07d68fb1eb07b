"""axe-core in headless Chromium over every console page a role can reach.

axe-core (tests/accessibility/axe/, MPL-2.0, its licence beside it) is vendored, so the scan runs offline. It is
injected through the WebDriver, which the page's Content-Security-Policy does not govern.
"""
import re
from collections import Counter, deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from selenium.webdriver.common.by import By

from tests.browser.conftest import browser, login_as, next_page  # noqa: F401
from tests.browser.test_journeys import dialing_inline, staff  # noqa: F401  (fixtures)
from tests.history.conftest import make_call, register  # noqa: F401  (fixtures)

AXE_SOURCE = (Path(__file__).parent / "axe" / "axe.min.js").read_text()
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "accessibility pw"
ROLES = ("operator", "manager", "admin")  # the demo's users: one per role, the last a superuser
# Not the console's own pages: Django's admin and the queue dashboard are the developers' tools, and the rest are
# downloads, the sign-out, or files.
SKIPPED_PREFIXES = ("/admin/", "/media/", "/static/", "/accounts/logout/", "/i18n/", "/receipts/", "/healthz")
SKIPPED_SUFFIXES = (".csv", ".xlsx", ".wav", ".mp3", ".png", ".pdf", "/audio/", "/licence/")
MAX_PAGES = 80  # a bound, far above what the console has, so a link loop cannot run the suite forever
PER_PATTERN = 3  # pages of one kind (/calls/<id>/) scanned: a few, so items in different states are seen


def page_key(url: str) -> str | None:
    """The page a link leads to, as the crawl counts pages: its path (one call log, not one per filter), or None."""
    parts = urlsplit(url)
    path = parts.path
    if path.startswith(SKIPPED_PREFIXES) or path.endswith(SKIPPED_SUFFIXES):
        return None
    return path


def axe_violations(driver) -> list[str]:
    """Every WCAG 2.0/2.1 A and AA violation on the page now shown, one line per rule with the elements it found."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE_SOURCE)
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        ".then(function (r) { done(r.violations.map(function (v) {"
        "  return v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 4).map(function (n) {"
        "    return n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 220);"
        "  }).join(' | ');"
        "})); }, function (e) { done(['axe failed: ' + e]); });",
        WCAG_AA,
    )
    return result


def pattern_of(path: str) -> str:
    return re.sub(r"/\d+(?=/)", "/<id>", path)


def crawl(driver, base_url: str, start: str = "/") -> list[str]:
    """Paths of every kind of console page reachable by links from `start` for the signed-in user (a few of each
    kind: /calls/1/, /calls/2/...), each visited once."""
    seen, queue, pages = {start}, deque([start]), []
    kinds: Counter = Counter()
    while queue and len(pages) < MAX_PAGES:
        path = queue.popleft()
        driver.get(base_url + path)
        if urlsplit(driver.current_url).path.startswith("/accounts/login"):
            continue
        pages.append(path)
        hrefs = driver.execute_script("return Array.from(document.querySelectorAll('a[href]'), a => a.href)")
        for href in hrefs:
            absolute = urljoin(base_url + path, href)
            if urlsplit(absolute).netloc != urlsplit(base_url).netloc:
                continue
            key = page_key(absolute)
            if key and key not in seen and kinds[pattern_of(key)] < PER_PATTERN:
                seen.add(key)
                kinds[pattern_of(key)] += 1
                queue.append(key)
    return pages


def submit_empty(driver) -> bool:
    """Send the page's main form with nothing typed in, to see it in its error state; False if it has none."""
    forms = driver.find_elements(By.CSS_SELECTOR, "main form[method=post]:not([data-confirm])")
    forms = [form for form in forms if form.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), textarea, select")]
    if not forms:
        return False
    form = forms[0]
    # Cleared by script: some fields sit in a tab not shown, which WebDriver will not type into.
    driver.execute_script("arguments[0].querySelectorAll('input[type=text], input[type=tel], input[type=email], textarea')"
                          ".forEach(function (field) { field.value = ''; })", form)
    with next_page(driver):
        driver.execute_script("arguments[0].requestSubmit()", form)
    return True


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    """The demo register and call history, the users' passwords known."""
    from django.contrib.auth.models import User

    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    for user in User.objects.filter(username__in=ROLES):
        user.set_password(PASSWORD)
        user.save()
    return ROLES
