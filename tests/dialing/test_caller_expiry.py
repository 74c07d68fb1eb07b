"""A caller number past its expiry date (company time zone) is shown as expired, no longer offered, and refused
wherever it would be dialled: the test call, `manage.py dial`, the campaign check and the campaign sender.

The clock is frozen around the midnight (Asia/Shanghai) after the number's last day, 2026-12-04: 16:00 UTC.
"""
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from notifications.models import AuditEntry, CallerNumber, CallRecord, Campaign, Mode
from notifications.rules import dialing as rules
from notifications.services.calls_create import call_record_create
from notifications.services.campaign_send import campaign_send_tick
from tests.campaigns.test_check import checked, loaded, refused_fields
from tests.campaigns.test_pages import _create_data
from tests.campaigns.test_sending import make_sending_campaign, numbers, published

from .conftest import make_qualification, make_template

SHANGHAI = ZoneInfo("Asia/Shanghai")
LAST_DAY = date(2026, 12, 4)
BEFORE = datetime(2026, 12, 4, 23, 59, 59, tzinfo=SHANGHAI)  # still 2026-12-04 in the company's zone
AFTER = datetime(2026, 12, 5, 0, 0, 0, tzinfo=SHANGHAI)  # 2026-12-04 16:00 UTC: a UTC calendar would say "not yet"
PARAMS = {"name": "张三", "order": "A1001"}
NOTICE = "尊敬的${name}，您的订单${order}已发货。"


class FrozenClock:
    def __init__(self, monkeypatch):
        self.moment = BEFORE
        monkeypatch.setattr(timezone, "now", lambda: self.moment)

    def set(self, moment: datetime) -> None:
        self.moment = moment


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # campaign lists are stored as uploaded


@pytest.fixture
def clock(monkeypatch):
    return FrozenClock(monkeypatch)


@pytest.fixture
def expiring(db):
    """Dedicated content with two active numbers of its qualification: one whose last day is 2026-12-04, one without
    an expiry date."""
    qualification = make_qualification()
    template = make_template(content=NOTICE, mode=Mode.DEDICATED, qualification=qualification)
    old = CallerNumber.objects.create(number="057188886666", qualification=qualification, status=CallerNumber.Status.ACTIVE,
                                      expires_on=LAST_DAY)
    other = CallerNumber.objects.create(number="057188887777", qualification=qualification, status=CallerNumber.Status.ACTIVE)
    return template, old, other


def _offered(page: str, field: str) -> str:
    """The options of the select named `field`."""
    return re.search(rf'<select name="{field}".*?</select>', page, re.S).group(0)


def _codes(error: ValidationError) -> dict[str, list[str]]:
    return {field: [item.code for item in errors] for field, errors in error.error_dict.items()}


# ----- the rule -----

def test_a_number_is_usable_on_its_last_day_and_refused_the_day_after():
    assert rules.check_caller_expiry(number="057188886666", expires_on=LAST_DAY, today=LAST_DAY) == []
    assert rules.check_caller_expiry(number="057188886666", expires_on=None, today=LAST_DAY) == []
    [error] = rules.check_caller_expiry(number="057188886666", expires_on=LAST_DAY, today=LAST_DAY + timedelta(days=1))
    assert error.code == "expired"
    assert error.message % error.params == "The caller number 057188886666 expired on 2026-12-04."


@given(expires_on=st.dates(), today=st.dates())
def test_refused_exactly_from_the_day_after_the_expiry_date(expires_on, today):
    errors = rules.check_caller_expiry(number="057188886666", expires_on=expires_on, today=today)
    assert bool(errors) == (today > expires_on)
    assert all(expires_on.isoformat() in error.message % error.params for error in errors)


@given(moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(ZoneInfo("UTC"))))
def test_the_company_date_is_the_shanghai_wall_clock_date(moment):
    assert rules.company_today(moment) == moment.astimezone(SHANGHAI).date()


def test_today_is_the_company_s_date_not_utc(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert rules.company_today(AFTER) == date(2026, 12, 5)
    assert AFTER.astimezone(ZoneInfo("UTC")).date() == LAST_DAY
    with timezone.override(ZoneInfo("America/New_York")):  # a request in another zone changes nothing
        assert rules.company_today(AFTER) == date(2026, 12, 5)


# ----- the test call -----

@pytest.mark.django_db
def test_a_test_call_crossing_midnight_is_refused_with_the_date(clock, expiring):
    template, old, _other = expiring
    record = call_record_create(tts_template=template, called_number="13900001230", params=PARAMS, caller_number=old)
    assert record.caller_number == old
    clock.set(AFTER)
    with pytest.raises(ValidationError) as refused:
        call_record_create(tts_template=template, called_number="13900001231", params=PARAMS, caller_number=old)
    assert _codes(refused.value) == {"caller_number": ["expired"]}
    assert "expired on 2026-12-04" in " ".join(refused.value.messages)
    assert CallRecord.objects.count() == 1


@pytest.mark.django_db
def test_the_dial_form_stops_offering_the_number_at_midnight_and_refuses_it_next_to_the_field(
        clock, expiring, client, operator):
    template, old, other = expiring
    client.force_login(operator)
    url = reverse("notifications:dial_tts")
    offered = _offered(client.get(url, {"template": template.pk}).content.decode(), "caller_number")
    assert old.number in offered and other.number in offered
    clock.set(AFTER)
    offered = _offered(client.get(url, {"template": template.pk}).content.decode(), "caller_number")
    assert old.number not in offered and other.number in offered
    # The form was opened before midnight and sent after it.
    response = client.post(url, {"template": template.pk, "called_number": "13900001230", "caller_number": old.pk,
                                 "play_times": 3, "volume": 100, "speed": "", "param_name": "张三", "param_order": "A1"},
                           headers={"accept-language": "en"})
    assert response.status_code == 200
    assert response.context["form"].errors["caller_number"] == ["The caller number 057188886666 expired on 2026-12-04."]
    assert not CallRecord.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_manage_py_dial_refuses_the_expired_number(clock, expiring):
    template, old, _other = expiring
    clock.set(AFTER)
    with pytest.raises(CommandError) as refused:
        call_command("dial", "--tts", template.tts_code, "--to", "13900001230", "--param", "name=张三", "--param", "order=A1",
                     "--show-number", old.number, stdout=io.StringIO())
    assert "2026-12-04" in str(refused.value)
    assert not CallRecord.objects.exists()


# ----- campaigns -----

@pytest.mark.django_db
@pytest.mark.usefixtures("english", "media")
def test_the_campaign_check_refuses_an_expired_number(clock, expiring, operator):
    template, old, other = expiring
    campaign = loaded(operator, [["13800138000", "a", "b"]], template=template, callers=[old, other])
    assert checked(campaign)["valid"] == 1
    clock.set(AFTER)
    campaign.refresh_from_db()
    assert refused_fields(campaign=campaign, mapping=campaign.mapping) == {"caller_numbers": ["expired"]}


@pytest.mark.django_db
@pytest.mark.usefixtures("media")
def test_the_campaign_form_offers_no_expired_number_and_refuses_one_chosen_before_midnight(clock, expiring, client, operator):
    template, old, other = expiring
    client.force_login(operator)
    url = reverse("notifications:campaign_create")
    assert old.number in _offered(client.get(url).content.decode(), "caller_numbers")
    clock.set(AFTER)
    offered = _offered(client.get(url).content.decode(), "caller_numbers")
    assert old.number not in offered and other.number in offered
    response = client.post(url, _create_data(template, caller_numbers=[old.pk, other.pk]), headers={"accept-language": "en"})
    assert response.context["form"].errors["caller_numbers"] == ["The caller number 057188886666 expired on 2026-12-04."]
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_a_sending_campaign_goes_on_from_its_other_number_after_midnight(vms_simulator, expiring, operator, settings):
    settings.CAMPAIGN_QUIET_HOURS = ""  # this company calls at midnight
    template, old, other = expiring
    campaign = make_sending_campaign(operator, numbers(4), template=template, rate_cap=2)
    campaign.caller_numbers.set([old, other])
    published(vms_simulator, campaign)
    campaign_send_tick(now=BEFORE)
    assert sorted(call["CalledShowNumber"] for call in vms_simulator.calls) == [old.number, other.number]
    campaign_send_tick(now=AFTER)
    assert [call["CalledShowNumber"] for call in vms_simulator.calls[2:]] == [other.number, other.number]
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SENDING


@pytest.mark.django_db
def test_a_sending_campaign_whose_only_number_expired_pauses_with_the_date(vms_simulator, expiring, operator, settings):
    settings.CAMPAIGN_QUIET_HOURS = ""
    template, old, _other = expiring
    campaign = make_sending_campaign(operator, numbers(4), template=template, rate_cap=2)
    campaign.caller_numbers.set([old])
    published(vms_simulator, campaign)
    campaign_send_tick(now=BEFORE)
    assert len(vms_simulator.calls) == 2
    campaign_send_tick(now=AFTER)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.PAUSED and len(vms_simulator.calls) == 2
    entry = AuditEntry.objects.get(action=AuditEntry.Action.CAMPAIGN_PAUSED, user=None)
    assert "expired on 2026-12-04" in entry.details["reason"]  # the number itself masked, as the audit log keeps numbers


# ----- the number pages -----

@pytest.mark.django_db
def test_the_number_pages_show_the_expiry_in_words_and_colour_and_filter_by_it(clock, expiring, client, operator):
    _template, old, other = expiring
    client.force_login(operator)
    listing = reverse("notifications:caller_number_list")
    page = client.get(listing, headers={"accept-language": "en"}).content.decode()
    assert "Expired on" not in page and "2026-12-04" in page
    clock.set(AFTER)
    page = client.get(listing, headers={"accept-language": "en"}).content.decode()
    assert '<span class="va-state va-state-number_expired" data-expired="2026-12-04">Expired on 2026-12-04</span>' in page
    expired = client.get(listing, {"expiry": "expired"}).content.decode()
    assert old.number in expired and other.number not in expired
    valid = client.get(listing, {"expiry": "valid"}).content.decode()
    assert other.number in valid and old.number not in valid
    detail = client.get(reverse("notifications:caller_number_detail", args=[old.pk]), headers={"accept-language": "en"})
    assert "Expired on 2026-12-04" in detail.content.decode()
