"""The sender against the real simulator over HTTP: due campaigns start, rows become calls through the test-call
pipeline, the budget is shared and capped, quiet hours pause sending, busy callees are retried, pause and cancel stop
what is not sent, and no row is ever dialled twice (two ticks at once, a tick killed mid-way).

Ticks get `now=` (a frozen clock): every slice of the second runs at once and the calls are sent before it returns.
"""
import itertools
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import close_old_connections
from django.utils import timezone

from notifications.models import AuditEntry, BlockedNumber, CallerNumber, CallRecord, Campaign, CampaignRow, Mode, ReviewStatus
from notifications.services import campaign_send
from notifications.services.calls_follow_up import calls_follow_up
from notifications.services.campaign_flow import campaign_cancel, campaign_pause, campaign_resume
from notifications.services.campaign_send import budget_share, campaign_budget, campaign_send_tick, slice_quota
from tests.dialing.conftest import make_qualification, make_template

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTICE = "尊敬的${name}，您的订单${order}已发货。"
State = Campaign.State
RowState = CampaignRow.State
_serial = itertools.count(1)


# ----- helpers (test_flow.py and test_report.py use them too) -----

def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def make_sending_campaign(user, numbers, *, template=None, state=State.SENDING, **fields) -> Campaign:
    """A campaign as approval leaves it, with one waiting row per number (row numbers from 2, as in a file)."""
    template = template or make_template(content=NOTICE)
    campaign = Campaign.objects.create(
        name=f"Campaign {next(_serial)}", tts_template=template, created_by=user, state=state,
        headers=["手机号", "name", "order"], mapping={"callee": "手机号", "params": {"name": "name", "order": "order"}},
        check_summary={"total": len(numbers), "valid": len(numbers), "refused": 0, "by_reason": {}, "first_errors": []},
        **fields,
    )
    CampaignRow.objects.bulk_create([
        CampaignRow(campaign=campaign, row_number=index, raw_number=number, called_number=number,
                    params={"name": "王", "order": f"A{index}"})
        for index, number in enumerate(numbers, start=2)
    ])
    return campaign


def published(simulator, campaign: Campaign) -> Campaign:
    """The simulator's account knows the campaign's template (and caller numbers), as the published account would."""
    template = campaign.tts_template
    simulator.account.add_template(template.tts_code, template.content, mode=template.mode, kind=template.kind)
    for number in campaign.caller_numbers.all():
        simulator.account.add_number(number.number)
    return campaign


def numbers(count: int, last_digit: str = "0", start: int = 0) -> list[str]:
    """Distinct mobiles ending in `last_digit` (the simulator's outcome: 0 listened, 2 busy, 3 no answer, …)."""
    return [f"139{start + index:07d}{last_digit}" for index in range(count)]


def finish_calls(campaign: Campaign, *, outcome=CallRecord.Outcome.LISTENED, ended=None) -> int:
    """What the receipts would do: every call of the campaign still open ends with `outcome`."""
    status = CallRecord.Status.COMPLETED if outcome in (CallRecord.Outcome.LISTENED, CallRecord.Outcome.HUNG_UP_EARLY) \
        else CallRecord.Status.FAILED
    return CallRecord.objects.filter(campaign=campaign).exclude(status__in=CallRecord.FINAL_STATUSES).update(
        status=status, outcome=outcome, end_time=ended, final_report_at=ended)


@pytest.fixture(autouse=True)
def _no_quiet_hours(settings):
    settings.CAMPAIGN_QUIET_HOURS = ""
    settings.VMS_ACCOUNT_QPS = 1000
    settings.CAMPAIGN_TEST_CALL_SHARE = 0.1


@pytest.fixture(autouse=True)
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


NOON = local(2026, 12, 4, 12, 0, 0)


# ----- the budget (unit level) -----

def test_the_campaign_budget_leaves_the_test_call_share_free(settings):
    settings.VMS_ACCOUNT_QPS, settings.CAMPAIGN_TEST_CALL_SHARE = 500, 0.1
    assert campaign_budget() == 450
    settings.VMS_ACCOUNT_QPS, settings.CAMPAIGN_TEST_CALL_SHARE = 7, 0.1
    assert campaign_budget() == 6  # floor: never above


def test_the_budget_is_shared_equally_when_every_campaign_wants_more():
    assert budget_share(450, {1: 500, 2: 500, 3: 500}) == {1: 150, 2: 150, 3: 150}
    share = budget_share(10, {1: 100, 2: 100, 3: 100})
    assert sum(share.values()) == 10 and max(share.values()) - min(share.values()) <= 1


def test_what_a_capped_campaign_leaves_goes_to_the_others():
    assert budget_share(450, {1: 10, 2: 500, 3: 100}) == {1: 10, 2: 340, 3: 100}
    assert budget_share(450, {1: 10, 2: 20}) == {1: 10, 2: 20}  # everyone capped: the rest stays unused
    assert budget_share(0, {1: 10}) == {1: 0}
    assert budget_share(100, {1: 0, 2: 50}) == {1: 0, 2: 50}


def test_the_second_is_spread_over_its_slices():
    quotas = [slice_quota(450, index) for index in range(10)]
    assert quotas == [45, 90, 135, 180, 225, 270, 315, 360, 405, 450]
    assert [slice_quota(5, index) for index in range(10)][-1] == 5
    assert max(b - a for a, b in itertools.pairwise([0, *[slice_quota(5, i) for i in range(10)]])) == 1
    # A tick starting late in its second spreads its whole allowance over the slices it has left.
    assert [slice_quota(450, index, first_slice=5) for index in range(5, 10)] == [90, 180, 270, 360, 450]
    assert slice_quota(450, 4, first_slice=5) == 0
    # A small allowance still goes out: every slice's quota was 0 once (ceil(1 × 3 / 10) taken off each).
    assert [slice_quota(1, index, first_slice=3) for index in range(3, 10)][-1] == 1
    assert [slice_quota(2, index, first_slice=3) for index in range(3, 10)][-1] == 2
    assert slice_quota(3, 9, first_slice=9) == 3


def test_a_tick_starting_late_in_its_second_still_sends_every_due_row(vms_simulator, operator, settings):
    """The real sender, a tick starting 350 ms into its second (past slices 0–2) with an allowance under 10: each
    due row within budget goes out in the tick's remaining slices (the last row once waited tick after tick)."""
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(2)))
    late = NOON + timedelta(milliseconds=350)
    summary = campaign_send_tick(now=late)
    assert summary.sent == 2 and len(vms_simulator.calls) == 2
    assert campaign.rows.filter(state=RowState.CALLING).count() == 2
    # An allowance of one a second (rate cap 1): one row each late tick, never none.
    capped = published(vms_simulator, make_sending_campaign(operator, numbers(2, start=50), rate_cap=1))
    for offset in (1, 2):
        assert campaign_send_tick(now=late + timedelta(seconds=offset)).sent == 1
    assert capped.rows.filter(state=RowState.CALLING).count() == 2 and len(vms_simulator.calls) == 4


# ----- sending -----

def test_a_due_campaign_starts_and_each_row_becomes_one_call_through_the_pipeline(vms_simulator, operator):
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(3), state=State.SCHEDULED))
    summary = campaign_send_tick(now=NOON)
    campaign.refresh_from_db()
    assert campaign.state == State.SENDING and campaign.started_at == NOON
    assert summary.sent == 3
    rows = list(campaign.rows.order_by("row_number"))
    assert [row.state for row in rows] == [RowState.CALLING] * 3
    assert all(row.attempts == 1 and row.last_call.campaign_row_id == row.pk for row in rows)
    calls = {call["OutId"]: call for call in vms_simulator.calls}
    for row in rows:
        record = row.last_call
        assert record.campaign_id == campaign.pk and record.status == CallRecord.Status.ACCEPTED
        assert calls[record.out_id]["CalledNumber"] == row.called_number
        assert calls[record.out_id]["TtsParam"] == f'{{"name":"王","order":"A{row.row_number}"}}'


def test_a_campaign_starting_later_waits(vms_simulator, operator):
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(2), state=State.SCHEDULED,
                                                               start_at=NOON + timedelta(minutes=5)))
    campaign_send_tick(now=NOON)
    campaign.refresh_from_db()
    assert campaign.state == State.SCHEDULED and not vms_simulator.calls
    campaign_send_tick(now=NOON + timedelta(minutes=5))
    assert Campaign.objects.get(pk=campaign.pk).state == State.SENDING and len(vms_simulator.calls) == 2


def test_each_campaign_keeps_to_its_cap_and_all_together_to_the_budget(vms_simulator, operator, settings):
    settings.VMS_ACCOUNT_QPS = 20  # 18 calls a second for campaigns
    slow = published(vms_simulator, make_sending_campaign(operator, numbers(30, start=0), rate_cap=3))
    fast = published(vms_simulator, make_sending_campaign(operator, numbers(30, start=100), rate_cap=100))
    campaign_send_tick(now=NOON)
    sent = {c.pk: CallRecord.objects.filter(campaign=c).count() for c in (slow, fast)}
    assert sent == {slow.pk: 3, fast.pk: 15}  # the slow one's leftover went to the fast one
    # The same second again sends nothing more: the budget is per aligned second.
    campaign_send_tick(now=NOON + timedelta(milliseconds=500))
    assert CallRecord.objects.filter(campaign__isnull=False).count() == 18
    campaign_send_tick(now=NOON + timedelta(seconds=1))
    assert CallRecord.objects.filter(campaign__isnull=False).count() == 36


def test_a_number_blocked_after_the_check_is_not_called(vms_simulator, operator):
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(2)))
    blocked = campaign.rows.get(row_number=2)
    BlockedNumber.objects.create(number=blocked.called_number)
    campaign_send_tick(now=NOON)
    blocked.refresh_from_db()
    assert blocked.state == RowState.REFUSED and blocked.refusal_code == "blocked"
    assert "do-not-call" in blocked.refusal_message
    assert [call["CalledNumber"] for call in vms_simulator.calls] == [campaign.rows.get(row_number=3).called_number]


def test_a_callee_called_a_moment_ago_is_deferred_not_refused(vms_simulator, operator):
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(1)))
    row = campaign.rows.get()
    CallRecord.objects.create(api=CallRecord.Api.TTS, mode=Mode.PUBLIC, tts_template=campaign.tts_template,
                              called_number=row.called_number, out_id="earlier1", created_at=NOON - timedelta(seconds=20),
                              status=CallRecord.Status.COMPLETED)
    summary = campaign_send_tick(now=NOON)
    row.refresh_from_db()
    assert summary.deferred == 1 and summary.sent == 0
    assert row.state == RowState.WAITING and row.next_attempt_at == NOON + timedelta(seconds=40)
    campaign_send_tick(now=NOON + timedelta(seconds=40))
    row.refresh_from_db()
    assert row.state == RowState.CALLING and len(vms_simulator.calls) == 1


def test_dedicated_caller_numbers_are_used_in_turn(vms_simulator, operator):
    qualification = make_qualification()
    template = make_template(content=NOTICE, mode=Mode.DEDICATED, qualification=qualification)
    callers = [CallerNumber.objects.create(number=number, qualification=qualification, status=CallerNumber.Status.ACTIVE)
               for number in ("057188886666", "057188887777")]
    campaign = make_sending_campaign(operator, numbers(4), template=template)
    campaign.caller_numbers.set(callers)
    published(vms_simulator, campaign)
    campaign_send_tick(now=NOON)
    shown = [row.last_call.caller_number.number for row in campaign.rows.order_by("row_number")]
    assert shown == ["057188886666", "057188887777", "057188886666", "057188887777"]
    assert sorted(call["CalledShowNumber"] for call in vms_simulator.calls) == sorted(shown)


def test_content_no_longer_approved_pauses_the_campaign_and_sends_nothing(vms_simulator, operator):
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(2)))
    type(campaign.tts_template).objects.filter(pk=campaign.tts_template_id).update(status=ReviewStatus.REJECTED)
    campaign_send_tick(now=NOON)
    campaign.refresh_from_db()
    assert campaign.state == State.PAUSED and not vms_simulator.calls
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CAMPAIGN_PAUSED, user=None).exists()


# ----- quiet hours -----

def test_quiet_hours_stop_sending_at_21_and_resume_at_8(vms_simulator, operator, settings):
    settings.CAMPAIGN_QUIET_HOURS = "21:00-08:00"
    settings.VMS_ACCOUNT_QPS = 2  # one call a second: the list lasts past 21:00
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(4)))
    campaign_send_tick(now=local(2026, 12, 4, 20, 59, 59))
    assert len(vms_simulator.calls) == 1
    for moment in (local(2026, 12, 4, 21, 0, 0), local(2026, 12, 4, 23, 0, 0), local(2026, 12, 5, 7, 59, 59)):
        campaign_send_tick(now=moment)
    assert len(vms_simulator.calls) == 1
    assert campaign.rows.filter(state=RowState.WAITING).count() == 3
    campaign_send_tick(now=local(2026, 12, 5, 8, 0, 0))
    assert len(vms_simulator.calls) == 2


def test_a_campaign_override_of_quiet_hours_wins(vms_simulator, operator, settings):
    settings.CAMPAIGN_QUIET_HOURS = "21:00-08:00"
    from datetime import time

    published(vms_simulator, make_sending_campaign(operator, numbers(1), quiet_start=time(23), quiet_end=time(6)))
    campaign_send_tick(now=local(2026, 12, 4, 22, 0, 0))
    assert len(vms_simulator.calls) == 1


# ----- retries -----

def test_a_busy_callee_is_retried_after_the_interval_at_most_max_retries_times(vms_simulator, operator):
    clock = [1000.0]
    vms_simulator.app.clock = lambda: clock[0]  # the simulator's flow-control clock moves with ours
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(1, last_digit="2"), max_retries=2,
                                                               retry_interval_minutes=10))
    row = campaign.rows.get()
    now = NOON
    for attempt in (1, 2, 3):
        campaign_send_tick(now=now)
        row.refresh_from_db()
        assert (row.state, row.attempts) == (RowState.CALLING, attempt)
        finish_calls(campaign, outcome=CallRecord.Outcome.BUSY, ended=now + timedelta(seconds=30))
        now += timedelta(minutes=1)
        campaign_send_tick(now=now)  # reconciles
        row.refresh_from_db()
        if attempt < 3:
            assert row.state == RowState.RETRY_WAIT
            assert row.next_attempt_at == now - timedelta(minutes=1) + timedelta(seconds=30, minutes=10)
            campaign_send_tick(now=now + timedelta(minutes=5))  # too early: nothing
            assert CallRecord.objects.filter(campaign_row=row).count() == attempt
            now = row.next_attempt_at
            clock[0] += 20 * 60
    assert row.state == RowState.DONE and row.outcome == CallRecord.Outcome.BUSY
    assert CallRecord.objects.filter(campaign_row=row).count() == 3  # every attempt is a call record on the row
    assert len(vms_simulator.calls) == 3
    now += timedelta(seconds=1)
    campaign_send_tick(now=now)
    assert Campaign.objects.get(pk=campaign.pk).state == State.FINISHED


def test_a_retry_falling_in_quiet_hours_waits_for_the_morning(vms_simulator, operator, settings):
    settings.CAMPAIGN_QUIET_HOURS = "21:00-08:00"
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(1, last_digit="3"), max_retries=1,
                                                               retry_interval_minutes=30))
    campaign_send_tick(now=local(2026, 12, 4, 20, 40, 0))
    finish_calls(campaign, outcome=CallRecord.Outcome.NO_ANSWER, ended=local(2026, 12, 4, 20, 41, 0))
    campaign_send_tick(now=local(2026, 12, 4, 20, 42, 0))
    assert campaign.rows.get().next_attempt_at == local(2026, 12, 5, 8, 0, 0)


def test_an_answered_or_failed_row_is_done_with_its_outcome(vms_simulator, operator):
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(1), max_retries=3))
    campaign_send_tick(now=NOON)
    finish_calls(campaign, outcome=CallRecord.Outcome.LISTENED, ended=NOON)
    campaign_send_tick(now=NOON + timedelta(seconds=5))
    row = campaign.rows.get()
    assert (row.state, row.outcome, row.final_status, row.attempts) == (
        RowState.DONE, CallRecord.Outcome.LISTENED, CallRecord.Status.COMPLETED, 1)
    campaign.refresh_from_db()
    assert campaign.state == State.FINISHED and campaign.finished_at is not None


# ----- pause, cancel -----

def test_pause_stops_new_calls_and_calls_under_way_finish(vms_simulator, operator, settings):
    settings.VMS_ACCOUNT_QPS = 3  # two calls a second
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(5)))
    campaign_send_tick(now=NOON)
    campaign_pause(campaign, operator)
    campaign_send_tick(now=NOON + timedelta(seconds=1))
    assert len(vms_simulator.calls) == 2
    finish_calls(campaign, ended=NOON + timedelta(seconds=2))
    campaign_send_tick(now=NOON + timedelta(seconds=3))  # paused campaigns are reconciled
    assert campaign.rows.filter(state=RowState.DONE).count() == 2
    assert campaign.rows.filter(state=RowState.WAITING).count() == 3
    campaign_resume(campaign, operator)
    campaign_send_tick(now=NOON + timedelta(seconds=4))
    assert len(vms_simulator.calls) == 4


def test_cancel_under_way_sends_nothing_more_and_lets_the_calls_finish(vms_simulator, operator, settings):
    settings.VMS_ACCOUNT_QPS = 3
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(5, last_digit="2"), max_retries=3))
    campaign_send_tick(now=NOON)
    campaign_cancel(campaign, operator)
    assert campaign.rows.filter(state=RowState.NOT_SENT).count() == 3
    campaign_send_tick(now=NOON + timedelta(seconds=1))
    assert len(vms_simulator.calls) == 2
    finish_calls(campaign, outcome=CallRecord.Outcome.BUSY, ended=NOON + timedelta(seconds=2))
    campaign_send_tick(now=NOON + timedelta(seconds=3))
    # Busy, retries left, but cancelled: done, not retried.
    assert campaign.rows.filter(state=RowState.DONE, outcome=CallRecord.Outcome.BUSY).count() == 2
    campaign_send_tick(now=NOON + timedelta(hours=1))
    assert len(vms_simulator.calls) == 2 and Campaign.objects.get(pk=campaign.pk).state == State.CANCELLED


# ----- never twice -----

def test_a_tick_killed_after_claiming_leaves_calls_the_follow_up_settles_never_redialled(vms_simulator, operator,
                                                                                         monkeypatch, settings):
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(3)))

    def killed(ids):
        raise SystemExit("worker killed")

    monkeypatch.setattr(campaign_send, "_dispatch_claimed", killed)
    with pytest.raises(SystemExit):
        campaign_send_tick(now=NOON)
    monkeypatch.undo()
    # The second's rows were claimed (their calls `sending`) before the first send: killed then, none was dialled.
    assert campaign.rows.filter(state=RowState.CALLING).count() == 3
    more = published(vms_simulator, make_sending_campaign(operator, numbers(2, start=10)))
    campaign_send_tick(now=NOON + timedelta(seconds=1))
    assert len(vms_simulator.calls) == 2  # only the other campaign's rows; the claimed ones are not sent again
    assert {call["CalledNumber"] for call in vms_simulator.calls} == set(more.rows.values_list("called_number", flat=True))
    interrupted = CallRecord.objects.filter(campaign=campaign, status=CallRecord.Status.SENDING).order_by("pk").first()
    CallRecord.objects.filter(campaign=campaign, status=CallRecord.Status.SENDING).update(sent_at=NOON - timedelta(days=2))
    # The follow-up: an interrupted send is unclear (maybe placed), then closed as "outcome unknown".
    CallRecord.objects.filter(pk=interrupted.pk).update(sent_at=NOON - timedelta(days=2))
    calls_follow_up()
    calls_follow_up()
    interrupted.refresh_from_db()
    assert interrupted.status == CallRecord.Status.OUTCOME_UNKNOWN
    finish_calls(campaign, ended=NOON)
    campaign_send_tick(now=NOON + timedelta(minutes=30))
    row = CampaignRow.objects.get(last_call=interrupted)
    assert (row.state, row.final_status, row.attempts) == (RowState.DONE, CallRecord.Status.OUTCOME_UNKNOWN, 1)
    assert len(vms_simulator.calls) == 2
    assert interrupted.out_id not in {call["OutId"] for call in vms_simulator.calls}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_ticks_at_once_never_dial_a_row_twice(vms_simulator, operator, settings):
    settings.VMS_ACCOUNT_QPS = 1000
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(60), rate_cap=40))
    errors = []

    def tick(moment):
        try:
            campaign_send_tick(now=moment)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=tick, args=(NOON + timedelta(seconds=offset),)) for offset in (0, 1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    out_ids = [call["OutId"] for call in vms_simulator.calls]
    callees = [call["CalledNumber"] for call in vms_simulator.calls]
    assert len(out_ids) == len(set(out_ids)) and len(callees) == len(set(callees))
    assert CallRecord.objects.filter(campaign=campaign).count() == len(out_ids)
    assert all(row.attempts <= 1 for row in campaign.rows.all())
    assert campaign.rows.filter(state=RowState.CALLING).count() == len(out_ids)


# ----- end to end, on the wall clock -----

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sender_job_sends_a_campaign_and_the_receipts_finish_it(live_server, vms_simulator, operator, settings):
    """The periodic job as a worker runs it: real seconds, the simulator's receipts pushed to the console, every row
    final with the outcome its callee's last digit gives, and the campaign finished."""
    from notifications import jobs
    from notifications.models import PeriodicRun

    settings.REDIS_URL = ""
    settings.VMS_ACCOUNT_QPS = 1000
    vms_simulator.set_receipt_base_url(live_server.url + "/receipts/")
    digits = "0123457"
    campaign = published(vms_simulator, make_sending_campaign(
        operator, [f"1390000{index:03d}{digit}" for index, digit in enumerate(digits)], state=State.SCHEDULED))
    jobs.campaign_send_job()
    campaign.refresh_from_db()
    assert campaign.state == State.FINISHED, list(campaign.rows.values_list("state", "last_call__status"))
    outcomes = dict(campaign.rows.values_list("called_number", "outcome"))
    assert {number[-1]: outcome for number, outcome in outcomes.items()} == {
        "0": CallRecord.Outcome.LISTENED, "1": CallRecord.Outcome.HUNG_UP_EARLY, "2": CallRecord.Outcome.BUSY,
        "3": CallRecord.Outcome.NO_ANSWER, "4": CallRecord.Outcome.INVALID_NUMBER, "5": CallRecord.Outcome.POWERED_OFF,
        "7": CallRecord.Outcome.UNREACHABLE,
    }
    assert len(vms_simulator.calls) == len(digits)
    assert PeriodicRun.objects.get(name="campaign_send").succeeded


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_on_the_wall_clock_each_second_keeps_to_the_budget_spread_over_its_slices(vms_simulator, operator, settings):
    """Real seconds (about 3): no aligned second above the budget, and a second's calls spread over it, not in one burst
    (a slice that runs late catches up within its second, so a tenth may hold a few shares, never the whole budget)."""
    from collections import Counter

    from notifications.services.campaign_send import campaign_send_run

    settings.VMS_ACCOUNT_QPS = 20  # 18 campaign calls a second
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(45), rate_cap=1000))
    campaign_send_run(seconds=2.5)
    # sent_at: when each slice was handed to the provider (the second's rows are claimed at its start).
    moments = list(CallRecord.objects.filter(campaign=campaign).values_list("sent_at", flat=True))
    assert len(moments) >= 18
    per_second = Counter(moment.replace(microsecond=0) for moment in moments)
    assert max(per_second.values()) <= 18
    per_slice = Counter((moment.replace(microsecond=0), moment.microsecond // 100_000) for moment in moments)
    assert max(per_slice.values()) <= 9  # each slice's share is 2 (ceil(18 / 10))
    assert len({call["OutId"] for call in vms_simulator.calls}) == len(moments)


# ----- the window on the provider's QPS -----

def test_the_window_holds_a_request_until_the_oldest_of_the_last_limit_is_a_span_old():
    from types import SimpleNamespace

    window = campaign_send.SendWindow(3, span=0.3)
    record = SimpleNamespace(campaign_id=7)
    window.hand({7: 4})
    started = time.time()
    for _request in range(3):
        window.take(record)
    assert time.time() - started < 0.3  # room for three: none waited
    assert window.load(timezone.now() - timedelta(seconds=1)) == {7: 4}  # three let out, one still held
    window.take(record)
    assert time.time() - started >= 0.3  # the fourth waited for the first to leave the window
    assert window.load(timezone.now() - timedelta(seconds=0.2)) == {7: 1}  # the fourth let out just now, none held


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_new_run_counts_the_calls_the_run_before_it_sent_in_the_last_second(vms_simulator, operator, settings):
    """Runs hand over every few seconds, maybe to another worker process. The calls the last one sent at the end of a
    second are in the next run's window: its first calls wait for them to be a second old, although the aligned second
    they fell in is over (with per-second budgets alone, both seconds' calls would reach the provider within one)."""
    settings.VMS_ACCOUNT_QPS = 10  # 9 campaign calls a second
    campaign = published(vms_simulator, make_sending_campaign(operator, numbers(9, start=500), rate_cap=1000))
    earlier = make_sending_campaign(operator, [])
    now = timezone.now()
    time.sleep(max(0.0, 0.9 - now.microsecond / 1_000_000))  # the last tenth of a second
    previous = timezone.now()
    CallRecord.objects.bulk_create([
        CallRecord(api=CallRecord.Api.TTS, mode=Mode.PUBLIC, tts_template=earlier.tts_template, campaign=earlier,
                   called_number=f"1370000{index:04d}", out_id=f"earlier{index}", status=CallRecord.Status.ACCEPTED,
                   sent_at=previous, created_at=previous)
        for index in range(9)
    ])
    time.sleep(max(0.0, 1 - timezone.now().microsecond / 1_000_000))  # the next second begins
    campaign_send.campaign_send_run(seconds=0.5)
    arrived = sorted(call["accepted_at"] for call in vms_simulator.calls)
    assert len(arrived) == 9 and campaign.rows.filter(state=RowState.CALLING).count() == 9
    assert arrived[0] >= previous + timedelta(seconds=1)
