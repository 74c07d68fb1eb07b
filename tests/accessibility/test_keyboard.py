"""The main journeys with the keyboard only, in headless Chromium: real key presses (Tab, arrows, Enter, Space) sent
through the WebDriver, no clicks. Each step checks where focus is, as a keyboard user would see it."""
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions

from notifications.models import CallExport, CallRecord, ReviewStatus, TtsTemplate
from notifications.rules.templates import extract_variables
from tests.browser.conftest import next_page
from tests.browser.test_journeys import NOTICE, PASSWORD, approved_qualification, approved_template, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _blank_page_afterwards(browser, live_server, transactional_db):
    yield
    browser.get("about:blank")


def press(browser, *keys) -> None:
    ActionChains(browser).send_keys(*keys).perform()


def focused(browser):
    return browser.switch_to.active_element


def tab_to(browser, matches, limit: int = 80):
    """Press Tab until the focused element matches; fail naming what focus went through."""
    path = []
    for _ in range(limit):
        press(browser, Keys.TAB)
        element = focused(browser)
        if matches(element):
            return element
        path.append(element.tag_name + (f"[name={element.get_attribute('name')}]" if element.get_attribute("name") else "")
                    + (f" “{element.text[:20]}”" if element.text else ""))
    pytest.fail("Tab never reached the element; focus went through: " + ", ".join(path))


def named(name: str):
    return lambda element: element.get_attribute("name") == name


def keyboard_login(browser, live_server, username: str) -> None:
    browser.delete_all_cookies()
    browser.get(live_server.url + "/accounts/login/")
    browser.add_cookie({"name": "django_language", "value": "en"})
    browser.get(live_server.url + "/accounts/login/")
    assert focused(browser).get_attribute("name") == "username"  # the form starts where the typing does
    press(browser, username, Keys.TAB)
    assert focused(browser).get_attribute("name") == "password"
    with next_page(browser):
        press(browser, PASSWORD, Keys.ENTER)
    press(browser, Keys.TAB)
    first = focused(browser)
    assert (first.get_attribute("href") or "").endswith("#main"), first.get_attribute("outerHTML")[:200]  # skip link first


def test_log_in_and_test_dial_by_keyboard(browser, live_server, vms_simulator, staff, dialing_inline):
    template = approved_template(vms_simulator)
    other = approved_template(vms_simulator, code="TTS_700002")
    keyboard_login(browser, live_server, "operator")
    assert browser.current_url == live_server.url + "/"

    browser.get(live_server.url + "/dial/tts/")
    select = tab_to(browser, named("template"))
    # Arrow keys move through the templates without leaving the page (WCAG 3.2.2).
    browser.execute_script("window.vaSamePage = true")
    press(browser, Keys.ARROW_DOWN)
    assert focused(browser).get_attribute("name") == "template" and select.get_attribute("value") != ""
    assert browser.execute_script("return window.vaSamePage") is True
    while select.get_attribute("value") != str(template.pk):
        press(browser, Keys.ARROW_DOWN)
    tab_to(browser, lambda element: element.tag_name == "button" and element.get_attribute("type") == "submit")
    with next_page(browser):
        press(browser, Keys.ENTER)  # Continue: the form for this template
    assert browser.current_url.endswith(f"?template={template.pk}")

    # Sent with the callee empty: focus lands on the error summary, whose link leads to the field.
    tab_to(browser, named("param_name"))
    press(browser, "王先生", Keys.TAB)
    assert focused(browser).get_attribute("name") == "param_order"
    press(browser, "A1001")
    with next_page(browser):
        press(browser, Keys.ENTER)
    summary = focused(browser)
    assert summary.get_attribute("data-error-summary") is not None and "Number to call" in summary.text
    assert not CallRecord.objects.exists()
    press(browser, Keys.TAB)
    assert focused(browser).get_attribute("href").endswith("#id_called_number")
    press(browser, Keys.ENTER)
    assert focused(browser).get_attribute("name") == "called_number"
    press(browser, "13900001230")
    with next_page(browser):
        press(browser, Keys.ENTER)
    record = CallRecord.objects.get()
    assert browser.current_url == f"{live_server.url}/calls/{record.pk}/"
    [call] = vms_simulator.calls
    assert (call["TtsCode"], call["CalledNumber"]) == (template.tts_code, "13900001230")
    assert other.tts_code != call["TtsCode"]


def test_review_an_item_by_keyboard(browser, live_server, vms_simulator, staff):
    template = TtsTemplate.objects.create(
        name="到货提醒", content=NOTICE, kind="notification", mode="public", qualification=approved_qualification(),
        variables=extract_variables(NOTICE), status=ReviewStatus.SUBMITTED)
    keyboard_login(browser, live_server, "manager")
    browser.get(f"{live_server.url}/register/tts-templates/{template.pk}/")
    tab_to(browser, named("code"))
    press(browser, "TTS_900002")
    tab_to(browser, lambda element: element.get_attribute("value") == "approve")
    press(browser, Keys.SPACE)  # a button is pressed with Space as with Enter
    wait_for(browser, expected_conditions.alert_is_present(), 5)
    browser.switch_to.alert.accept()  # the browser's own "are you sure?" dialog
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "h1 .va-state-approved"))
    template.refresh_from_db()
    assert (template.status, template.tts_code) == (ReviewStatus.APPROVED, "TTS_900002")
    assert browser.find_element(By.CSS_SELECTOR, "h1 .va-state-approved")


def test_export_the_call_log_by_keyboard(browser, live_server, staff, make_call, tmp_path):
    make_call()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    keyboard_login(browser, live_server, "manager")
    browser.get(live_server.url + "/calls/")
    tab_to(browser, lambda element: element.tag_name == "a" and element.text.startswith("Export these calls"))
    press(browser, Keys.ENTER)
    wait_for(browser, lambda _browser: CallExport.objects.filter(user__username="manager").exists())
    wait_for(browser, lambda _browser: any(path.suffix == ".csv" for path in tmp_path.iterdir()))


# The contrast of an element's focus outline against what it is drawn on (the first opaque background up the tree).
FOCUS_RING = """
function rgb(text) { var m = text.match(/[\\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; }
function luminance(c) {
  return [c.r, c.g, c.b].map(function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
    .reduce(function (sum, v, i) { return sum + v * [0.2126, 0.7152, 0.0722][i]; }, 0);
}
var element = document.activeElement, style = getComputedStyle(element), behind = element.parentElement;
while (behind && rgb(getComputedStyle(behind).backgroundColor).a === 0) { behind = behind.parentElement; }
var ring = luminance(rgb(style.outlineColor)), ground = luminance(rgb(getComputedStyle(behind || document.body).backgroundColor));
return {style: style.outlineStyle, width: parseFloat(style.outlineWidth),
        ratio: (Math.max(ring, ground) + 0.05) / (Math.min(ring, ground) + 0.05), what: element.outerHTML.slice(0, 80)};
"""


def test_focus_rings_stand_out_by_3_to_1(browser, live_server, staff):
    keyboard_login(browser, live_server, "operator")
    browser.get(live_server.url + "/register/tts-templates/new/")
    rings = []
    for matches in (named("name"), named("kind"), lambda element: element.get_attribute("type") == "submit"
                    and element.find_elements(By.XPATH, "ancestor::main")):
        tab_to(browser, matches)
        rings.append(browser.execute_script(FOCUS_RING))
    # The Register menu of the dark top bar opens white: its items' ring is dark again.
    browser.get(live_server.url + "/")
    tab_to(browser, lambda element: element.get_attribute("data-bs-toggle") == "dropdown")
    press(browser, Keys.ENTER)
    press(browser, Keys.ARROW_DOWN)
    rings.append(browser.execute_script(FOCUS_RING))
    tab_to(browser, named("language"))
    rings.append(browser.execute_script(FOCUS_RING))
    for ring in rings:
        assert ring["style"] == "solid" and ring["width"] >= 2 and ring["ratio"] >= 3, ring
