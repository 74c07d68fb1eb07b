"""A campaign from upload to report in headless Chromium, in both languages: an operator uploads a GBK CSV, maps its
columns, checks every row, sees the refused one and sends it for approval; a manager approves; the campaign calls
the simulator, the progress bar moves without a reload, and the report shows once it ends.

Each journey takes some 10–20 s (two sign-ins, seven pages, real calls with receipts pushed back): it is the one test
that shows the whole feature working together in a browser, so it is worth its time."""
import time

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from notifications.models import CallRecord, Campaign, CampaignRow
from notifications.services.campaign_send import campaign_send_tick
from tests.browser.conftest import browser, login_as, next_page  # noqa: F401  (fixtures)
from tests.browser.test_journeys import PASSWORD, approved_template, click_and_confirm, staff, wait_for  # noqa: F401
from tests.campaigns.test_pages import list_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
WAIT = 60


@pytest.fixture(autouse=True)
def _blank_page_afterwards(browser, live_server, transactional_db):  # noqa: F811
    yield
    browser.get("about:blank")


def _sign_in(browser, login_as, username: str, language: str) -> None:  # noqa: F811
    login_as(username, PASSWORD)
    browser.add_cookie({"name": "django_language", "value": language})


def _tick_until(browser, condition, timeout: float = WAIT):  # noqa: F811
    """Run the sender (as the in-process scheduler would) until the browser shows what `condition` looks for."""
    deadline = time.monotonic() + timeout
    browser.implicitly_wait(0)  # asked once a second: an implicit wait would make each round 3 s longer
    try:
        return _ticked(browser, condition, deadline)
    finally:
        browser.implicitly_wait(3)


def _ticked(browser, condition, deadline: float):  # noqa: F811
    while time.monotonic() < deadline:
        # Each tick at the start of a wall-clock second, as campaign_send_run's loop ticks.
        time.sleep(1 - timezone.now().microsecond / 1_000_000)
        campaign_send_tick()
        found = condition(browser)
        if found:
            return found
    rows = list(CampaignRow.objects.values_list("row_number", "state", "outcome", "final_status"))
    calls = list(CallRecord.objects.values_list("out_id", "status", "outcome"))
    raise AssertionError(f"the page never showed it: campaigns {list(Campaign.objects.values_list('state'))}, rows {rows}, "
                         f"calls {calls}; page {browser.current_url} {browser.title} "
                         f"{browser.find_element(By.TAG_NAME, 'main').text[:300]}")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_campaign_from_upload_to_report(browser, live_server, login_as, vms_simulator, staff, settings, tmp_path,  # noqa: F811
                                        language):
    settings.REDIS_URL = ""  # calls are sent in this process, as the embedded console does
    settings.CAMPAIGN_QUIET_HOURS = ""  # the journey runs at any hour
    settings.MEDIA_ROOT = tmp_path / "media"
    vms_simulator.set_receipt_base_url(live_server.url + "/receipts/")
    template = approved_template(vms_simulator, code="TTS_810001")
    listing = tmp_path / "客户名单.csv"
    listing.write_bytes(list_csv([("139 0000 1230", "王先生", "A1001"), ("13900001232", "李女士", "A1002"),
                                  ("12345", "张", "A1003")], encoding="gbk"))

    # The operator creates the campaign and uploads the list (GBK, as Excel in China saves it).
    _sign_in(browser, login_as, "operator", language)
    browser.get(live_server.url + "/campaigns/")
    assert browser.execute_script("return document.documentElement.lang") == language
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "a[href='/campaigns/new/']").click()
    browser.find_element(By.ID, "id_name").send_keys("发货延迟通知")
    Select(browser.find_element(By.ID, "id_template")).select_by_value(str(template.pk))
    browser.find_element(By.ID, "id_file").send_keys(str(listing))
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "#va-campaign-form button[type=submit]").click()
    campaign = Campaign.objects.get()
    assert browser.current_url == f"{live_server.url}/campaigns/{campaign.pk}/mapping/"

    # The columns were guessed from their names; the preview shows the first rows as they will be spoken.
    assert Select(browser.find_element(By.ID, "id_callee")).first_selected_option.get_attribute("value") == "手机号"
    assert "尊敬的王先生，您的订单A1001已发货。" in browser.find_element(By.ID, "va-mapping-preview").text
    Select(browser.find_element(By.ID, "id_param_order")).select_by_value("name")
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "button[name=action][value=preview]").click()
    assert "尊敬的王先生，您的订单王先生已发货。" in browser.find_element(By.ID, "va-mapping-preview").text
    Select(browser.find_element(By.ID, "id_param_order")).select_by_value("order")
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "button[name=action][value=check]").click()

    # The check: two rows can be called, the third is refused with its row number.
    assert browser.current_url == f"{live_server.url}/campaigns/{campaign.pk}/"
    assert browser.find_element(By.CSS_SELECTOR, "[data-figure=valid]").text == "2"
    assert browser.find_element(By.CSS_SELECTOR, "[data-figure=refused]").text == "1"
    assert browser.find_element(By.CSS_SELECTOR, "#va-first-errors tbody td").text == "4"
    click_and_confirm(browser, browser.find_element(By.CSS_SELECTOR, "button[name=action][value=submit]"))
    assert browser.find_element(By.CSS_SELECTOR, "h1 .va-state-awaiting_approval")
    assert not browser.find_elements(By.CSS_SELECTOR, "button[name=action][value=approve]")  # not by its creator

    # A manager approves; the page then follows the sending live.
    _sign_in(browser, login_as, "manager", language)
    browser.get(f"{live_server.url}/campaigns/{campaign.pk}/")
    click_and_confirm(browser, browser.find_element(By.CSS_SELECTOR, "button[name=action][value=approve]"))
    assert browser.find_element(By.CSS_SELECTOR, "h1 .va-state-scheduled")
    assert browser.find_element(By.ID, "va-campaign-bar").get_attribute("value") == "0"
    browser.execute_script("window.vaSamePage = true")  # gone if the page is loaded again
    # A busy line ends at once, the answered call some 6 s later: the page sees the bar move in between.
    vms_simulator.set_time_scale(0.2)
    _tick_until(browser, lambda b: b.execute_script(
        "return window.vaSamePage === true && Number(document.getElementById('va-campaign-bar').value) > 0"))
    assert browser.find_element(By.ID, "va-campaign-state").get_attribute("class").endswith("va-state-sending align-middle")

    # Once every row is final the page is loaded again with the report.
    _tick_until(browser, lambda b: b.find_elements(By.ID, "va-campaign-report"))
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.FINISHED
    assert browser.find_element(By.CSS_SELECTOR, "h1 .va-state-finished")
    assert browser.find_element(By.CSS_SELECTOR, "[data-figure=answer_rate]").text == "50%"
    assert sorted(call["CalledNumber"] for call in vms_simulator.calls) == ["13900001230", "13900001232"]
    assert CallRecord.objects.filter(campaign=campaign).count() == 2
    assert set(campaign.rows.values_list("state", flat=True)) == {CampaignRow.State.DONE, CampaignRow.State.REFUSED}


def test_campaign_pages_pass_axe_in_both_languages_and_widths(browser, live_server, login_as, staff, settings, tmp_path):  # noqa: F811
    """The accessibility crawl (tests/accessibility) reaches the list and the new-campaign form from the menu; the
    demo data has no campaign, so the pages of one in each state are scanned here, forms also in their error state.
    About 45 s: 2 roles × 2 languages × 2 widths × 8 pages, each an axe run, as the crawl's own test does."""
    from tests.accessibility.conftest import axe_violations, submit_empty
    from tests.campaigns.test_pages import checked_campaign

    settings.MEDIA_ROOT = tmp_path / "media"
    operator, manager = staff
    drafts = {state: checked_campaign(operator, state=state, approved_by=manager if state != "checked" else None)
              for state in ("checked", "awaiting_approval", "sending", "finished")}
    shared = ["/campaigns/", f"/campaigns/{drafts['sending'].pk}/rows/2/", *(f"/campaigns/{c.pk}/" for c in drafts.values())]
    own = {"operator": ["/campaigns/new/", f"/campaigns/{drafts['checked'].pk}/mapping/"], "manager": []}
    found = []
    for username in ("operator", "manager"):
        login_as(username, PASSWORD)
        for language in ("zh-hans", "en"):
            browser.add_cookie({"name": "django_language", "value": language})
            for width in (1366, 390):
                browser.set_window_size(width, 900)
                for path in shared + own[username]:
                    browser.get(live_server.url + path)
                    found += [f"{username} {language} {width}px {path}: {line}" for line in axe_violations(browser)]
                    if path.endswith(("/new/", "/mapping/")) and submit_empty(browser):
                        found += [f"{username} {language} {width}px {path} (empty submit): {line}"
                                  for line in axe_violations(browser)]
    browser.set_window_size(1366, 900)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize(("language", "words"), [("en", "Checking every row"), ("zh-hans", "正在逐行检查")])
def test_checking_a_list_says_it_is_working_and_cannot_be_sent_twice(  # noqa: F811
        browser, live_server, login_as, vms_simulator, staff, settings, tmp_path, language, words):  # noqa: F811
    from django.core.files.base import ContentFile

    from notifications.services.campaign_create import campaign_create

    settings.MEDIA_ROOT = tmp_path / "media"
    campaign = campaign_create(name="长名单", user=staff[0], tts_template=approved_template(vms_simulator),
                               uploaded_file=ContentFile(list_csv([("13900001230", "王", "A1")]), name="list.csv"))
    _sign_in(browser, login_as, "operator", language)
    browser.get(f"{live_server.url}/campaigns/{campaign.pk}/mapping/")
    # Held in the page, as a long check would be: what the operator sees while the server works.
    browser.execute_script("document.getElementById('va-mapping-form').addEventListener('submit', e => e.preventDefault())")
    browser.find_element(By.CSS_SELECTOR, "button[value=check]").click()
    status = browser.find_element(By.CSS_SELECTOR, "#va-mapping-form [role=status]")
    wait_for(browser, lambda _browser: words in status.text)
    buttons = browser.find_elements(By.CSS_SELECTOR, "#va-mapping-form button[type=submit]")
    wait_for(browser, lambda _browser: all(not button.is_enabled() for button in buttons))
    assert browser.find_element(By.ID, "va-mapping-form").get_attribute("aria-busy") == "true"
