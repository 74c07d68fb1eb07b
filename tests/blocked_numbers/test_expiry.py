"""A block's last day: the number is refused through that day (company time zone) and called again from the next
midnight — by a test call from the page, `manage.py dial`, the campaign check and the campaign sender."""
import io
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from notifications.models import BlockedNumber, CallRecord, CampaignRow
from notifications.services.campaign_send import campaign_send_tick
from tests.campaigns.test_check import checked, loaded, rows_of
from tests.campaigns.test_sending import make_sending_campaign, numbers, published

from .conftest import local

CALLEE = "13900001230"
LAST_DAY = date(2026, 5, 12)
# 23:59 on the last day, and 00:30 the next day: still the 12th in UTC (16:30), so only the company's date tells them apart.
LAST_MINUTE = local(2026, 5, 12, 23, 59)
NEXT_DAY = local(2026, 5, 13, 0, 30)


def dial_form(client, notice, django_capture_on_commit_callbacks):
    data = {"template": notice.pk, "called_number": CALLEE, "param_name": "张三", "param_order": "A1", "play_times": 1,
            "volume": 100}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("notifications:dial_tts"), data)


@pytest.mark.django_db
def test_the_dial_page_refuses_through_the_last_day_and_calls_after_midnight(client, operator, on_simulator, notice, clock,
                                                                            inline_jobs, django_capture_on_commit_callbacks):
    BlockedNumber.objects.create(number=CALLEE, reason="投诉", expires_on=LAST_DAY)
    clock.set(LAST_MINUTE)
    client.force_login(operator)
    refused = dial_form(client, notice, django_capture_on_commit_callbacks)
    assert refused.status_code == 200
    assert refused.context["form"].has_error("called_number", "blocked")
    assert "该号码在禁呼名单中。" in refused.content.decode()  # the page speaks Chinese by default
    assert on_simulator.calls == [] and not CallRecord.objects.exists()

    clock.set(NEXT_DAY)
    placed = dial_form(client, notice, django_capture_on_commit_callbacks)
    assert placed.status_code == 302
    [call] = on_simulator.calls
    assert call["CalledNumber"] == CALLEE
    assert CallRecord.objects.get().status == CallRecord.Status.ACCEPTED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_manage_py_dial_follows_the_expiry(on_simulator, notice, clock, inline_jobs):
    BlockedNumber.objects.create(number=CALLEE, reason="投诉", expires_on=LAST_DAY)
    args = ("dial", "--tts", notice.tts_code, "--to", CALLEE, "--param", "name=张三", "--param", "order=A1")
    clock.set(LAST_MINUTE)
    with pytest.raises(CommandError, match="do-not-call"):
        call_command(*args, stdout=io.StringIO())
    assert on_simulator.calls == []
    clock.set(NEXT_DAY)
    output = io.StringIO()
    call_command(*args, stdout=output)
    assert "CallId" in output.getvalue()
    assert [call["CalledNumber"] for call in on_simulator.calls] == [CALLEE]


@pytest.mark.django_db
def test_a_block_without_expiry_never_ends(client, operator, on_simulator, notice, clock, inline_jobs,
                                           django_capture_on_commit_callbacks):
    BlockedNumber.objects.create(number=CALLEE, reason="投诉")
    clock.set(local(2099, 1, 1, 12, 0))
    client.force_login(operator)
    assert dial_form(client, notice, django_capture_on_commit_callbacks).status_code == 200
    assert on_simulator.calls == []


@pytest.mark.django_db
@pytest.mark.usefixtures("media")
def test_the_campaign_check_refuses_only_blocks_in_force_the_day_sending_starts(operator, notice, clock):
    BlockedNumber.objects.create(number="13900139000", reason="投诉", expires_on=LAST_DAY)
    BlockedNumber.objects.create(number="13900139001", reason="投诉", expires_on=LAST_DAY + timedelta(days=1))
    rows = [["13900139000", "张三", "A1"], ["13900139001", "李四", "A2"]]
    clock.set(LAST_MINUTE)
    before = loaded(operator, rows, template=notice)
    checked(before)
    assert rows_of(before) == {2: ("refused", "blocked"), 3: ("refused", "blocked")}
    clock.set(NEXT_DAY)
    after = loaded(operator, rows, template=notice)
    checked(after)
    assert rows_of(after) == {2: ("waiting", ""), 3: ("refused", "blocked")}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
def test_the_campaign_sender_calls_an_expired_number_from_the_next_day(vms_simulator, operator, settings, clock):
    settings.CAMPAIGN_QUIET_HOURS = ""
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(2)))
    first, second = campaign.rows.order_by("row_number")
    BlockedNumber.objects.create(number=first.called_number, reason="投诉", expires_on=LAST_DAY)
    BlockedNumber.objects.create(number=second.called_number, reason="投诉", expires_on=LAST_DAY + timedelta(days=1))
    clock.set(NEXT_DAY)
    campaign_send_tick(now=NEXT_DAY)
    first.refresh_from_db()
    second.refresh_from_db()
    assert [call["CalledNumber"] for call in vms_simulator.calls] == [first.called_number]
    assert first.state != CampaignRow.State.REFUSED
    assert (second.state, second.refusal_code) == (CampaignRow.State.REFUSED, "blocked")
