"""The job layer: each job runs services; nothing but entry points (cron config, commands, views) imports this module.

Jobs reach the queue by their dotted path (`notifications.work`), so the services that ask for them never import
this module. With Redis they run on RQ workers; without it, in the `runconsole` process's scheduler thread (or inline
in a command or a test). The same functions run in both modes.

Calls are sent by a dispatcher job rather than a job per call: it claims every queued call that is due, a batch at a
time, so the queue's own cost is paid per batch. A new call only wakes it (at most one wake-up waits in the queue).

The periodic tasks (table in notifications/cron.py) go through `services.periodic.periodic_task_run`: one run of
each at a time, each run recorded in PeriodicRun for the health page.
"""
import logging
import time

from django.conf import settings

from notifications import work
from notifications.services import calls_dispatch
from notifications.services.calls_dispatch import calls_dispatch_due, calls_dispatch_waiting
from notifications.services.calls_follow_up import calls_follow_up
from notifications.services.periodic import periodic_task_run
from notifications.services.voice_file_audit import voice_file_audit_sync
from notifications.work import DISPATCH_WAKE_KEY, INBOX_WAKE_KEY, scheduler

logger = logging.getLogger(__name__)

__all__ = ["DISPATCH_WAKE_KEY", "INBOX_WAKE_KEY", "scheduler"]  # scheduler: `runconsole` and the health banner read it

DISPATCH_JOB_SECONDS = 10.0  # a dispatcher run hands over after this, so other jobs get a worker too
CAMPAIGN_SEND_JOB = "notifications.jobs.campaign_send_job"


def _requested_at():
    """When the current RQ job was enqueued (None in-process): a run due before the last run started is not needed."""
    if not settings.REDIS_URL:
        return None
    from rq import get_current_job

    job = get_current_job()
    return job.enqueued_at if job is not None else None


# ----- woken on commit -----

def calls_dispatch_job() -> None:
    """Send the queued calls that are due, batch after batch; while full batches keep coming, wake a helper."""
    work.wake_clear(DISPATCH_WAKE_KEY)  # calls committed from now on need a run of their own
    deadline = time.monotonic() + DISPATCH_JOB_SECONDS
    batch = calls_dispatch.DISPATCH_BATCH
    while calls_dispatch_due(limit=batch) == batch:
        if settings.REDIS_URL:
            work.wake_now(DISPATCH_WAKE_KEY, work.DISPATCH_JOB)  # more are waiting: another worker can share them
            if time.monotonic() > deadline:
                return  # the woken run carries on


def receipt_inbox_apply_job() -> None:
    """Apply the pushes waiting in the receipt inbox, oldest first, until none is left (woken by each push).

    Runs of it may overlap: each push is claimed by one run (SKIP LOCKED in the service).
    """
    from notifications.services.receipt_inbox import receipt_inbox_apply_pending

    work.wake_clear(INBOX_WAKE_KEY)  # pushes stored from now on need a run of their own
    receipt_inbox_apply_pending()


def inbox_wake() -> None:
    """Once the current transaction commits, make sure a run of the receipt inbox is on its way (the webhook's call)."""
    work.inbox_wake()


def dispatch_wake() -> None:
    work.dispatch_wake()


# ----- periodic (notifications/cron.py) -----

def calls_follow_up_job():
    """Detail queries, interrupted sends, calls closed as "outcome unknown"; then today's dashboard figures."""
    def run():
        from notifications.services.stats import daily_stats_refresh_recent

        summary = calls_follow_up()
        # The dashboard's daily figures for today, yesterday and days a late receipt touched.
        daily_stats_refresh_recent()
        return summary

    return _text(periodic_task_run("calls_follow_up", run, interval=settings.CALL_FOLLOW_UP_INTERVAL_SECONDS,
                                   requested_at=_requested_at()))


def dispatch_wake_job():
    """Send queued calls left waiting: a wake-up lost with a killed worker or a Redis restart, a lost retry."""
    return _text(periodic_task_run("dispatch_wake", lambda: calls_dispatch_waiting(seconds=DISPATCH_JOB_SECONDS),
                                   interval=settings.CALL_DISPATCH_WAKE_INTERVAL_SECONDS, requested_at=_requested_at()))


def receipt_inbox_periodic_job():
    """Apply pushes whose wake-up was lost, and record receipts unmatched past their grace as calls placed elsewhere."""
    from notifications.services.receipt_inbox import receipt_inbox_apply_pending

    return _text(periodic_task_run("receipt_inbox_apply", receipt_inbox_apply_pending,
                                   interval=settings.RECEIPT_INBOX_APPLY_INTERVAL_SECONDS, requested_at=_requested_at()))


def receipt_inbox_prune_job():
    """Delete pushes older than RECEIPT_INBOX_KEEP_DAYS."""
    from notifications.services.receipt_inbox import receipt_inbox_prune

    return _text(periodic_task_run("receipt_inbox_prune", receipt_inbox_prune,
                                   interval=settings.RECEIPT_INBOX_PRUNE_INTERVAL_SECONDS, requested_at=_requested_at()))


def alerts_check_job():
    """Check every active alert rule, open and resolve alerts, and send the notifications due."""
    from notifications.services.alerts import alerts_check

    return _text(periodic_task_run("alerts_check", alerts_check, interval=settings.ALERTS_CHECK_INTERVAL_SECONDS,
                                   requested_at=_requested_at()))


def calls_bill_job():
    """Give every call that has ended its billed units and cost (the pages recount the days they read)."""
    from notifications.services.usage import BillingRun, calls_bill

    return _text(periodic_task_run("calls_bill", lambda: BillingRun(billed=calls_bill()),
                                   interval=settings.USAGE_BILL_INTERVAL_SECONDS, requested_at=_requested_at()))


def campaign_send_job():
    """The campaign sender: tick every second while campaigns send, then hand over (one sender at a time: the lock)."""
    from notifications.services.campaign_send import RUN_SECONDS, campaign_send_run

    summary = periodic_task_run("campaign_send", lambda: campaign_send_run(seconds=RUN_SECONDS),
                                interval=settings.CAMPAIGN_SEND_INTERVAL_SECONDS, requested_at=_requested_at())
    if summary is not None and summary.active and (settings.REDIS_URL or scheduler.running):
        # Still sending: the next run starts now, once this one's lock is released, rather than at the next tick.
        work.run_soon(CAMPAIGN_SEND_JOB)
    return _text(summary)


def voice_file_audit_sync_job():
    """Ask the provider about the voice files in review and record its final answers."""
    return _text(periodic_task_run("voice_file_audit_sync", voice_file_audit_sync,
                                   interval=settings.VOICE_FILE_AUDIT_SYNC_INTERVAL_SECONDS, requested_at=_requested_at()))


def _text(summary) -> str:
    """What the RQ job keeps as its result: the summary, or a word that the run was skipped."""
    return "skipped" if summary is None else str(summary)
