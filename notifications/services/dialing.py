"""Dialing (DESIGN §3): validate, record the call `queued`, send it once, follow it until it is settled.

The test-dial forms, `manage.py dial`, the jobs and the follow-up command all go through these functions.
"""
import logging
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import jobs
from notifications.aliyun import VmsOutcomeUnknown, VmsRejected, VmsThrottled, get_vms_client
from notifications.models import BlockedNumber, CallerNumber, CallEvent, CallRecord, Purpose, Qualification, TtsTemplate, VoiceFile
from notifications.rules import dialing as rules
from notifications.rules.identifiers import normalize_mainland_number
from notifications.services.bulk import rows_insert, rows_update

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
DISPATCH_BATCH = 50  # calls claimed at once by the dispatcher
SEND_CONCURRENCY = 8  # requests in flight at once from one worker; the provider's QPS limit throttles the excess
RETRY_BASE_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
# How long a call may take from acceptance to its end: ringing (about a minute) plus three plays of a message.
CALL_EXPECTED_SECONDS = 180
# Receipts arrive late at worst after the provider's three push retries (+1, +5, +10 minutes).
RECEIPT_RETRY_WINDOW = timedelta(minutes=20)
# A call the provider reported nothing about for a day is closed with outcome "unknown" (never redialled).
DETAIL_GIVE_UP = timedelta(hours=24)


def _new_out_id() -> str:
    """A fresh OutId: 13 base-36 characters (well under the provider's 15 bytes), random so it is known before the row is saved."""
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    value = secrets.randbits(64)
    chars = []
    for _position in range(13):
        value, digit = divmod(value, 36)
        chars.append(alphabet[digit])
    return "".join(reversed(chars))


def _add(errors: dict, field: str, found) -> None:
    if found:
        errors.setdefault(field, []).extend(found if isinstance(found, list) else [found])


def _previous_calls(*, qualification_id: int, purpose: str, called_number: str, since) -> list:
    """When our own records say this callee was called under the same qualification and purpose (the provider's flow-control key)."""
    same_key = Q(tts_template__qualification_id=qualification_id, tts_template__kind=purpose)
    if purpose == Purpose.NOTIFICATION:
        same_key |= Q(voice_file__qualification_id=qualification_id)  # recordings are always notifications
    return list(
        CallRecord.objects.filter(same_key, called_number=called_number, created_at__gt=since).values_list("created_at", flat=True)
    )


@transaction.atomic
def call_record_create(
    *,
    tts_template: TtsTemplate | None = None,
    voice_file: VoiceFile | None = None,
    called_number: str,
    caller_number: CallerNumber | None = None,
    params: dict[str, str] | None = None,
    play_times: int = 3,
    volume: int = 100,
    speed: int | None = None,
    requested_by=None,
) -> CallRecord:
    """Check everything the provider would refuse, record the call `queued` and send it once this transaction commits.

    Raises ValidationError with errors keyed by field: `resource`, `called_number`, `caller_number`, `params`,
    `param_<variable>`, `play_times`, `volume`, `speed`.
    """
    if (tts_template is None) == (voice_file is None):
        raise ValueError("Pass exactly one of tts_template or voice_file.")
    resource = tts_template or voice_file
    params = {name: str(value) for name, value in (params or {}).items()} if tts_template else {}
    purpose = tts_template.kind if tts_template else Purpose.NOTIFICATION
    errors: dict[str, list] = {}

    # Lock the qualification: two dials of one callee at once must not both slip under the flow-control limits.
    qualification = Qualification.objects.select_for_update().get(pk=resource.qualification_id)
    _add(errors, "resource", rules.check_resource_approved(resource.status))
    _add(errors, "resource", rules.check_qualification_approved(qualification.status))
    if caller_number is not None:
        caller_number = CallerNumber.objects.select_related("qualification").get(pk=caller_number.pk)
    _add(errors, "caller_number", rules.check_caller_number(
        mode=resource.mode,
        has_caller_number=caller_number is not None,
        number_active=caller_number is not None and caller_number.status == CallerNumber.Status.ACTIVE,
        same_qualification=caller_number is not None and caller_number.qualification_id == resource.qualification_id,
        qualification_approved=caller_number is not None and caller_number.qualification.is_approved,
    ))
    _add(errors, "play_times", rules.check_play_times(play_times))
    _add(errors, "volume", rules.check_volume(volume))
    _add(errors, "speed", rules.check_speed(speed))
    if tts_template:
        for name, found in rules.param_errors(variables=list(tts_template.variables), values=params, kind=purpose).items():
            _add(errors, f"param_{name}" if name else "params", found)

    number = ""
    try:
        number, _kind = normalize_mainland_number(called_number)
    except ValidationError as exc:
        _add(errors, "called_number", exc.error_list)
    now = timezone.now()
    if number:
        if BlockedNumber.objects.filter(number=number).exists():
            _add(errors, "called_number", ValidationError(
                _("This number is on the do-not-call list."), code="blocked"))
        previous = _previous_calls(qualification_id=resource.qualification_id, purpose=purpose, called_number=number,
                                   since=now - rules.FLOW_CONTROL_WINDOWS[-1][0])
        _add(errors, "called_number", rules.flow_control_error(previous_calls=previous, now=now))
    if requested_by is not None:
        recent = CallRecord.objects.filter(requested_by=requested_by, created_at__gt=now - timedelta(minutes=1)).count()
        _add(errors, "__all__", rules.rate_limit_error(calls_last_minute=recent, limit=settings.DIAL_RATE_LIMIT_PER_MINUTE))
    if errors:
        raise ValidationError(errors)

    record = CallRecord(
        api=CallRecord.Api.TTS if tts_template else CallRecord.Api.VOICE,
        mode=resource.mode,
        tts_template=tts_template,
        voice_file=voice_file,
        called_number=number,
        caller_number=caller_number,
        params=params,
        play_times=play_times,
        volume=volume,
        speed=speed,
        out_id=_new_out_id(),
        requested_by=requested_by,
        created_at=now,
    )
    record.full_clean()
    record.save()
    jobs.dispatch_wake()
    # The follow-up settles what receipts do not; a dial (re)starts its chain if none is scheduled.
    transaction.on_commit(jobs.follow_up_schedule)
    return record


def _retry_delay(attempt: int, hint: float | None) -> float:
    return min(RETRY_MAX_SECONDS, max(hint or 0.0, RETRY_BASE_SECONDS * 2 ** (attempt - 1)))


def _send(record: CallRecord):
    """The provider's answer for one call, or the error it raised (run in a thread: no database access here)."""
    client = get_vms_client()
    common = {
        "called_number": record.called_number,
        "out_id": record.out_id,
        "show_number": record.caller_number.number if record.caller_number_id else None,
        "play_times": record.play_times,
        "volume": record.volume,
        "speed": record.speed,
    }
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


def _dispatch_claimed(ids: list[int]) -> None:
    """Send calls already claimed (`sending`), side by side, outside any transaction; the answers decide what follows.

    DESIGN §3 step 3: accepted calls record their CallId, refusals fail, throttling retries later, and an unclear
    answer marks the call `unknown`, never to be redialled by us.
    """
    if not ids:
        return
    records = list(CallRecord.objects.select_related("tts_template", "voice_file", "caller_number").filter(pk__in=ids)
                   .order_by("created_at", "id"))
    answers = [_send(records[0])] if len(records) == 1 else list(_send_pool().map(_send, records))
    accepted = []
    for record, answer in zip(records, answers, strict=True):
        if isinstance(answer, VmsThrottled):
            _dispatch_throttled(record, answer)
        elif isinstance(answer, VmsRejected):
            _dispatch_finished(record, status=CallRecord.Status.FAILED, exc=answer,
                               note=_("The provider refused the call: %(reason)s"))
        elif isinstance(answer, VmsOutcomeUnknown):
            _dispatch_finished(record, status=CallRecord.Status.UNKNOWN, exc=answer,
                               note=_("No clear answer from the provider (%(reason)s). The call may have been placed; it will "
                                      "not be redialled and is settled by its receipt or a detail query."))
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
             "api_message": "", "updated_at": now}
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


def _dispatch_finished(record: CallRecord, *, status: str, exc, note: str) -> None:
    with transaction.atomic():
        CallRecord.objects.filter(pk=record.pk, status=CallRecord.Status.SENDING).update(
            status=status,
            outcome=CallRecord.Outcome.FAILED if status == CallRecord.Status.FAILED else "",
            request_id=exc.request_id[:64],
            api_code=exc.code[:64],
            api_message=note % {"reason": exc.message},
            updated_at=timezone.now(),
        )
        CallEvent.objects.create(
            call=record, kind=CallEvent.Kind.API_ANSWER, status_code=exc.code[:16], message=exc.message,
            payload={"request_id": exc.request_id, "code": exc.code, "message": exc.message, "http_status": exc.http_status},
        )
    logger.info("call %s %s: request %s code %s", record.out_id, status, exc.request_id, exc.code)


def _dispatch_throttled(record: CallRecord, exc: VmsThrottled) -> None:
    """Nothing was placed: put the call back in the queue and try later, a bounded number of times."""
    if record.attempts >= MAX_SEND_ATTEMPTS:
        _dispatch_finished(record, status=CallRecord.Status.FAILED, exc=exc,
                           note=_("The provider was busy and refused the call several times; it was not placed (%(reason)s)."))
        return
    delay = _retry_delay(record.attempts, exc.retry_after)
    now = timezone.now()
    with transaction.atomic():
        CallRecord.objects.filter(pk=record.pk, status=CallRecord.Status.SENDING).update(
            status=CallRecord.Status.QUEUED, request_id=exc.request_id[:64], api_code=exc.code[:64], updated_at=now,
            dispatch_after=now + timedelta(seconds=delay),
        )
        CallEvent.objects.create(
            call=record, kind=CallEvent.Kind.RETRY, status_code=exc.code[:16],
            message=_("Provider busy (%(reason)s); trying again in %(seconds).0f s.") % {"reason": exc.message, "seconds": delay},
            payload={"request_id": exc.request_id, "code": exc.code, "attempt": record.attempts, "delay": delay},
        )
        jobs.enqueue_in(delay, jobs.calls_dispatch_job)
    logger.info("call %s throttled (%s), retry %d in %.1fs", record.out_id, exc.code, record.attempts, delay)


@dataclass
class FollowUpSummary:
    queried: int = 0
    found: int = 0
    settled: int = 0
    stale_sending: int = 0
    requeued: int = 0

    def __str__(self) -> str:
        return _(
            "%(queried)d detail queries (%(found)d answered), %(settled)d calls settled, "
            "%(stale)d interrupted sends marked unknown, %(requeued)d queued calls re-enqueued"
        ) % {"queried": self.queried, "found": self.found, "settled": self.settled, "stale": self.stale_sending,
             "requeued": self.requeued}


def _settle(queryset, *, message: str) -> int:
    """End the follow-up of calls nothing more will be learned about: final, outcome unknown, never redialled."""
    settled = 0
    for record in queryset:
        with transaction.atomic():
            updated = CallRecord.objects.filter(pk=record.pk, status=record.status, final_report_at__isnull=True).update(
                status=CallRecord.Status.FAILED, outcome=CallRecord.Outcome.UNKNOWN, api_message=message, updated_at=timezone.now()
            )
            if updated:
                CallEvent.objects.create(call=record, kind=CallEvent.Kind.NOTE, message=message)
                settled += 1
    return settled


def calls_follow_up(*, limit: int = 500) -> FollowUpSummary:
    """Settle what receipts did not: query unfinished calls, close interrupted sends, wake the dispatcher for calls left queued."""
    from notifications.services.receipts import call_record_apply_detail

    summary = FollowUpSummary()
    now = timezone.now()
    wait = timedelta(minutes=settings.CALL_DETAIL_QUERY_AFTER_MINUTES)
    in_flight = [CallRecord.Status.ACCEPTED, CallRecord.Status.RINGING, CallRecord.Status.ANSWERED, CallRecord.Status.UNKNOWN]

    # A send that never finished (the worker died mid-request) may have placed the call: never redial it.
    stale_before = now - timedelta(seconds=settings.ALIYUN_VMS_CONNECT_TIMEOUT + settings.ALIYUN_VMS_READ_TIMEOUT + 60)
    for record in CallRecord.objects.filter(status=CallRecord.Status.SENDING, sent_at__lt=stale_before)[:limit]:
        message = _("The send was interrupted before the provider answered; the call may have been placed and will not be "
                    "redialled. Its receipt or a detail query settles it.")
        with transaction.atomic():
            if CallRecord.objects.filter(pk=record.pk, status=CallRecord.Status.SENDING).update(
                status=CallRecord.Status.UNKNOWN, api_message=message, updated_at=now
            ):
                CallEvent.objects.create(call=record, kind=CallEvent.Kind.NOTE, message=message)
                summary.stale_sending += 1

    # Calls with a CallId and no final receipt a while after they should have ended: ask the provider.
    recently_queried = CallEvent.objects.filter(kind=CallEvent.Kind.DETAIL_QUERY, created_at__gt=now - wait, call__isnull=False)
    due = (
        CallRecord.objects.filter(status__in=in_flight, call_id__isnull=False, final_report_at__isnull=True,
                                  sent_at__lt=now - wait - timedelta(seconds=CALL_EXPECTED_SECONDS))
        .exclude(pk__in=recently_queried.values("call_id"))
        .exclude(call_id="")
        .order_by("sent_at")
    )
    client = get_vms_client() if due.exists() else None
    for record in due[:limit]:
        try:
            detail = client.query_call_detail(call_id=record.call_id, api=record.api, query_date=record.sent_at)
        except (VmsThrottled, VmsOutcomeUnknown, VmsRejected) as exc:
            logger.warning("detail query for call %s failed: %s", record.out_id, exc.code or exc.message)
            continue
        summary.queried += 1
        summary.found += detail is not None
        call_record_apply_detail(record=record, detail=detail)

    settle_before = now - wait - timedelta(seconds=CALL_EXPECTED_SECONDS) - RECEIPT_RETRY_WINDOW
    summary.settled += _settle(
        CallRecord.objects.filter(status=CallRecord.Status.UNKNOWN, call_id__isnull=True, final_report_at__isnull=True,
                                  sent_at__lt=settle_before)[:limit],
        message=_("No CallId, receipt or detail arrived for this call; it was probably not placed. It was not redialled."),
    )
    summary.settled += _settle(
        CallRecord.objects.filter(status__in=in_flight, final_report_at__isnull=True, sent_at__lt=now - DETAIL_GIVE_UP)[:limit],
        message=_("The provider reported no result for this call within a day; its outcome stays unknown."),
    )

    # Queued calls left waiting (their wake-up was lost with a worker): run the dispatcher; claiming makes a spare run harmless.
    stale_queued = now - timedelta(minutes=settings.CALL_QUEUED_STALE_MINUTES)
    summary.requeued = CallRecord.objects.filter(
        Q(dispatch_after__isnull=True) | Q(dispatch_after__lte=stale_queued), status=CallRecord.Status.QUEUED,
        updated_at__lt=stale_queued,
    ).count()
    if summary.requeued:
        jobs.enqueue(jobs.calls_dispatch_job)
    return summary


@transaction.atomic
def blocked_number_create(*, number: str, reason: str, user) -> BlockedNumber:
    """Put a number on the do-not-call list: no test call can reach it afterwards."""
    normalized, _kind = normalize_mainland_number(number)
    blocked = BlockedNumber(number=normalized, reason=reason.strip(), created_by=user)
    blocked.full_clean()
    blocked.save()
    logger.info("number blocked by %s", user)
    return blocked


@transaction.atomic
def blocked_number_delete(*, blocked: BlockedNumber, user) -> None:
    """Take a number off the do-not-call list."""
    blocked.delete()
    logger.info("number unblocked by %s", user)
