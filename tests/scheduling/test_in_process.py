"""The embedded default: `runconsole`'s scheduler thread runs every periodic task of notifications/cron.py."""
import threading
import time

import pytest
from django.conf import settings as django_settings
from django.db import close_old_connections
from django.utils import translation

from notifications import cron
from notifications.models import CallRecord, PeriodicRun
from notifications.services.calls_follow_up import FollowUpSummary
from notifications.services.receipt_inbox import InboxSummary
from notifications.work import InProcessScheduler
from tests.dialing.conftest import queued_call

from .conftest import TASKS, wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)



@pytest.fixture
def short_intervals(settings):
    settings.REDIS_URL = ""
    settings.CALL_FOLLOW_UP_INTERVAL_SECONDS = 1
    settings.CALL_DISPATCH_WAKE_INTERVAL_SECONDS = 1
    settings.RECEIPT_INBOX_APPLY_INTERVAL_SECONDS = 1
    settings.RECEIPT_INBOX_PRUNE_INTERVAL_SECONDS = 1
    settings.VOICE_FILE_AUDIT_SYNC_INTERVAL_SECONDS = 1
    settings.ALERTS_CHECK_INTERVAL_SECONDS = 1
    settings.USAGE_BILL_INTERVAL_SECONDS = 1


@pytest.fixture
def scheduler(short_intervals):
    started = InProcessScheduler()
    yield started
    started.stop()
    close_old_connections()


def runs() -> dict[str, PeriodicRun]:
    return {run.name: run for run in PeriodicRun.objects.all()}


def test_every_periodic_task_runs_and_one_that_raises_does_not_stop_the_others(scheduler, on_simulator, notice, monkeypatch):
    def broken_prune(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("notifications.services.receipt_inbox.receipt_inbox_prune", broken_prune)
    waiting = queued_call(notice)  # recorded while nothing was running: only the dispatcher wake-up sends it
    assert {task.name for task in cron.in_process_tasks()} == TASKS
    scheduler.start(periodic=cron.in_process_tasks())

    wait_for(lambda: set(runs()) == TASKS and all(run.run_count >= 2 and run.finished_at for run in runs().values()),
             timeout=15, message="two runs of every periodic task")
    assert scheduler.running  # the failing task did not take the thread down
    scheduler.stop()  # waits for the runs going on, so each record below is complete
    recorded = runs()
    assert not recorded["receipt_inbox_prune"].succeeded
    assert recorded["receipt_inbox_prune"].error == "RuntimeError: disk full"
    for name in TASKS - {"receipt_inbox_prune"}:
        assert recorded[name].succeeded, (name, recorded[name].error)
        assert recorded[name].summary
        assert recorded[name].finished_at >= recorded[name].started_at
    # Written by the scheduler's threads, in the console's own language; nothing was due for either.
    with translation.override(django_settings.LANGUAGE_CODE):
        assert recorded["calls_follow_up"].summary == str(FollowUpSummary())
        assert recorded["receipt_inbox_apply"].summary == str(InboxSummary())

    waiting.refresh_from_db()
    assert waiting.status == CallRecord.Status.ACCEPTED
    assert [call["OutId"] for call in on_simulator.calls] == [waiting.out_id]


def test_a_follow_up_longer_than_its_interval_never_runs_twice_at_once_and_keeps_its_schedule(scheduler, monkeypatch):
    active, most, finished = [0], [0], []
    guard = threading.Lock()

    def slow_follow_up():
        with guard:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(2.5)  # two and a half intervals
        with guard:
            active[0] -= 1
            finished.append(time.monotonic())
        return "slow run"

    monkeypatch.setattr("notifications.jobs.calls_follow_up", slow_follow_up)
    monkeypatch.setattr("notifications.services.stats.daily_stats_refresh_recent", lambda: None)
    scheduler.start(periodic=cron.in_process_tasks())
    wait_for(lambda: len(finished) >= 2, timeout=15, message="two slow follow-up runs")
    assert most[0] == 1
    assert finished[1] - finished[0] < 4.5  # the next run started about when the first ended: no dead schedule
    follow_up = PeriodicRun.objects.get(name="calls_follow_up")
    assert follow_up.summary == "slow run" and follow_up.succeeded
    # The other tasks kept their own pace meanwhile.
    assert PeriodicRun.objects.get(name="dispatch_wake").run_count >= 4


def test_an_idle_run_is_logged_at_debug_and_a_run_that_did_something_at_info(caplog):
    from notifications.services.periodic import periodic_task_run

    with caplog.at_level("DEBUG", logger="notifications.services.periodic"):
        periodic_task_run("receipt_inbox_apply", lambda: InboxSummary(), interval=1)
        periodic_task_run("receipt_inbox_apply", lambda: InboxSummary(deliveries=2, items=2, applied=2), interval=1)

    levels = [(record.levelname, record.getMessage()) for record in caplog.records if "receipt_inbox_apply" in record.getMessage()]
    assert [level for level, _ in levels] == ["DEBUG", "INFO"], levels
    assert "2 pushes applied" in levels[1][1]
