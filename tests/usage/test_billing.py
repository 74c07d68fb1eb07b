"""Every ended call is billed once, by the price in force on the local day it was placed, and keeps its figure."""
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from notifications.jobs import calls_bill_job, calls_follow_up_job
from notifications.models import AuditEntry, CallRecord, PeriodicRun, PriceRule, Purpose
from notifications.services import usage
from notifications.services.stats import daily_stats_refresh
from notifications.services.usage import billed_units, calls_bill, price_rule_create, usage_figures

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def billed(call: CallRecord) -> tuple:
    call.refresh_from_db()
    return call.billed_unit, call.billed_units, call.billed_cost


def test_the_published_verification_code_prices_are_shipped_per_answered_call(make_call, register):
    register["template"].kind = Purpose.VERIFICATION
    register["template"].save()
    public = make_call(code="200000")
    dedicated = make_call(code="200001", dedicated=True)
    unanswered = make_call(code="200005")

    assert calls_bill() == 3

    assert billed(public) == ("call", 1, Decimal("0.0600"))
    assert billed(dedicated) == ("call", 1, Decimal("0.0800"))
    assert billed(unanswered) == ("call", 0, Decimal("0"))


def test_per_started_minute_bills_each_minute_begun_of_an_answered_call(make_call, notification_price):
    calls = {seconds: make_call(code="200000", duration=seconds) for seconds in (1, 30, 60, 61, 125)}
    calls_bill()
    assert {seconds: billed(call)[1:] for seconds, call in calls.items()} == {
        1: (1, Decimal("0.0500")), 30: (1, Decimal("0.0500")), 60: (1, Decimal("0.0500")), 61: (2, Decimal("0.1000")),
        125: (3, Decimal("0.1500"))}


@given(st.integers(min_value=0, max_value=10_000))
def test_a_started_minute_is_never_less_than_the_duration_and_never_a_whole_minute_more(seconds):
    units = billed_units(PriceRule.Unit.MINUTE, CallRecord.Outcome.LISTENED, seconds)
    assert units >= 1 and units * 60 >= seconds and (units - 1) * 60 < max(seconds, 1)
    assert billed_units(PriceRule.Unit.MINUTE, CallRecord.Outcome.NO_ANSWER, seconds) == 0


def test_the_price_of_the_day_the_call_was_placed_in_the_company_time_zone(make_call, notification_price):
    PriceRule.objects.create(mode="public", kind="notification", unit=PriceRule.Unit.MINUTE, unit_price=Decimal("0.0700"),
                             effective_from=date(2026, 6, 1))
    # 23:59 on 31 May in Shanghai is still May there (15:59 UTC); 00:01 on 1 June is June.
    before = make_call(code="200000", created_at=datetime(2026, 5, 31, 23, 59, tzinfo=SHANGHAI))
    after = make_call(code="200000", created_at=datetime(2026, 6, 1, 0, 1, tzinfo=SHANGHAI))
    calls_bill()
    assert billed(before)[2] == Decimal("0.0500") and billed(after)[2] == Decimal("0.0700")


def test_a_later_price_change_does_not_rewrite_a_priced_call_but_prices_those_that_had_none(make_call, manager):
    priced_call = make_call(code="200000", api="voice", created_at=timezone.now() - timedelta(days=3))
    PriceRule.objects.create(mode="public", kind="notification", unit=PriceRule.Unit.CALL, unit_price=Decimal("0.1000"),
                             effective_from=timezone.localdate() - timedelta(days=3))
    calls_bill()
    assert billed(priced_call)[2] == Decimal("0.1000")
    dedicated_call = make_call(code="200000", dedicated=True)
    calls_bill()
    assert billed(dedicated_call) == ("", None, None)  # answered, no dedicated notification price: no guess

    price_rule_create(user=manager, mode="dedicated", kind="notification", unit=PriceRule.Unit.MINUTE,
                      unit_price=Decimal("0.0900"), effective_from=timezone.localdate() - timedelta(days=30))
    price_rule_create(user=manager, mode="public", kind="notification", unit=PriceRule.Unit.CALL,
                      unit_price=Decimal("0.5000"), effective_from=timezone.localdate() - timedelta(days=30))
    calls_bill()

    assert billed(dedicated_call) == ("minute", 1, Decimal("0.0900"))
    assert billed(priced_call)[2] == Decimal("0.1000"), "a priced call keeps its figure"
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.PRICE_ADDED).latest("id")
    assert entry.user == manager and entry.details["unit_price"] == "0.5000"


def test_a_price_entered_later_reopens_every_unpriced_call_however_many(make_call, manager, monkeypatch):
    monkeypatch.setattr(usage, "REOPEN_CHUNK", 2)  # 5 unpriced calls: three statements
    unpriced = [make_call(code="200000", dedicated=True) for _ in range(5)]
    calls_bill()
    assert all(billed(call) == ("", None, None) for call in unpriced)
    price_rule_create(user=manager, mode="dedicated", kind="notification", unit=PriceRule.Unit.CALL,
                      unit_price=Decimal("0.0800"), effective_from=timezone.localdate())
    assert calls_bill() == 5
    assert [billed(call) for call in unpriced] == [("call", 1, Decimal("0.0800"))] * 5


def test_calls_placed_elsewhere_are_billed_too(make_call, notification_price):
    elsewhere = make_call(code="200000", api="other", placed_elsewhere=True, tts_template=None, duration=90)
    calls_bill()
    assert billed(elsewhere) == ("minute", 2, Decimal("0.1000"))


def test_a_call_in_flight_is_billed_once_it_ends_and_only_once(make_call, notification_price):
    call = make_call(code="", duration=None)
    assert calls_bill() == 0
    CallRecord.objects.filter(pk=call.pk).update(status=CallRecord.Status.COMPLETED, outcome=CallRecord.Outcome.LISTENED,
                                                 duration=45)
    with translation.override("en"):
        assert calls_bill_job() == "1 ended call billed"  # the periodic billing task bills what ended
        assert PeriodicRun.objects.get(name="calls_bill").summary == "1 ended call billed"
    with translation.override("zh-hans"):
        assert PeriodicRun.objects.get(name="calls_bill").summary == "1 通已结束的呼叫完成计费"
    assert calls_bill() == 0
    assert billed(call) == ("minute", 1, Decimal("0.0500"))


def test_billing_runs_as_its_own_task_so_a_failure_there_never_stops_the_follow_up(make_call, notification_price,
                                                                                  monkeypatch):
    def unreadable_prices(**kwargs):
        raise RuntimeError("the price list could not be read")

    monkeypatch.setattr(usage, "calls_bill", unreadable_prices)
    interrupted = make_call(code="", status=CallRecord.Status.SENDING, sent_at=timezone.now() - timedelta(hours=1))
    calls_follow_up_job()
    follow_up = PeriodicRun.objects.get(name="calls_follow_up")
    assert follow_up.succeeded and not follow_up.error
    interrupted.refresh_from_db()
    assert interrupted.status == CallRecord.Status.UNKNOWN  # settled as usual, never redialled

    with pytest.raises(RuntimeError):
        calls_bill_job()
    bill = PeriodicRun.objects.get(name="calls_bill")
    assert not bill.succeeded and bill.error == "RuntimeError: the price list could not be read"  # the health page's line


def test_a_backlog_is_billed_a_few_batches_per_run(make_call, notification_price):
    for _ in range(5):
        make_call(code="200000")
    assert calls_bill(batch=2, batches=2) == 4
    assert calls_bill(batch=2, batches=2) == 1


def test_the_usage_figures_equal_a_recount_of_the_calls(make_call, register, notification_price, operator):
    today = timezone.localdate()
    for seconds in (30, 90, 200):
        make_call(code="200000", duration=seconds, user=operator)
    make_call(code="200005", user=operator)
    make_call(code="200000", dedicated=True)  # no dedicated price: counted as unpriced
    calls_bill()
    daily_stats_refresh(days=[today])

    figures = usage_figures(first=today.replace(day=1), last=today, today=today)

    calls = CallRecord.objects.all()
    assert figures["total"]["cost"] == sum(call.billed_cost or 0 for call in calls) == Decimal("0.3500")
    assert figures["total"]["minutes"] == 1 + 2 + 4 + 1 and figures["total"]["unpriced"] == 1
    assert figures["month"]["cost"] == Decimal("0.3500")
    person = next(row for row in figures["by_person"] if row["requested_by__username"] == operator.username)
    assert person["calls"] == 4 and person["cost"] == Decimal("0.3500")
    assert [row["caller_number__number"] for row in figures["by_caller"]] == [None, register["number"].number]
    days_in_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    assert figures["forecast"] == (Decimal("0.3500") * days_in_month.day / today.day).quantize(Decimal("0.01"))
