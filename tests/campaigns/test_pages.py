"""The campaign pages: list, new campaign, mapping, the campaign's page with its buttons by state and role, progress,
downloads, the call log's campaign filter, the dashboard figure and the admin."""
import csv
import io
import itertools

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from notifications.models import AuditEntry, CallerNumber, CallRecord, Campaign, CampaignRow, Mode
from tests.dialing.conftest import make_qualification, make_template

pytestmark = pytest.mark.django_db
State = Campaign.State
_serial = itertools.count(1)
NOTICE = "尊敬的${name}，您的订单${order}已发货。"


# ----- helpers (also used by test_command.py and test_browser.py) -----
def list_csv(rows, *, header=("手机号", "name", "order"), encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(content: bytes, name: str = "list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def make_campaign(*, template=None, created_by, state=State.DRAFT, name=None, rows=(), summary=None, **fields) -> Campaign:
    """A campaign as the check leaves it; `rows` are (number, state, extra fields) built directly."""
    template = template or make_template(content=NOTICE)
    campaign = Campaign.objects.create(
        name=name or f"Campaign {next(_serial)}", tts_template=template, created_by=created_by, state=state,
        headers=["手机号", "name", "order"], mapping={"callee": "手机号", "params": {"name": "name", "order": "order"}},
        source_name="list.csv", source_encoding="utf-8", check_summary=summary or {}, **fields,
    )
    for index, (number, row_state, extra) in enumerate(rows, start=2):
        CampaignRow.objects.create(campaign=campaign, row_number=index, raw_number=number, called_number=number,
                                   params={"name": "王", "order": "A1"}, state=row_state, **extra)
    return campaign


def checked_campaign(user, **fields) -> Campaign:
    return make_campaign(
        created_by=user, state=fields.pop("state", State.CHECKED),
        rows=[("13900001230", CampaignRow.State.WAITING, {}),
              ("13900001231", CampaignRow.State.WAITING, {}),
              ("12345", CampaignRow.State.REFUSED, {"refusal_code": "number_invalid",
                                                    "refusal_messages": {"en": "12345 is not a mainland number."}})],
        summary={"total": 3, "valid": 2, "refused": 1, "by_reason": {"number_invalid": 1},
                 "first_errors": [{"row": 4, "column": "手机号", "message": "12345 is not a mainland number."}]},
        **fields,
    )


@pytest.fixture
def second_operator(db) -> User:
    from notifications.roles import OPERATORS
    from tests.conftest import _user_in

    return _user_in(OPERATORS, "operator2")


@pytest.fixture
def second_manager(db) -> User:
    from notifications.roles import MANAGERS
    from tests.conftest import _user_in

    return _user_in(MANAGERS, "manager2")


@pytest.fixture(autouse=True)
def english(client):
    """Pages and messages in English, as these tests read them (the console's default is Chinese)."""
    from django.utils import translation

    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# ----- the list -----
def test_list_needs_sign_in_and_the_permission(client, db):
    response = client.get(reverse("notifications:campaign_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    nobody = User.objects.create_user("nobody", password="x")
    client.force_login(nobody)
    assert client.get(reverse("notifications:campaign_list")).status_code == 403


def test_list_shows_newest_first_with_states_in_words(client, operator, manager):
    older = make_campaign(created_by=operator, name="Water cut", state=State.FINISHED,
                          created_at=timezone.now() - timezone.timedelta(days=1))
    newer = make_campaign(created_by=operator, name="Parcel delay", state=State.AWAITING_APPROVAL)
    client.force_login(manager)
    response = client.get(reverse("notifications:campaign_list"))
    text = response.content.decode()
    assert response.status_code == 200
    assert text.index(newer.name) < text.index(older.name)
    assert 'va-state va-state-awaiting_approval">Waiting for approval<' in text
    assert 'va-state va-state-finished">Finished<' in text
    assert "New campaign" not in text  # managers do not create campaigns


def test_list_filters_by_state_and_searches_by_name(client, operator):
    make_campaign(created_by=operator, name="Water cut building 5", state=State.SENDING)
    make_campaign(created_by=operator, name="Parcel delay", state=State.DRAFT)
    client.force_login(operator)
    by_state = client.get(reverse("notifications:campaign_list"), {"state": "sending"}).content.decode()
    assert "Water cut building 5" in by_state and "Parcel delay" not in by_state
    by_name = client.get(reverse("notifications:campaign_list"), {"q": "parcel"}).content.decode()
    assert "Parcel delay" in by_name and "Water cut" not in by_name
    nothing = client.get(reverse("notifications:campaign_list"), {"state": "no-such-state"}).content.decode()
    assert "Nothing matches these filters." in nothing


def test_list_is_paginated(client, operator):
    template = make_template(content=NOTICE)
    for index in range(23):
        make_campaign(template=template, created_by=operator, name=f"Bulk {index:02d}")
    client.force_login(operator)
    first = client.get(reverse("notifications:campaign_list")).content.decode()
    assert "Page 1 of 2" in first and first.count("Bulk ") == 20
    second = client.get(reverse("notifications:campaign_list"), {"page": 2}).content.decode()
    assert second.count("Bulk ") == 3


# ----- a new campaign -----
def test_only_operators_open_the_new_campaign_form(client, operator, manager):
    client.force_login(manager)
    assert client.get(reverse("notifications:campaign_create")).status_code == 403
    client.force_login(operator)
    response = client.get(reverse("notifications:campaign_create"))
    assert response.status_code == 200
    for label in ("Name", "TTS template", "Voice file", "Caller numbers", "Play times", "List file"):
        assert f">{label}" in response.content.decode()


def _create_data(template, **extra):
    data = {"name": "Parcel delay", "template": template.pk, "play_times": 1, "volume": 100,
            "file": upload(list_csv([("13900001230", "王先生", "A1001"), ("13900001231", "李女士", "A1002")]))}
    data.update(extra)
    return data


def test_creating_a_campaign_reads_the_list_and_opens_the_mapping(client, operator):
    template = make_template(content=NOTICE)
    client.force_login(operator)
    response = client.post(reverse("notifications:campaign_create"), _create_data(template))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("notifications:campaign_mapping", args=[campaign.pk])
    assert (campaign.state, campaign.created_by, campaign.headers) == (State.DRAFT, operator, ["手机号", "name", "order"])
    assert campaign.mapping["callee"] == "手机号"
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CAMPAIGN_CREATED, username="operator").exists()


def test_a_file_that_is_no_spreadsheet_is_refused_next_to_the_file_field_and_nothing_is_kept(client, operator):
    template = make_template(content=NOTICE)
    client.force_login(operator)
    mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x0f" + bytes(range(256)) * 4
    response = client.post(reverse("notifications:campaign_create"), _create_data(template, file=upload(mp3, "list.csv")))
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert 'id="id_file_error"' in response.content.decode()
    assert not Campaign.objects.exists()


def test_the_mode_rules_of_a_test_call_apply_to_the_caller_numbers(client, operator):
    qualification = make_qualification()
    dedicated = make_template(content=NOTICE, mode=Mode.DEDICATED, qualification=qualification)
    public = make_template(content=NOTICE)
    number = CallerNumber.objects.create(number="057188886666", qualification=qualification, status=CallerNumber.Status.ACTIVE)
    client.force_login(operator)
    url = reverse("notifications:campaign_create")
    errors = client.post(url, _create_data(dedicated)).context["form"].errors
    assert "at least one of your caller numbers" in errors["caller_numbers"][0]
    errors = client.post(url, _create_data(public, caller_numbers=[number.pk])).context["form"].errors
    assert "choose no caller number" in errors["caller_numbers"][0]
    errors = client.post(url, {**_create_data(public), "template": ""}).context["form"].errors
    assert errors["template"] == ["Choose an approved TTS template or voice file."]
    assert not Campaign.objects.exists()


def test_a_dedicated_campaign_keeps_its_caller_numbers(client, operator):
    qualification = make_qualification()
    dedicated = make_template(content=NOTICE, mode=Mode.DEDICATED, qualification=qualification)
    first = CallerNumber.objects.create(number="057188886666", qualification=qualification, status=CallerNumber.Status.ACTIVE)
    second = CallerNumber.objects.create(number="057188886667", qualification=qualification, status=CallerNumber.Status.ACTIVE)
    client.force_login(operator)
    client.post(reverse("notifications:campaign_create"), _create_data(dedicated, caller_numbers=[first.pk, second.pk]))
    assert set(Campaign.objects.get().caller_numbers.all()) == {first, second}


# ----- mapping -----
def _created(client, operator, rows=None) -> Campaign:
    template = make_template(content=NOTICE)
    rows = rows or [("13900001230", "王先生", "A1001"), ("13900001231", "李女士", "A1002"), ("12345", "张", "A3")]
    client.force_login(operator)
    client.post(reverse("notifications:campaign_create"), _create_data(template, file=upload(list_csv(rows))))
    return Campaign.objects.get()


def test_the_mapping_page_is_prefilled_and_previews_the_first_rows_as_spoken(client, operator):
    campaign = _created(client, operator)
    response = client.get(reverse("notifications:campaign_mapping", args=[campaign.pk]))
    text = response.content.decode()
    form = response.context["form"]
    assert form["callee"].value() == "手机号" and form["param_name"].value() == "name"
    assert "尊敬的王先生，您的订单A1001已发货。" in text
    assert "Variable ${name}" in text


def test_preview_follows_a_changed_mapping(client, operator):
    campaign = _created(client, operator)
    response = client.post(reverse("notifications:campaign_mapping", args=[campaign.pk]),
                           {"callee": "手机号", "param_name": "order", "param_order": "name", "action": "preview"})
    assert response.status_code == 200
    assert "尊敬的A1001，您的订单王先生已发货。" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.state == State.DRAFT  # a preview checks nothing and stores nothing


def test_checking_every_row_shows_the_summary_with_refused_rows(client, operator):
    campaign = _created(client, operator)
    response = client.post(reverse("notifications:campaign_mapping", args=[campaign.pk]),
                           {"callee": "手机号", "param_name": "name", "param_order": "order", "action": "check"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == State.CHECKED
    page = client.get(reverse("notifications:campaign_detail", args=[campaign.pk]))
    text = page.content.decode()
    assert page.context["summary"]["valid"] == 2 and page.context["summary"]["refused"] == 1
    assert "Download the refused rows (CSV)" in text and "Send for approval" in text
    assert any(error["row"] == 4 for error in page.context["summary"]["first_errors"])
    assert "Not a number that can be called: 1" in text


def test_a_check_run_in_chinese_reads_in_each_readers_language(client, operator, second_operator):
    campaign = _created(client, operator)
    client.cookies["django_language"] = "zh-hans"
    client.post(reverse("notifications:campaign_mapping", args=[campaign.pk]),
                {"callee": "手机号", "param_name": "name", "param_order": "order", "action": "check"})
    refused = campaign.rows.get(state=CampaignRow.State.REFUSED)
    for language, words in (("en", "is not a valid mainland mobile or landline number"), ("zh-hans", "不是有效的中国大陆手机")):
        client.cookies["django_language"] = language
        client.force_login(second_operator)
        text = client.get(reverse("notifications:campaign_detail", args=[campaign.pk])).content.decode()
        assert words in text
        row_page = client.get(reverse("notifications:campaign_row_detail", args=[campaign.pk, refused.row_number]))
        assert words in row_page.content.decode()
        body = b"".join(client.get(reverse("notifications:campaign_refused_csv", args=[campaign.pk]))
                        .streaming_content).decode("utf-8-sig")
        assert words in body


def test_checking_without_a_callee_column_is_refused_next_to_that_select(client, operator):
    campaign = _created(client, operator)
    response = client.post(reverse("notifications:campaign_mapping", args=[campaign.pk]),
                           {"callee": "", "param_name": "name", "param_order": "order", "action": "check"})
    assert response.status_code == 200
    assert response.context["form"].errors["callee"]
    campaign.refresh_from_db()
    assert campaign.state == State.DRAFT and not campaign.rows.exists()


def test_a_campaign_that_has_started_cannot_be_remapped(client, operator):
    campaign = checked_campaign(operator, state=State.SENDING)
    client.force_login(operator)
    response = client.get(reverse("notifications:campaign_mapping", args=[campaign.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("notifications:campaign_detail", args=[campaign.pk])


# ----- the campaign's page: check summary and downloads -----
def test_the_page_shows_the_check_summary_and_first_errors(client, operator):
    campaign = checked_campaign(operator)
    client.force_login(operator)
    text = client.get(reverse("notifications:campaign_detail", args=[campaign.pk])).content.decode()
    assert 'data-figure="valid">2<' in text and 'data-figure="refused">1<' in text
    assert "12345 is not a mainland number." in text
    assert '<li data-reason="number_invalid">Not a number that can be called: 1</li>' in text  # words, not the code
    assert "Upload the corrected list" in text and "Save the schedule" in text


def test_the_page_writes_its_times_as_the_call_log_does_in_either_language(client, operator):
    checked_at = timezone.make_aware(timezone.datetime(2026, 12, 5, 22, 49), timezone.get_current_timezone())
    campaign = checked_campaign(operator, checked_at=checked_at)
    client.force_login(operator)
    for language in ("en", "zh-hans"):
        client.cookies["django_language"] = language
        text = client.get(reverse("notifications:campaign_detail", args=[campaign.pk])).content.decode()
        assert "2026-12-05 22:49" in text
        assert "p.m." not in text  # English's short format ended "Checked … 10:49 p.m.." with a doubled full stop


@pytest.mark.parametrize(("retries", "minutes", "in_english", "in_chinese"), [
    (0, 10, "No retries", "不重试"),
    (1, 1, "Up to 1 retry, at least 1 minute later", "最多重试 1 次，至少间隔 1 分钟"),
    (3, 15, "Up to 3 retries, at least 15 minutes apart", "最多重试 3 次，每次至少间隔 15 分钟"),
])
def test_the_retries_read_as_a_sentence_in_either_language(client, operator, retries, minutes, in_english, in_chinese):
    campaign = checked_campaign(operator, max_retries=retries, retry_interval_minutes=minutes)
    client.force_login(operator)
    url = reverse("notifications:campaign_detail", args=[campaign.pk])
    assert in_english in client.get(url).content.decode()
    client.cookies["django_language"] = "zh-hans"
    assert in_chinese in client.get(url).content.decode()


def test_progress_says_how_many_waiting_rows_wait_for_a_retry(client, operator):
    campaign = make_campaign(created_by=operator, state=State.SENDING, rows=[
        ("13900001230", CampaignRow.State.WAITING, {}),
        ("13900001231", CampaignRow.State.RETRY_WAIT, {"attempts": 1}),
        ("13900001232", CampaignRow.State.RETRY_WAIT, {"attempts": 1})])
    client.force_login(operator)
    text = client.get(reverse("notifications:campaign_detail", args=[campaign.pk])).content.decode()
    assert 'data-count="waiting">3 <span class="text-muted" data-count="retry_wait">(2 to retry)</span>' in text


def test_the_page_warns_of_rows_whose_retries_would_not_fit_the_day_limit_in_both_languages(client, operator):
    campaign = checked_campaign(operator, max_retries=3)
    campaign.check_summary["day_room"] = {"2": {"count": 2, "rows": [3, 7]}, "3": {"count": 1, "rows": [5]}}
    campaign.save(update_fields=["check_summary"])
    client.force_login(operator)
    url = reverse("notifications:campaign_detail", args=[campaign.pk])
    text = " ".join(client.get(url).content.decode().split())
    assert "3 rows may not get all their retries" in text and "allows 20 calls a day" in text
    assert "First rows: 3, 5, 7" in text
    client.cookies["django_language"] = "zh-hans"
    text = " ".join(client.get(url).content.decode().split())
    assert "3 行可能无法完成全部重试" in text and "首先涉及的行： 3, 5, 7" in text
    Campaign.objects.filter(pk=campaign.pk).update(max_retries=1)  # room for 2 attempts each: nothing to warn of
    assert 'id="va-retries-short"' not in client.get(url).content.decode()


def test_refused_rows_download_is_for_those_who_see_full_numbers(client, operator, manager):
    campaign = checked_campaign(operator)
    client.force_login(operator)
    response = client.get(reverse("notifications:campaign_refused_csv", args=[campaign.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "12345" in body
    client.force_login(manager)
    assert client.get(reverse("notifications:campaign_refused_csv", args=[campaign.pk])).status_code == 403


def test_rows_download_is_masked_for_managers(client, operator, manager):
    campaign = checked_campaign(operator, state=State.FINISHED)
    client.force_login(manager)
    response = client.get(reverse("notifications:campaign_rows_csv", args=[campaign.pk]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response.status_code == 200
    assert "13900001230" not in body and "139****1230" in body


def test_a_corrected_file_is_read_and_leads_back_to_the_mapping(client, operator):
    campaign = checked_campaign(operator)
    client.force_login(operator)
    response = client.post(reverse("notifications:campaign_upload", args=[campaign.pk]),
                           {"file": upload(list_csv([("13900001239", "王", "A9")]))})
    assert response.status_code == 302 and response["Location"] == reverse("notifications:campaign_mapping", args=[campaign.pk])
    campaign.refresh_from_db()
    assert campaign.state == State.DRAFT


def test_a_corrected_file_that_cannot_be_read_is_refused_on_the_page(client, operator):
    campaign = checked_campaign(operator)
    client.force_login(operator)
    response = client.post(reverse("notifications:campaign_upload", args=[campaign.pk]), {"file": upload(b"", "list.csv")})
    assert response.status_code == 400
    assert response.context["file_form"].errors["file"]


# ----- buttons by state and role -----
def _act(client, campaign, action, **data):
    return client.post(reverse("notifications:campaign_action", args=[campaign.pk]), {"action": action, **data}, follow=True)


def test_operator_sends_for_approval_and_another_manager_approves(client, operator, manager):
    campaign = checked_campaign(operator)
    client.force_login(operator)
    text = _act(client, campaign, "submit").content.decode()
    campaign.refresh_from_db()
    assert campaign.state == State.AWAITING_APPROVAL
    assert "a manager other than you approves it" in text and ">Approve<" not in text
    client.force_login(manager)
    page = client.get(reverse("notifications:campaign_detail", args=[campaign.pk])).content.decode()
    assert ">Approve<" in page and "Send back" in page
    _act(client, campaign, "approve")
    campaign.refresh_from_db()
    assert (campaign.state, campaign.approved_by) == (State.SCHEDULED, manager)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CAMPAIGN_APPROVED, username="manager").exists()


def test_operators_cannot_approve(client, operator, second_operator):
    campaign = checked_campaign(second_operator, state=State.AWAITING_APPROVAL)
    client.force_login(operator)
    assert ">Approve<" not in client.get(reverse("notifications:campaign_detail", args=[campaign.pk])).content.decode()
    response = client.post(reverse("notifications:campaign_action", args=[campaign.pk]), {"action": "approve"})
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.state == State.AWAITING_APPROVAL


def test_a_manager_cannot_approve_their_own_campaign(client, manager):
    campaign = checked_campaign(manager, state=State.AWAITING_APPROVAL)
    client.force_login(manager)
    page = client.get(reverse("notifications:campaign_detail", args=[campaign.pk])).content.decode()
    assert ">Approve<" not in page
    text = _act(client, campaign, "approve").content.decode()
    campaign.refresh_from_db()
    assert campaign.state == State.AWAITING_APPROVAL
    assert "another manager must approve it" in text


def test_sending_back_needs_a_reason(client, operator, manager):
    campaign = checked_campaign(operator, state=State.AWAITING_APPROVAL)
    client.force_login(manager)
    response = client.post(reverse("notifications:campaign_action", args=[campaign.pk]), {"action": "send_back", "reason": ""})
    assert response.status_code == 400 and response.context["send_back_form"].errors["reason"]
    _act(client, campaign, "send_back", reason="Wrong template")
    campaign.refresh_from_db()
    assert campaign.state == State.CHECKED
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CAMPAIGN_REJECTED, details__reason="Wrong template").exists()


def test_pause_resume_and_cancel(client, operator, manager):
    campaign = checked_campaign(operator, state=State.SENDING, approved_by=manager)
    client.force_login(manager)
    page = client.get(reverse("notifications:campaign_detail", args=[campaign.pk])).content.decode()
    assert ">Pause<" in page and "Cancel the campaign" in page and "data-va-confirm" in page
    _act(client, campaign, "pause")
    campaign.refresh_from_db()
    assert campaign.state == State.PAUSED
    assert ">Resume<" in client.get(reverse("notifications:campaign_detail", args=[campaign.pk])).content.decode()
    _act(client, campaign, "resume")
    campaign.refresh_from_db()
    assert campaign.state in (State.SCHEDULED, State.SENDING)  # the sender's next tick takes it on
    _act(client, campaign, "cancel")
    campaign.refresh_from_db()
    assert campaign.state == State.CANCELLED
    assert set(campaign.rows.values_list("state", flat=True)) == {CampaignRow.State.NOT_SENT, CampaignRow.State.REFUSED}


def test_an_action_the_state_does_not_allow_is_said_and_changes_nothing(client, operator):
    campaign = checked_campaign(operator, state=State.FINISHED)
    client.force_login(operator)
    response = _act(client, campaign, "pause")
    campaign.refresh_from_db()
    assert campaign.state == State.FINISHED
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_an_unknown_action_changes_nothing(client, operator):
    campaign = checked_campaign(operator)
    client.force_login(operator)
    response = _act(client, campaign, "explode")
    campaign.refresh_from_db()
    assert campaign.state == State.CHECKED and "Unknown action." in response.content.decode()


# ----- schedule -----
def test_the_schedule_is_saved(client, operator):
    campaign = checked_campaign(operator)
    client.force_login(operator)
    response = client.post(reverse("notifications:campaign_schedule", args=[campaign.pk]), {
        "start": "at", "start_at": "2030-05-12T09:30", "quiet_start": "20:00", "quiet_end": "09:00",
        "rate_cap": 50, "max_retries": 2, "retry_interval_minutes": 15,
    })
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert timezone.localtime(campaign.start_at).strftime("%Y-%m-%d %H:%M") == "2030-05-12 09:30"
    assert (campaign.rate_cap, campaign.max_retries, campaign.retry_interval_minutes) == (50, 2, 15)
    assert campaign.quiet_start.strftime("%H:%M") == "20:00"


def test_schedule_errors_are_shown_next_to_their_fields(client, operator):
    campaign = checked_campaign(operator)
    client.force_login(operator)
    response = client.post(reverse("notifications:campaign_schedule", args=[campaign.pk]), {
        "start": "at", "start_at": "", "quiet_start": "20:00", "quiet_end": "",
        "rate_cap": 0, "max_retries": 5, "retry_interval_minutes": 10,
    })
    assert response.status_code == 400
    errors = response.context["schedule_form"].errors
    assert set(errors) >= {"start_at", "quiet_end", "rate_cap", "max_retries"}
    campaign.refresh_from_db()
    assert (campaign.rate_cap, campaign.max_retries) == (10, 0)


def test_changing_the_schedule_after_approval_needs_approval_again(client, operator, manager):
    campaign = checked_campaign(operator, state=State.SCHEDULED, approved_by=manager)
    client.force_login(operator)
    response = client.post(reverse("notifications:campaign_schedule", args=[campaign.pk]), {
        "start": "now", "rate_cap": 20, "max_retries": 0, "retry_interval_minutes": 10,
    }, follow=True)
    campaign.refresh_from_db()
    assert campaign.state == State.CHECKED and campaign.approved_by is None
    assert "needs approval again" in response.content.decode()


# ----- progress and report -----
def test_progress_is_json_with_the_card_and_the_page_is_true_without_script(client, operator, manager):
    campaign = checked_campaign(operator, state=State.SENDING, approved_by=manager)
    client.force_login(manager)
    page = client.get(reverse("notifications:campaign_detail", args=[campaign.pk])).content.decode()
    assert 'id="va-campaign-bar"' in page and 'aria-live="polite"' in page and "campaign_progress.js" in page
    assert f'data-progress-url="/campaigns/{campaign.pk}/progress/"' in page
    data = client.get(reverse("notifications:campaign_progress", args=[campaign.pk])).json()
    assert data["state"] == "sending" and data["final"] is False
    assert 'id="va-campaign-bar"' in data["html"]
    assert "13900001230" not in data["html"]


def test_a_finished_campaign_shows_its_report_and_does_not_poll(client, operator, manager):
    campaign = checked_campaign(operator, state=State.FINISHED, approved_by=manager)
    client.force_login(manager)
    page = client.get(reverse("notifications:campaign_detail", args=[campaign.pk])).content.decode()
    assert 'id="va-campaign-report"' in page and "Answer rate" in page
    assert "campaign_progress.js" not in page


def test_progress_needs_the_permission(client, operator, db):
    campaign = checked_campaign(operator, state=State.SENDING)
    nobody = User.objects.create_user("nobody", password="x")
    client.force_login(nobody)
    assert client.get(reverse("notifications:campaign_progress", args=[campaign.pk])).status_code == 403


# ----- rows, the call log and the dashboard -----
def _attempt(of: Campaign, row, **fields) -> CallRecord:
    values = {"api": "tts", "mode": Mode.PUBLIC, "tts_template": of.tts_template, "called_number": row.called_number,
              "out_id": f"C{next(_serial):010d}", "status": CallRecord.Status.COMPLETED, "outcome": "listened",
              "campaign": of, "campaign_row": row}
    values.update(fields)
    return CallRecord.objects.create(**values)


def test_a_row_page_lists_every_attempt_masked_for_managers(client, operator, manager):
    campaign = checked_campaign(operator, state=State.SENDING)
    row = campaign.rows.get(row_number=2)
    first = _attempt(campaign, row, outcome="busy", status=CallRecord.Status.FAILED)
    second = _attempt(campaign, row)
    client.force_login(manager)
    text = client.get(reverse("notifications:campaign_row_detail", args=[campaign.pk, 2])).content.decode()
    assert first.out_id in text and second.out_id in text
    assert "13900001230" not in text and "139****1230" in text


def test_the_call_log_filters_by_campaign_and_the_call_links_back(client, operator):
    campaign = checked_campaign(operator, state=State.SENDING)
    row = campaign.rows.get(row_number=2)
    call = _attempt(campaign, row)
    other = _attempt(campaign, row, campaign=None, campaign_row=None)
    client.force_login(operator)
    text = client.get(reverse("notifications:call_record_list"), {"campaign": campaign.pk}).content.decode()
    assert call.out_id in text and other.out_id not in text
    detail = client.get(reverse("notifications:call_record_detail", args=[call.pk])).content.decode()
    assert reverse("notifications:campaign_detail", args=[campaign.pk]) in detail
    assert reverse("notifications:campaign_row_detail", args=[campaign.pk, 2]) in detail


def test_the_dashboard_counts_open_campaigns(client, operator, manager):
    checked_campaign(operator, state=State.SENDING)
    checked_campaign(operator, state=State.AWAITING_APPROVAL)
    checked_campaign(operator, state=State.FINISHED)
    client.force_login(manager)
    text = client.get(reverse("notifications:home")).content.decode()
    assert 'data-figure="campaigns_sending">1<' in text and 'data-figure="campaigns_awaiting_approval">1<' in text


def test_the_menu_links_to_campaigns_for_both_roles(client, operator, manager):
    for user in (operator, manager):
        client.force_login(user)
        assert 'href="/campaigns/"' in client.get(reverse("notifications:home")).content.decode()


# ----- admin -----
def test_admin_lists_campaigns_and_rows_with_numbers_masked_for_staff_without_full_numbers(client, operator, superuser):
    campaign = checked_campaign(operator)
    staff = User.objects.create_user("staff", password="x", is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_campaign", "view_campaignrow"]))
    client.force_login(superuser)
    assert campaign.name in client.get("/admin/notifications/campaign/", {"state__exact": "checked"}).content.decode()
    assert "13900001230" in client.get("/admin/notifications/campaignrow/").content.decode()
    client.force_login(staff)
    with_staff = client.get("/admin/notifications/campaignrow/").content.decode()
    assert "13900001230" not in with_staff and "139****1230" in with_staff
    row = campaign.rows.get(row_number=2)
    assert "13900001230" not in client.get(f"/admin/notifications/campaignrow/{row.pk}/change/").content.decode()
    assert client.get("/admin/notifications/campaignrow/", {"q": "3"}).status_code == 200
