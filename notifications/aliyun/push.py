"""The provider's receipt push format (reference §6.2, §6.4): a body of bytes into receipts in plain values.

Pure Python: nothing here touches the database or Django, so hostile input is judged before anything is stored.
A body that is not a JSON array at all is refused whole (PushBodyInvalid); inside an array each item stands on
its own, so one unusable item (PushItemInvalid) never costs the good ones beside it.
"""
import hashlib
import json
import math
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from .spec import parse_provider_time

VOICE_REPORT = "VoiceReport"
VOICE_CALL_REPORT = "VoiceCallReport"
MESSAGE_TYPES = (VOICE_REPORT, VOICE_CALL_REPORT)

# Deeper than any record the provider documents (two levels): anything past this is refused item by item, so
# nothing later (the JSON column, the pages) has to recurse through it.
MAX_ITEM_DEPTH = 16
# The longest call the console believes: a notification rings for a minute and plays at most three times.
MAX_DURATION_SECONDS = 24 * 3600
_SECONDS = re.compile(r"\d{1,40}(?:\.\d{1,9})?")
_HANGUP_SIDES = {"用户": "user", "机器": "platform"}


class PushBodyInvalid(ValueError):
    """The body as a whole cannot be read as a JSON array; `code` says why (see the inbox's messages)."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


class PushItemInvalid(ValueError):
    """One item of an array cannot be used; `code` and `params` say why."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


class _NonFinite:
    """Stands for `NaN` / `Infinity` / a number too large for a float: no JSON column can store those."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _parse_float(text: str):
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


# Python counts recursion per thread: decoding on a thread of its own gives every body the same nesting allowance,
# however deep the stack of the request that received it (middleware added to the web stack must not turn a
# 900-level receipt that decoded yesterday into "not JSON" today).
_decoder = ThreadPoolExecutor(max_workers=4, thread_name_prefix="push-decode")


def _json_decode(text: str):
    return json.loads(text, parse_constant=_NonFinite, parse_float=_parse_float)


def push_body_decode(body: bytes) -> list:
    """The body as a list of items, or PushBodyInvalid. Never raises anything else, whatever the bytes."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PushBodyInvalid("not_utf8", position=error.start) from None
    try:
        value = _decoder.submit(_json_decode, text).result()
    except RecursionError:
        raise PushBodyInvalid("too_deep") from None
    except ValueError as error:
        raise PushBodyInvalid("not_json", detail=str(error)[:200]) from None
    if not isinstance(value, list):
        raise PushBodyInvalid("not_array")
    return value


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


def _check_storable(item) -> None:
    """Walk the item without recursion: every value must be something a JSON column and a page can hold."""
    stack = [(item, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_ITEM_DEPTH:
            raise PushItemInvalid("too_deep", limit=MAX_ITEM_DEPTH)
        if isinstance(value, dict):
            for key, inner in value.items():
                _check_text(key)
                stack.append((inner, depth + 1))
        elif isinstance(value, list):
            stack.extend((inner, depth + 1) for inner in value)
        elif isinstance(value, str):
            _check_text(value)
        elif isinstance(value, _NonFinite):
            raise PushItemInvalid("non_finite", value=value.text[:40])


def nesting_depth(value) -> int:
    """How deeply lists and objects nest in `value`, found without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            stack.extend((inner, depth + 1) for inner in (value.values() if isinstance(value, dict) else value))
    return deepest


def _check_text(text: str) -> None:
    if "\x00" in text:
        # No database text or JSON column can store U+0000.
        raise PushItemInvalid("nul")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        # A lone surrogate such as "\ud800": valid JSON escaping, but no UTF-8 text can hold it.
        raise PushItemInvalid("surrogate", codepoint=f"U+{ord(text[error.start]):04X}") from None


def push_text(value, *, name: str = "") -> str:
    """A loose scalar (the provider sends numbers as strings and strings as numbers) as stripped text."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PushItemInvalid("not_text", field=name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _time(item: dict, name: str) -> datetime | None:
    """Provider times are Beijing wall-clock `yyyy-MM-dd HH:mm:ss`; empty means "did not happen"."""
    text = push_text(item.get(name), name=name)
    if not text:
        return None
    try:
        parsed = parse_provider_time(text)
        parsed.astimezone(UTC)  # year 1 in Beijing is before year 1 in UTC: unstorable
    except (ValueError, OverflowError):
        raise PushItemInvalid("bad_time", field=name, value=text[:40]) from None
    return parsed


def _seconds(item: dict, name: str) -> int | None:
    value = item.get(name)
    text = push_text(value, name=name)
    if not text:
        return None
    if not _SECONDS.fullmatch(text):
        raise PushItemInvalid("bad_seconds", field=name, value=text[:40])
    try:
        number = int(Decimal(text))
    except InvalidOperation:
        raise PushItemInvalid("bad_seconds", field=name, value=text[:40]) from None
    if number > MAX_DURATION_SECONDS:
        raise PushItemInvalid("seconds_out_of_range", field=name, value=text[:40], limit=MAX_DURATION_SECONDS)
    return number


def hangup_side(value) -> str:
    """`用户`/`机器` as `user`/`platform`; other spellings are kept as sent."""
    text = push_text(value, name="hangup_direction")
    return _HANGUP_SIDES.get(text, text)[:16]


def receipt_parse(*, message_type: str, item) -> Receipt:
    """One pushed item as a Receipt, or PushItemInvalid naming what is wrong with it."""
    if not isinstance(item, dict):
        raise PushItemInvalid("not_object")
    _check_storable(item)
    status_code = push_text(item.get("status_code"), name="status_code")
    if not status_code:
        raise PushItemInvalid("missing", field="status_code")
    call_id = push_text(item.get("call_id"), name="call_id")
    out_id = push_text(item.get("out_id"), name="out_id")
    final = message_type == VOICE_REPORT
    if final and not (call_id or out_id):
        # A final report is matched by call_id, else out_id: with neither it can belong to no call.
        raise PushItemInvalid("no_ids")
    if not final and "status_time" not in item:
        raise PushItemInvalid("missing", field="status_time")
    for name in ("biz_id", "dtmf"):  # parts of the deduplication key
        push_text(item.get(name), name=name)
    return Receipt(
        final=final,
        call_id=call_id[:64],
        out_id=out_id[:64],
        status_code=status_code[:16],
        smart_status_code=push_text(item.get("smart_status_code"), name="smart_status_code")[:32],
        status_time=_time(item, "status_time"),
        status_msg=push_text(item.get("status_msg"), name="status_msg")[:200],
        hangup_direction=hangup_side(item.get("hangup_direction")),
        originate_time=_time(item, "originate_time"),
        ring_time=_time(item, "ring_time"),
        start_time=_time(item, "start_time"),
        end_time=_time(item, "end_time"),
        duration=_seconds(item, "duration"),
        raw=item,
    )


def receipt_dedup_key(receipt: Receipt) -> str:
    """Reference §7.5: a final report once per call; an in-call report once per (call, code, time)."""
    if receipt.final:
        key = f"vr:{receipt.call_id}" if receipt.call_id else f"vr:out:{receipt.out_id}"
    else:
        # Inbound reports carry no call_id; their biz_id plays that part.
        call = receipt.call_id or f"biz:{push_text(receipt.raw.get('biz_id'))}"
        when = push_text(receipt.raw.get("status_time"))
        key = f"vcr:{call}:{receipt.status_code}:{when}"
        if "dtmf" in receipt.raw:
            # Two keys pressed within the same second are two facts, not one delivered twice.
            key += f":{push_text(receipt.raw['dtmf'])}"
    if len(key) > 200:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key
