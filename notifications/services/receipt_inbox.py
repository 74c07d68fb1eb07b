"""The receipt inbox (DESIGN §4, second wave): every push kept as received, applied afterwards by a job.

The webhook only stores the body (one INSERT) and acknowledges, well inside the provider's 700 ms. A job takes
the waiting pushes oldest first, several at a time, applies their items with `receipts_ingest_items` and writes
down, per push, what became of each item. Applying is idempotent, so any push can be replayed. Receipts still
unmatched after a grace period belong to calls the account's other systems placed: they become call records
"placed elsewhere", so the call log covers the whole account.
"""
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications import work
from notifications.aliyun.push import MESSAGE_TYPES, PushBodyInvalid, push_body_decode, push_text
from notifications.aliyun.spec import parse_provider_time
from notifications.models import CallEvent, CallRecord, ReceiptDelivery
from notifications.rules.call_state import callee_number
from notifications.services.bulk import rows_update
from notifications.services.calls_create import new_out_id
from notifications.services.receipts import (
    APPLIED,
    INVALID,
    MESSAGE_TYPE_OF_KIND,
    UNMATCHED,
    call_record_claim_pending_receipts,
    receipts_ingest_items,
)
from notifications.texts import in_each_language, in_language

logger = logging.getLogger(__name__)

APPLY_BATCH = 20  # pushes applied together in one transaction
PROBLEMS_KEPT = 200  # per push; the counts stay exact beyond it
ELSEWHERE_BATCH = 200  # calls made from unmatched receipts per run

# Why a body or an item was not applied, in words for the deliveries page (the codes are stored).
PROBLEM_MESSAGES = {
    "not_utf8": _("The body is not UTF-8 text (first bad byte at %(position)s)."),
    "not_json": _("The body is not valid JSON (%(detail)s)."),
    "too_deep": _("Nested too deeply to read (more than %(limit)s levels)."),
    "not_array": _("The body is JSON but not an array of receipts."),
    "not_object": _("The item is not a JSON object."),
    "nul": _("A text holds the NUL character (\\u0000), which cannot be stored."),
    "surrogate": _("A text holds an unpaired surrogate (%(codepoint)s), which is not valid Unicode."),
    "non_finite": _("A number is NaN, Infinity or too large (%(value)s)."),
    "not_text": _("The field %(field)s must be text or a number."),
    "missing": _("The field %(field)s is missing or empty."),
    "no_ids": _("The item has neither call_id nor out_id, so it belongs to no call."),
    "bad_time": _("The field %(field)s is not a time like 2024-01-31 13:45:00: %(value)s"),
    "bad_seconds": _("The field %(field)s is not a number of seconds: %(value)s"),
    "seconds_out_of_range": _("The field %(field)s is more than %(limit)s seconds: %(value)s"),
    "unmatched": _("No call of ours has this call_id or out_id (yet)."),
}


def problem_text(problem: dict) -> str:
    """A stored problem in the reader's language."""
    message = PROBLEM_MESSAGES.get(problem.get("code", ""))
    if message is None:
        return str(problem.get("code", ""))
    params = {"limit": "", **problem.get("params", {})}
    try:
        return str(message) % params
    except (KeyError, TypeError, ValueError):
        return str(message)


def receipt_body_limit() -> int:
    return settings.RECEIPT_BODY_MAX_BYTES


def receipt_delivery_store(*, message_type: str, body: bytes) -> ReceiptDelivery:
    """Keep one push exactly as received; a body that is not a JSON array is kept already judged invalid.

    Raises ValueError for a message type the console does not take (the view refuses it before this).
    """
    if message_type not in MESSAGE_TYPES:
        raise ValueError(message_type)
    delivery = ReceiptDelivery(message_type=message_type, size=len(body), body=body, received_at=timezone.now())
    try:
        push_body_decode(body)
    except PushBodyInvalid as error:
        delivery.state = ReceiptDelivery.State.INVALID
        delivery.problems = [{"index": None, "code": error.code, "params": _plain(error.params)}]
        delivery.applied_at = delivery.received_at
    delivery.save()
    return delivery


def _plain(params: dict) -> dict:
    return {name: value if isinstance(value, int | str) else str(value) for name, value in params.items()}


@dataclass
class InboxSummary:
    deliveries: int = 0
    items: int = 0
    applied: int = 0
    unmatched: int = 0
    invalid: int = 0
    elsewhere: int = 0

    def __str__(self) -> str:
        return str(_(
            "%(deliveries)d pushes applied (%(items)d items: %(applied)d applied, %(unmatched)d unmatched, "
            "%(invalid)d invalid); %(elsewhere)d calls recorded as placed elsewhere"
        ) % vars(self))


def receipt_inbox_apply_pending(*, max_batches: int | None = None) -> InboxSummary:
    """Apply waiting pushes oldest first until none is left (or `max_batches` were done), then record the calls
    placed elsewhere whose grace period is over."""
    summary = InboxSummary()
    batches = 0
    while max_batches is None or batches < max_batches:
        if not _apply_batch(summary):
            break
        batches += 1
    summary.elsewhere = receipts_record_placed_elsewhere()
    return summary


def _apply_batch(summary: InboxSummary) -> int:
    with transaction.atomic():
        # Another worker's pushes are skipped, not waited for: each push is applied by one run.
        deliveries = list(
            ReceiptDelivery.objects.select_for_update(skip_locked=True)
            .filter(state=ReceiptDelivery.State.PENDING).order_by("received_at", "id")[:APPLY_BATCH]
        )
        if not deliveries:
            return 0
        items, owners, body_problems = [], [], {}
        for delivery in deliveries:
            try:
                decoded = push_body_decode(bytes(delivery.body))
            except PushBodyInvalid as error:
                body_problems[delivery.pk] = {"index": None, "code": error.code, "params": _plain(error.params)}
                continue
            for index, item in enumerate(decoded):
                items.append((delivery.message_type, item))
                owners.append((delivery, index))
        result = receipts_ingest_items(items)
        per_delivery = {delivery.pk: {"items": 0, APPLIED: 0, UNMATCHED: 0, INVALID: 0, "problems": []}
                        for delivery in deliveries}
        for (delivery, index), (state, error) in zip(owners, result.items, strict=True):
            tally = per_delivery[delivery.pk]
            tally["items"] += 1
            tally[state] += 1
            if state != APPLIED and len(tally["problems"]) < PROBLEMS_KEPT:
                code, params = (error.code, _plain(error.params)) if error else ("unmatched", {})
                tally["problems"].append({"index": index, "reason": state, "code": code, "params": params})
        now = timezone.now()
        rows = []
        for delivery in deliveries:
            tally = per_delivery[delivery.pk]
            if delivery.pk in body_problems:
                state, problems = ReceiptDelivery.State.INVALID, [body_problems[delivery.pk]]
            else:
                state, problems = _delivery_state(tally), tally["problems"]
            rows.append({
                "id": delivery.pk, "state": state, "item_count": tally["items"], "applied_count": tally[APPLIED],
                "unmatched_count": tally[UNMATCHED], "invalid_count": tally[INVALID], "problems": problems,
                "applied_at": now, "apply_runs": delivery.apply_runs + 1,
            })
            summary.items += tally["items"]
            summary.applied += tally[APPLIED]
            summary.unmatched += tally[UNMATCHED]
            summary.invalid += tally[INVALID]
        rows_update(ReceiptDelivery, rows)
    summary.deliveries += len(deliveries)
    return len(deliveries)


def _delivery_state(tally: dict) -> str:
    if tally[APPLIED] == tally["items"]:
        return ReceiptDelivery.State.APPLIED  # an empty array too: nothing in it was left out
    if tally[APPLIED]:
        return ReceiptDelivery.State.PARTLY_APPLIED
    if tally[UNMATCHED]:
        return ReceiptDelivery.State.UNMATCHED
    return ReceiptDelivery.State.INVALID


def receipt_deliveries_replay(*, deliveries) -> int:
    """Apply these pushes again (after a fix, or once their calls are known); returns how many were queued.

    `deliveries` is a queryset (a filtered set from the deliveries page) or a list of instances.
    """
    ids = list(deliveries.values_list("pk", flat=True)) if hasattr(deliveries, "values_list") else [d.pk for d in deliveries]
    with transaction.atomic():
        count = ReceiptDelivery.objects.filter(pk__in=ids).update(state=ReceiptDelivery.State.PENDING)
        if count:
            work.inbox_wake()
    logger.info("receipt inbox: %d pushes queued for replay", count)
    return count


@dataclass
class PruneSummary:
    deliveries: int = 0

    def __str__(self) -> str:
        return str(_("%(deliveries)d receipt pushes older than the retention period deleted") % vars(self))


def receipt_inbox_prune(*, now=None, chunk: int = 5000) -> PruneSummary:
    """Delete pushes older than RECEIPT_INBOX_KEEP_DAYS (their receipts stay on the calls), a chunk at a time."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.RECEIPT_INBOX_KEEP_DAYS)
    summary = PruneSummary()
    while True:
        ids = list(ReceiptDelivery.objects.filter(received_at__lt=cutoff).order_by("received_at", "id")
                   .values_list("pk", flat=True)[:chunk])
        if not ids:
            return summary
        # A push waiting to be applied is never thrown away unread, however old.
        summary.deliveries += ReceiptDelivery.objects.filter(pk__in=ids).exclude(state=ReceiptDelivery.State.PENDING).delete()[0]
        if len(ids) < chunk:
            return summary


def receipts_record_placed_elsewhere(*, now=None) -> int:
    """Make a call record for each CallId whose receipts are still unmatched after the grace period.

    The grace period is long enough for our own call's receipt, arriving before the API's answer told us its
    CallId, to be matched to our call first. Returns how many calls were recorded.
    """
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.RECEIPT_ELSEWHERE_GRACE_MINUTES)
    waiting = (
        CallEvent.objects.filter(call__isnull=True, kind__in=list(MESSAGE_TYPE_OF_KIND), created_at__lt=cutoff)
        .exclude(receipt_call_id="")
        .values("receipt_call_id").annotate(first=Min("created_at")).order_by("first")[:ELSEWHERE_BATCH]
    )
    recorded = 0
    for row in waiting:
        call_id = row["receipt_call_id"]
        record = CallRecord.objects.filter(call_id=call_id).first()
        if record is None:
            record = _elsewhere_record_create(call_id=call_id, first_seen=row["first"])
            if record is None:
                continue
            recorded += 1
        call_record_claim_pending_receipts(record=record)
    if recorded:
        logger.info("receipt inbox: %d calls placed elsewhere recorded", recorded)
    return recorded


def _elsewhere_record_create(*, call_id: str, first_seen) -> CallRecord | None:
    events = list(CallEvent.objects.filter(receipt_call_id=call_id, call__isnull=True).order_by("created_at", "id")[:20])
    payloads = [event.payload for event in events if isinstance(event.payload, dict)]
    callee = next((callee_number(p.get("callee")) for p in payloads if callee_number(p.get("callee"))), "")
    their_out_id = next((e.receipt_out_id for e in events if e.receipt_out_id), "")
    placed_at = _first_time(payloads) or first_seen
    def message():
        if their_out_id:
            return _("Placed by another system using this account (its OutId: %(out_id)s); known from its receipts.") % {
                "out_id": their_out_id}
        return _("Placed by another system using this account; known from its receipts.")

    messages = in_each_language(message)
    try:
        with transaction.atomic():
            return CallRecord.objects.create(
                api=CallRecord.Api.OTHER, mode="", called_number=callee,
                out_id=new_out_id(), call_id=call_id, status=CallRecord.Status.ACCEPTED, placed_elsewhere=True,
                api_message=in_language(messages), api_messages=messages, created_at=placed_at, sent_at=placed_at,
            )
    except IntegrityError:
        return None  # another run recorded it meanwhile


def _first_time(payloads: list[dict]):
    for payload in payloads:
        for name in ("originate_time", "status_time"):
            text = push_text(payload.get(name)) if not isinstance(payload.get(name), dict | list) else ""
            if text:
                try:
                    return parse_provider_time(text)
                except ValueError:
                    continue
    return None
