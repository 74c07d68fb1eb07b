"""The periodic tasks, one table for both modes.

With Redis this module is RQ's cron configuration: `python manage.py runcron` (or django-rq's
`python manage.py rqcron notifications.cron`) loads it and enqueues each task on the `default` queue every
interval; any worker runs it. Without Redis `runconsole` hands the same table to its in-process scheduler thread.

Why RQ's own CronScheduler (rq >= 2.4, here 3.0) and not rq-scheduler: it comes with the rq we already run (no
second package and no second scheduling model beside `enqueue_in`), it takes sub-minute intervals, and a cron tick
is an ordinary job, so a killed worker costs one run and the next tick goes to whichever worker is alive. Its gaps,
read in its code and tracker, are handled here: several cron processes would each enqueue every task (there is no
leader lock; rq-scheduler's lock has its own duplicate-job reports, rq/rq#2338, rq/rq-scheduler#312), and its loop
ends on a Redis ConnectionError. `runcron` adds a leader lock and reconnects; the job itself never runs twice at once
(services/periodic.py), so even a duplicate tick is harmless.
"""
from dataclasses import dataclass

from django.conf import settings

from notifications import jobs
from notifications.services.health import EXPECTED_TASKS
from notifications.work import Periodic

QUEUE = "default"


@dataclass(frozen=True)
class PeriodicTask:
    name: str  # the PeriodicRun name the health page shows
    job: object  # a function of notifications.jobs
    interval_setting: str
    job_timeout: int  # seconds; RQ stops a run that takes longer

    @property
    def interval(self) -> int:
        return max(1, int(getattr(settings, self.interval_setting)))


# Each task's name and interval setting are the health page's (services/health.py, which may not import the jobs):
# written once there, the jobs and their timeouts are added here.
_JOBS = {
    "calls_follow_up": (jobs.calls_follow_up_job, 1800),
    "dispatch_wake": (jobs.dispatch_wake_job, 600),
    "receipt_inbox_apply": (jobs.receipt_inbox_periodic_job, 1800),
    "receipt_inbox_prune": (jobs.receipt_inbox_prune_job, 3600),
    "campaign_send": (jobs.campaign_send_job, 300),
    "voice_file_audit_sync": (jobs.voice_file_audit_sync_job, 600),
    # Each notification waits at most ALERTS_DELIVERY_TIMEOUT_SECONDS, a batch of them a few minutes at worst.
    "alerts_check": (jobs.alerts_check_job, 900),
    # A backlog is billed BILL_BATCHES_PER_RUN batches a run: seconds, not minutes.
    "calls_bill": (jobs.calls_bill_job, 900),
}
PERIODIC_TASKS = tuple(
    PeriodicTask(name, job, EXPECTED_TASKS[name].interval_setting, job_timeout=timeout) for name, (job, timeout) in _JOBS.items()
)


def in_process_tasks() -> list[Periodic]:
    """The table as the in-process scheduler takes it (intervals read now, so tests and `runconsole` may set them)."""
    return [Periodic(task.name, task.job, task.interval) for task in PERIODIC_TASKS]


def register_with_rq() -> None:
    """Put every task in RQ's cron registry (what `rqcron`/`runcron` read after importing this module)."""
    from rq import cron

    for task in PERIODIC_TASKS:
        cron.register(
            task.job, queue_name=QUEUE, interval=task.interval, name=task.name, job_timeout=task.job_timeout,
            # A tick nobody picked up within a few intervals (no worker alive) is dropped: the next one does its work.
            ttl=max(60, task.interval * 3),
            result_ttl=max(600, task.interval * 10),
        )


if settings.REDIS_URL:
    register_with_rq()
