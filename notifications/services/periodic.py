"""Running a periodic task: one run at a time, every run recorded in PeriodicRun for the health page.

The scheduler (RQ cron with Redis, the in-process thread otherwise) only says "it is time"; whether the run goes
ahead is decided here, so the schedule itself never has to be repaired:

- One run of a task at a time: with Redis a lock per task, held for `lock_seconds` and renewed by a thread while the
  run goes on. A run longer than its interval keeps its lock; the runs due meanwhile are skipped. A worker killed
  with `kill -9` renews nothing, so its lock expires within `lock_seconds` and the next run goes ahead.
  Without Redis the lock is the process's own (the embedded console is one process).
- A run enqueued before the latest run started is skipped too: the work it asked for is being (or was) done. This
  keeps a backlog from building up behind a long run when workers are few.
"""
import dataclasses
import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from notifications.models import PeriodicRun
from notifications.texts import in_each_language

logger = logging.getLogger(__name__)

LOCK_KEY = "voiceadmin:periodic:{name}:running"
SUMMARY_MAX_CHARS = 2000
ERROR_MAX_CHARS = 2000

_local_locks: dict[str, threading.Lock] = {}
_local_locks_guard = threading.Lock()


def lock_seconds_for(interval: float) -> int:
    """How long a task's lock lives without renewal: at most one interval (so a killed run blocks at most that long),
    at least a few seconds (so renewal has time)."""
    return int(max(3, min(float(interval), 60)))


class _RedisLock:
    """A per-task lock in Redis with expiry, renewed by a daemon thread while the run goes on."""

    def __init__(self, name: str, seconds: int):
        import django_rq

        self._lock = django_rq.get_connection("default").lock(
            LOCK_KEY.format(name=name), timeout=seconds, blocking=False, thread_local=False
        )
        self._seconds = seconds
        self._done = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> bool:
        if not self._lock.acquire(blocking=False):
            return False
        self._renewer = threading.Thread(target=self._renew, name="voiceadmin-lock-renewal", daemon=True)
        self._renewer.start()
        return True

    def _renew(self) -> None:
        while not self._done.wait(self._seconds / 3):
            try:
                self._lock.extend(self._seconds, replace_ttl=True)
            except Exception as exc:  # Redis restarting: the run goes on; another may start once the lock is gone
                logger.warning("could not renew the lock %s: %s", self._lock.name, exc)

    def release(self) -> None:
        self._done.set()
        try:
            self._lock.release()
        except Exception:  # expired or Redis away: it expires by itself
            pass


class _LocalLock:
    def __init__(self, name: str):
        with _local_locks_guard:
            self._lock = _local_locks.setdefault(name, threading.Lock())

    def acquire(self) -> bool:
        return self._lock.acquire(blocking=False)

    def release(self) -> None:
        self._lock.release()


def _task_lock(name: str, seconds: int):
    return _RedisLock(name, seconds) if settings.REDIS_URL else _LocalLock(name)


@contextmanager
def periodic_record(name: str):
    """Record one run of task `name`: start time and run count now, then the end, the summary or the error.

    The body may set `run.summary` (anything with a `__str__`). An exception is recorded and raised again, so the
    queue counts the job as failed too.
    """
    run = _Run()
    now = timezone.now()
    PeriodicRun.objects.get_or_create(name=name)
    PeriodicRun.objects.filter(name=name).update(started_at=now, run_count=F("run_count") + 1)
    try:
        yield run
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]
        PeriodicRun.objects.filter(name=name).update(finished_at=timezone.now(), succeeded=False, summaries={}, error=error)
        raise
    PeriodicRun.objects.filter(name=name).update(
        finished_at=timezone.now(), succeeded=True, error="",
        summaries=in_each_language(lambda: str(run.summary or "")[:SUMMARY_MAX_CHARS]) if run.summary else {},
    )


class _Run:
    summary = None


def _did_something(summary) -> bool:
    """Whether any count in a run's summary is above zero. Idle runs are logged at DEBUG only: several tasks are due
    every few seconds, and their empty runs would bury the lines that matter."""
    if not dataclasses.is_dataclass(summary):
        return summary is not None
    return any(type(value) is int and value for value in vars(summary).values())  # flags (bool) are not counts


def periodic_task_run(name: str, func: Callable[[], object], *, interval: float,
                      requested_at: datetime | None = None) -> object | None:
    """Run `func()` as task `name` unless a run of it is going on (or started after `requested_at`).

    Returns what `func` returned, or None when the run was skipped.
    """
    lock = _task_lock(name, lock_seconds_for(interval))
    if not lock.acquire():
        logger.info("periodic task %s skipped: a run is going on", name)
        return None
    try:
        if requested_at is not None:
            last_start = PeriodicRun.objects.filter(name=name).values_list("started_at", flat=True).first()
            if last_start is not None and last_start >= requested_at:
                logger.info("periodic task %s skipped: a run started after it was due", name)
                return None
        with periodic_record(name) as run:
            run.summary = func()
        logger.log(logging.INFO if _did_something(run.summary) else logging.DEBUG, "periodic task %s: %s", name, run.summary)
        return run.summary
    finally:
        lock.release()
