"""What a new user meets, in headless Chromium: uploads from a telephony tool, content under a rejected
qualification, the dashboard's dates and a live call, by each role, in both languages, on a desktop and a phone."""
import tempfile
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from notifications.models import CallRecord, ReviewStatus, TtsTemplate, VoiceFile
from notifications.services.stats import daily_stats_rebuild
from tests.browser.conftest import next_page
from tests.browser.test_journeys import NOTICE, approved_template, wait_for
from tests.history.conftest import make_call, register  # noqa: F401  (fixtures)
from tests.register.audio_files import mp3
from tests.register.helpers import make_qualification, wav_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "new user journeys pw"
# (language cookie, window width): Chinese on a desktop, English on a phone, so each page is seen both ways.
VIEWS = [pytest.param("zh-hans", 1366, id="zh-desktop"), pytest.param("en", 390, id="en-phone")]


@pytest.fixture(autouse=True)
def _blank_page_afterwards(browser, live_server, transactional_db):
    yield
    browser.get("about:blank")
    browser.set_window_size(1366, 900)


@pytest.fixture
def people(operator, manager, superuser):
    for user in (operator, manager, superuser):
        user.set_password(PASSWORD)
        user.save()
    return {"operator": operator, "manager": manager, "root": superuser}


@pytest.fixture
def sign_in(browser, live_server, login_as, people):
    """Sign a role in and look at the console in one language at one width."""
    def sign_in(username: str, language: str, width: int) -> None:
        browser.set_window_size(width, 900)
        login_as(username, PASSWORD)
        browser.add_cookie({"name": "django_language", "value": language})
    return sign_in


def no_sideways_scroll(browser) -> bool:
    return browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")


def field_error(browser, field_id: str) -> str:
    """The error written next to a field (form_fields.html gives it the field's id with `_error`)."""
    return browser.find_element(By.ID, f"{field_id}_error").text


def upload_voice_file(browser, live_server, *, name: str, data: bytes, suffix: str, qualification) -> None:
    path = Path(tempfile.mkdtemp(prefix="va-upload-")) / f"recording{suffix}"
    path.write_bytes(data)
    browser.get(live_server.url + "/register/voice-files/new/")
    browser.find_element(By.ID, "id_name").send_keys(name)
    Select(browser.find_element(By.ID, "id_qualification")).select_by_value(str(qualification.pk))
    browser.find_element(By.ID, "id_audio").send_keys(str(path))
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()


@pytest.mark.parametrize(("language", "width"), VIEWS)
def test_an_operator_uploads_a_telephony_mp3_and_a_cut_wav_is_refused_next_to_its_field(
        browser, live_server, sign_in, language, width, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    qualification = make_qualification()
    sign_in("operator", language, width)

    whole = wav_bytes(seconds=3.0)
    upload_voice_file(browser, live_server, name="提示音", data=whole[:len(whole) // 2], suffix=".wav",
                      qualification=qualification)
    says = {"en": "The WAV file is incomplete: its header promises 3.00 s of sound but only 1.50 s",
            "zh-hans": "WAV 文件不完整：文件头声明有 3.00 秒声音，但文件中只有 1.50 秒"}[language]
    assert says in field_error(browser, "id_audio")
    assert not VoiceFile.objects.exists()
    assert no_sideways_scroll(browser)

    # What `lame` makes of a phone recording: MPEG-2.5, 8 kHz, no ID3 tag; 139 frames of 72 ms.
    upload_voice_file(browser, live_server, name="来电提醒", data=mp3(version="2.5", rate=8000, kbps=16, frames=139).data,
                      suffix=".mp3", qualification=qualification)
    voice_file = VoiceFile.objects.get()
    assert browser.current_url == f"{live_server.url}/register/voice-files/{voice_file.pk}/"
    detail = browser.find_element(By.CSS_SELECTOR, "main").text
    assert "10.01" in detail and "MP3" in detail.upper()
    assert no_sideways_scroll(browser)


@pytest.mark.parametrize(("language", "width"), VIEWS)
def test_content_under_a_rejected_qualification_is_refused_at_submission_saying_why(
        browser, live_server, sign_in, language, width):
    rejected = make_qualification(status=ReviewStatus.REJECTED, company_name="杭州驳回科技有限公司", reject_reason="营业执照模糊")
    sign_in("operator", language, width)
    browser.get(live_server.url + "/register/tts-templates/new/")
    option = browser.find_element(By.CSS_SELECTOR, f"#id_qualification option[value='{rejected.pk}']")
    assert option.text == "杭州驳回科技有限公司 — " + {"en": "Rejected", "zh-hans": "未通过"}[language]
    browser.find_element(By.ID, "id_name").send_keys("驳回资质下的模板")
    Select(browser.find_element(By.ID, "id_qualification")).select_by_value(str(rejected.pk))
    browser.find_element(By.ID, "id_content").send_keys(NOTICE)
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    template = TtsTemplate.objects.get()

    # Submitting for review is refused on the spot, naming the qualification, its state and its reason.
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "button[name=action][value=submit]").click()
        alert = browser.switch_to.alert
        alert.accept()
    page = browser.find_element(By.CSS_SELECTOR, "main").text
    assert "杭州驳回科技有限公司" in page and "营业执照模糊" in page
    TtsTemplate.objects.filter(pk=template.pk, status=ReviewStatus.DRAFT).get()
    assert no_sideways_scroll(browser)

    # A superuser does not get to approve it either: it never reached review.
    sign_in("root", language, width)
    browser.get(f"{live_server.url}/register/tts-templates/{template.pk}/")
    assert not browser.find_elements(By.CSS_SELECTOR, "button[name=action][value=approve]")


@pytest.mark.parametrize(("language", "width"), VIEWS)
def test_a_manager_chooses_dates_on_the_dashboard_and_they_win_over_the_quick_range(
        browser, live_server, sign_in, language, width, make_call):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    make_call(created_at=now - timedelta(minutes=3))
    old = make_call(created_at=now - timedelta(days=20))
    daily_stats_rebuild()
    sign_in("manager", language, width)
    browser.get(live_server.url + "/")

    # A quick range clears typed dates but applies only with the button (WCAG 3.2.2); the page names it with its days.
    browser.execute_script("arguments[0].value = '2020-01-01'", browser.find_element(By.ID, "id_date_from"))
    Select(browser.find_element(By.ID, "id_range")).select_by_value("30d")
    assert browser.find_element(By.ID, "id_date_from").get_attribute("value") == ""
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "#va-dashboard-range button[type=submit]").click()
    period = browser.find_element(By.ID, "va-dashboard-period").text
    assert period.startswith({"en": "Last 30 days", "zh-hans": "最近 30 天"}[language])
    assert browser.find_element(By.CSS_SELECTOR, "[data-figure=count]").text == "2"

    # Typing a day sets the quick range back to "Custom": only the chosen days count.
    day = timezone.localdate(old.created_at).isoformat()
    for field in ("id_date_from", "id_date_to"):
        browser.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))",
            browser.find_element(By.ID, field), day)
    assert Select(browser.find_element(By.ID, "id_range")).first_selected_option.get_attribute("value") == ""
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "#va-dashboard-range button[type=submit]").click()
    period = browser.find_element(By.ID, "va-dashboard-period").text
    assert period.startswith({"en": "Chosen dates", "zh-hans": "所选日期"}[language]) and day in period
    assert browser.find_element(By.CSS_SELECTOR, "[data-figure=count]").text == "1"
    assert no_sideways_scroll(browser)


@pytest.mark.parametrize(("language", "width"), VIEWS)
def test_a_live_call_page_follows_the_call_without_a_reload_and_masks_it_for_a_manager(
        browser, live_server, sign_in, vms_simulator, language, width, settings):
    settings.REDIS_URL = ""  # the live server sends the call itself, as the embedded console does
    vms_simulator.set_receipt_base_url(live_server.url + "/receipts/")
    template = approved_template(vms_simulator)
    sign_in("operator", language, width)
    browser.get(f"{live_server.url}/dial/tts/?template={template.pk}")
    browser.find_element(By.NAME, "param_name").send_keys("王先生")
    browser.find_element(By.NAME, "param_order").send_keys("A1001")
    browser.find_element(By.NAME, "called_number").send_keys("13900001230")
    vms_simulator.set_time_scale(0.2)  # a few seconds long, so the page sees it happen
    with next_page(browser):
        browser.find_element(By.CSS_SELECTOR, "#va-dial-form button[type=submit]").click()
    record = CallRecord.objects.get()
    browser.execute_script("window.vaSamePage = true")  # gone if the page is reloaded
    wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "#va-call-status[data-final=true]"))
    assert browser.execute_script("return window.vaSamePage") is True
    answer = browser.find_element(By.ID, "va-call-answer-slot").text
    assert "OK" in answer and record.call_id in answer
    timeline = browser.find_element(By.ID, "va-call-timeline").text
    first_entry = timeline.splitlines()[:3]
    assert not any(word in " ".join(first_entry) for word in ("失败", "Failed")), first_entry
    assert no_sideways_scroll(browser)

    # The manager reads the same call with the callee masked; the superuser sees it whole.
    sign_in("manager", language, width)
    browser.get(f"{live_server.url}/calls/{record.pk}/")
    assert "139****1230" in browser.find_element(By.TAG_NAME, "body").text
    assert "13900001230" not in browser.page_source
    sign_in("root", language, width)
    browser.get(f"{live_server.url}/calls/{record.pk}/")
    assert "13900001230" in browser.find_element(By.TAG_NAME, "body").text
