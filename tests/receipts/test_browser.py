"""The call detail page in a real browser: it follows a call to its end without a reload."""
import json
import os
import shutil
import tempfile

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from notifications.models import CallRecord
from notifications.services.receipts import VOICE_CALL_REPORT, VOICE_REPORT, receipts_ingest
from tests.browser.conftest import CHROMEDRIVER, CHROMIUM, next_page

from .conftest import call_report, voice_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def chromium():
    """A browser of this test's own, quit before the test database stops being shared with the live server."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("Chromium is not installed (Debian packages chromium, chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="va-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1366,900", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(3)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_detail_page_shows_receipts_as_they_arrive_and_stops_when_final(chromium, live_server, manager, make_call):
    manager.set_password("pw for the browser")
    manager.save()
    call = make_call(status=CallRecord.Status.ACCEPTED)
    chromium.get(live_server.url + "/accounts/login/")
    chromium.find_element(By.NAME, "username").send_keys("manager")
    chromium.find_element(By.NAME, "password").send_keys("pw for the browser")
    with next_page(chromium):  # the click returns before the login answer arrives
        chromium.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    chromium.get(live_server.url + f"/calls/{call.pk}/")
    chromium.execute_script("window.vaMarker = 1")  # gone if the page reloads

    receipts_ingest(message_type=VOICE_CALL_REPORT, records=[call_report(call, "200201", "2024-03-06 16:21:03")])
    WebDriverWait(chromium, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#va-call-status .va-state-ringing"))
    receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(call)])
    WebDriverWait(chromium, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#va-call-status .va-state-listened"))

    assert chromium.execute_script("return window.vaMarker") == 1
    timeline = chromium.find_element(By.ID, "va-call-timeline")
    assert len(timeline.find_elements(By.TAG_NAME, "li")) == 2
    chromium.execute_script("arguments[0].click()", timeline.find_elements(By.TAG_NAME, "summary")[-1])
    assert "执行完成" in timeline.find_elements(By.TAG_NAME, "pre")[-1].text


@pytest.mark.parametrize("language, replay_label", [("zh-hans", "重放"), ("en", "Replay")])
def test_a_manager_finds_an_unmatched_push_reads_it_and_replays_it(chromium, live_server, manager, make_call, language,
                                                                  replay_label):
    from notifications.models import ReceiptDelivery
    from notifications.services.receipt_inbox import receipt_delivery_store, receipt_inbox_apply_pending

    manager.set_password("pw for the browser")
    manager.save()
    body = json.dumps([voice_report(None, call_id="late^7", out_id=""), {"status_code": "200000"}]).encode()
    delivery = receipt_delivery_store(message_type="VoiceReport", body=body)
    receipt_inbox_apply_pending()
    chromium.get(live_server.url + "/accounts/login/")
    chromium.add_cookie({"name": "django_language", "value": language})
    chromium.find_element(By.NAME, "username").send_keys("manager")
    chromium.find_element(By.NAME, "password").send_keys("pw for the browser")
    with next_page(chromium):
        chromium.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()

    chromium.get(live_server.url + "/receipt-deliveries/")
    Select(chromium.find_element(By.NAME, "state")).select_by_value("unmatched")
    with next_page(chromium):
        chromium.find_element(By.CSS_SELECTOR, "form[role=search] button[type=submit]").click()
    rows = chromium.find_elements(By.CSS_SELECTOR, "table tbody tr")
    assert len(rows) == 1 and rows[0].find_element(By.CSS_SELECTOR, ".va-state-unmatched")
    with next_page(chromium):
        rows[0].find_element(By.TAG_NAME, "a").click()
    assert "late^7" in chromium.find_element(By.CSS_SELECTOR, "pre.va-payload").text
    assert len(chromium.find_elements(By.CSS_SELECTOR, "table tbody tr .va-state-invalid")) == 1

    make_call(call_id="late^7")  # the call is known now: a replay applies the push
    button = chromium.find_element(By.XPATH, f"//button[contains(., '{replay_label}')]")
    with next_page(chromium):
        button.click()
    WebDriverWait(chromium, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "dd .va-state-partly_applied"))
    delivery.refresh_from_db()
    assert delivery.state == ReceiptDelivery.State.PARTLY_APPLIED
