"""The call detail page in a real browser: it follows a call to its end without a reload."""
import os
import shutil
import tempfile

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

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
        chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
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
