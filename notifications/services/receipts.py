"""Receipts: parse the provider's pushed batches, store them once, and fold them into call records.

A batch is handled in a fixed number of queries whatever its size: one SELECT of the dedup keys
already stored, one SELECT (locking) of the matching call records, one INSERT of the new events and
one UPDATE round for the changed records. Receipts may arrive twice, late or out of order, so
applying one only ever moves a call forward, and a final report (VoiceReport) is never undone by a
late in-call report (VoiceCallReport).
"""
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.aliyun import CallDetail
from notifications.models import CallEvent, CallRecord
from notifications.services.bulk import existing_values, locked_matching_any, rows_insert, rows_update
from notifications.services.stats import call_days, daily_stats_mark_dirty

VOICE_REPORT = "VoiceReport"
VOICE_CALL_REPORT = "VoiceCallReport"
MESSAGE_TYPES = (VOICE_REPORT, VOICE_CALL_REPORT)

_EVENT_KIND = {VOICE_REPORT: CallEvent.Kind.VOICE_REPORT, VOICE_CALL_REPORT: CallEvent.Kind.CALL_REPORT}
_MESSAGE_TYPE_OF_KIND = {kind: message_type for message_type, kind in _EVENT_KIND.items()}
_REQUIRED = {VOICE_REPORT: ("call_id", "status_code"), VOICE_CALL_REPORT: ("status_code", "status_time")}

# In-call steps (reference §6.5) and the status each one proves the call reached.
_STEP_STATUS = {
    "200101": CallRecord.Status.ACCEPTED,  # calling started
    "200201": CallRecord.Status.RINGING,
    "200102": CallRecord.Status.ANSWERED,
}
CALL_ENDED = "200100"
INTERMEDIATE_CODES = frozenset({"200100", "200101", "200102", "200103", "200201", "200202", "300000"})
_RANK = {
    CallRecord.Status.QUEUED: 0,
    CallRecord.Status.SENDING: 0,
    CallRecord.Status.ACCEPTED: 0,
    CallRecord.Status.UNKNOWN: 0,
    CallRecord.Status.RINGING: 1,
    CallRecord.Status.ANSWERED: 2,
    CallRecord.Status.COMPLETED: 3,
    CallRecord.Status.FAILED: 3,
}

_O = CallRecord.Outcome
_OUTCOMES = {
    "200000": _O.LISTENED,
    "200001": _O.HUNG_UP_EARLY,
    "200002": _O.BUSY, "200112": _O.BUSY,
    "200003": _O.NO_ANSWER, "200113": _O.NO_ANSWER,
    "200004": _O.INVALID_NUMBER, "200116": _O.INVALID_NUMBER, "482": _O.INVALID_NUMBER, "476": _O.INVALID_NUMBER,
    "200005": _O.UNREACHABLE, "200007": _O.UNREACHABLE, "200120": _O.UNREACHABLE,
    "200010": _O.POWERED_OFF,
    "200011": _O.SUSPENDED,
    "200111": _O.REJECTED, "200104": _O.REJECTED, "200105": _O.REJECTED, "200117": _O.REJECTED,
    "200118": _O.REJECTED, "200119": _O.REJECTED, "473": _O.REJECTED,
}
_DELIVERED = frozenset({_O.LISTENED, _O.HUNG_UP_EARLY})
_HANGUP_SIDES = {"用户": "user", "机器": "platform"}

# Every field a receipt or a detail query may change; written back in one statement per batch.
_RECORD_FIELDS = (
    "call_id", "status", "outcome", "status_code", "smart_status_code", "status_msg", "hangup_direction",
    "originate_time", "ring_time", "start_time", "end_time", "duration", "final_report_at", "updated_at",
)

# What applying receipts reads: the fields they may change, the keys they match by, the day the call counts in.
_LOADED_FIELDS = ["id", "out_id", "created_at", *_RECORD_FIELDS]


class ReceiptInvalid(ValueError):
    """A batch the provider should not have sent: nothing of it is stored."""


@dataclass(frozen=True)
class IngestResult:
    received: int
    stored: int  # new events; the rest were deliveries of receipts already stored (or repeated in the batch)
    matched: int  # new events attached to a call record
    unmatched: int  # new events kept for a call not known yet

    @property
    def duplicates(self) -> int:
        return self.received - self.stored


@dataclass(frozen=True)
class Receipt:
    """One receipt or detail query in plain values: what applying it to a record needs."""

    final: bool
    call_id: str
    out_id: str
    status_code: str
    smart_status_code: str = ""
    status_time: datetime | None = None
    status_msg: str = ""
    hangup_direction: str = ""
    originate_time: datetime | None = None
    ring_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    raw: dict = field(default_factory=dict)


_STEP_MEANINGS = {
    "200101": gettext_lazy("calling started"),
    "200201": gettext_lazy("callee ringing"),
    "200102": gettext_lazy("callee answered"),
    "200100": gettext_lazy("call ended"),
    "300000": gettext_lazy("key pressed"),
}


def status_code_meaning(status_code: str) -> str:
    """Words for a status code as an event carries it: an in-call step, or the outcome a final code means."""
    code = _text(status_code)
    if not code:
        return ""
    return str(_STEP_MEANINGS.get(code) or outcome_for(code).label)


def outcome_for(status_code: str) -> CallRecord.Outcome:
    """The outcome shown to people for a final status code (reference §6.5); the raw code stays on the record."""
    code = _text(status_code)
    if not code:
        return CallRecord.Outcome.UNKNOWN
    return _OUTCOMES.get(code, CallRecord.Outcome.FAILED)


def hangup_side(value) -> str:
    """`用户`/`机器` as `user`/`platform`; other spellings are kept as sent."""
    text = _text(value)
    return _HANGUP_SIDES.get(text, text)[:16]


# ----- parsing: the provider's loose types into plain values -----
def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ReceiptInvalid(_("expected text or a number, got %(value)r") % {"value": value})
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _time(value) -> datetime | None:
    """Provider times are Beijing wall-clock `yyyy-MM-dd HH:mm:ss`; empty means "did not happen"."""
    text = _text(value)
    if not text:
        return None
    try:
        # fromisoformat reads `yyyy-MM-dd HH:mm:ss` (and ISO variants) several times faster than strptime.
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ReceiptInvalid(_("%(value)r is not a time like 2024-01-31 13:45:00") % {"value": text}) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))


def _seconds(value) -> int | None:
    text = _text(value)
    if not text:
        return None
    try:
        number = int(float(text))
    except ValueError:
        raise ReceiptInvalid(_("%(value)r is not a number of seconds") % {"value": text}) from None
    if number < 0:
        raise ReceiptInvalid(_("%(value)r is not a number of seconds") % {"value": text})
    return number


def receipt_parse(*, message_type: str, item) -> Receipt:
    """One pushed record as a Receipt; raises ReceiptInvalid naming what is wrong."""
    if not isinstance(item, dict):
        raise ReceiptInvalid(_("each receipt must be a JSON object"))
    missing = [name for name in _REQUIRED[message_type] if name not in item]
    if missing:
        raise ReceiptInvalid(_("missing field(s): %(fields)s") % {"fields": ", ".join(missing)})
    status_code = _text(item.get("status_code"))
    if not status_code:
        raise ReceiptInvalid(_("status_code is empty"))
    if message_type == VOICE_REPORT and not _text(item.get("call_id")):
        raise ReceiptInvalid(_("call_id is empty"))
    return Receipt(
        final=message_type == VOICE_REPORT,
        call_id=_text(item.get("call_id"))[:64],
        out_id=_text(item.get("out_id"))[:64],
        status_code=status_code[:16],
        smart_status_code=_text(item.get("smart_status_code"))[:32],
        status_time=_time(item.get("status_time")),
        status_msg=_text(item.get("status_msg"))[:200],
        hangup_direction=hangup_side(item.get("hangup_direction")),
        originate_time=_time(item.get("originate_time")),
        ring_time=_time(item.get("ring_time")),
        start_time=_time(item.get("start_time")),
        end_time=_time(item.get("end_time")),
        duration=_seconds(item.get("duration")),
        raw=item,
    )


def receipts_parse(*, message_type: str, records) -> list[Receipt]:
    """A whole batch, or ReceiptInvalid for the first bad record (the provider then fixes and resends it all)."""
    if message_type not in MESSAGE_TYPES:
        raise ReceiptInvalid(_("unsupported message type %(type)s") % {"type": message_type})
    if not isinstance(records, list):
        raise ReceiptInvalid(_("the body must be a JSON array of receipts"))
    parsed = []
    for index, item in enumerate(records):
        try:
            if _holds_nul(item):
                # No database text or JSON column can store U+0000; refuse it here rather than fail on insert.
                raise ReceiptInvalid(_("text must not contain the NUL character (\\u0000)"))
            parsed.append(receipt_parse(message_type=message_type, item=item))
        except ReceiptInvalid as error:
            raise ReceiptInvalid(_("receipt %(index)d: %(error)s") % {"index": index, "error": error}) from None
    return parsed


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _dedup_key(receipt: Receipt) -> str:
    """Reference §7.5: a final report once per call; an in-call report once per (call, code, time)."""
    if receipt.final:
        key = f"vr:{receipt.call_id}"
    else:
        # Inbound reports carry no call_id; their biz_id plays that part.
        call = receipt.call_id or f"biz:{_text(receipt.raw.get('biz_id'))}"
        when = _text(receipt.raw.get("status_time"))
        key = f"vcr:{call}:{receipt.status_code}:{when}"
        if "dtmf" in receipt.raw:
            # Two keys pressed within the same second are two facts, not one delivered twice.
            key += f":{_text(receipt.raw['dtmf'])}"
    if len(key) > 200:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


# ----- applying: pure, on the record in memory; returns whether anything changed -----
def _fill(record: CallRecord, name: str, value) -> bool:
    if value in (None, "") or getattr(record, name) not in (None, ""):
        return False
    setattr(record, name, value)
    return True


def _set(record: CallRecord, name: str, value) -> bool:
    if getattr(record, name) == value:
        return False
    setattr(record, name, value)
    return True


def receipt_apply(*, record: CallRecord, receipt: Receipt, from_receipt: bool = True) -> bool:
    """Fold one receipt into `record` (not saved). Order does not matter: the result only moves forward.

    `from_receipt=False` marks a detail query: its final code settles a call that has no final
    receipt, but never overrides one (the pushed VoiceReport is the provider's own record).
    """
    changed = _fill(record, "call_id", receipt.call_id)
    settles = receipt.final or (not from_receipt and receipt.status_code not in INTERMEDIATE_CODES)
    if settles and (from_receipt or record.final_report_at is None):
        outcome = outcome_for(receipt.status_code)
        status = CallRecord.Status.COMPLETED if outcome in _DELIVERED else CallRecord.Status.FAILED
        for name, value in (
            ("status", status), ("outcome", outcome), ("status_code", receipt.status_code),
            ("smart_status_code", receipt.smart_status_code or record.smart_status_code),
            ("status_msg", receipt.status_msg or record.status_msg),
            ("hangup_direction", receipt.hangup_direction or record.hangup_direction),
            ("duration", receipt.duration if receipt.duration is not None else record.duration),
        ):
            changed |= _set(record, name, value)
        for name in ("originate_time", "ring_time", "start_time", "end_time"):
            if getattr(receipt, name) is not None:
                changed |= _set(record, name, getattr(receipt, name))
        if from_receipt and record.final_report_at is None:
            record.final_report_at = timezone.now()
            changed = True
        return changed
    if settles:
        for name in ("originate_time", "ring_time", "start_time", "end_time", "duration", "hangup_direction"):
            changed |= _fill(record, name, getattr(receipt, name))
        return changed

    # An in-call step: forward only, and nothing once the call is final.
    step = _STEP_STATUS.get(receipt.status_code)
    if step == CallRecord.Status.ACCEPTED:
        forward = record.status in (CallRecord.Status.QUEUED, CallRecord.Status.SENDING, CallRecord.Status.UNKNOWN)
    else:
        forward = step is not None and _RANK[step] > _RANK[CallRecord.Status(record.status)]
    if forward:
        changed |= _set(record, "status", step)
    if step == CallRecord.Status.RINGING:
        changed |= _fill(record, "ring_time", receipt.status_time)
    elif step == CallRecord.Status.ANSWERED:
        changed |= _fill(record, "start_time", receipt.status_time)
    elif receipt.status_code == CALL_ENDED:
        changed |= _fill(record, "end_time", receipt.status_time)
    if not record.is_final and receipt.smart_status_code:
        changed |= _set(record, "smart_status_code", receipt.smart_status_code)
    return changed


def _records_save(records: list[CallRecord], names: tuple[str, ...] = _RECORD_FIELDS) -> None:
    """Write the receipt fields of many records in one statement."""
    now = timezone.now()
    names = tuple(dict.fromkeys((*names, "updated_at")))
    for record in records:
        record.updated_at = now
    rows_update(CallRecord, [{"id": record.pk, **{name: getattr(record, name) for name in names}} for record in records])


# ----- the services -----
def receipts_ingest(*, message_type: str, records: list[dict]) -> IngestResult:
    """Validate, store and apply one pushed batch. Raises ReceiptInvalid (nothing stored) for a bad batch."""
    parsed = receipts_parse(message_type=message_type, records=records)
    keyed: dict[str, Receipt] = {}
    for receipt in parsed:
        keyed.setdefault(_dedup_key(receipt), receipt)
    kind = _EVENT_KIND[message_type]

    with transaction.atomic():
        stored = existing_values(CallEvent, "dedup_key", list(keyed))
        fresh = {key: receipt for key, receipt in keyed.items() if key not in stored}
        call_ids = {r.call_id for r in fresh.values() if r.call_id}
        out_ids = {r.out_id for r in fresh.values() if r.out_id}
        by_call_id: dict[str, CallRecord] = {}
        by_out_id: dict[str, CallRecord] = {}
        loaded: dict[int, tuple] = {}
        if call_ids or out_ids:
            # Locked so a detail query or a concurrent batch for the same call cannot interleave; in id order so
            # two batches sharing calls queue behind each other instead of deadlocking.
            for record in locked_matching_any(CallRecord, _LOADED_FIELDS, {"call_id": call_ids, "out_id": out_ids}):
                loaded[record.pk] = _snapshot(record)
                if record.call_id:
                    by_call_id[record.call_id] = record
                by_out_id[record.out_id] = record

        now = timezone.now()
        events, changed = [], {}
        for key, receipt in fresh.items():
            record = _match(receipt, by_call_id, by_out_id)
            if record is not None and receipt_apply(record=record, receipt=receipt):
                changed[record.pk] = record
            events.append({
                "call_id": record.pk if record else None, "kind": kind, "dedup_key": key,
                "receipt_call_id": receipt.call_id, "receipt_out_id": receipt.out_id, "status_code": receipt.status_code,
                "message": receipt.status_msg or receipt.smart_status_code, "payload": receipt.raw, "created_at": now,
            })
        # A receipt another batch stored meanwhile is skipped: its dedup key is unique.
        rows_insert(CallEvent, events, skip_conflicts=True)
        # Only the columns this batch touched: in-call steps change three or four, not fourteen.
        touched = {name for pk, record in changed.items() for name, old, new in
                   zip(_RECORD_FIELDS, loaded[pk], _snapshot(record), strict=True) if old != new}
        _records_save(list(changed.values()), tuple(sorted(touched)))
        transaction.on_commit(lambda: daily_stats_mark_dirty(days=call_days(*changed.values())))  # the dashboard recounts those days
    matched = sum(1 for event in events if event["call_id"] is not None)
    return IngestResult(received=len(parsed), stored=len(events), matched=matched, unmatched=len(events) - matched)


def _snapshot(record: CallRecord) -> tuple:
    return tuple(getattr(record, name) for name in _RECORD_FIELDS)


def _match(receipt: Receipt, by_call_id: dict, by_out_id: dict) -> CallRecord | None:
    record = by_call_id.get(receipt.call_id) if receipt.call_id else None
    if record is None and receipt.out_id:
        record = by_out_id.get(receipt.out_id)
        # Same OutId but another CallId: not this call (OutIds are ours, CallIds the provider's).
        if record is not None and record.call_id and receipt.call_id and record.call_id != receipt.call_id:
            return None
    return record


@transaction.atomic
def call_record_claim_pending_receipts(*, record: CallRecord) -> int:
    """Attach and apply receipts that arrived before the record knew its CallId (or before it existed)."""
    locked = CallRecord.objects.select_for_update().get(pk=record.pk)
    match = Q(receipt_out_id=locked.out_id)
    if locked.call_id:
        match |= Q(receipt_call_id=locked.call_id)
    pending = list(CallEvent.objects.select_for_update().filter(match, call__isnull=True,
                                                                kind__in=list(_MESSAGE_TYPE_OF_KIND)))
    claimed = []
    for event in pending:
        receipt = receipt_parse(message_type=_MESSAGE_TYPE_OF_KIND[event.kind], item=event.payload)
        if _match(receipt, {locked.call_id: locked} if locked.call_id else {}, {locked.out_id: locked}) is None:
            continue
        receipt_apply(record=locked, receipt=receipt)
        event.call = locked
        claimed.append(event)
    if claimed:
        CallEvent.objects.bulk_update(claimed, ["call"])
        _records_save([locked])
        record.refresh_from_db()
    return len(claimed)


def _detail_receipt(detail: CallDetail) -> Receipt:
    state, description, hangup = _text(detail.state), _text(detail.state_desc), _text(detail.hangup_direction)
    return Receipt(
        final=False, call_id=detail.call_id or "", out_id="", status_code=state[:16],
        # A description that only repeats the code says nothing; the hang-up side comes as a number whose meanings
        # the provider does not document. Both stay in the event's payload, but are not shown as words.
        status_msg="" if description == state else description[:200],
        hangup_direction="" if hangup.isdigit() else hangup_side(hangup),
        originate_time=detail.created_at, ring_time=detail.ring_time, start_time=detail.start_time,
        end_time=detail.end_time, duration=detail.duration, raw=detail.raw,
    )


@transaction.atomic
def call_record_apply_detail(*, record: CallRecord, detail: CallDetail | None) -> None:
    """Record a QueryCallDetailByCallId answer as an event and fold what it says into the call."""
    locked = CallRecord.objects.select_for_update().get(pk=record.pk)
    if detail is None:
        CallEvent.objects.create(call=locked, kind=CallEvent.Kind.DETAIL_QUERY, message=_("No detail found (yet)."),
                                 payload={"found": False})
        return
    receipt = _detail_receipt(detail)
    CallEvent.objects.create(
        call=locked, kind=CallEvent.Kind.DETAIL_QUERY, status_code=receipt.status_code, message=receipt.status_msg,
        payload={"request_id": detail.request_id, "data": detail.raw},
    )
    if receipt.status_code and receipt_apply(record=locked, receipt=receipt, from_receipt=False):
        _records_save([locked])
    record.refresh_from_db()


def call_record_requery(*, record: CallRecord) -> CallDetail | None:
    """Ask the provider for the call's detail now and apply the answer (outside any transaction)."""
    from notifications.aliyun import get_vms_client

    if not record.call_id:
        raise ReceiptInvalid(_("This call has no CallId yet, so the provider cannot be asked about it."))
    detail = get_vms_client().query_call_detail(
        call_id=record.call_id, api=record.api, query_date=record.sent_at or record.created_at
    )
    call_record_apply_detail(record=record, detail=detail)
    return detail
