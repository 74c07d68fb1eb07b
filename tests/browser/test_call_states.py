"""The call log in headless Chromium: an outcome-unknown call and a call placed elsewhere each show their own badge."""
from datetime import timedelta

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from notifications.models import CallRecord
from tests.browser.conftest import next_page, switch_language
from tests.history.conftest import make_call, register  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "browser call states pw"


@pytest.fixture(autouse=True)
def _blank_page_afterwards(browser, live_server, transactional_db):
    yield
    browser.get("about:blank")


def badge(browser, row_out_id: str, css: str):
    row = browser.find_element(By.XPATH, f"//tbody/tr[.//a[normalize-space()='{row_out_id}']]")
    return row, row.find_element(By.CSS_SELECTOR, css)


def colour(element, prop: str = "background-color") -> str:
    return element.value_of_css_property(prop)


def test_call_log_shows_outcome_unknown_and_placed_elsewhere_apart(browser, live_server, login_as, operator, make_call):  # noqa: F811
    operator.set_password(PASSWORD)
    operator.save()
    now = timezone.now()
    failed = make_call(code="200002", created_at=now - timedelta(minutes=1))
    unknown = make_call(code="", status=CallRecord.Status.OUTCOME_UNKNOWN, outcome=CallRecord.Outcome.UNKNOWN, call_id=None,
                        api_message="read timeout", created_at=now - timedelta(minutes=2))
    elsewhere = make_call(code="200000", api=CallRecord.Api.OTHER, mode="", placed_elsewhere=True,
                          created_at=now - timedelta(minutes=3))

    login_as("operator", PASSWORD)
    browser.get(live_server.url + "/calls/")
    switch_language(browser, "en")

    _row, unknown_badge = badge(browser, unknown.out_id, ".va-state-outcome_unknown")
    _row, failed_badge = badge(browser, failed.out_id, ".va-state-failed")
    assert unknown_badge.text == "Outcome unknown" and failed_badge.text == "Failed"
    # Its own colour, and an edge that tells it apart without colour.
    assert colour(unknown_badge) != colour(failed_badge)
    assert unknown_badge.value_of_css_property("border-top-style") == "dashed"
    assert "not redialled" in unknown_badge.get_attribute("title")

    elsewhere_row, elsewhere_badge = badge(browser, elsewhere.out_id, ".va-elsewhere")
    assert elsewhere_badge.text == "Placed elsewhere" and elsewhere_badge.is_displayed()
    assert colour(elsewhere_badge) not in (colour(unknown_badge), colour(failed_badge))
    failed_row, _badge = badge(browser, failed.out_id, ".va-state")
    # The row itself is set apart from ours.
    cell = elsewhere_row.find_element(By.TAG_NAME, "td")
    assert colour(cell) != colour(failed_row.find_element(By.TAG_NAME, "td"))
    assert "Public pool" not in elsewhere_row.text

    # The filters reach each of them through the form.
    Select(browser.find_element(By.ID, "id_status")).select_by_value("outcome_unknown")
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "#va-history-filters button[type=submit]").click()
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "tbody tr td.va-mono a")] == [unknown.out_id]
    Select(browser.find_element(By.ID, "id_status")).select_by_value("")
    Select(browser.find_element(By.ID, "id_placed")).select_by_value("elsewhere")
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "#va-history-filters button[type=submit]").click()
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "tbody tr td.va-mono a")] == [elsewhere.out_id]

    # Its detail page says where it came from.
    with next_page(browser):
        browser.find_element(By.LINK_TEXT, elsewhere.out_id).click()
    assert "Placed by another system using this account" in browser.find_element(By.ID, "va-call-elsewhere").text
