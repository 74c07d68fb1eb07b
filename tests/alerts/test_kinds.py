"""Each kind of rule with a frozen clock: it fires once, stays open while the condition holds, and resolves itself."""
from datetime import time as clock_time
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import (
    Alert,
    AlertEvent,
    CallerNumber,
    CallRecord,
    Campaign,
    CampaignRow,
    ReceiptDelivery,
    ReviewStatus,
    TtsTemplate,
    VoiceFile,
)
from notifications.services.alert_kinds import describe
from notifications.services.alerts import alerts_check

from .conftest import NOW, at, make_rule

pytestmark = pytest.mark.django_db
Status, Outcome = CallRecord.Status, CallRecord.Outcome


def open_alerts(rule) -> list[Alert]:
    return list(Alert.objects.filter(rule=rule, resolved_at__isnull=True))


def fired_events(rule) -> int:
    return AlertEvent.objects.filter(alert__rule=rule, kind=AlertEvent.Kind.FIRED).count()


def assert_fires_once_then_resolves(rule, *, clear, now=NOW, subjects=1):
    """Fired by the first check, the same alerts after a second one, resolved automatically once `clear()` ran."""
    first = alerts_check(now=now)
    assert first.opened == subjects
    alerts = open_alerts(rule)
    assert len(alerts) == subjects
    again = alerts_check(now=now + timedelta(minutes=1))
    assert again.opened == 0 and again.resolved == 0
    assert sorted(a.pk for a in open_alerts(rule)) == sorted(a.pk for a in alerts)
    assert fired_events(rule) == subjects
    clear()
    done = alerts_check(now=now + timedelta(minutes=2))
    assert done.resolved == subjects
    assert open_alerts(rule) == []
    for alert in Alert.objects.filter(pk__in=[a.pk for a in alerts]):
        assert alert.state == Alert.State.RESOLVED and alert.resolved_by is None
        assert list(alert.events.values_list("kind", flat=True)) == [AlertEvent.Kind.FIRED, AlertEvent.Kind.RESOLVED_AUTOMATICALLY]
    return alerts


# ----- answer rate -----

def test_answer_rate_over_the_last_calls(make_call):
    rule = make_rule("answer_rate", params={"threshold_percent": 50, "window": "calls", "window_size": 10, "min_calls": 5})
    for index in range(10):
        make_call(Status.COMPLETED, outcome=Outcome.LISTENED if index < 3 else Outcome.NO_ANSWER, created=at(minutes=-60 + index))

    def clear():
        for index in range(10):
            make_call(Status.COMPLETED, outcome=Outcome.HUNG_UP_EARLY, created=at(minutes=-30 + index))

    [alert] = assert_fires_once_then_resolves(rule, clear=clear)
    assert alert.details["rate"] == 30.0 and alert.details["total"] == 10
    assert "30.0 %" in describe("answer_rate", alert.details)


def test_answer_rate_counts_only_final_calls_in_the_minutes_window(make_call):
    rule = make_rule("answer_rate", params={"threshold_percent": 80, "window": "minutes", "window_size": 15, "min_calls": 3})
    for _ in range(5):
        make_call(Status.COMPLETED, outcome=Outcome.BUSY, created=at(minutes=-30))  # before the window
        make_call(Status.RINGING, created=at(minutes=-2))  # not final: no outcome yet
    for outcome in (Outcome.LISTENED, Outcome.LISTENED, Outcome.LISTENED, Outcome.LISTENED, Outcome.NO_ANSWER):
        make_call(Status.COMPLETED, outcome=outcome, created=at(minutes=-5))
    assert alerts_check(now=NOW).opened == 0  # 4 of 5 answered: 80 %, not below
    make_call(Status.FAILED, outcome=Outcome.INVALID_NUMBER, created=at(minutes=-4))
    assert alerts_check(now=NOW).opened == 1  # 4 of 6
    assert open_alerts(rule)[0].details["total"] == 6


def test_answer_rate_waits_for_enough_calls(make_call):
    make_rule("answer_rate", params={"threshold_percent": 50, "window": "calls", "window_size": 100, "min_calls": 10})
    for _ in range(9):
        make_call(Status.COMPLETED, outcome=Outcome.NO_ANSWER, created=at(minutes=-5))
    assert alerts_check(now=NOW).opened == 0


# ----- receipts stopped -----

def push(received, state=ReceiptDelivery.State.APPLIED) -> ReceiptDelivery:
    body = b'[{"call_id":"1","out_id":"x","status_code":"200000"}]'
    return ReceiptDelivery.objects.create(message_type=ReceiptDelivery.MessageType.VOICE_REPORT, received_at=received,
                                          size=len(body), body=body, state=state)


def test_no_receipt_while_calls_are_in_progress(make_call):
    rule = make_rule("receipt_silence", params={"minutes": 30})
    push(at(minutes=-90))
    make_call(Status.ACCEPTED, sent_at=at(minutes=-40), created=at(minutes=-40))
    make_call(Status.RINGING, sent_at=at(minutes=-5), created=at(minutes=-5))  # too recent to be missing its receipt
    [alert] = assert_fires_once_then_resolves(rule, clear=lambda: push(at(minutes=-1)))
    assert alert.details["waiting"] == 1


def test_no_receipt_and_no_call_in_progress_is_quiet(make_call):
    make_rule("receipt_silence", params={"minutes": 30})
    make_call(Status.COMPLETED, outcome=Outcome.LISTENED, sent_at=at(hours=-3), created=at(hours=-3))
    assert alerts_check(now=NOW).opened == 0


# ----- backlog -----

def test_queue_and_inbox_backlog_open_one_alert_each(make_call):
    rule = make_rule("backlog", params={"source": "both", "minutes": 10})
    call = make_call(Status.QUEUED, created=at(minutes=-20))
    pending = push(at(minutes=-15), state=ReceiptDelivery.State.PENDING)
    make_call(Status.QUEUED, created=at(minutes=-30), dispatch_after=at(minutes=5))  # a retry not yet due

    def clear():
        CallRecord.objects.filter(pk=call.pk).update(status=Status.ACCEPTED)
        ReceiptDelivery.objects.filter(pk=pending.pk).update(state=ReceiptDelivery.State.APPLIED)

    alerts = assert_fires_once_then_resolves(rule, clear=clear, subjects=2)
    assert sorted(alert.subject_key for alert in alerts) == ["inbox", "queue"]


def test_backlog_younger_than_the_threshold_is_quiet(make_call):
    make_rule("backlog", params={"source": "queue", "minutes": 10})
    make_call(Status.QUEUED, created=at(minutes=-5))
    push(at(minutes=-30), state=ReceiptDelivery.State.PENDING)  # the rule watches the queue only
    assert alerts_check(now=NOW).opened == 0


# ----- expiry -----

def test_each_expiring_caller_number_is_its_own_alert(qualification):
    rule = make_rule("expiry", params={"days": 30})
    today = timezone.localdate(NOW)
    soon = CallerNumber.objects.create(number="057188880001", qualification=qualification, status=CallerNumber.Status.ACTIVE,
                                       expires_on=today + timedelta(days=20))
    CallerNumber.objects.create(number="057188880002", qualification=qualification, status=CallerNumber.Status.ACTIVE,
                                expires_on=today + timedelta(days=3))
    CallerNumber.objects.create(number="057188880003", qualification=qualification, status=CallerNumber.Status.ACTIVE,
                                expires_on=today + timedelta(days=45))
    CallerNumber.objects.create(number="057188880004", qualification=qualification, status=CallerNumber.Status.RELEASED,
                                expires_on=today + timedelta(days=2))

    def renew():
        CallerNumber.objects.filter(expires_on__lte=today + timedelta(days=30)).update(expires_on=today + timedelta(days=365))

    alerts = assert_fires_once_then_resolves(rule, clear=renew, subjects=2)
    assert sorted(alert.subject_label for alert in alerts) == ["057188880001", "057188880002"]
    first = next(alert for alert in alerts if alert.subject_key == f"number:{soon.pk}")
    assert "in 20 days" in describe("expiry", first.details)


def test_a_seven_day_rule_ignores_a_number_a_month_away(qualification):
    make_rule("expiry", params={"days": 7})
    CallerNumber.objects.create(number="057188880001", qualification=qualification, status=CallerNumber.Status.ACTIVE,
                                expires_on=timezone.localdate(NOW) + timedelta(days=20))
    assert alerts_check(now=NOW).opened == 0


def test_a_qualification_expiring_within_the_days_is_its_own_alert_and_renewing_it_resolves_it(qualification):
    rule = make_rule("expiry", params={"days": 7})
    today = timezone.localdate(NOW)
    qualification.expires_on = today + timedelta(days=5)
    qualification.save()

    def renew():
        qualification.expires_on = today + timedelta(days=365)
        qualification.save()

    [alert] = assert_fires_once_then_resolves(rule, clear=renew)
    assert alert.subject_key == f"qualification:{qualification.pk}"
    assert describe("expiry", alert.details) == (
        f"The qualification of {qualification.company_name} expires on {today + timedelta(days=5)}, in 5 days.")


# ----- rejected -----

def test_rejections_since_the_rule_was_created(qualification, template):
    rule = make_rule("review_rejected", params={"resource": "both"}, created_at=at(days=-1))
    old = TtsTemplate.objects.create(name="旧模板", content="您好", mode=template.mode, qualification=qualification,
                                     status=ReviewStatus.REJECTED, reviewed_at=at(days=-3), reject_reason="old")
    new = TtsTemplate.objects.create(name="新模板", content="您好${code}", mode=template.mode, qualification=qualification,
                                     status=ReviewStatus.REJECTED, reviewed_at=at(hours=-2), reject_reason="含有链接")
    voice = VoiceFile.objects.create(name="提醒录音", mode=template.mode, qualification=qualification,
                                     status=ReviewStatus.REJECTED, reviewed_at=at(hours=-1), reject_reason="噪音")

    def resubmit():
        TtsTemplate.objects.filter(pk=new.pk).update(status=ReviewStatus.SUBMITTED)
        VoiceFile.objects.filter(pk=voice.pk).update(status=ReviewStatus.DRAFT)

    alerts = assert_fires_once_then_resolves(rule, clear=resubmit, subjects=2)
    assert {alert.subject_key for alert in alerts} == {f"template:{new.pk}", f"voice_file:{voice.pk}"}
    assert f"template:{old.pk}" not in {alert.subject_key for alert in alerts}
    text = describe("review_rejected", next(a for a in alerts if a.subject_key.startswith("template")).details)
    assert "新模板" in text and "含有链接" in text


# ----- campaign stalled -----

def sending_campaign(template, manager, **fields) -> Campaign:
    campaign = Campaign.objects.create(name="延误通知", tts_template=template, created_by=manager, state=Campaign.State.SENDING,
                                       started_at=at(minutes=-30), **fields)
    CampaignRow.objects.create(campaign=campaign, row_number=2, raw_number="13900001234", called_number="13900001234")
    return campaign


def test_a_sending_campaign_that_places_no_call_is_stalled(template, manager, make_call):
    rule = make_rule("campaign_stalled", params={"minutes": 10})
    campaign = sending_campaign(template, manager)
    make_call(Status.COMPLETED, outcome=Outcome.LISTENED, created=at(minutes=-25), campaign=campaign)
    [alert] = assert_fires_once_then_resolves(
        rule, clear=lambda: make_call(Status.ACCEPTED, created=at(minutes=1, seconds=30), campaign=campaign))
    assert alert.subject_label == "延误通知"


def test_a_campaign_in_its_quiet_hours_or_with_nothing_due_is_not_stalled(template, manager):
    make_rule("campaign_stalled", params={"minutes": 10})
    sending_campaign(template, manager, quiet_start=clock_time(9, 0), quiet_end=clock_time(11, 0))
    idle = sending_campaign(template, manager)
    idle.rows.update(state=CampaignRow.State.CALLING)
    assert alerts_check(now=NOW).opened == 0


# ----- all kinds -----

def test_a_switched_off_rule_is_not_checked(make_call):
    make_rule("backlog", params={"source": "queue", "minutes": 10}, active=False)
    make_call(Status.QUEUED, created=at(minutes=-20))
    assert alerts_check(now=NOW).rules == 0
    assert not Alert.objects.exists()


# ----- spend above a budget -----

def _priced_calls(make_call, n: int, *, created) -> None:
    """n answered calls of 3 started minutes each at ¥1 a minute: ¥3 apiece once billed and counted."""
    from decimal import Decimal

    from notifications.models import PriceRule
    from notifications.services.usage import calls_bill

    PriceRule.objects.get_or_create(mode="public", kind="notification", effective_from=(NOW - timedelta(days=400)).date(),
                                    defaults={"unit": PriceRule.Unit.MINUTE, "unit_price": Decimal("1")})
    for _index in range(n):
        make_call(Status.COMPLETED, outcome=Outcome.LISTENED, duration=150, created=created)
    calls_bill(now=NOW)


def test_spend_above_the_days_budget_fires_for_that_day_and_a_new_day_resolves_it(make_call):
    rule = make_rule("spend", params={"period": "day", "budget": 5})
    _priced_calls(make_call, 1, created=at(hours=-1))
    assert alerts_check(now=NOW).opened == 0  # ¥3 of ¥5
    _priced_calls(make_call, 1, created=at(minutes=-5))
    first = alerts_check(now=NOW)
    assert first.opened == 1
    [alert] = open_alerts(rule)
    assert describe("spend", alert.details) == "Estimated spend on 2026-03-10 is ¥6.00, above the day's budget of ¥5."
    assert alerts_check(now=NOW + timedelta(minutes=1)).opened == 0
    tomorrow = datetime_at_midnight_after(NOW)  # the next local day has spent nothing yet
    done = alerts_check(now=tomorrow)
    assert done.resolved == 1 and open_alerts(rule) == []


def test_spend_above_the_months_budget(make_call):
    rule = make_rule("spend", params={"period": "month", "budget": 10})
    _priced_calls(make_call, 4, created=at(days=-5))  # ¥12 this month (10 March: the 5th is in it)
    alerts_check(now=NOW)
    [alert] = open_alerts(rule)
    assert alert.details["spent"] == "12.00" and alert.details["first"] == "2026-03-01"


def datetime_at_midnight_after(moment):
    return (moment + timedelta(days=1)).replace(hour=0, minute=0, second=1, microsecond=0)
