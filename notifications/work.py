"""Asking for work to be done: services name a job by its dotted path, and it runs once the transaction commits.

This module is what breaks the import cycle between the services and the job layer: services import this module,
never `notifications.jobs`; the job functions are found by name (RQ takes the path as it is; in-process,
`import_string`). With Redis (`REDIS_URL`) a job goes to the `default` RQ queue. Without it (the embedded default)
it goes to the in-process scheduler thread when `runconsole` started one, and otherwise (a command, a test) runs
inline when the transaction commits.

Nothing here may fail or hold up a request or a commit hook: a job that cannot be put on the queue (Redis away) is
logged and left to the periodic tasks, which find the calls and pushes still waiting in the database.
"""
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

DISPATCH_JOB = "notifications.jobs.calls_dispatch_job"
INBOX_JOB = "notifications.jobs.receipt_inbox_apply_job"
DISPATCH_WAKE_KEY = "voiceadmin:calls-dispatch:woken"
INBOX_WAKE_KEY = "voiceadmin:receipt-inbox:woken"
# A wake-up lost with a killed worker stops blocking new ones after this (and the periodic tasks cover the gap).
WAKE_TTL_SECONDS = 60


def _queue():
    import django_rq

    return django_rq.get_queue("default")


def _resolve(job: str | Callable) -> Callable:
    return import_string(job) if isinstance(job, str) else job


def _job_name(job: str | Callable) -> str:
    return job if isinstance(job, str) else f"{job.__module__}.{job.__qualname__}"


def request(job: str | Callable, *args) -> None:
    """Run `job(*args)` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: run_soon(job, *args))


def request_later(seconds: float, job: str | Callable, *args) -> None:
    """Run `job(*args)` about `seconds` after the current transaction commits."""
    transaction.on_commit(lambda: run_later(seconds, job, *args))


def request_once(key: str, job: str | Callable) -> None:
    """Once the transaction commits, make sure a run of `job` is on its way: at most one waits in the queue.

    A run that has not started yet will find everything committed before it starts, so one waiting run is enough;
    the job calls `wake_clear(key)` as it starts, so work committed from then on gets a run of its own.
    """
    transaction.on_commit(lambda: wake_now(key, job))


def dispatch_wake() -> None:
    """Once the current transaction commits, make sure a dispatcher run is on its way (a burst of dials costs one)."""
    request_once(DISPATCH_WAKE_KEY, DISPATCH_JOB)


def inbox_wake() -> None:
    """Once the current transaction commits, make sure a run of the receipt inbox is on its way."""
    request_once(INBOX_WAKE_KEY, INBOX_JOB)


def run_soon(job: str | Callable, *args) -> None:
    """Hand `job(*args)` to the queue (or the in-process scheduler) now; inline only when neither exists."""
    if settings.REDIS_URL:
        try:
            _queue().enqueue(_job_name(job), *args)
        except Exception:  # Redis away: the periodic tasks find the work in the database
            logger.exception("could not enqueue %s; the periodic tasks will pick the work up", _job_name(job))
    elif scheduler.running:
        scheduler.add(0, job, *args)  # off the request thread: the console answers while the job runs
    else:
        _resolve(job)(*args)


def run_later(seconds: float, job: str | Callable, *args) -> None:
    if settings.REDIS_URL:
        try:
            # RQ's scheduler keeps whole seconds and may start a job up to one early: never before it is due.
            _queue().enqueue_in(timedelta(seconds=seconds + 1), _job_name(job), *args)
        except Exception:
            logger.exception("could not schedule %s; the periodic tasks will pick the work up", _job_name(job))
    elif scheduler.running:
        scheduler.add(seconds, job, *args)
    else:
        # No scheduler thread (a command or a test): wait here; the delays are a few seconds at most.
        time.sleep(seconds)
        _resolve(job)(*args)


_pending_wakes: set[str] = set()
_pending_lock = threading.Lock()


def wake_now(key: str, job: str | Callable) -> None:
    if settings.REDIS_URL:
        try:
            connection = _queue().connection
            if connection.set(key, 1, nx=True, ex=WAKE_TTL_SECONDS):
                _queue().enqueue(_job_name(job))
        except Exception:
            logger.exception("could not wake %s; the periodic tasks will pick the work up", _job_name(job))
    elif scheduler.running:
        with _pending_lock:
            if key in _pending_wakes:
                return
            _pending_wakes.add(key)
        scheduler.add(0, job)
    else:
        _resolve(job)()


def wake_clear(key: str) -> None:
    """Called by a woken job as it starts: work committed from now on needs a run of its own."""
    if settings.REDIS_URL:
        try:
            _queue().connection.delete(key)
        except Exception:
            logger.warning("could not clear the wake-up key %s; it expires in %d s", key, WAKE_TTL_SECONDS)
    else:
        with _pending_lock:
            _pending_wakes.discard(key)


@dataclass(frozen=True)
class Periodic:
    """One periodic task as the in-process scheduler runs it: a job and the seconds between two runs."""

    name: str
    job: str | Callable
    interval: float


class InProcessScheduler:
    """The embedded default's queue: delayed jobs and the periodic tasks, in threads of the `runconsole` process.

    One thread keeps the timetable; the jobs run on a few pool threads, so a long follow-up never holds up a
    dispatcher run or the receipt inbox. A job that raises is logged and the timetable goes on; a periodic task
    that is still running when it is due again is skipped by its own lock (services/periodic.py), never run twice.
    """

    def __init__(self, *, threads: int = 4):
        self._heap: list = []
        self._order = itertools.count()
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._threads = threads
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopping

    def add(self, seconds: float, job: str | Callable, *args, every: float | None = None) -> None:
        with self._wakeup:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._order), job, args, every))
            self._wakeup.notify()

    def start(self, periodic: Iterable[Periodic] = ()) -> None:
        """Start the threads (once) and run each periodic task now and then every `interval` seconds."""
        if self.running:
            return
        self._stopping = False
        self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="voiceadmin-job")
        for task in periodic:
            self.add(0, task.job, every=max(0.1, float(task.interval)))
        self._thread = threading.Thread(target=self._run, name="voiceadmin-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking jobs and wait for those running (tests; the console simply exits)."""
        with self._wakeup:
            self._stopping = True
            self._heap.clear()
            self._wakeup.notify()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._thread = self._pool = None

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._stopping and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._wakeup.wait(timeout=self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._stopping:
                    return
                due, _order, job, args, every = heapq.heappop(self._heap)
                if every is not None:
                    # The next run is timed from this one's due time, not its end: a slow run cannot stretch the timetable.
                    heapq.heappush(self._heap, (max(due + every, time.monotonic()), next(self._order), job, args, every))
            try:
                self._pool.submit(self._call, job, args)
            except RuntimeError:
                return  # the pool was shut down

    @staticmethod
    def _call(job, args) -> None:
        close_old_connections()
        try:
            _resolve(job)(*args)
        except Exception:
            logger.exception("job %s failed", _job_name(job))
        finally:
            close_old_connections()


scheduler = InProcessScheduler()
