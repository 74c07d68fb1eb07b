"""The console's health: is every periodic task running, are calls and receipts moving, is the queue alive.

One report, read by the System health page, the banner on every console page, `manage.py health` and (its cheap
cousin `liveness_problems`) `/healthz`. Each check is ok, warning or critical by thresholds from settings; the whole
report costs four database queries and, with Redis, a handful of Redis commands on a short-timeout connection.

This module reads; it changes nothing. It does not import the job layer: whether this process runs the in-process
scheduler thread is the caller's to say (`scheduler_running`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Count, F, Max, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from notifications.models import CallRecord, PeriodicRun, ReceiptDelivery

logger = logging.getLogger(__name__)

OK, WARNING, CRITICAL = "ok", "warning", "critical"
SEVERITY = {OK: 0, WARNING: 1, CRITICAL: 2}
STATE_LABELS = {OK: gettext_lazy("OK"), WARNING: gettext_lazy("Warning"), CRITICAL: gettext_lazy("Critical")}

TASKS, CALLS, RECEIPTS, QUEUE = "tasks", "calls", "receipts", "queue"
GROUP_LABELS = {
    TASKS: gettext_lazy("Periodic tasks"),
    CALLS: pgettext_lazy("health", "Calls"),
    RECEIPTS: gettext_lazy("Receipts"),
    QUEUE: gettext_lazy("Job queue and workers"),
}
ERROR_SHOWN_CHARS = 300


@dataclass(frozen=True)
class TaskSpec:
    """A periodic task the console expects to see in PeriodicRun, and the setting that holds its interval."""

    label: str
    interval_setting: str
    default_interval: float
    essential: bool = True  # never having run is critical (otherwise a warning)
    affects_calls: bool = True


# The tasks the scheduler runs. Rows with other names are shown too, judged by their own result (and by
# HEALTH_TASK_INTERVALS when it names them); a name listed here with no row is "never ran".
EXPECTED_TASKS: dict[str, TaskSpec] = {
    "calls_follow_up": TaskSpec(gettext_lazy("Call follow-up"), "CALL_FOLLOW_UP_INTERVAL_SECONDS", 60),
    "dispatch_wake": TaskSpec(gettext_lazy("Dispatcher wake-up"), "CALL_DISPATCH_WAKE_INTERVAL_SECONDS", 30),
    "receipt_inbox_apply": TaskSpec(gettext_lazy("Receipt inbox"), "RECEIPT_INBOX_APPLY_INTERVAL_SECONDS", 30),
    "receipt_inbox_prune": TaskSpec(
        gettext_lazy("Receipt inbox pruning"), "RECEIPT_INBOX_PRUNE_INTERVAL_SECONDS", 3600, essential=False, affects_calls=False
    ),
    "campaign_send": TaskSpec(gettext_lazy("Campaign sender"), "CAMPAIGN_SEND_INTERVAL_SECONDS", 5),
    "voice_file_audit_sync": TaskSpec(
        gettext_lazy("Voice file review sync"), "VOICE_FILE_AUDIT_SYNC_INTERVAL_SECONDS", 300, essential=False, affects_calls=False
    ),
    "alerts_check": TaskSpec(gettext_lazy("Alerts check"), "ALERTS_CHECK_INTERVAL_SECONDS", 60, affects_calls=False),
    "calls_bill": TaskSpec(gettext_lazy("Billing"), "USAGE_BILL_INTERVAL_SECONDS", 60, essential=False, affects_calls=False),
}


@dataclass
class Check:
    """One line of the report: what was looked at, its state, a sentence for people and figures for machines."""

    key: str
    group: str
    label: str
    state: str
    summary: str
    figures: dict[str, Any] = field(default_factory=dict)
    # Something is late (a task not run, calls or receipts waiting too long): the console's banner shows these.
    stale: bool = False
    affects_calls: bool = False
    run: PeriodicRun | None = None  # for pages (its times as datetimes); not part of the JSON

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "group": self.group, "label": str(self.label), "state": self.state, "summary": self.summary,
            "stale": self.stale, "affects_calls": self.affects_calls, "figures": self.figures,
        }


@dataclass
class HealthReport:
    checked_at: datetime
    checks: list[Check]

    @property
    def state(self) -> str:
        return max((check.state for check in self.checks), key=SEVERITY.__getitem__, default=OK)

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def problems(self) -> list[Check]:
        """The checks the banner names: critical ones and late ones, worst first."""
        shown = [check for check in self.checks if check.state == CRITICAL or (check.stale and check.state != OK)]
        return sorted(shown, key=lambda check: -SEVERITY[check.state])

    @property
    def calls_delayed(self) -> bool:
        return any(check.affects_calls for check in self.problems)

    def groups(self) -> list[tuple[str, str, list[Check]]]:
        """(group key, label, checks) in page order, empty groups left out."""
        return [
            (key, str(label), [check for check in self.checks if check.group == key])
            for key, label in GROUP_LABELS.items()
            if any(check.group == key for check in self.checks)
        ]

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "checked_at": self.checked_at.isoformat(), "checks": [c.as_dict() for c in self.checks]}


def health_report(*, scheduler_running: bool = False, now: datetime | None = None) -> HealthReport:
    """Look at everything once and judge each part; `scheduler_running`: this process runs the in-process scheduler."""
    now = now or timezone.now()
    runs = {run.name: run for run in PeriodicRun.objects.all()}
    checks = [_task_check(name, runs.get(name), now) for name in [*EXPECTED_TASKS, *sorted(set(runs) - set(EXPECTED_TASKS))]]
    calls = call_figures(now)
    checks += [_queued_check(calls, now), _sending_check(calls, now), _unknown_check(calls, now)]
    checks += _receipt_checks(calls, now)
    if settings.REDIS_URL:
        checks += _redis_checks(now)
    else:
        checks.append(_embedded_scheduler_check(checks, scheduler_running=scheduler_running))
    return HealthReport(checked_at=now, checks=checks)


def liveness_problems() -> list[str]:
    """What stops this process serving at all (for /healthz): the database, and Redis when configured. Names only."""
    problems = []
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("health: the database does not answer")
        problems.append("database")
    if settings.REDIS_URL:
        try:
            _redis().ping()
        except Exception:
            logger.exception("health: Redis does not answer")
            problems.append("redis")
    return problems


# ----- periodic tasks -----

def task_interval(name: str) -> float | None:
    """Seconds between two runs of the task: HEALTH_TASK_INTERVALS first, then the task's own setting."""
    overrides = settings.HEALTH_TASK_INTERVALS
    if name in overrides:
        return float(overrides[name])
    spec = EXPECTED_TASKS.get(name)
    if spec is None:
        return None
    return float(getattr(settings, spec.interval_setting, spec.default_interval))


def _task_check(name: str, run: PeriodicRun | None, now: datetime) -> Check:
    spec = EXPECTED_TASKS.get(name)
    label = str(spec.label) if spec else name
    interval = task_interval(name)
    check = Check(
        key=f"task:{name}", group=TASKS, label=label, state=OK, summary="", affects_calls=spec.affects_calls if spec else False,
        figures={
            "name": name, "interval_seconds": interval, "started_at": None, "finished_at": None, "succeeded": None,
            "run_count": 0, "summary": "", "error": "",
        },
    )
    if run is None or (run.started_at is None and run.finished_at is None):
        check.state = CRITICAL if (spec is None or spec.essential) else WARNING
        check.stale = True
        check.summary = _("Never ran: no scheduler has started it.")
        return check
    error = (run.error or "").strip()[:ERROR_SHOWN_CHARS]
    check.figures.update({
        "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at), "succeeded": run.succeeded,
        "run_count": run.run_count, "summary": run.summary, "error": error,
    })
    check.run = run
    running = run.started_at is not None and (run.finished_at is None or run.finished_at < run.started_at)
    if running:
        quiet = (now - run.started_at).total_seconds()
        sentence = _("Running for %(age)s.") % {"age": duration_text(quiet)}
    else:
        quiet = (now - run.finished_at).total_seconds()
        sentence = _("Last finished %(age)s ago.") % {"age": duration_text(quiet)}
    check.figures["quiet_seconds"] = round(quiet, 1)
    parts = [sentence]
    if interval:
        if quiet > interval * settings.HEALTH_CRITICAL_INTERVALS:
            check.state, check.stale = CRITICAL, True
        elif quiet > interval * settings.HEALTH_STALE_INTERVALS:
            check.state, check.stale = WARNING, True
        if check.stale:
            parts.append(_("Expected every %(interval)s.") % {"interval": duration_text(interval)})
    if run.finished_at is not None and not run.succeeded:
        check.state = max(check.state, WARNING, key=SEVERITY.__getitem__)
        parts.append(_("The last run failed: %(error)s") % {"error": error or _("no error recorded")})
    elif run.summary and not running:
        parts.append(run.summary)
    check.summary = " ".join(parts)
    return check


# ----- calls -----

WAITING_FOR_RECEIPT = (CallRecord.Status.ACCEPTED, CallRecord.Status.RINGING, CallRecord.Status.ANSWERED)


def call_figures(now: datetime) -> dict[str, Any]:
    """Every call figure in one query over the open statuses (an IN list, so the (status, created_at) index serves it)."""
    status = CallRecord.Status
    due = Q(status=status.QUEUED) & (Q(dispatch_after__isnull=True) | Q(dispatch_after__lte=now))
    silence_cutoff = now - timedelta(minutes=settings.HEALTH_RECEIPT_SILENCE_MINUTES)
    waiting = Q(status__in=WAITING_FOR_RECEIPT, placed_elsewhere=False, sent_at__lt=silence_cutoff)
    return CallRecord.objects.filter(status__in=[status.QUEUED, status.SENDING, status.UNKNOWN, *WAITING_FOR_RECEIPT]).aggregate(
        queued=Count("id", filter=Q(status=status.QUEUED)),
        queued_due=Count("id", filter=due),
        # A call retried with backoff has waited since its "not before" time, not since it was created.
        oldest_due=Min(Coalesce(F("dispatch_after"), F("created_at")), filter=due),
        sending=Count("id", filter=Q(status=status.SENDING)),
        oldest_sending=Min("updated_at", filter=Q(status=status.SENDING)),
        unknown=Count("id", filter=Q(status=status.UNKNOWN)),
        oldest_unknown=Min("created_at", filter=Q(status=status.UNKNOWN)),
        newest_waiting_sent=Max("sent_at", filter=waiting),
    )


def _level(age: float | None, warning: float, critical: float) -> str:
    if age is None:
        return OK
    return CRITICAL if age > critical else WARNING if age > warning else OK


def _queued_check(calls: dict, now: datetime) -> Check:
    age = _age(calls["oldest_due"], now)
    state = _level(age, settings.HEALTH_QUEUED_WARNING_SECONDS, settings.HEALTH_QUEUED_CRITICAL_SECONDS)
    count, due = calls["queued"], calls["queued_due"]
    if not count:
        summary = _("No call is waiting to be sent.")
    elif due:
        summary = ngettext(
            "%(count)d call queued; the oldest has waited %(age)s.", "%(count)d calls queued; the oldest has waited %(age)s.", count
        ) % {"count": count, "age": duration_text(age)}
    else:
        summary = ngettext(
            "%(count)d call queued, waiting to be retried later.", "%(count)d calls queued, waiting to be retried later.", count
        ) % {"count": count}
    return Check(
        key="calls_queued", group=CALLS, label=_("Queued calls"), state=state, summary=summary, stale=state != OK, affects_calls=True,
        figures={"count": count, "due": due, "oldest_due_age_seconds": _round(age)},
    )


def _sending_check(calls: dict, now: datetime) -> Check:
    age = _age(calls["oldest_sending"], now)
    state = _level(age, settings.HEALTH_SENDING_WARNING_SECONDS, settings.HEALTH_SENDING_CRITICAL_SECONDS)
    count = calls["sending"]
    if not count:
        summary = _("No call is being sent.")
    else:
        summary = ngettext(
            "%(count)d call being sent; the oldest for %(age)s.", "%(count)d calls being sent; the oldest for %(age)s.", count
        ) % {"count": count, "age": duration_text(age)}
    if state != OK:
        summary += " " + _("A worker may have stopped mid-send; the follow-up marks such calls as unclear, never sends them again.")
    return Check(
        key="calls_sending", group=CALLS, label=_("Calls being sent"), state=state, summary=summary, stale=state != OK, affects_calls=True,
        figures={"count": count, "oldest_age_seconds": _round(age)},
    )


def _unknown_check(calls: dict, now: datetime) -> Check:
    age = _age(calls["oldest_unknown"], now)
    state = _level(
        age, settings.HEALTH_UNKNOWN_WARNING_MINUTES * 60, settings.HEALTH_UNKNOWN_CRITICAL_MINUTES * 60
    )
    count = calls["unknown"]
    if not count:
        summary = _("No call has an unclear result.")
    else:
        summary = ngettext(
            "%(count)d call unclear, being checked; the oldest was made %(age)s ago.",
            "%(count)d calls unclear, being checked; the oldest was made %(age)s ago.",
            count,
        ) % {"count": count, "age": duration_text(age)}
    return Check(
        key="calls_unknown", group=CALLS, label=_("Calls with an unclear result"), state=state, summary=summary,
        stale=state != OK, affects_calls=True, figures={"count": count, "oldest_age_seconds": _round(age)},
    )


# ----- receipts -----

def inbox_pending() -> dict[str, Any]:
    """The receipt pushes not applied yet: their number and when the oldest arrived."""
    return ReceiptDelivery.objects.filter(state=ReceiptDelivery.State.PENDING).aggregate(count=Count("id"), oldest=Min("received_at"))


def last_receipt_at() -> datetime | None:
    # Newest first on the received_at index: an aggregate over the whole inbox would read 90 days of it.
    return ReceiptDelivery.objects.order_by("-received_at").values_list("received_at", flat=True).first()


def _receipt_checks(calls: dict, now: datetime) -> list[Check]:
    pending = inbox_pending()
    last = last_receipt_at()

    age = _age(pending["oldest"], now)
    state = _level(age, settings.HEALTH_INBOX_WARNING_SECONDS, settings.HEALTH_INBOX_CRITICAL_SECONDS)
    if not pending["count"]:
        summary = _("Every receipt received has been applied.")
    else:
        summary = ngettext(
            "%(count)d push waiting to be applied; the oldest arrived %(age)s ago.",
            "%(count)d pushes waiting to be applied; the oldest arrived %(age)s ago.",
            pending["count"],
        ) % {"count": pending["count"], "age": duration_text(age)}
    backlog = Check(
        key="receipt_inbox", group=RECEIPTS, label=_("Receipt inbox backlog"), state=state, summary=summary, stale=state != OK,
        affects_calls=True, figures={"pending": pending["count"], "oldest_pending_age_seconds": _round(age)},
    )

    # Receipts have stopped if a call of ours was accepted long enough ago to have its receipt, after the last one came.
    waiting_sent = calls["newest_waiting_sent"]
    silent = waiting_sent is not None and (last is None or last < waiting_sent)
    if last is None:
        summary = _("No receipt has been received yet.")
    else:
        summary = _("The last receipt arrived %(age)s ago.") % {"age": duration_text(_age(last, now))}
    if silent:
        summary += " " + _(
            "Calls accepted more than %(minutes)s minutes ago are still waiting for theirs: check the receipt address "
            "and token configured at the provider."
        ) % {"minutes": _number(settings.HEALTH_RECEIPT_SILENCE_MINUTES)}
    received = Check(
        key="receipt_last", group=RECEIPTS, label=_("Last receipt received"), state=WARNING if silent else OK, summary=summary,
        stale=silent, affects_calls=True, figures={"last_received_at": _iso(last), "age_seconds": _round(_age(last, now))},
    )
    return [backlog, received]


# ----- queue and workers -----

def _redis():
    import redis

    timeout = settings.HEALTH_REDIS_TIMEOUT_SECONDS
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout)


def _redis_checks(now: datetime) -> list[Check]:
    from rq import Queue, Worker
    from rq.cron_scheduler_registry import get_registry_key
    from rq.defaults import DEFAULT_CRON_SCHEDULER_TTL
    from rq.registry import FailedJobRegistry

    connection = _redis()
    try:
        failed = {
            name: FailedJobRegistry(name, connection=connection).get_job_count(cleanup=False) for name in settings.RQ_QUEUES
        }
        workers = Worker.all(connection=connection)
        # rq's cron schedulers beat into a sorted set; one that stopped beating is no longer alive.
        cron = connection.zcount(get_registry_key(), now.timestamp() - DEFAULT_CRON_SCHEDULER_TTL, "+inf")
        queued = {name: Queue(name, connection=connection).count for name in settings.RQ_QUEUES}
    except Exception as error:  # a Redis that does not answer is the finding, not a crash of the page
        logger.warning("health: Redis does not answer: %s", type(error).__name__)
        summary = _("Redis does not answer: no job runs and no call is sent.")
        return [Check(key="workers", group=QUEUE, label=_("Workers"), state=CRITICAL, summary=summary, stale=True, affects_calls=True,
                      figures={"redis": False})]
    finally:
        connection.close()

    total_failed = sum(failed.values())
    failed_check = Check(
        key="failed_jobs", group=QUEUE, label=_("Failed jobs"), state=WARNING if total_failed else OK,
        summary=(ngettext("%(count)d failed job kept in the queue's registry (see the queue dashboard).",
                          "%(count)d failed jobs kept in the queue's registry (see the queue dashboard).", total_failed)
                 % {"count": total_failed}) if total_failed else _("No failed job."),
        figures={"count": total_failed, "by_queue": failed},
    )
    busy = sum(1 for worker in workers if worker.get_state() == "busy")
    if workers:
        summary = ngettext("%(count)d worker alive (%(busy)d busy).", "%(count)d workers alive (%(busy)d busy).", len(workers)) % {
            "count": len(workers), "busy": busy}
    else:
        summary = _("No worker is alive: jobs wait in the queue and no call is sent.")
    summary += " " + ngettext("%(count)d job waiting in the queue.", "%(count)d jobs waiting in the queue.", sum(queued.values())) % {
        "count": sum(queued.values())}
    workers_check = Check(
        key="workers", group=QUEUE, label=_("Workers"), state=OK if workers else CRITICAL, summary=summary, stale=not workers,
        affects_calls=True,
        figures={"redis": True, "alive": len(workers), "busy": busy, "queued_jobs": queued},
    )
    if cron:
        cron_summary = ngettext("%(count)d cron scheduler alive.", "%(count)d cron schedulers alive.", cron) % {"count": cron}
    else:
        cron_summary = _("No cron scheduler is alive: periodic tasks are not enqueued. Run `manage.py runcron`.")
    cron_check = Check(
        key="cron", group=QUEUE, label=_("Scheduler"), state=OK if cron else CRITICAL, summary=cron_summary, stale=not cron,
        affects_calls=True, figures={"alive": cron},
    )
    return [failed_check, workers_check, cron_check]


def _embedded_scheduler_check(checks: list[Check], *, scheduler_running: bool) -> Check:
    """Without Redis the in-process scheduler of `runconsole` runs everything periodic."""
    tasks_alive = any(check.group == TASKS and check.figures.get("started_at") and not check.stale for check in checks)
    if scheduler_running:
        state, summary = OK, _("The in-process scheduler is running in this process.")
    elif tasks_alive:
        # `manage.py health` is a process of its own: the thread it cannot see shows in the periodic runs.
        state, summary = OK, _("The in-process scheduler runs in another process: periodic tasks ran recently.")
    else:
        state, summary = CRITICAL, _("No scheduler is running: start the console with `manage.py runconsole` (make run).")
    return Check(
        key="workers", group=QUEUE, label=_("Scheduler"), state=state, summary=summary, stale=state != OK, affects_calls=True,
        figures={"redis": None, "in_process_scheduler": scheduler_running},
    )


# ----- formatting -----

def duration_text(seconds: float | None) -> str:
    """A short, translated length of time with two units at most: "45 s", "3 min 20 s", "2 h 5 min", "4 d 1 h"."""
    if seconds is None:
        return "—"
    total = max(int(seconds), 0)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
    return _("%(s)d s") % {"s": secs}


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max((now - moment).total_seconds(), 0.0)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _number(value: float) -> str:
    return f"{value:g}"
