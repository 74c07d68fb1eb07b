"""The test-dial journey in headless Chromium: choose a template, type its values, watch the preview, call."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from notifications.models import CallRecord
from tests.browser.conftest import browser, login_as  # noqa: F401  (fixtures shared with the browser tests)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_operator_dials_a_template_from_the_browser(browser, live_server, login_as, on_simulator, notice, operator, settings):  # noqa: F811
    settings.REDIS_URL = ""  # the live server sends the call itself
    operator.set_password("operator-password")
    operator.save()
    login_as("operator", "operator-password")
    browser.get(live_server.url + "/dial/tts/")
    Select(browser.find_element(By.NAME, "template")).select_by_value(str(notice.pk))
    browser.find_element(By.CSS_SELECTOR, "#va-dial-form button[type=submit]").click()  # Continue: the form for it
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.NAME, "param_name"))

    preview = browser.find_element(By.ID, "va-dial-preview")
    assert preview.text == "尊敬的${name}，您的订单${order}已发货。"
    browser.find_element(By.NAME, "param_name").send_keys("王先生")
    assert preview.text == "尊敬的王先生，您的订单${order}已发货。"
    browser.find_element(By.NAME, "param_order").send_keys("A1001")
    browser.find_element(By.NAME, "called_number").send_keys("13900001230")
    browser.execute_script("document.getElementById('va-dial-form').requestSubmit()")

    WebDriverWait(browser, 10).until(lambda b: "/calls/" in b.current_url)
    record = CallRecord.objects.get()
    assert browser.current_url.endswith(f"/calls/{record.pk}/")
    assert record.out_id in browser.find_element(By.TAG_NAME, "h1").text
    [call] = on_simulator.calls
    assert (call["OutId"], call["TtsParam"]) == (record.out_id, '{"name":"王先生","order":"A1001"}')


def test_choosing_another_template_keeps_what_was_typed(browser, live_server, login_as, notice, code_template, operator):  # noqa: F811
    operator.set_password("operator-password")
    operator.save()
    login_as("operator", "operator-password")
    browser.get(f"{live_server.url}/dial/tts/?template={notice.pk}")
    browser.find_element(By.NAME, "called_number").send_keys("13900001230")
    volume = browser.find_element(By.NAME, "volume")
    volume.clear()
    volume.send_keys("80")
    browser.find_element(By.NAME, "param_name").send_keys("王先生")
    switch = browser.find_element(By.ID, "va-dial-switch")
    assert not switch.is_displayed()
    Select(browser.find_element(By.NAME, "template")).select_by_value(str(code_template.pk))
    # Choosing is not loading (WCAG 3.2.2): the page stays, focus stays on the select, and a button offers the switch.
    assert browser.find_elements(By.NAME, "param_name")
    assert browser.switch_to.active_element.get_attribute("name") == "template"
    assert switch.is_displayed()
    switch.click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.NAME, "param_code"))

    assert browser.find_element(By.NAME, "called_number").get_attribute("value") == "13900001230"
    assert browser.find_element(By.NAME, "volume").get_attribute("value") == "80"
    assert "13900001230" not in browser.current_url  # carried in the tab, not in the address
    browser.refresh()  # carried once, not for ever
    assert browser.find_element(By.NAME, "called_number").get_attribute("value") == ""
