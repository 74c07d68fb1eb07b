"""The console's main journeys in headless Chromium, against the live server and the simulator over HTTP."""
import itertools

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from notifications.models import CallRecord, Mode, Purpose, Qualification, ReviewStatus, TtsTemplate
from notifications.rules.identifiers import credit_code_check_char
from notifications.rules.templates import extract_variables
from tests.browser.conftest import next_page, switch_language

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "browser journeys pw"
NOTICE = "尊敬的${name}，您的订单${order}已发货。"
WAIT = 20  # seconds; generous for a loaded machine, still bounded
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _blank_page_afterwards(browser, live_server, transactional_db):
    """Leave no page polling the live server once the test's data is gone (the browser outlives the test)."""
    yield
    browser.get("about:blank")


@pytest.fixture
def staff(operator, manager):
    for user in (operator, manager):
        user.set_password(PASSWORD)
        user.save()
    return operator, manager


@pytest.fixture
def dialing_inline(settings):
    """The live server sends the call itself, as the embedded console does (no worker in these tests)."""
    settings.REDIS_URL = ""


def approved_qualification() -> Qualification:
    first17 = f"91330100MA{next(_serial):06d}X"[:17]
    return Qualification.objects.create(
        company_name="杭州示例科技有限公司", credit_code=first17 + credit_code_check_char(first17), legal_representative="王五",
        contact_name="李四", contact_phone="13800000000", status=ReviewStatus.APPROVED,
    )


def approved_template(vms_simulator, code: str = "TTS_700001") -> TtsTemplate:
    """An approved public template that the simulator's account knows as well."""
    template = TtsTemplate.objects.create(
        name="发货通知", content=NOTICE, kind=Purpose.NOTIFICATION, mode=Mode.PUBLIC, qualification=approved_qualification(),
        variables=extract_variables(NOTICE), status=ReviewStatus.APPROVED, tts_code=code,
    )
    vms_simulator.account.add_template(code, NOTICE)
    return template


def wait_for(browser, condition, timeout: float = WAIT):
    return WebDriverWait(browser, timeout).until(condition)


def click_and_confirm(browser, button) -> None:
    """Press a button that asks "are you sure?" and accept, waiting for the page that follows."""
    with next_page(browser):
        button.click()
        wait_for(browser, expected_conditions.alert_is_present(), 5).accept()


def heading(browser) -> str:
    return browser.find_element(By.TAG_NAME, "h1").text


def absent(browser, css: str) -> bool:
    """True when nothing matches, answered at once rather than after the implicit wait."""
    browser.implicitly_wait(0)
    try:
        return not browser.find_elements(By.CSS_SELECTOR, css)
    finally:
        browser.implicitly_wait(3)


def test_template_from_registration_to_a_call_that_is_listened_to_the_end(browser, live_server, login_as, vms_simulator, staff,
                                                                           dialing_inline, settings):
    operator, manager = staff
    qualification = approved_qualification()
    vms_simulator.set_receipt_base_url(live_server.url + "/receipts/")
    settings.SIMULATOR_CONSOLE_URL = live_server.url

    # The operator registers the template; the preview shows it with sample values while it is typed.
    login_as("operator", PASSWORD)
    browser.get(live_server.url + "/register/tts-templates/new/")
    browser.find_element(By.ID, "id_name").send_keys("发货通知")
    Select(browser.find_element(By.ID, "id_kind")).select_by_value(Purpose.NOTIFICATION)
    Select(browser.find_element(By.ID, "id_mode")).select_by_value(Mode.PUBLIC)
    Select(browser.find_element(By.ID, "id_qualification")).select_by_value(str(qualification.pk))
    browser.find_element(By.ID, "id_content").send_keys(NOTICE)
    assert browser.find_element(By.ID, "va-preview").text == "尊敬的张三，您的订单A10086已发货。"
    assert browser.find_element(By.ID, "va-vars").text == "name, order"
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    template = TtsTemplate.objects.get()
    assert browser.current_url == f"{live_server.url}/register/tts-templates/{template.pk}/"
    assert browser.find_element(By.CSS_SELECTOR, "h1 .va-state-draft")

    # The simulator would review the submission by itself; slowed down, the manager records the decision first.
    vms_simulator.set_time_scale(10)
    click_and_confirm(browser, browser.find_element(By.CSS_SELECTOR, "button[name=action][value=submit]"))
    vms_simulator.set_time_scale(0.01)
    assert browser.find_element(By.CSS_SELECTOR, "h1 .va-state-submitted")

    login_as("manager", PASSWORD)
    browser.get(f"{live_server.url}/register/tts-templates/{template.pk}/")
    browser.find_element(By.ID, "id_code").send_keys("TTS_900001")
    click_and_confirm(browser, browser.find_element(By.CSS_SELECTOR, "button[name=action][value=approve]"))
    assert browser.find_element(By.CSS_SELECTOR, "h1 .va-state-approved")
    assert "TTS_900001" in browser.find_element(By.CSS_SELECTOR, ".va-register-detail").text
    # The console told the simulator's account about the approved template, so the provider accepts calls with it.
    [known] = [entry for entry in vms_simulator.account.snapshot()["templates"] if entry["code"] == "TTS_900001"]
    assert known["content"] == NOTICE

    # The operator test-dials it from the template's page.
    login_as("operator", PASSWORD)
    browser.get(f"{live_server.url}/register/tts-templates/{template.pk}/")
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, f"a[href$='/dial/tts/?template={template.pk}']").click()
    preview = browser.find_element(By.ID, "va-dial-preview")
    browser.find_element(By.NAME, "param_name").send_keys("王先生")
    browser.find_element(By.NAME, "param_order").send_keys("A1001")
    assert preview.text == "尊敬的王先生，您的订单A1001已发货。"
    browser.find_element(By.NAME, "called_number").send_keys("13900001230")  # ends in 0: listened to the end
    vms_simulator.set_time_scale(0.2)  # the call lasts a few seconds, so the page sees it happen
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "#va-dial-form button[type=submit]").click()

    record = CallRecord.objects.get()
    assert browser.current_url == f"{live_server.url}/calls/{record.pk}/"
    assert browser.find_element(By.CSS_SELECTOR, "#va-call-status[data-final=false]")
    browser.execute_script("window.vaSamePage = true")  # gone if the page is reloaded
    status = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "#va-call-status[data-final=true]"))
    assert "已接听，完整收听" in status.find_element(By.CSS_SELECTOR, ".va-state-listened").text
    assert browser.execute_script("return window.vaSamePage") is True
    timeline = browser.find_element(By.ID, "va-call-timeline").text
    assert "VoiceCallReport" in timeline and "VoiceReport" in timeline
    [call] = vms_simulator.calls
    assert (call["TtsCode"], call["CalledNumber"], call["OutId"]) == ("TTS_900001", "13900001230", record.out_id)


def test_an_invalid_callee_is_shown_next_to_its_field_and_nothing_is_dialed(browser, live_server, login_as, vms_simulator, staff,
                                                                             dialing_inline):
    template = approved_template(vms_simulator)
    login_as("operator", PASSWORD)
    browser.get(f"{live_server.url}/dial/tts/?template={template.pk}")
    browser.find_element(By.NAME, "param_name").send_keys("王先生")
    browser.find_element(By.NAME, "param_order").send_keys("A1001")
    browser.find_element(By.NAME, "called_number").send_keys("12345")
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "#va-dial-form button[type=submit]").click()

    callee = browser.find_element(By.NAME, "called_number")
    error = browser.find_element(By.ID, "id_called_number_error")
    assert error.is_displayed() and error.text
    assert error.find_element(By.XPATH, "..") == callee.find_element(By.XPATH, "..")  # in the callee's own group
    assert callee.get_attribute("value") == "12345"
    assert browser.find_element(By.NAME, "param_name").get_attribute("value") == "王先生"  # nothing typed is lost
    assert "/dial/tts/" in browser.current_url
    assert not CallRecord.objects.exists()
    assert vms_simulator.calls == []


@pytest.mark.parametrize(("path", "chinese", "english"), [("/", "概览", "Dashboard"), ("/calls/", "呼叫记录", "Call log")])
def test_pages_speak_chinese_and_english_with_the_top_bar_switch(browser, live_server, login_as, staff, path, chinese, english):
    login_as("manager", PASSWORD)
    browser.get(live_server.url + path)
    assert chinese in heading(browser)  # what the browser asks for
    switch_language(browser, "en")
    assert english in heading(browser)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert browser.current_url == live_server.url + path
    switch_language(browser, "zh-hans")
    assert chinese in heading(browser)


def test_the_server_refuses_the_dial_form_to_a_manager(browser, live_server, login_as, staff):
    login_as("manager", PASSWORD)
    browser.get(live_server.url + "/dial/tts/")
    assert "403" in heading(browser)
    assert browser.find_element(By.CSS_SELECTOR, "main a[href='/']")  # the console's own page, with a way back
    assert absent(browser, "[name=called_number]")
    # A forged POST with a valid CSRF token is refused as well: the check is the server's, not the menu's.
    status, body = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/dial/tts/', {method: 'POST', headers: {'X-CSRFToken': arguments[0]}, body: new URLSearchParams("
        "{called_number: '13900001230'})}).then(r => r.text().then(text => done([r.status, text])));",
        browser.get_cookie("csrftoken")["value"],
    )
    assert status == 403 and "CSRF" not in body
    assert not CallRecord.objects.exists()


def test_an_anonymous_visitor_is_sent_to_login_and_back(browser, live_server, login_as, staff):
    browser.delete_all_cookies()
    browser.get(live_server.url + "/calls/")
    assert browser.current_url == live_server.url + "/accounts/login/?next=/calls/"
    browser.find_element(By.NAME, "username").send_keys("manager")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    assert browser.current_url == live_server.url + "/calls/"
    assert "呼叫记录" in heading(browser)
