"""The live call page tells a screen reader what changed, once and briefly, not the whole card on every refresh."""
import time

import pytest
from selenium.webdriver.common.by import By

from notifications.models import CallEvent, CallRecord
from tests.browser.test_journeys import PASSWORD, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Every text the announcer is given, in order, and whether any other part of the page is a live region.
WATCH = """
window.vaAnnounced = [];
var announcer = document.getElementById('va-call-announcer');
new MutationObserver(function () { window.vaAnnounced.push(announcer.textContent); })
  .observe(announcer, {childList: true, characterData: true, subtree: true});
"""


def test_a_status_change_is_announced_once_and_briefly(browser, live_server, login_as, staff, make_call):
    record = make_call(code="", status=CallRecord.Status.ACCEPTED)
    CallEvent.objects.create(call=record, kind=CallEvent.Kind.API_ANSWER, status_code="OK", message="OK")
    login_as("operator", PASSWORD)
    browser.add_cookie({"name": "django_language", "value": "en"})
    browser.get(f"{live_server.url}/calls/{record.pk}/")
    browser.execute_script(WATCH)
    live = browser.execute_script("return Array.from(document.querySelectorAll('main [aria-live]'), e => e.id)")
    assert live == ["va-call-announcer"]

    time.sleep(2.5)  # a refresh with nothing new says nothing
    assert browser.execute_script("return window.vaAnnounced") == []

    CallRecord.objects.filter(pk=record.pk).update(status=CallRecord.Status.RINGING)
    CallEvent.objects.create(call=record, kind=CallEvent.Kind.CALL_REPORT, status_code="200100")
    wait_for(browser, lambda b: b.execute_script("return window.vaAnnounced.length") > 0)
    time.sleep(4.5)  # two more refreshes: the same state is not announced again
    announced = browser.execute_script("return window.vaAnnounced")
    assert len(announced) == 1, announced
    assert announced[0] == "Status: Ringing. New in the timeline: In-call receipt (VoiceCallReport)"
    assert len(announced[0]) < 100  # the card itself is several hundred characters
    assert browser.find_element(By.ID, "va-call-announcer").get_attribute("role") == "status"
