"""Each health check against real rows: when it is ok, when it warns, when it is critical."""
import socket
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from notifications.models import CallRecord, ReceiptDelivery
from notifications.services.health import CRITICAL, EXPECTED_TASKS, OK, WARNING, duration_text, health_report, liveness_problems
from tests.health.conftest import ago, all_tasks_fresh, push, run

pytestmark = pytest.mark.django_db
Status = CallRecord.Status


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def check(key: str, **kwargs):
    report = health_report(**kwargs)
    return {c.key: c for c in report.checks}[key]


# ----- periodic tasks -----

def test_a_fresh_install_shows_every_expected_task_as_never_ran():
    report = health_report()
    tasks = {c.key: c for c in report.checks if c.group == "tasks"}
    assert set(tasks) == {"task:calls_follow_up", "task:dispatch_wake", "task:receipt_inbox_apply", "task:receipt_inbox_prune",
                          "task:campaign_send", "task:voice_file_audit_sync",
                          "task:alerts_check", "task:calls_bill"}
    assert all(c.summary.startswith("Never ran") for c in tasks.values())
    assert tasks["task:calls_follow_up"].state == CRITICAL
    assert tasks["task:receipt_inbox_prune"].state == WARNING  # daily housekeeping: late, not an emergency
    assert tasks["task:voice_file_audit_sync"].state == WARNING  # reviews wait for it; no call does
    assert tasks["task:calls_bill"].state == WARNING  # costs wait for it; no call does
    assert report.state == CRITICAL


def test_follow_up_is_ok_then_stale_after_three_intervals_then_critical(settings):
    settings.CALL_FOLLOW_UP_INTERVAL_SECONDS = 10
    run("calls_follow_up", finished=ago(seconds=25), summary="3 detail queries, 1 settled")
    follow_up = check("task:calls_follow_up")
    assert (follow_up.state, follow_up.stale) == (OK, False)
    assert "3 detail queries, 1 settled" in follow_up.summary
    assert follow_up.figures["run_count"] == 1

    run("calls_follow_up", finished=ago(seconds=35))  # more than 3 intervals of 10 s
    follow_up = check("task:calls_follow_up")
    assert (follow_up.state, follow_up.stale) == (WARNING, True)
    assert "Last finished 35 s ago. Expected every 10 s." == follow_up.summary

    run("calls_follow_up", finished=ago(seconds=101))  # more than 10 intervals
    assert check("task:calls_follow_up").state == CRITICAL


def test_thresholds_follow_the_settings(settings):
    settings.CALL_FOLLOW_UP_INTERVAL_SECONDS = 60
    run("calls_follow_up", finished=ago(seconds=150))
    assert check("task:calls_follow_up").state == OK
    settings.HEALTH_STALE_INTERVALS = 2
    assert check("task:calls_follow_up").state == WARNING


def test_a_failed_last_run_warns_and_shows_its_error():
    run("calls_follow_up", finished=ago(seconds=5), succeeded=False, error="OperationalError: database is locked\nTraceback...")
    follow_up = check("task:calls_follow_up")
    assert follow_up.state == WARNING
    assert "The last run failed: OperationalError: database is locked" in follow_up.summary
    assert follow_up.figures["succeeded"] is False


def test_a_run_that_never_finishes_turns_stale(settings):
    settings.CALL_FOLLOW_UP_INTERVAL_SECONDS = 10
    run("calls_follow_up", started=ago(seconds=5), finished=ago(minutes=1))
    assert check("task:calls_follow_up").state == OK  # running now, the last one finished a minute ago
    run("calls_follow_up", started=ago(seconds=40), finished=ago(minutes=2))
    follow_up = check("task:calls_follow_up")
    assert follow_up.state == WARNING
    assert follow_up.summary.startswith("Running for 40 s.")


def test_tasks_not_known_in_advance_are_read_from_the_table(settings):
    run("stats_refresh", finished=ago(hours=5), succeeded=True, summary="2 days refreshed")
    extra = check("task:stats_refresh")
    assert (extra.label, extra.state) == ("stats_refresh", OK)  # no interval known: judged by its result only
    settings.HEALTH_TASK_INTERVALS = {"stats_refresh": 600.0}
    assert check("task:stats_refresh").state == CRITICAL  # 5 h is more than 10 × 10 min


# ----- calls -----

def test_queued_calls_count_and_the_oldest_age(make_call):
    make_call(Status.QUEUED, created=ago(seconds=30))
    make_call(Status.QUEUED, created=ago(seconds=10))
    queued = check("calls_queued")
    assert queued.state == OK
    assert queued.figures["count"] == 2
    assert 29 < queued.figures["oldest_due_age_seconds"] < 40
    assert queued.summary.startswith("2 calls queued; the oldest has waited 3")

    make_call(Status.QUEUED, created=ago(minutes=3))
    assert check("calls_queued").state == WARNING
    make_call(Status.QUEUED, created=ago(minutes=11))
    queued = check("calls_queued")
    assert (queued.state, queued.stale, queued.affects_calls) == (CRITICAL, True, True)


def test_a_call_waiting_for_its_retry_is_not_late(make_call):
    # Created an hour ago, retried with backoff, not due before a minute from now.
    make_call(Status.QUEUED, created=ago(hours=1), dispatch_after=ago(seconds=-60))
    queued = check("calls_queued")
    assert (queued.state, queued.figures["count"], queued.figures["due"]) == (OK, 1, 0)
    assert queued.summary == "1 call queued, waiting to be retried later."
    # Due since 5 minutes: it has waited 5 minutes, not an hour.
    make_call(Status.QUEUED, created=ago(hours=1), dispatch_after=ago(minutes=5))
    queued = check("calls_queued")
    assert queued.state == WARNING
    assert 295 < queued.figures["oldest_due_age_seconds"] < 320


def test_finished_calls_are_not_counted(make_call):
    make_call(Status.COMPLETED, created=ago(hours=2))
    make_call(Status.FAILED, created=ago(hours=2))
    make_call(Status.OUTCOME_UNKNOWN, created=ago(hours=30))
    assert all(check(key).figures["count"] == 0 for key in ("calls_queued", "calls_sending", "calls_unknown"))


def test_a_call_stuck_in_sending_warns(make_call):
    make_call(Status.SENDING, updated=ago(seconds=20))
    sending = check("calls_sending")
    assert (sending.state, sending.figures["count"]) == (OK, 1)
    make_call(Status.SENDING, updated=ago(minutes=5))
    sending = check("calls_sending")
    assert sending.state == WARNING
    assert "never sends them again" in sending.summary
    make_call(Status.SENDING, updated=ago(minutes=20))
    assert check("calls_sending").state == CRITICAL


def test_unclear_calls_warn_when_they_stay_unclear(make_call):
    make_call(Status.UNKNOWN, created=ago(minutes=10))
    assert check("calls_unknown").state == OK
    make_call(Status.UNKNOWN, created=ago(minutes=90))
    unknown = check("calls_unknown")
    assert (unknown.state, unknown.figures["count"]) == (WARNING, 2)
    assert unknown.summary == "2 calls unclear, being checked; the oldest was made 1 h 30 min ago."
    make_call(Status.UNKNOWN, created=ago(hours=26))
    assert check("calls_unknown").state == CRITICAL


# ----- receipts -----

def test_inbox_backlog_counts_pending_pushes_only():
    push(received=ago(hours=3), state=ReceiptDelivery.State.APPLIED)
    push(received=ago(hours=3), state=ReceiptDelivery.State.UNMATCHED)
    push(received=ago(seconds=2))
    inbox = check("receipt_inbox")
    assert (inbox.state, inbox.figures["pending"]) == (OK, 1)
    push(received=ago(seconds=30))
    inbox = check("receipt_inbox")
    assert (inbox.state, inbox.figures["pending"]) == (WARNING, 2)
    assert inbox.summary == "2 pushes waiting to be applied; the oldest arrived 30 s ago."
    push(received=ago(minutes=5))
    assert check("receipt_inbox").state == CRITICAL


def test_last_receipt_received_and_receipts_that_stopped(make_call):
    assert check("receipt_last").summary == "No receipt has been received yet."
    push(received=ago(minutes=50), state=ReceiptDelivery.State.APPLIED)
    make_call(Status.ACCEPTED, call_id="1^1", sent_at=ago(minutes=10))  # too recent to expect its receipt yet
    last = check("receipt_last")
    assert last.state == OK
    assert last.summary == "The last receipt arrived 50 min 0 s ago."

    make_call(Status.ACCEPTED, call_id="2^2", sent_at=ago(minutes=40))  # accepted after the last receipt, none since
    last = check("receipt_last")
    assert (last.state, last.stale) == (WARNING, True)
    assert "check the receipt address and token" in last.summary

    push(received=ago(minutes=1), state=ReceiptDelivery.State.APPLIED)  # receipts flow again
    assert check("receipt_last").state == OK


def test_calls_placed_elsewhere_do_not_make_receipts_look_stopped(make_call):
    make_call(Status.ACCEPTED, call_id="3^3", sent_at=ago(hours=2), placed_elsewhere=True, api=CallRecord.Api.OTHER,
              tts_template=None)
    assert check("receipt_last").state == OK


# ----- the scheduler and the queue -----

def test_embedded_scheduler_seen_in_this_process_or_through_recent_runs():
    assert check("workers", scheduler_running=True).state == OK
    workers = check("workers")
    assert workers.state == CRITICAL
    assert "runconsole" in workers.summary
    all_tasks_fresh()
    workers = check("workers")  # `manage.py health` cannot see runconsole's thread, only what it did
    assert workers.state == OK
    assert "another process" in workers.summary


def test_everything_running_is_ok(make_call):
    all_tasks_fresh()
    make_call(Status.QUEUED)
    push(received=ago(seconds=1))
    report = health_report(scheduler_running=True)
    assert report.state == OK
    assert report.problems == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_redis_that_does_not_answer_is_critical(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    workers = check("workers")
    assert (workers.state, workers.figures["redis"]) == (CRITICAL, False)
    assert workers.summary == "Redis does not answer: no job runs and no call is sent."
    assert liveness_problems() == ["redis"]


def test_the_report_costs_four_queries_whatever_the_rows(make_call):
    all_tasks_fresh()
    with CaptureQueriesContext(connection) as few:
        health_report()
    for index in range(30):
        make_call([Status.QUEUED, Status.SENDING, Status.UNKNOWN, Status.ACCEPTED][index % 4], sent_at=ago(hours=1))
        push(received=ago(seconds=index))
    with CaptureQueriesContext(connection) as many:
        health_report()
    assert len(few) == len(many) == 4


def test_durations_read_as_two_units_at_most():
    assert [duration_text(s) for s in (0, 45, 200, 7500, 2 * 86400 + 3700)] == ["0 s", "45 s", "3 min 20 s", "2 h 5 min", "2 d 1 h"]
    assert duration_text(timedelta(minutes=1).total_seconds()) == "1 min 0 s"


def test_the_expected_tasks_are_the_ones_the_scheduler_runs():
    """The health table is kept apart from the scheduler's (services do not import the job layer): held equal here."""
    from notifications.cron import PERIODIC_TASKS

    assert {name: spec.interval_setting for name, spec in EXPECTED_TASKS.items()} == {
        task.name: task.interval_setting for task in PERIODIC_TASKS
    }
