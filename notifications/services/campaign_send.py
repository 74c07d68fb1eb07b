"""The campaign sender: each second, the rows due are turned into calls, paced, and sent through the test-call pipeline.

A tick (`campaign_send_tick`, once a wall-clock second while anything is sending) does, in order:

1. Reconcile: rows whose last call became final are done, or wait to be retried (busy, no answer, powered off,
   unreachable; up to the campaign's retries, `retry_interval_minutes` after the call ended, outside quiet hours).
2. Start: scheduled campaigns that are due become `sending`; sending campaigns with nothing left become `finished`.
3. Budget: the account's QPS less the share kept for test calls, floor(VMS_ACCOUNT_QPS × (1 − CAMPAIGN_TEST_CALL_SHARE))
   calls per aligned second for all campaigns together, shared by water-filling: each campaign gets an equal part up
   to its rate cap (and the rows it has due); what a capped campaign leaves goes to the others. Campaigns in their
   quiet hours get nothing (their rows stay waiting).
4. Send, in SLICES_PER_SECOND slices spread over the second, so the provider's own per-second window never sees a
   burst. The second's rows are claimed first, in one transaction per campaign (SKIP LOCKED, row order), checked with
   the rules of a test call (`calls_create.call_records_create_batch`: the do-not-call list, flow control per callee
   in one query, which defers a row rather than refusing it) and recorded as calls already claimed `sending` in the
   same transaction that marks the rows `calling`; each slice then only stamps its calls' sent_at and hands them to a
   thread of the sender's own pool, which sends them with the dispatcher's send code. A tick starting late in its
   second spreads its allowance over the slices it has left (`slice_quota`); a tick running past its second sends what
   it claimed at once, and the next tick starts at once. A call is never sent twice: a worker killed after the claim
   leaves `sending` records (up to a second's calls), which the follow-up settles as outcome unknown without
   redialling. The reconcile runs in a pool thread meanwhile: it only touches `calling` rows, the claim only due ones.
5. The window (`SendWindow`): each request waits, just before it leaves, until fewer than the budget left in the
   last second (and a guard), whatever that second's alignment. The provider counts requests as they arrive, in a
   window of its own that is not ours; slices budgeted per aligned second could still meet there (a slice answered
   slowly at the end of one second, the next second's first slice). The window is what makes "never above the budget"
   hold; the per-second budget only shares it fairly. What the window has let out this second, and what it still
   holds, is what the next tick counts as used.

Only one sender runs at a time: the periodic task `campaign_send` (notifications/cron.py) runs `campaign_send_run`
under the periodic tasks' lock (Redis with workers, the process's own in the embedded console).
"""
import logging
import math
import threading
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import AuditEntry, CallRecord, Campaign, CampaignRow
from notifications.rules import quiet_hours
from notifications.rules.company_clock import company_today
from notifications.services.audit import audit_record
from notifications.services.bulk import rows_update
from notifications.services.calls_create import BatchEntry, call_records_create_batch
from notifications.services.calls_dispatch import _dispatch_claimed  # the dispatcher's send code, for calls claimed here
from notifications.services.campaign_check import refusal_messages

logger = logging.getLogger(__name__)

SLICES_PER_SECOND = 10
RUN_SECONDS = 10.0  # a sender run hands over after this (to a run it enqueues), so its health row stays fresh
CLAIM_ROUNDS = 3  # a claim is repeated (at most this often) when rows it claimed were deferred by flow control
CLAIMS_PER_SECOND = 1  # claims per second, each for the rows of the next slices (one is cheapest: measured on PostgreSQL)
RECONCILE_BATCH = 5000
# Cancelled campaigns keep being reconciled this long after they ended: their last calls are still being settled.
CANCELLED_RECONCILE = timedelta(days=2)
DISPATCH_THREADS = 6  # slices being sent at once (each through the dispatcher's pool) while the next ones wait
# The window's span beyond one second: requests reach the provider a little after they leave, and not all equally late.
WINDOW_GUARD_SECONDS = 0.02

State = Campaign.State
RowState = CampaignRow.State
DUE_STATES = (RowState.WAITING, RowState.RETRY_WAIT)


@dataclass
class TickSummary:
    started: int = 0
    finished: int = 0
    reconciled: int = 0
    sent: int = 0
    deferred: int = 0
    refused: int = 0
    active: bool = False  # something is sending or still being settled: the run goes on

    def add(self, other: "TickSummary") -> None:
        for item in fields(self):
            if item.name != "active":
                setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))
        self.active = other.active

    def __str__(self) -> str:
        return _(
            "%(sent)d campaign calls sent, %(deferred)d deferred by flow control, %(refused)d refused, %(reconciled)d rows "
            "settled, %(started)d campaigns started, %(finished)d finished"
        ) % {"sent": self.sent, "deferred": self.deferred, "refused": self.refused, "reconciled": self.reconciled,
             "started": self.started, "finished": self.finished}


# ----- the pure parts -----

def campaign_budget() -> int:
    """Campaign calls allowed per second for all campaigns together: what test calls need is never used."""
    return max(0, math.floor(settings.VMS_ACCOUNT_QPS * (1 - settings.CAMPAIGN_TEST_CALL_SHARE)))


def budget_share(total: int, wants: dict) -> dict:
    """Share `total` calls among campaigns wanting `wants[key]` each (already capped by their rate cap): water-filling.

    Each gets an equal part; a campaign wanting less keeps only what it wants and the rest is shared among the others.
    Whole calls: the odd ones left by the division go to the first keys in order.
    """
    share = {key: 0 for key in wants}
    left = max(0, total)
    hungry = sorted((key for key in wants if wants[key] > 0), key=lambda key: (wants[key], str(key)))
    while left > 0 and hungry:
        part = left // len(hungry)
        if part == 0:
            for key in sorted(hungry, key=str)[:left]:
                share[key] += 1
            break
        still = []
        for key in hungry:
            give = min(part, wants[key] - share[key])
            share[key] += give
            left -= give
            if share[key] < wants[key]:
                still.append(key)
        hungry = still
    return share


def slice_quota(allowance: int, slice_index: int, *, slices: int = SLICES_PER_SECOND, first_slice: int = 0) -> int:
    """Calls allowed by the end of slice `slice_index` of a second (cumulative): `allowance` spread evenly over the
    slices the tick has left (`first_slice` to the last), so a tick starting late in its second still sends its whole
    allowance within that second (the provider's window is the aligned second) without a burst in one slice."""
    left = max(1, slices - first_slice)
    done = min(left, max(0, slice_index + 1 - first_slice))
    return math.ceil(allowance * done / left)


def campaign_quiet_window(campaign: Campaign):
    return quiet_hours.window_for(quiet_start=campaign.quiet_start, quiet_end=campaign.quiet_end,
                                  setting=settings.CAMPAIGN_QUIET_HOURS)


def campaign_quiet_until(campaign: Campaign, now: datetime | None = None) -> datetime | None:
    """When the campaign's quiet hours end, in the company's time zone, or None when it may call now."""
    local = timezone.localtime(now or timezone.now())
    return quiet_hours.quiet_until(local, campaign_quiet_window(campaign))


def _allowed_from(campaign: Campaign, moment: datetime) -> datetime:
    """`moment`, or the end of the quiet hours it falls in."""
    return quiet_hours.next_allowed(timezone.localtime(moment), campaign_quiet_window(campaign))


# ----- reconcile -----

def _reconcile_campaign_ids(now: datetime) -> list[int]:
    return list(Campaign.objects.filter(
        Q(state__in=[State.SENDING, State.PAUSED]) | Q(state=State.CANCELLED, finished_at__gt=now - CANCELLED_RECONCILE),
    ).values_list("pk", flat=True))


def campaign_reconcile(*, now: datetime | None = None, campaign_ids: list[int] | None = None) -> int:
    """Rows whose last call became final: retried later (retryable outcome, retries left, campaign not cancelled) or done."""
    now = now or timezone.now()
    campaign_ids = _reconcile_campaign_ids(now) if campaign_ids is None else campaign_ids
    if not campaign_ids:
        return 0
    campaigns = {campaign.pk: campaign for campaign in Campaign.objects.filter(pk__in=campaign_ids)}
    rows = list(
        CampaignRow.objects.filter(campaign_id__in=campaign_ids, state=RowState.CALLING,
                                   last_call__status__in=CallRecord.FINAL_STATUSES)
        .values_list("pk", "campaign_id", "attempts", "last_call__status", "last_call__outcome", "last_call__end_time",
                     "last_call__updated_at")[:RECONCILE_BATCH]
    )
    changes = []
    for pk, campaign_id, attempts, status, outcome, end_time, updated_at in rows:
        campaign = campaigns[campaign_id]
        change = {"id": pk, "state": RowState.DONE, "outcome": outcome or "", "final_status": status,
                  "next_attempt_at": None, "updated_at": now}
        if (outcome in Campaign.RETRYABLE_OUTCOMES and attempts <= campaign.max_retries
                and campaign.state != State.CANCELLED):
            ended = end_time or updated_at or now
            change["state"] = RowState.RETRY_WAIT
            change["next_attempt_at"] = _allowed_from(campaign, ended + timedelta(minutes=campaign.retry_interval_minutes))
        changes.append(change)
    with transaction.atomic():
        # Only rows still `calling`: a row settled by a concurrent tick keeps what that tick wrote.
        still = set(CampaignRow.objects.select_for_update().filter(pk__in=[c["id"] for c in changes], state=RowState.CALLING)
                    .values_list("pk", flat=True))
        rows_update(CampaignRow, [change for change in changes if change["id"] in still])
    return len(still)


# ----- start and finish -----

def _start_due(now: datetime) -> int:
    return Campaign.objects.filter(
        Q(start_at__isnull=True) | Q(start_at__lte=now), state=State.SCHEDULED,
    ).update(state=State.SENDING, started_at=Coalesce("started_at", now), updated_at=now)


def _finish_done(now: datetime) -> int:
    finished = 0
    for campaign_id in Campaign.objects.filter(state=State.SENDING).values_list("pk", flat=True):
        if CampaignRow.objects.filter(campaign_id=campaign_id,
                                      state__in=[RowState.WAITING, RowState.CALLING, RowState.RETRY_WAIT]).exists():
            continue
        finished += Campaign.objects.filter(pk=campaign_id, state=State.SENDING).update(
            state=State.FINISHED, finished_at=now, updated_at=now)
    return finished


# ----- sending -----

def campaign_rows_due(campaign_id: int, now: datetime):
    return CampaignRow.objects.filter(
        Q(state=RowState.WAITING, next_attempt_at__isnull=True) | Q(state__in=DUE_STATES, next_attempt_at__lte=now),
        campaign_id=campaign_id,
    )


def _wanted(campaign: Campaign, now: datetime) -> int:
    """How many calls the campaign could use this second: its rate cap, or fewer when fewer rows are due."""
    return len(campaign_rows_due(campaign.pk, now).values_list("pk", flat=True)[:campaign.rate_cap])


@dataclass
class _Sending:
    campaign: Campaign
    callers: list
    allowance: int
    sent: int = 0
    exhausted: bool = False
    blocked: bool = False


def _claim(sending: _Sending, count: int, now: datetime, summary: TickSummary) -> list[int]:
    """Claim up to `count` due rows of the campaign and record their calls (claimed); returns the call ids to send."""
    campaign = sending.campaign
    with transaction.atomic():
        # The campaign's lock: a pause or cancel waits for this claim to commit, then no later claim sends.
        if not Campaign.objects.select_for_update().filter(pk=campaign.pk, state=State.SENDING).exists():
            sending.exhausted = True
            return []
        base = CampaignRow.objects.select_for_update(skip_locked=True).filter(campaign_id=campaign.pk)
        columns = ("pk", "called_number", "params", "row_number", "attempts")
        # Rows that waited (retries, deferred by flow control) first, then the list in its own order.
        rows = list(base.filter(state__in=DUE_STATES, next_attempt_at__lte=now).order_by("next_attempt_at", "row_number")
                    .values_list(*columns, named=True)[:count])
        if len(rows) < count:
            # Ordered by the index's own columns (next_attempt_at is NULL in all of them): PostgreSQL then reads the
            # first rows of campaignrow_state_idx instead of sorting every waiting row.
            rows += list(base.filter(state=RowState.WAITING, next_attempt_at__isnull=True)
                         .order_by("next_attempt_at", "row_number").values_list(*columns, named=True)[:count - len(rows)])
        if not rows:
            sending.exhausted = True
            return []
        callers = sending.callers
        entries = [
            BatchEntry(key=row.pk, called_number=row.called_number, params=row.params,
                       caller_number=callers[(row.row_number + row.attempts) % len(callers)] if callers else None,
                       fields={"campaign_id": campaign.pk, "campaign_row_id": row.pk})
            for row in rows
        ]
        result = call_records_create_batch(
            tts_template=campaign.tts_template, voice_file=campaign.voice_file, entries=entries,
            play_times=campaign.play_times, volume=campaign.volume, speed=campaign.speed, claimed=True, now=now,
        )
        by_pk = {row.pk: row for row in rows}
        rows_update(CampaignRow, [
            {"id": key, "state": RowState.CALLING, "attempts": by_pk[key].attempts + 1, "last_call_id": record_id,
             "next_attempt_at": None, "updated_at": now}
            for key, record_id in result.records.items()
        ])
        rows_update(CampaignRow, [
            {"id": key, "next_attempt_at": _allowed_from(campaign, free_at), "updated_at": now}
            for key, free_at in result.deferred.items()
        ])
        rows_update(CampaignRow, [
            {"id": key, "state": RowState.REFUSED, "refusal_code": _error_code(error),
             "refusal_messages": refusal_messages(error), "updated_at": now}
            for key, error in result.refused.items()
        ])
    summary.deferred += len(result.deferred)
    summary.refused += len(result.refused)
    return list(result.records.values())


def _error_code(error: ValidationError) -> str:
    for item in error.error_list if not hasattr(error, "error_dict") else [e for v in error.error_dict.values() for e in v]:
        if item.code:
            return str(item.code)[:32]
    return "invalid"


def _error_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


class SendWindow:
    """At most `limit` requests leave in any `span` seconds (a sliding window: the provider's own may be aligned
    anywhere). `take` is called by each send thread just before its request and waits while the window is full.

    Wall-clock times, so a run can be seeded with the sent_at of the calls a run before it sent (only one sender runs
    at a time, but the next run may start in another worker process while the last second's calls are still fresh).
    """

    def __init__(self, limit: int, *, span: float = 1.0 + WINDOW_GUARD_SECONDS, seed=()):
        self.limit = max(0, limit)
        self.span = span
        self._lock = threading.Lock()
        self._left = deque(maxlen=max(1, self.limit))  # (time, campaign id) of the latest requests, oldest first
        self._pending: Counter = Counter()  # calls handed to the send threads, not yet let out, by campaign
        for moment, key in sorted(seed, key=lambda item: item[0])[-self.limit:] if self.limit else ():
            self._left.append((moment, key))

    @classmethod
    def for_run(cls) -> "SendWindow":
        limit = campaign_budget()
        span = 1.0 + WINDOW_GUARD_SECONDS
        since = timezone.now() - timedelta(seconds=span)
        seed = (CallRecord.objects.filter(campaign__isnull=False, sent_at__gte=since).order_by("-sent_at")
                .values_list("sent_at", "campaign_id")[:max(1, limit)])
        return cls(limit, span=span, seed=[(moment.timestamp(), key) for moment, key in seed])

    def hand(self, counts: dict) -> None:
        with self._lock:
            self._pending.update(counts)

    def take(self, record) -> None:
        key = record.campaign_id
        with self._lock:  # held while waiting: the threads behind wait for the same slot anyway
            while len(self._left) >= self.limit > 0:
                wait = self._left[0][0] + self.span - time.time()
                if wait <= 0:
                    break
                time.sleep(min(wait, self.span))
            self._left.append((time.time(), key))
            if self._pending[key] > 0:
                self._pending[key] -= 1

    def load(self, since: datetime) -> Counter:
        """Requests let out since `since`, and those handed but still held, by campaign."""
        start = since.timestamp()
        with self._lock:
            used = Counter(key for moment, key in self._left if moment >= start)
            used.update({key: n for key, n in self._pending.items() if n > 0})
        return used


def _send_claimed(ids: list[int], window: SendWindow | None) -> None:
    """A slice's calls, sent from a pool thread (its database connection stays open for the run's next slices)."""
    _dispatch_claimed(ids, pace=window.take if window is not None else None)


def _close_connection(barrier: threading.Barrier) -> None:
    connection.close()
    try:
        barrier.wait(timeout=5)  # holds this thread, so each of the pool's threads closes its own connection once
    except threading.BrokenBarrierError:
        pass


class _SendPool:
    """The sender's own threads: each sends one slice (itself through the dispatcher's send code) while the tick goes
    on to the next slice. One per run; `close` closes the connections its threads opened."""

    def __init__(self, window: SendWindow | None = None):
        self.executor = ThreadPoolExecutor(max_workers=DISPATCH_THREADS, thread_name_prefix="campaign-send")
        self.window = window if window is not None else SendWindow.for_run()

    def submit(self, ids, counts: dict):
        self.window.hand(counts)
        return self.executor.submit(_send_claimed, ids, self.window)

    def close(self) -> None:
        barrier = threading.Barrier(DISPATCH_THREADS)
        for future in [self.executor.submit(_close_connection, barrier) for _thread in range(DISPATCH_THREADS)]:
            future.result()
        self.executor.shutdown(wait=True)


def _callers_today(campaign: Campaign, today) -> list:
    """The campaign's caller numbers in turn, less those past their expiry date while others remain (the rows go on
    from the numbers still valid). When every number has expired they are all kept: the batch's check refuses them,
    naming each number and its date, and the campaign pauses with that reason."""
    callers = sorted(campaign.caller_numbers.all(), key=lambda number: number.pk)
    valid = [number for number in callers if not number.has_expired(today)]
    if valid and len(valid) < len(callers):
        logger.info("campaign %s: %d of its caller numbers expired, sending from the %d left", campaign.pk,
                    len(callers) - len(valid), len(valid))
    return valid or callers


def _system_pause(campaign: Campaign, error: ValidationError, now: datetime) -> None:
    """The content or a caller number may not be dialled any more: pause the campaign and say why in the audit log."""
    with transaction.atomic():
        if Campaign.objects.filter(pk=campaign.pk, state=State.SENDING).update(state=State.PAUSED, updated_at=now):
            audit_record(user=None, action=AuditEntry.Action.CAMPAIGN_PAUSED, target=campaign,
                         details={"reason": _error_text(error)[:500]})
    logger.warning("campaign %s paused: %s", campaign.pk, _error_text(error))


def campaign_send_tick(now: datetime | None = None, *, in_flight: list | None = None, pool=None) -> TickSummary:
    """One second of the sender (see the module's docstring). With `now` given (tests, a frozen clock) every slice
    runs at once and the calls are sent before it returns; otherwise the slices follow the wall clock, and the sends
    still going when the second ends are left in `in_flight` (futures) when it is given, so the next second starts
    on time (the run's window counts those it has not let out yet), or waited for. `pool`: the run's send threads (a tick
    alone makes its own and closes their connections)."""
    frozen = now is not None
    clock = (lambda: now) if frozen else timezone.now
    started = clock()
    second = started.replace(microsecond=0)
    summary = TickSummary()
    own_pool = pool is None and not frozen
    pool = pool or (None if frozen else _SendPool())
    futures = []
    try:
        if frozen:
            summary.reconciled = campaign_reconcile(now=started)
            reconciling = None
        else:
            # Rows settling (`calling` → done/retry_wait) never meet the rows claimed below (waiting/retry_wait due
            # now): the reconcile runs in a pool thread of its own while this one claims and sends.
            reconciling = pool.executor.submit(_reconcile_in_thread, started)
        _tick_send(summary, clock, frozen, second, pool, futures)
        if reconciling is not None:
            summary.reconciled = reconciling.result()
            if summary.reconciled:
                # Rows settled while this second sent: a campaign with nothing left finishes now, not a tick later.
                summary.finished += _finish_done(clock())
                summary.active = True
        if in_flight is not None:
            in_flight.extend(futures)
        else:
            for future in futures:
                future.result()
    finally:
        if own_pool:
            for future in futures:
                future.exception()
            pool.close()
    return summary


def _reconcile_in_thread(now: datetime) -> int:
    return campaign_reconcile(now=now)


def _tick_send(summary: TickSummary, clock, frozen: bool, second: datetime, pool, futures: list) -> None:
    started = clock()
    summary.started = _start_due(started)
    summary.finished = _finish_done(started)

    campaigns = list(Campaign.objects.filter(state=State.SENDING).select_related("tts_template", "voice_file")
                     .prefetch_related("caller_numbers").order_by("pk"))
    awake = [campaign for campaign in campaigns if campaign_quiet_until(campaign, started) is None]
    # Calls already sent in this second count (a run that just ended, the last slice of a late tick: by sent_at), and
    # so does what this run's window let out since the second began or still holds (slices of the second before
    # that the provider has not answered yet).
    used = Counter(dict(CallRecord.objects.filter(campaign__isnull=False, sent_at__gte=second,
                                                  sent_at__lt=second + timedelta(seconds=1))
                        .values_list("campaign_id").annotate(n=Count("id")).values_list("campaign_id", "n")))
    if pool is not None:
        used |= pool.window.load(second)  # the larger of the two, campaign by campaign
    wants = {campaign.pk: max(0, min(_wanted(campaign, started), campaign.rate_cap - used.get(campaign.pk, 0)))
             for campaign in awake}
    share = budget_share(campaign_budget() - sum(used.values()), wants)
    today = company_today(started)
    sending = [
        _Sending(campaign, _callers_today(campaign, today), share[campaign.pk])
        for campaign in awake if share.get(campaign.pk)
    ]
    summary.active = bool(campaigns) and bool(sending) or CampaignRow.objects.filter(
        campaign_id__in=_reconcile_campaign_ids(started), state=RowState.CALLING).exists()
    if not sending:
        return  # nothing to send this second: no slices to wait for
    # Slices already past once the bookkeeping is done are not caught up one by one: the allowance is spread over the
    # slices left (see slice_quota).
    first_slice = min(SLICES_PER_SECOND - 1, int((clock() - second).total_seconds() * SLICES_PER_SECOND))
    left = SLICES_PER_SECOND - first_slice
    # Rows are claimed a few slices ahead (CLAIM_AHEAD: two or three claims a second, each one transaction: rows locked
    # SKIP LOCKED, checked, their calls recorded already claimed `sending`, the rows `calling`); each slice then only
    # hands its share to the provider.
    ahead = left if frozen else max(1, math.ceil(left / CLAIMS_PER_SECOND))
    claimed = {item.campaign.pk: [] for item in sending}
    handed = {item.campaign.pk: 0 for item in sending}
    for index in range(first_slice, SLICES_PER_SECOND):
        late = False
        if not frozen:
            wait = (second + timedelta(seconds=index / SLICES_PER_SECOND) - timezone.now()).total_seconds()
            if wait > 0:
                time.sleep(wait)
            late = timezone.now() >= second + timedelta(seconds=1)
            if late and not any(handed[key] < len(ids) for key, ids in claimed.items()):
                break  # the second is over (a slow database): its budget ends with it, the next tick has its own
        batch = []
        counts = {}
        for item in sending:
            key = item.campaign.pk
            ids = claimed[key]
            if not late:
                target = slice_quota(item.allowance, min(SLICES_PER_SECOND - 1, index + ahead - 1), first_slice=first_slice)
                for _round in range(CLAIM_ROUNDS):
                    need = min(target, item.allowance) - len(ids)
                    if need <= 0 or item.exhausted or item.blocked:
                        break
                    try:
                        ids += _claim(item, need, clock(), summary)
                    except ValidationError as error:
                        item.blocked = True
                        _system_pause(item.campaign, error, clock())
                        break
            # Late: what is claimed is sent now, and counted in the second it goes out (sent_at).
            upto = len(ids) if late else min(len(ids), slice_quota(item.allowance, index, first_slice=first_slice))
            if upto > handed[key]:
                batch += ids[handed[key]:upto]
                counts[key] = upto - handed[key]
                handed[key] = upto
        if not batch:
            continue
        summary.sent += len(batch)
        if frozen:
            _dispatch_claimed(batch)
            continue
        # sent_at: when the slice goes out (its rows may have been claimed a few slices earlier).
        CallRecord.objects.filter(pk__in=batch, status=CallRecord.Status.SENDING).update(sent_at=timezone.now())
        futures.append(pool.submit(batch, counts))
        if late:
            break


def campaign_send_run(*, seconds: float = RUN_SECONDS) -> TickSummary:
    """Tick once a wall-clock second while campaigns are sending (or calls are being settled), for at most `seconds`."""
    total = TickSummary()
    deadline = time.monotonic() + seconds
    in_flight: list = []
    pool = _SendPool()
    try:
        while True:
            second = timezone.now().replace(microsecond=0)
            summary = campaign_send_tick(in_flight=in_flight, pool=pool)
            total.add(summary)
            for future in [future for future in in_flight if future.done()]:
                in_flight.remove(future)
                future.result()  # a send that raised is not silent
            if not summary.active or time.monotonic() > deadline:
                return total
            now = timezone.now()
            if now.replace(microsecond=0) == second:
                time.sleep(max(0.0, 1 - now.microsecond / 1_000_000))
            # else a tick that ran past its second (a slow claim): the second now begun is this run's next tick, at once,
            # its budget less what the late tick sent in it (sent_at).
    finally:
        try:
            for future in in_flight:
                future.result()
        finally:
            pool.close()
