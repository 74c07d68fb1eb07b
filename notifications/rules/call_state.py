"""The call's state machine (DESIGN §4): what a receipt or a detail query does to a call record, as pure functions.

Receipts arrive twice, late and out of order, so applying one only ever moves a call forward, and a final report
(VoiceReport) is never undone by a late in-call report (VoiceCallReport). The functions change the record in
memory and say whether anything changed; saving is the services' work.
"""
from django.utils import timezone
from django.utils.translation import gettext_lazy

from notifications.aliyun.push import Receipt, push_text
from notifications.models import CallEvent, CallRecord

_S = CallRecord.Status
# In-call steps (reference §6.5) and the status each one proves the call reached.
STEP_STATUS = {"200101": _S.ACCEPTED, "200201": _S.RINGING, "200102": _S.ANSWERED}
CALL_ENDED = "200100"
INTERMEDIATE_CODES = frozenset({"200100", "200101", "200102", "200103", "200201", "200202", "300000"})
# How far along a status is; an in-call step moves a call only to a higher rank.
RANK = {
    _S.QUEUED: 0, _S.SENDING: 0, _S.ACCEPTED: 0, _S.UNKNOWN: 0,
    _S.RINGING: 1, _S.ANSWERED: 2,
    _S.COMPLETED: 3, _S.FAILED: 3, _S.OUTCOME_UNKNOWN: 3,
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

_STEP_MEANINGS = {
    "200101": gettext_lazy("calling started"),
    "200201": gettext_lazy("callee ringing"),
    "200102": gettext_lazy("callee answered"),
    "200100": gettext_lazy("call ended"),
    "300000": gettext_lazy("key pressed"),
}

# Every field a receipt or a detail query may change.
RECORD_FIELDS = (
    "called_number", "call_id", "status", "outcome", "status_code", "smart_status_code", "status_msg", "hangup_direction",
    "originate_time", "ring_time", "start_time", "end_time", "duration", "final_report_at", "updated_at",
)


def callee_number(value) -> str:
    """The callee as a receipt gives it, kept to what a number holds (the provider masks some digits as `*`)."""
    text = push_text(value) if isinstance(value, str | int) else ""
    return "".join(ch for ch in text if ch.isdigit() or ch == "*")[:20]


def outcome_for(status_code) -> CallRecord.Outcome:
    """The outcome shown to people for a final status code (reference §6.5); the raw code stays on the record."""
    code = push_text(status_code)
    if not code:
        return CallRecord.Outcome.UNKNOWN
    return _OUTCOMES.get(code, CallRecord.Outcome.FAILED)


# Events whose code is a receipt status code (reference §6.5). An API answer's or a retry's code ("OK",
# "Throttling.User") is the provider's request answer, not a call status: it has no outcome.
_STATUS_CODE_KINDS = frozenset({CallEvent.Kind.CALL_REPORT, CallEvent.Kind.VOICE_REPORT, CallEvent.Kind.DETAIL_QUERY})


def status_code_meaning(status_code, *, kind: str) -> str:
    """Words for a status code as an event of `kind` carries it: an in-call step, or the outcome a final code means."""
    code = push_text(status_code)
    if not code or kind not in _STATUS_CODE_KINDS:
        return ""
    return str(_STEP_MEANINGS.get(code) or outcome_for(code).label)


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

    `from_receipt=False` marks a detail query: its final code settles a call that has no final receipt, but never
    overrides one (the pushed VoiceReport is the provider's own record). A call the console closed as "outcome
    unknown" is settled by either when it comes after all.
    """
    changed = _fill(record, "call_id", receipt.call_id)
    if record.placed_elsewhere:
        # Our own calls know their callee; one placed elsewhere learns it from the first receipt that names it.
        changed |= _fill(record, "called_number", callee_number(receipt.raw.get("callee")))
    settles = receipt.final or (not from_receipt and receipt.status_code not in INTERMEDIATE_CODES)
    if settles and (from_receipt or record.final_report_at is None):
        outcome = outcome_for(receipt.status_code)
        status = _S.COMPLETED if outcome in _DELIVERED else _S.FAILED
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
    step = STEP_STATUS.get(receipt.status_code)
    if step == _S.ACCEPTED:
        forward = record.status in (_S.QUEUED, _S.SENDING, _S.UNKNOWN)
    else:
        forward = step is not None and RANK[step] > RANK[_S(record.status)]
    if forward:
        changed |= _set(record, "status", step)
    if step == _S.RINGING:
        changed |= _fill(record, "ring_time", receipt.status_time)
    elif step == _S.ANSWERED:
        changed |= _fill(record, "start_time", receipt.status_time)
    elif receipt.status_code == CALL_ENDED:
        changed |= _fill(record, "end_time", receipt.status_time)
    if not record.is_final and receipt.smart_status_code:
        changed |= _set(record, "smart_status_code", receipt.smart_status_code)
    return changed
