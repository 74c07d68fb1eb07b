"""RQ jobs: one service call each. `enqueue` runs them on Redis when configured, in-process otherwise.

Without Redis (the embedded default) a job runs inline once the transaction commits; delayed work (retries with
backoff, the periodic follow-up) goes to a small in-process scheduler thread that `runconsole` starts. The job
functions are the same in both modes.

Calls are sent by a dispatcher job rather than a job per call: it claims every queued call that is due, a batch at a
time, so the queue's own cost is paid per batch. A new call only wakes it (at most one wake-up waits in the queue).
"""
import heapq
import itertools
import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, transaction

logger = logging.getLogger(__name__)

FOLLOW_UP_CHAIN_KEY = "voiceadmin:calls-follow-up:next-job"
DISPATCH_WAKE_KEY = "voiceadmin:calls-dispatch:woken"
DISPATCH_WAKE_TTL = 60  # seconds; a wake-up lost with a killed worker stops blocking new ones after this
DISPATCH_JOB_SECONDS = 10.0  # a dispatcher run hands over after this, so other jobs get a worker too


def enqueue(func, *args) -> None:
    """Run `func(*args)` as a job once the current transaction commits."""
    transaction.on_commit(lambda: _enqueue_now(func, *args))


def enqueue_in(seconds: float, func, *args) -> None:
    """Run `func(*args)` about `seconds` after the current transaction commits."""
    transaction.on_commit(lambda: _enqueue_later(seconds, func, *args))


def _queue():
    import django_rq

    return django_rq.get_queue("default")


def _enqueue_now(func, *args) -> None:
    if settings.REDIS_URL:
        _queue().enqueue(func, *args)
    else:
        func(*args)


def _enqueue_later(seconds: float, func, *args) -> None:
    if settings.REDIS_URL:
        # RQ's scheduler keeps whole seconds and may start a job up to one early: never before it is due.
        _queue().enqueue_in(timedelta(seconds=seconds + 1), func, *args)
    elif scheduler.running:
        scheduler.add(seconds, func, *args)
    else:
        # No scheduler thread (a command or a test): wait here; the delays are a few seconds at most.
        time.sleep(seconds)
        func(*args)


class InProcessScheduler:
    """Runs delayed jobs and the periodic follow-up in one background thread of the embedded console."""

    def __init__(self):
        self._heap: list = []
        self._order = itertools.count()
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None
        self.follow_up_chained = False

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def add(self, seconds: float, func, *args) -> None:
        with self._wakeup:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._order), func, args))
            self._wakeup.notify()

    def start(self) -> None:
        if not self.running:
            self._thread = threading.Thread(target=self._run, name="voiceadmin-scheduler", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._wakeup.wait(timeout=self._heap[0][0] - time.monotonic() if self._heap else None)
                _due, _order, func, args = heapq.heappop(self._heap)
            close_old_connections()
            try:
                func(*args)
            except Exception:
                logger.exception("scheduled job %s failed", getattr(func, "__name__", func))
            finally:
                close_old_connections()


scheduler = InProcessScheduler()


def dispatch_wake() -> None:
    """Once the current transaction commits, make sure a dispatcher run is on its way."""
    transaction.on_commit(_dispatch_wake_now)


def _dispatch_wake_now() -> None:
    if settings.REDIS_URL:
        # A run waiting in the queue has not looked for calls yet, so it will find this one: no second run needed.
        if _queue().connection.set(DISPATCH_WAKE_KEY, 1, nx=True, ex=DISPATCH_WAKE_TTL):
            _queue().enqueue(calls_dispatch_job)
    else:
        calls_dispatch_job()


def calls_dispatch_job() -> None:
    """Send the queued calls that are due, batch after batch; while full batches keep coming, wake a helper."""
    from notifications.services.dialing import DISPATCH_BATCH, calls_dispatch_due  # services import this module

    if settings.REDIS_URL:
        _queue().connection.delete(DISPATCH_WAKE_KEY)  # calls committed from now on need a run of their own
    deadline = time.monotonic() + DISPATCH_JOB_SECONDS
    while calls_dispatch_due(limit=DISPATCH_BATCH) == DISPATCH_BATCH:
        if settings.REDIS_URL:
            _dispatch_wake_now()  # more are waiting: another worker can share them
            if time.monotonic() > deadline:
                return  # the woken run carries on


def calls_follow_up_job() -> None:
    """The periodic follow-up; it schedules its own next run, so one chain of it exists per deployment."""
    from notifications.services.dialing import calls_follow_up
    from notifications.services.stats import daily_stats_refresh_recent

    try:
        summary = calls_follow_up()
        logger.info("calls follow-up: %s", summary)
        # The dashboard's daily figures for today, yesterday and days a late receipt touched.
        daily_stats_refresh_recent()
    finally:
        follow_up_schedule(after=_current_job_id() or "in-process")


def _current_job_id() -> str | None:
    if not settings.REDIS_URL:
        return None
    from rq import get_current_job

    job = get_current_job()
    return job.id if job else None


def follow_up_schedule(*, after: str | None = None) -> bool:
    """Make sure the next follow-up run is scheduled, once: returns False when a run is already on its way.

    With Redis a key names the scheduled job; a run reschedules only if it is that job (so a stray second chain dies
    out), and the key expires if the chain breaks (a worker killed), letting the next call of this function restart it.
    Without Redis the in-process scheduler thread carries the chain.
    """
    interval = settings.CALL_FOLLOW_UP_INTERVAL_SECONDS
    if not settings.REDIS_URL:
        if not scheduler.running or (after is None and scheduler.follow_up_chained):
            return False
        scheduler.follow_up_chained = True
        scheduler.add(interval, calls_follow_up_job)
        return True
    connection = _queue().connection
    if after is None:
        if not connection.set(FOLLOW_UP_CHAIN_KEY, "starting", nx=True, ex=interval * 3):
            return False
    elif connection.get(FOLLOW_UP_CHAIN_KEY) != after.encode():
        return False
    job = _queue().enqueue_in(timedelta(seconds=interval), calls_follow_up_job)
    connection.set(FOLLOW_UP_CHAIN_KEY, job.id, ex=interval * 3)
    return True


INBOX_WAKE_KEY = "voiceadmin:receipt-inbox:woken"


def inbox_wake() -> None:
    """Once the current transaction commits, make sure a run of the receipt inbox is on its way."""
    transaction.on_commit(_inbox_wake_now)


def _inbox_wake_now() -> None:
    if settings.REDIS_URL:
        if _queue().connection.set(INBOX_WAKE_KEY, 1, nx=True, ex=DISPATCH_WAKE_TTL):
            _queue().enqueue(receipt_inbox_apply_job)
    elif scheduler.running:
        scheduler.add(0, receipt_inbox_apply_job)  # off the request thread: the provider waits 700 ms at most
    else:
        receipt_inbox_apply_job()


def receipt_inbox_apply_job() -> None:
    """Apply the pushes waiting in the receipt inbox, oldest first, until none is left."""
    from notifications.services.receipt_inbox import receipt_inbox_apply_pending

    if settings.REDIS_URL:
        _queue().connection.delete(INBOX_WAKE_KEY)  # pushes stored from now on need a run of their own
    receipt_inbox_apply_pending()
