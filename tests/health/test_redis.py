"""With Redis: workers alive, the cron scheduler's heartbeat and failed jobs, read from a real Redis (services run)."""
import os
import time

import pytest
from django.utils import translation

from notifications.services.health import CRITICAL, OK, WARNING, health_report, liveness_problems

pytestmark = [pytest.mark.services, pytest.mark.django_db]


@pytest.fixture
def redis_db(settings):
    url = os.environ.get("REDIS_URL")
    if not url:
        if os.environ.get("VOICEADMIN_REQUIRE_SERVICES"):
            pytest.fail("REDIS_URL must be set when VOICEADMIN_REQUIRE_SERVICES=1")
        pytest.skip("needs Redis (REDIS_URL)")
    import redis

    settings.REDIS_URL = url  # after the package's `embedded` fixture
    connection = redis.Redis.from_url(url)
    connection.flushdb()  # this run's own database number (see COMMON: one per engineer / CI job)
    yield connection
    connection.flushdb()
    connection.close()


def _checks():
    with translation.override("en"):
        return {c.key: c for c in health_report().checks}


def test_no_worker_and_no_cron_scheduler_is_critical(redis_db):
    checks = _checks()
    assert (checks["workers"].state, checks["workers"].figures["alive"]) == (CRITICAL, 0)
    assert checks["workers"].summary.startswith("No worker is alive")
    assert checks["cron"].state == CRITICAL
    assert "runcron" in checks["cron"].summary
    assert checks["failed_jobs"].state == OK
    assert liveness_problems() == []


def test_a_live_worker_and_cron_scheduler_are_seen(redis_db):
    from rq import Queue, SimpleWorker
    from rq.cron_scheduler_registry import get_registry_key

    worker = SimpleWorker([Queue("default", connection=redis_db)], connection=redis_db)
    worker.register_birth()
    redis_db.zadd(get_registry_key(), {"cron-under-test": time.time()})
    try:
        checks = _checks()
        assert (checks["workers"].state, checks["workers"].figures["alive"]) == (OK, 1)
        assert checks["workers"].summary.startswith("1 worker alive (0 busy).")
        assert (checks["cron"].state, checks["cron"].summary) == (OK, "1 cron scheduler alive.")
    finally:
        worker.register_death()
    redis_db.zadd(get_registry_key(), {"cron-under-test": time.time() - 600})  # stopped beating ten minutes ago
    checks = _checks()
    assert checks["workers"].figures["alive"] == 0
    assert checks["cron"].state == CRITICAL


def test_failed_jobs_warn(redis_db):
    from rq import Queue, SimpleWorker

    queue = Queue("default", connection=redis_db)
    queue.enqueue("operator.truediv", 1, 0)  # ZeroDivisionError in the worker
    queue.enqueue("operator.truediv", 2, 0)
    SimpleWorker([queue], connection=redis_db).work(burst=True)
    failed = _checks()["failed_jobs"]
    assert (failed.state, failed.figures["count"]) == (WARNING, 2)
    assert failed.summary == "2 failed jobs kept in the queue's registry (see the queue dashboard)."
