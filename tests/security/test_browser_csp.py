"""Chromium enforces the Content-Security-Policy: the console's pages work under it and report no violation."""
import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import next_page, switch_language
from tests.register.helpers import make_qualification, png_bytes, upload

from .test_headers import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
PASSWORD = "csp browser pw"

# Injected by the debugger before any page script (so not subject to the page's policy): collects every violation.
RECORDER = """
window.vaCspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.vaCspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " line " + event.lineNumber);
});
"""


@pytest.fixture
def violations(browser):
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    yield lambda: browser.execute_script("return window.vaCspViolations || []")
    browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
    browser.get("about:blank")


@pytest.fixture
def signed_in(browser, live_server, login_as, superuser):
    superuser.set_password(PASSWORD)
    superuser.save()
    login_as(superuser.username, PASSWORD)
    return superuser


def test_every_page_loads_its_scripts_and_styles_with_no_violation(browser, live_server, signed_in, violations):
    qualification = make_qualification()
    qualification.licence.save("licence.png", upload("licence.png", png_bytes(), "image/png"))
    urls = [reverse(name) for name in PAGES] + [reverse("notifications:qualification_detail", args=[qualification.pk])]
    for url in urls:
        browser.get(live_server.url + url)
        assert browser.execute_script("return document.readyState") == "complete"
        # Bootstrap's bundle ran (it is a static file, allowed) and the stylesheet applied (the navbar is dark).
        assert browser.execute_script("return typeof window.bootstrap === 'object'") or url.startswith("/admin/"), url
        assert violations() == [], url
    browser.get(live_server.url + reverse("notifications:home"))
    assert browser.find_element(By.CSS_SELECTOR, "nav.va-navbar").value_of_css_property("display") != "none"


def test_an_injected_inline_script_does_not_run(browser, live_server, signed_in, violations):
    browser.get(live_server.url + reverse("notifications:home"))
    ran = browser.execute_script(
        "var s = document.createElement('script'); s.textContent = 'window.vaInjected = 1;';"
        "document.body.appendChild(s); return window.vaInjected === 1;"
    )
    assert ran is False
    handler = browser.execute_script(
        "var b = document.createElement('button'); b.setAttribute('onclick', 'window.vaClicked = 1');"
        "document.body.appendChild(b); b.click(); return window.vaClicked === 1;"
    )
    assert handler is False
    assert any(entry.startswith("script-src") for entry in violations())


def test_language_switch_changes_only_when_asked(browser, live_server, signed_in, violations):
    """Choosing a language changes nothing until its button is pressed (WCAG 3.2.2); then the page comes back in it,
    with no policy violation (the switch once used an inline handler)."""
    browser.get(live_server.url + reverse("notifications:call_record_list"))
    Select(browser.find_element(By.ID, "va-language")).select_by_value("en")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hans"
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "form.va-lang button[type=submit]").click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    options = browser.find_elements(By.CSS_SELECTOR, "#va-language option")
    assert [(option.get_attribute("lang"), option.text) for option in options] == [("zh-hans", "简体中文"), ("en", "English")]
    switch_language(browser, "zh-hans")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hans"
    assert [option.text for option in browser.find_elements(By.CSS_SELECTOR, "#va-language option")] == ["简体中文", "English"]
    assert violations() == []
