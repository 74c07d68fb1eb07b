"""The project's RQ worker waits out a Redis restart that happens while a job finishes, instead of quitting."""
import threading
import time

import pytest

from notifications.worker import REDIS_AWAY, ReconnectingWorker

pytestmark = pytest.mark.django_db

# The private Redis of the running test, for the jobs below (they run in this process: SimpleWorker does not fork).
_server = None
_after_restart: list = []


def job_that_restarts_redis() -> str:
    """Redis goes down as this job ends and comes back a second later, empty; another job is then queued."""
    _server.stop()

    def come_back():
        time.sleep(1)
        _server.start()
        for enqueue in _after_restart:
            enqueue()

    threading.Thread(target=come_back, daemon=True).start()
    return "done"


def job_after_the_restart(marker_key: str) -> None:
    _connection().set(marker_key, "ran")


def _connection():
    import redis

    return redis.Redis.from_url(_server.url)


def _queue():
    from rq import Queue

    return Queue("default", connection=_connection())


def _worker_outlives_restart(worker_class, private_redis) -> tuple[bool, object]:
    """Run a worker over the restart; whether the job queued after it ran, and the worker."""
    global _server
    _server = private_redis
    queue = _queue()
    marker = "test:worker:after-restart"
    _after_restart[:] = [lambda: _queue().enqueue(job_after_the_restart, marker)]
    queue.enqueue(job_that_restarts_redis)
    worker = worker_class([queue], connection=queue.connection)
    try:
        worker.work(burst=True)  # burst: returns once the queue is empty, or when the worker gives up
    except REDIS_AWAY:  # a worker giving up cannot even record its death
        pass
    time.sleep(1.5)  # a worker that quit returns before Redis is even back
    return bool(_connection().get(marker)), worker


def test_a_redis_restart_as_a_job_ends_does_not_stop_the_worker(private_redis):
    ran, _ = _worker_outlives_restart(ReconnectingWorker, private_redis)

    assert ran, "the job queued after the restart was run by the same worker"


def test_rqs_own_simple_worker_quits_there(private_redis):
    """Why the class exists: RQ's SimpleWorker meets the same restart with "found an unhandled exception, quitting"."""
    from rq import SimpleWorker

    ran, _ = _worker_outlives_restart(SimpleWorker, private_redis)

    assert not ran


def test_after_a_redis_restart_the_worker_is_listed_again(private_redis):
    """The health page counts workers from Redis; a restarted Redis has forgotten them all."""
    from rq import Worker

    global _server
    _server = private_redis
    queue = _queue()
    worker = ReconnectingWorker([queue], connection=queue.connection)
    worker.register_birth()
    _connection().flushall()  # what a restart without persistence leaves
    assert Worker.all(connection=queue.connection) == []

    worker.heartbeat()

    assert [w.name for w in Worker.all(connection=queue.connection)] == [worker.name]
