"""Receipts into call records: store each receipt once as an event and fold it into the call it belongs to.

A set of receipts is applied in a fixed number of queries whatever its size: one SELECT of the events already
stored under the same deduplication keys, one SELECT (locking) of the matching call records, one INSERT of the new
events and one UPDATE round for the changed records. Applying the same receipts again changes nothing, so a push
delivered twice, or replayed from the inbox, is harmless.
"""
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.aliyun import CallDetail
from notifications.aliyun.push import (
    VOICE_CALL_REPORT,
    VOICE_REPORT,
    PushItemInvalid,
    Receipt,
    hangup_side,
    push_text,
    receipt_dedup_key,
    receipt_parse,
)
from notifications.models import CallEvent, CallRecord
from notifications.rules.call_state import RECORD_FIELDS, receipt_apply
from notifications.services.bulk import locked_matching_any, rows_insert, rows_update
from notifications.services.stats import call_days, daily_stats_mark_dirty
from notifications.texts import in_each_language, in_language

_EVENT_KIND = {VOICE_REPORT: CallEvent.Kind.VOICE_REPORT, VOICE_CALL_REPORT: CallEvent.Kind.CALL_REPORT}
MESSAGE_TYPE_OF_KIND = {kind: message_type for message_type, kind in _EVENT_KIND.items()}

# What applying receipts reads: the fields they may change, the keys they match by, the day the call counts in.
_LOADED_FIELDS = ["id", "out_id", "created_at", "placed_elsewhere", *RECORD_FIELDS]

APPLIED, UNMATCHED, INVALID = "applied", "unmatched", "invalid"


class ReceiptInvalid(ValueError):
    """A request about receipts that cannot be carried out (a call with no CallId to query)."""


@dataclass(frozen=True)
class IngestResult:
    """What applying a list of pushed items found, item by item and in sum."""

    items: tuple  # per item, in order: (APPLIED | UNMATCHED | INVALID, PushItemInvalid or None)
    stored: int  # new events; the rest were deliveries of receipts already stored (or repeated in the list)

    def _count(self, state: str) -> int:
        return sum(1 for item_state, _error in self.items if item_state == state)

    @property
    def received(self) -> int:
        return len(self.items)

    @property
    def matched(self) -> int:
        return self._count(APPLIED)

    @property
    def unmatched(self) -> int:
        return self._count(UNMATCHED)

    @property
    def invalid(self) -> int:
        return self._count(INVALID)


def receipts_ingest(*, message_type: str, records: list) -> IngestResult:
    """Apply one pushed array of `message_type`; a bad item is reported in the result, never raised."""
    return receipts_ingest_items([(message_type, item) for item in records])


def receipts_ingest_items(items: list[tuple[str, object]]) -> IngestResult:
    """Apply (message type, item) pairs, from one push or several, in one transaction."""
    states: list = [None] * len(items)
    keyed: dict[str, Receipt] = {}
    item_keys: list[str | None] = [None] * len(items)
    for index, (message_type, item) in enumerate(items):
        try:
            receipt = receipt_parse(message_type=message_type, item=item)
        except PushItemInvalid as error:
            states[index] = (INVALID, error)
            continue
        key = receipt_dedup_key(receipt)
        keyed.setdefault(key, receipt)
        item_keys[index] = key
    if not keyed:
        return IngestResult(items=tuple(states), stored=0)

    with transaction.atomic():
        stored = {key: (pk, call_pk) for key, pk, call_pk in
                  CallEvent.objects.filter(dedup_key__in=list(keyed)).values_list("dedup_key", "pk", "call_id")}
        call_ids = {r.call_id for r in keyed.values() if r.call_id}
        out_ids = {r.out_id for r in keyed.values() if r.out_id}
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
        events, attach, changed, matched_keys = [], {}, {}, set()
        for key, receipt in keyed.items():
            record = _match(receipt, by_call_id, by_out_id)
            if record is not None:
                matched_keys.add(key)
                if receipt_apply(record=record, receipt=receipt):
                    changed[record.pk] = record
            if key not in stored:
                events.append({
                    "call_id": record.pk if record else None, "kind": _EVENT_KIND[VOICE_REPORT if receipt.final else VOICE_CALL_REPORT],
                    "dedup_key": key, "receipt_call_id": receipt.call_id, "receipt_out_id": receipt.out_id,
                    "status_code": receipt.status_code, "message": receipt.status_msg or receipt.smart_status_code,
                    "payload": receipt.raw, "created_at": now,
                })
            elif record is not None and stored[key][1] is None:
                attach.setdefault(record.pk, []).append(stored[key][0])  # kept unmatched earlier, matched now
        # A receipt another transaction stored meanwhile is skipped: its dedup key is unique.
        rows_insert(CallEvent, events, skip_conflicts=True)
        for call_pk, event_pks in attach.items():
            CallEvent.objects.filter(pk__in=event_pks, call__isnull=True).update(call_id=call_pk)
        # Only the columns this batch touched: in-call steps change three or four, not fourteen.
        touched = {name for pk, record in changed.items() for name, old, new in
                   zip(RECORD_FIELDS, loaded[pk], _snapshot(record), strict=True) if old != new}
        _records_save(list(changed.values()), tuple(sorted(touched)))
        transaction.on_commit(lambda: daily_stats_mark_dirty(days=call_days(*changed.values())))  # the dashboard recounts those days

    for index, key in enumerate(item_keys):
        if key is not None:
            states[index] = (APPLIED if key in matched_keys else UNMATCHED, None)
    return IngestResult(items=tuple(states), stored=len(events))


def _snapshot(record: CallRecord) -> tuple:
    return tuple(getattr(record, name) for name in RECORD_FIELDS)


def _records_save(records: list[CallRecord], names: tuple[str, ...] = RECORD_FIELDS) -> None:
    """Write the receipt fields of many records in one statement."""
    now = timezone.now()
    names = tuple(dict.fromkeys((*names, "updated_at")))
    for record in records:
        record.updated_at = now
    rows_update(CallRecord, [{"id": record.pk, **{name: getattr(record, name) for name in names}} for record in records])


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
                                                                kind__in=list(MESSAGE_TYPE_OF_KIND)))
    claimed = []
    for event in pending:
        try:
            receipt = receipt_parse(message_type=MESSAGE_TYPE_OF_KIND[event.kind], item=event.payload)
        except PushItemInvalid:
            continue  # stored before today's checks; the inbox keeps the original push
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
    state, description, hangup = push_text(detail.state), push_text(detail.state_desc), push_text(detail.hangup_direction)
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
        messages = in_each_language(lambda: _("No detail found (yet)."))
        CallEvent.objects.create(call=locked, kind=CallEvent.Kind.DETAIL_QUERY, message=in_language(messages),
                                 messages=messages, payload={"found": False})
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
