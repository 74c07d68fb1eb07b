"""Sending calls (DESIGN §3 step 3): claim queued calls, send each once, and store what the provider answered.

A claimed row is `sending`, so no call is claimed twice; the provider's answer decides what follows (accepted,
refused, throttled and retried later, or unclear and never redialled). The job layer runs these functions; they
ask for more work only through `notifications.work`.
"""
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import work
from notifications.aliyun import VmsOutcomeUnknown, VmsRejected, VmsThrottled, get_vms_client
from notifications.models import CallEvent, CallRecord
from notifications.services.bulk import rows_insert, rows_update
from notifications.texts import in_each_language, in_language

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
DISPATCH_BATCH = 50  # calls claimed at once by the dispatcher
SEND_CONCURRENCY = 8  # requests in flight at once from one worker; the provider's QPS limit throttles the excess
RETRY_BASE_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0


def _retry_delay(attempt: int, hint: float | None) -> float:
    return min(RETRY_MAX_SECONDS, max(hint or 0.0, RETRY_BASE_SECONDS * 2 ** (attempt - 1)))


def _send(record: CallRecord, pace=None):
    """The provider's answer for one call, or the error it raised (run in a thread: no database access here).

    `pace`, when given, is called just before the request and may wait (the campaign sender's window on the provider's
    QPS); the moment it lets the request go becomes the record's sent_at (the claim stamped an earlier one)."""
    client = get_vms_client()
    common = {
        "called_number": record.called_number,
        "out_id": record.out_id,
        "show_number": record.caller_number.number if record.caller_number_id else None,
        "play_times": record.play_times,
        "volume": record.volume,
        "speed": record.speed,
    }
    if pace is not None:
        pace(record)
        record.sent_at = timezone.now()
    try:
        if record.api == CallRecord.Api.TTS:
            return client.single_call_by_tts(tts_code=record.tts_template.tts_code, tts_params=record.params, **common)
        return client.single_call_by_voice(voice_code=record.voice_file.voice_code, **common)
    except (VmsThrottled, VmsRejected, VmsOutcomeUnknown) as exc:
        return exc


_pool: tuple[int, ThreadPoolExecutor] | None = None


def _send_pool() -> ThreadPoolExecutor:
    """The threads that send a batch side by side: one pool per process (a forked worker builds its own)."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(max_workers=SEND_CONCURRENCY, thread_name_prefix="vms-send"))
    return _pool[1]


def calls_dispatch_due(*, limit: int | None = None) -> int:
    """Claim up to `limit` queued calls that are due (oldest first) and send them; returns how many were claimed.

    Rows another dispatcher holds are skipped, and a claimed row is `sending`, so no call is claimed twice.
    """
    limit = limit or DISPATCH_BATCH
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            CallRecord.objects.select_for_update(skip_locked=True)
            .filter(Q(dispatch_after__isnull=True) | Q(dispatch_after__lte=now), status=CallRecord.Status.QUEUED)
            .order_by("created_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            CallRecord.objects.filter(pk__in=ids).update(
                status=CallRecord.Status.SENDING, attempts=F("attempts") + 1, sent_at=now, updated_at=now
            )
    _dispatch_claimed(ids)
    return len(ids)


def call_record_dispatch(*, call_record_id: int) -> None:
    """Send one queued call now, at most once: a call that is not `queued` any more is left alone."""
    now = timezone.now()
    claimed = CallRecord.objects.filter(pk=call_record_id, status=CallRecord.Status.QUEUED).update(
        status=CallRecord.Status.SENDING, attempts=F("attempts") + 1, sent_at=now, updated_at=now
    )
    if claimed:
        _dispatch_claimed([call_record_id])


def _dispatch_claimed(ids: list[int], *, pace=None) -> None:
    """Send calls already claimed (`sending`), side by side, outside any transaction; the answers decide what follows.

    DESIGN §3 step 3: accepted calls record their CallId, refusals fail, throttling retries later, and an unclear
    answer marks the call `unknown`, never to be redialled by us.
    """
    if not ids:
        return
    records = list(CallRecord.objects.select_related("tts_template", "voice_file", "caller_number").filter(pk__in=ids)
                   .order_by("created_at", "id"))
    send = partial(_send, pace=pace)
    answers = [send(records[0])] if len(records) == 1 else list(_send_pool().map(send, records))
    accepted = []
    for record, answer in zip(records, answers, strict=True):
        if isinstance(answer, VmsThrottled):
            _dispatch_throttled(record, answer)
        elif isinstance(answer, VmsRejected):
            _dispatch_finished(record, status=CallRecord.Status.FAILED, exc=answer,
                               note=lambda answer=answer: _("The provider refused the call (%(code)s): %(reason)s") % {
                                   "code": answer.code, "reason": answer.message})
        elif isinstance(answer, VmsOutcomeUnknown):
            _dispatch_finished(record, status=CallRecord.Status.UNKNOWN, exc=answer,
                               note=lambda answer=answer: _unclear_note(answer) + " " + _(
                                   "The call may have been placed; it will not be redialled and is settled by its receipt "
                                   "or a detail query."))
        else:
            accepted.append((record, answer))
    if accepted:
        _dispatch_accepted(accepted)


def _dispatch_accepted(accepted: list) -> None:
    """Store the CallIds of accepted calls in one transaction, then attach receipts that arrived before them."""
    from notifications.services.receipts import call_record_claim_pending_receipts

    now = timezone.now()
    with transaction.atomic():
        rows_update(CallRecord, [
            {"id": record.pk, "call_id": placed.call_id, "request_id": placed.request_id[:64], "api_code": "OK",
             "api_message": "", "sent_at": record.sent_at, "updated_at": now}
            for record, placed in accepted
        ])
        # A receipt matched by OutId may already have moved a call on; only a call still in flight becomes "accepted".
        CallRecord.objects.filter(pk__in=[record.pk for record, _placed in accepted],
                                  status__in=[CallRecord.Status.SENDING, CallRecord.Status.UNKNOWN]).update(
            status=CallRecord.Status.ACCEPTED)
        rows_insert(CallEvent, [
            {"call_id": record.pk, "kind": CallEvent.Kind.API_ANSWER, "status_code": "OK", "created_at": now,
             "payload": {"request_id": placed.request_id, "call_id": placed.call_id, "code": "OK"}}
            for record, placed in accepted
        ])
    for record, placed in accepted:
        logger.info("call %s accepted: request %s call %s", record.out_id, placed.request_id, placed.call_id)
    # Receipts that beat the answer here wait unattached; one query looks for any of them.
    early = CallEvent.objects.filter(
        Q(receipt_out_id__in=[record.out_id for record, _placed in accepted])
        | Q(receipt_call_id__in=[placed.call_id for _record, placed in accepted]),
        call__isnull=True,
    ).values_list("receipt_out_id", "receipt_call_id")
    early_ids = {value for pair in early for value in pair}
    for record, placed in accepted:
        if record.out_id in early_ids or placed.call_id in early_ids:
            call_record_claim_pending_receipts(record=record)


def _unclear_note(exc: VmsOutcomeUnknown) -> str:
    """The cause of an unclear answer in the user's language (the provider's own words stay in the event payload)."""
    if exc.cause == exc.NO_ANSWER:
        return _("The provider did not answer after the request was sent.")
    if exc.cause == exc.NO_CALL_ID:
        return _("The provider's answer had no CallId.")
    return _("The provider answered with a server error (%(code)s).") % {"code": exc.code}


def _throttled_cause(exc: VmsThrottled) -> str:
    """Why nothing was placed: unreachable, busy (flow control) or unavailable, each named in the user's language."""
    if exc.cause == exc.UNREACHABLE:
        return _("The provider could not be reached")
    if exc.code.startswith("Throttling"):
        return _("The provider was busy (too many requests)")
    return _("The provider's service was unavailable (%(code)s)") % {"code": exc.code}


def _dispatch_finished(record: CallRecord, *, status: str, exc, note) -> None:
    """`note`: a function that says why, called once per language."""
    notes = in_each_language(note)
    with transaction.atomic():
        CallRecord.objects.filter(pk=record.pk, status=CallRecord.Status.SENDING).update(
            status=status,
            outcome=CallRecord.Outcome.FAILED if status == CallRecord.Status.FAILED else "",
            request_id=exc.request_id[:64],
            api_code=exc.code[:64],
            api_message=in_language(notes),
            api_messages=notes,
            updated_at=timezone.now(),
        )
        CallEvent.objects.create(
            call=record, kind=CallEvent.Kind.API_ANSWER, status_code=exc.code[:16], message=in_language(notes),
            messages=notes,
            payload={"request_id": exc.request_id, "code": exc.code, "message": exc.message, "http_status": exc.http_status},
        )
    logger.info("call %s %s: request %s code %s", record.out_id, status, exc.request_id, exc.code)


def _dispatch_throttled(record: CallRecord, exc: VmsThrottled) -> None:
    """Nothing was placed: put the call back in the queue and try later, a bounded number of times."""
    if record.attempts >= MAX_SEND_ATTEMPTS:
        # Certainly not placed (every attempt was turned away before placing): this one is honestly "failed".
        _dispatch_finished(record, status=CallRecord.Status.FAILED, exc=exc,
                           note=lambda: _("%(cause)s on all %(attempts)d attempts; the call was not placed.") % {
                               "cause": _throttled_cause(exc), "attempts": record.attempts})
        return
    delay = _retry_delay(record.attempts, exc.retry_after)
    now = timezone.now()
    with transaction.atomic():
        CallRecord.objects.filter(pk=record.pk, status=CallRecord.Status.SENDING).update(
            status=CallRecord.Status.QUEUED, request_id=exc.request_id[:64], api_code=exc.code[:64], updated_at=now,
            dispatch_after=now + timedelta(seconds=delay),
        )
        notes = in_each_language(lambda: _("%(cause)s; nothing was placed. Trying again in %(seconds).0f s.") % {
            "cause": _throttled_cause(exc), "seconds": delay})
        CallEvent.objects.create(
            call=record, kind=CallEvent.Kind.RETRY, status_code=exc.code[:16], message=in_language(notes), messages=notes,
            payload={"request_id": exc.request_id, "code": exc.code, "message": exc.message, "attempt": record.attempts,
                     "delay": delay},
        )
        work.request_later(delay, work.DISPATCH_JOB)
    logger.info("call %s throttled (%s), retry %d in %.1fs", record.out_id, exc.code, record.attempts, delay)


def calls_waiting_count(*, now=None) -> int:
    """Queued calls that are due now: what a dispatcher run would claim."""
    now = now or timezone.now()
    return CallRecord.objects.filter(
        Q(dispatch_after__isnull=True) | Q(dispatch_after__lte=now), status=CallRecord.Status.QUEUED).count()


@dataclass
class DispatchWakeSummary:
    waiting: int = 0
    claimed: int = 0
    handed_over: bool = False

    def __str__(self) -> str:
        text = _("%(waiting)d queued calls were due, %(claimed)d sent") % {"waiting": self.waiting, "claimed": self.claimed}
        if self.handed_over:
            text += _("; more are left to a dispatcher run")
        return text


def calls_dispatch_waiting(*, seconds: float = 10.0) -> DispatchWakeSummary:
    """The periodic dispatcher wake-up: send the queued calls left waiting (a wake-up lost with a killed worker or
    a Redis restart, a retry whose job was lost), batch after batch for at most `seconds`, then hand over."""
    summary = DispatchWakeSummary(waiting=calls_waiting_count())
    if not summary.waiting:
        return summary
    deadline = time.monotonic() + seconds
    while True:
        claimed = calls_dispatch_due(limit=DISPATCH_BATCH)
        summary.claimed += claimed
        if claimed < DISPATCH_BATCH:
            return summary
        if time.monotonic() > deadline:
            summary.handed_over = True
            work.wake_now(work.DISPATCH_WAKE_KEY, work.DISPATCH_JOB)
            return summary
