"""With Redis: calls go through the real RQ queue and a worker; a duplicated job still dials once (services run)."""
import os

import pytest

from notifications import jobs, work
from notifications.models import CallRecord
from notifications.services.calls_create import call_record_create

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def queue():
    if not os.environ.get("REDIS_URL"):
        if os.environ.get("VOICEADMIN_REQUIRE_SERVICES"):
            pytest.fail("REDIS_URL must be set when VOICEADMIN_REQUIRE_SERVICES=1")
        pytest.skip("needs Redis (REDIS_URL)")
    import django_rq

    queue = django_rq.get_queue("default")
    queue.empty()
    queue.connection.delete(work.DISPATCH_WAKE_KEY)
    yield queue
    queue.empty()
    for job_id in queue.scheduled_job_registry.get_job_ids():
        queue.scheduled_job_registry.remove(job_id, delete_job=True)
    queue.connection.delete(work.DISPATCH_WAKE_KEY)


def drain(queue) -> None:
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_calls_are_sent_by_a_worker_through_the_queue(queue, on_simulator, notice):
    records = [call_record_create(tts_template=notice, called_number=f"1390000123{n}", params={"name": "张三", "order": "A1"})
               for n in range(3)]
    assert queue.count == 1  # one dispatcher run for the three calls
    assert queue.scheduled_job_registry.get_job_ids() == []  # no chain to start: the cron process ticks the follow-up
    work.run_soon(work.DISPATCH_JOB)  # a duplicated run
    assert queue.count == 2
    assert all(CallRecord.objects.get(pk=r.pk).status == CallRecord.Status.QUEUED for r in records)

    drain(queue)
    assert sorted(call["OutId"] for call in on_simulator.calls) == sorted(r.out_id for r in records)
    for record in records:
        record.refresh_from_db()
        assert record.status == CallRecord.Status.ACCEPTED
        assert record.call_id


def test_a_full_batch_wakes_another_run_and_no_call_is_sent_twice(queue, on_simulator, notice, monkeypatch):
    monkeypatch.setattr("notifications.services.calls_dispatch.DISPATCH_BATCH", 2)
    monkeypatch.setattr("notifications.jobs.DISPATCH_JOB_SECONDS", 0)  # hand over after every batch
    records = [call_record_create(tts_template=notice, called_number=f"1390000200{n}", params={"name": "张三", "order": "A1"})
               for n in range(5)]
    assert queue.count == 1
    jobs.calls_dispatch_job()  # one batch, then a helper run is woken
    assert len(on_simulator.calls) == 2 and queue.count == 2
    drain(queue)
    assert sorted(call["OutId"] for call in on_simulator.calls) == sorted(r.out_id for r in records)
    assert set(CallRecord.objects.values_list("status", "attempts")) == {(CallRecord.Status.ACCEPTED, 1)}


@pytest.mark.django_db(transaction=False)
def test_a_commit_hook_never_fails_when_redis_is_away(notice, settings, django_capture_on_commit_callbacks):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.RQ_QUEUES = {"default": {"URL": settings.REDIS_URL}}
    with django_capture_on_commit_callbacks(execute=True):
        record = call_record_create(tts_template=notice, called_number="13900001239", params={"name": "张三", "order": "A1"})
    # The dial is kept; the periodic dispatcher wake-up sends it once Redis is back.
    assert CallRecord.objects.get(pk=record.pk).status == CallRecord.Status.QUEUED


def test_throttled_call_is_retried_by_the_scheduler_and_dialled_once(queue, on_simulator, notice):
    import time

    from rq.scheduler import RQScheduler

    record = call_record_create(tts_template=notice, called_number="17000001230", params={"name": "张三", "order": "A1"})
    drain(queue)  # throttled: back to queued, retry scheduled with backoff
    record.refresh_from_db()
    assert record.status == CallRecord.Status.QUEUED
    assert on_simulator.calls == []
    scheduler = RQScheduler([queue], connection=queue.connection)
    scheduler.acquire_locks()
    try:
        for _attempt in range(50):  # the backoff is a second, plus one for the scheduler's whole seconds
            scheduler.enqueue_scheduled_jobs()
            if queue.count:
                break
            time.sleep(0.1)
    finally:
        scheduler.release_locks()
    drain(queue)
    record.refresh_from_db()
    assert record.status == CallRecord.Status.ACCEPTED
    assert record.attempts == 2
    assert [call["OutId"] for call in on_simulator.calls] == [record.out_id]
