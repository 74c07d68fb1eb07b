"""With Redis: real `rqworker` processes and the `runcron` process keep every periodic task going through a run
longer than its interval, `kill -9` of a worker and a Redis restart (services run; a private redis-server)."""
import os
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import CallEvent, CallRecord, PeriodicRun
from tests.dialing.conftest import queued_call

from .conftest import TASKS, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True, serialized_rollback=True)]



def run_counts() -> dict[str, int]:
    return dict(PeriodicRun.objects.values_list("name", "run_count"))


def finished_since(name: str, moment) -> bool:
    run = PeriodicRun.objects.filter(name=name).first()
    return bool(run and run.finished_at and run.succeeded and run.started_at > moment)


def sent(record: CallRecord) -> bool:
    record.refresh_from_db()
    return record.status == CallRecord.Status.ACCEPTED


def slow_follow_up(simulator, notice, *, calls: int, latency_ms: int) -> None:
    """Real work that makes each follow-up run last about calls × latency: calls due for a detail query, and a
    provider that answers slowly."""
    long_ago = timezone.now() - timedelta(hours=1)
    for n in range(calls):
        queued_call(notice, called_number=f"1390000{n:04d}", status=CallRecord.Status.ACCEPTED,
                    call_id=f"1160{n:08d}^1000{n}", sent_at=long_ago)
    simulator.set_faults(latency_ms=latency_ms)


def test_every_periodic_task_runs_on_a_worker_and_a_call_left_waiting_is_sent(processes, on_simulator, notice):
    waiting = queued_call(notice)  # recorded with no wake-up on its way
    processes.worker()
    processes.cron()
    wait_for(lambda: sent(waiting), timeout=20, message="the dispatcher wake-up to send the waiting call")
    wait_for(lambda: set(run_counts()) == TASKS, timeout=10, message="a run of every periodic task")
    wait_for(lambda: all(run.succeeded for run in PeriodicRun.objects.all()), timeout=5, message="every run to succeed")
    assert [call["OutId"] for call in on_simulator.calls] == [waiting.out_id]


def test_a_follow_up_longer_than_its_interval_never_runs_twice_at_once_and_keeps_going(processes, on_simulator, notice,
                                                                                        private_redis):
    import redis
    from rq.cron import get_cron_job_ids
    from rq.job import Job

    slow_follow_up(on_simulator, notice, calls=5, latency_ms=700)  # about 3.5 s a run; its interval is 2 s
    processes.worker()
    processes.worker()  # a free worker takes the ticks due during a run: they must not start a second run
    processes.cron()
    started = timezone.now()
    wait_for(lambda: run_counts().get("calls_follow_up", 0) >= 3 and finished_since("calls_follow_up", started),
             timeout=25, interval=0.5, message="three follow-up runs")

    connection = redis.Redis.from_url(private_redis.url)
    jobs = [Job.fetch(job_id, connection=connection) for job_id in get_cron_job_ids("calls_follow_up", connection)]
    done = [job for job in jobs if job.get_status() == "finished"]
    ran = sorted((job.started_at, job.ended_at) for job in done if job.return_value() != "skipped")
    skipped = [job for job in done if job.return_value() == "skipped"]
    assert len(ran) >= 2 and skipped, (len(ran), len(skipped))
    for (_start, end), (next_start, _end) in zip(ran, ran[1:], strict=False):
        assert next_start >= end, "two follow-up runs overlapped"
    assert all(end - start >= timedelta(seconds=2) for start, end in ran)  # each run really was longer than its interval
    # The slow calls were each queried once per run, never by two runs at the same time.
    assert CallEvent.objects.filter(kind=CallEvent.Kind.DETAIL_QUERY).count() >= 5 * len(ran)


def test_kill_9_of_the_worker_mid_run_then_a_new_worker_carries_on_within_an_interval(processes, on_simulator, notice):
    slow_follow_up(on_simulator, notice, calls=5, latency_ms=600)  # a run lasts about 3 s
    worker = processes.worker()
    processes.cron()
    wait_for(lambda: _running("calls_follow_up"), timeout=15, message="a follow-up run to start")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(5)
    killed_at = timezone.now()

    processes.worker()
    waiting = queued_call(notice, called_number="13900009990")
    # The killed run's lock expires (at most one interval, 3 s minimum) and the next tick goes ahead.
    wait_for(lambda: finished_since("calls_follow_up", killed_at), timeout=20, interval=0.3,
             message="a follow-up run after the kill")
    wait_for(lambda: sent(waiting), timeout=10, message="the dispatcher wake-up on the new worker")
    assert all(finished_since(name, killed_at) for name in ("dispatch_wake", "receipt_inbox_apply"))


def test_a_redis_restart_mid_run_does_not_stop_the_periodic_tasks(processes, on_simulator, notice, private_redis):
    worker = processes.worker()
    cron = processes.cron()
    wait_for(lambda: set(run_counts()) == TASKS, timeout=20, message="a run of every periodic task")

    private_redis.stop()  # every key, queued job and lock is lost: no persistence
    time.sleep(2)
    private_redis.start()
    restarted = timezone.now()
    waiting = queued_call(notice, called_number="13900009991")  # its wake-up was lost with Redis

    wait_for(lambda: sent(waiting), timeout=25, interval=0.3, message="the waiting call to be sent after the restart")
    wait_for(lambda: all(finished_since(name, restarted) for name in ("calls_follow_up", "dispatch_wake", "receipt_inbox_apply")),
             timeout=10, interval=0.3, message="every frequent task to run again")
    assert cron.poll() is None, "the cron process reconnects by itself"
    assert worker.poll() is None, "the worker reconnects by itself"


def _running(name: str) -> bool:
    run = PeriodicRun.objects.filter(name=name).first()
    return bool(run and run.started_at and (run.finished_at is None or run.finished_at < run.started_at))


def _enqueued_at(name: str, connection) -> list:
    from rq.cron import get_cron_job_ids
    from rq.job import Job

    jobs = (Job.fetch(job_id, connection=connection) for job_id in get_cron_job_ids(name, connection))
    return sorted(job.enqueued_at for job in jobs)


def test_two_cron_processes_enqueue_each_tick_once_and_the_standby_takes_over_when_the_leader_dies(
        processes, on_simulator, notice, private_redis):
    import redis

    from notifications.management.commands.runcron import LEADER_KEY

    processes.env["CRON_LEADER_SECONDS"] = "3"
    connection = redis.Redis.from_url(private_redis.url)
    processes.worker()
    crons = [processes.cron(), processes.cron()]
    wait_for(lambda: connection.get(LEADER_KEY), timeout=15, message="a cron process to lead")
    time.sleep(6)

    # dispatch_wake is due every second: two enqueuing processes would put two ticks in most seconds.
    ticks = _enqueued_at("dispatch_wake", connection)
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) >= 4, ticks
    assert min(gaps) >= timedelta(seconds=0.8), gaps

    leader_pid = int(connection.get(LEADER_KEY).decode().split(":")[1])
    leader = next(process for process in crons if process.pid == leader_pid)
    standby = next(process for process in crons if process is not leader)
    os.killpg(leader.pid, signal.SIGKILL)  # no clean exit: its key must expire by itself
    leader.wait(5)
    killed_at = timezone.now()

    wait_for(lambda: connection.get(LEADER_KEY) and int(connection.get(LEADER_KEY).decode().split(":")[1]) == standby.pid,
             timeout=3 + 3, interval=0.2, message="the standby to take the lead within CRON_LEADER_SECONDS")
    waiting = queued_call(notice, called_number="13900009992")
    wait_for(lambda: sent(waiting), timeout=10, interval=0.3, message="the standby's ticks to send a waiting call")
    assert any(at > killed_at for at in _enqueued_at("dispatch_wake", connection))
    assert standby.poll() is None

