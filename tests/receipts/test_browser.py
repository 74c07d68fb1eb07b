"""The call detail page in a real browser: it follows a call to its end without a reload."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from notifications.models import CallRecord
from notifications.services.receipts import VOICE_CALL_REPORT, VOICE_REPORT, receipts_ingest
from tests.browser.conftest import browser, login_as  # noqa: F401  (the shared Chromium fixtures)

from .conftest import call_report, voice_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_detail_page_shows_receipts_as_they_arrive_and_stops_when_final(browser, live_server, login_as, manager, make_call):  # noqa: F811
    manager.set_password("pw for the browser")
    manager.save()
    call = make_call(status=CallRecord.Status.ACCEPTED)
    login_as("manager", "pw for the browser")
    browser.get(live_server.url + f"/calls/{call.pk}/")
    browser.execute_script("window.vaMarker = 1")  # gone if the page reloads

    receipts_ingest(message_type=VOICE_CALL_REPORT, records=[call_report(call, "200201", "2024-03-06 16:21:03")])
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#va-call-status .va-state-ringing"))
    receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(call)])
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#va-call-status .va-state-listened"))

    assert browser.execute_script("return window.vaMarker") == 1
    timeline = browser.find_element(By.ID, "va-call-timeline")
    assert len(timeline.find_elements(By.TAG_NAME, "li")) == 2
    summary = timeline.find_elements(By.TAG_NAME, "summary")[-1]
    browser.execute_script("arguments[0].click()", summary)
    assert "执行完成" in timeline.find_elements(By.TAG_NAME, "pre")[-1].text
