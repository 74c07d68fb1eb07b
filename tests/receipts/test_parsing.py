"""Parsing of the provider's receipts: every published example, loose types, hostile items and the outcome table."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from notifications.aliyun.push import (
    VOICE_CALL_REPORT,
    VOICE_REPORT,
    PushBodyInvalid,
    PushItemInvalid,
    push_body_decode,
    receipt_parse,
)
from notifications.models import CallRecord
from notifications.rules.call_state import outcome_for

from .conftest import example

BEIJING = ZoneInfo("Asia/Shanghai")


def receipts_parse(*, message_type, records):
    return [receipt_parse(message_type=message_type, item=item) for item in records]


@pytest.mark.parametrize(
    "name", ["receipt-voicecallreport-300000.json", "receipt-voicecallreport-dtmf.json", "receipt-voicecallreport-inbound.json"]
)
def test_every_voice_call_report_example_parses(name):
    (receipt,) = receipts_parse(message_type=VOICE_CALL_REPORT, records=example(name))
    assert receipt.status_code in {"300000", "200102"}
    assert receipt.status_time.tzinfo is not None
    assert receipt.status_time.utcoffset().total_seconds() == 8 * 3600


def test_voice_report_example_parses_with_beijing_times_and_hangup_side():
    (receipt,) = receipts_parse(message_type=VOICE_REPORT, records=example("receipt-voicereport-single-call.json"))
    assert receipt.final
    assert receipt.duration == 22
    assert receipt.hangup_direction == "user"
    assert receipt.start_time == datetime(2024, 3, 6, 16, 21, 8, tzinfo=BEIJING)


def test_inbound_call_report_has_no_call_id_and_still_parses():
    (receipt,) = receipts_parse(message_type=VOICE_CALL_REPORT, records=example("receipt-voicecallreport-inbound.json"))
    assert receipt.call_id == ""
    assert receipt.raw["biz_id"].startswith("1")


def test_loose_types_numbers_empty_times_machine_hangup_and_unknown_smart_code():
    item = {
        "call_id": "1^2", "out_id": 77, "status_code": 200003, "duration": 0, "ring_time": "", "start_time": "",
        "end_time": None, "hangup_direction": "机器", "smart_status_code": "INTELLIGENT_ANSWER", "b_duration": 0,
    }
    (receipt,) = receipts_parse(message_type=VOICE_REPORT, records=[item])
    assert receipt.status_code == "200003"
    assert receipt.out_id == "77"
    assert receipt.duration == 0
    assert receipt.start_time is None and receipt.end_time is None
    assert receipt.hangup_direction == "platform"
    assert receipt.smart_status_code == "INTELLIGENT_ANSWER"


@pytest.mark.parametrize(
    "item, code",
    [
        ("text", "not_object"),
        ({"status_code": "200000"}, "no_ids"),
        ({"call_id": "1"}, "missing"),
        ({"call_id": "1", "status_code": "200000", "start_time": "yesterday"}, "bad_time"),
        ({"call_id": "1", "status_code": "200000", "start_time": "0001-01-01 00:00:00"}, "bad_time"),
        ({"call_id": "1", "status_code": "200000", "duration": "long"}, "bad_seconds"),
        ({"call_id": "1", "status_code": "200000", "duration": "1e400"}, "bad_seconds"),
        ({"call_id": "1", "status_code": "200000", "duration": 9223372036854775808}, "seconds_out_of_range"),
        ({"call_id": "1", "status_code": "200000", "duration": "-3"}, "bad_seconds"),
        ({"call_id": "1", "status_code": ["200000"]}, "not_text"),
        ({"call_id": "x\ud800", "status_code": "200000"}, "surrogate"),
        ({"call_id": "1", "status_code": "200000", "extra": {"note": "a\u0000b"}}, "nul"),
        ({"call_id": "1", "status_code": "200000", "dtmf": {"keys": 1}}, "not_text"),
    ],
)
def test_an_unusable_item_is_refused_with_its_reason(item, code):
    with pytest.raises(PushItemInvalid) as refused:
        receipt_parse(message_type=VOICE_REPORT, item=item)
    assert refused.value.code == code


@pytest.mark.parametrize("body", ['[{"call_id": "1", "status_code": "200000", "duration": NaN}]',
                                  '[{"call_id": "1", "status_code": "200000", "b_duration": Infinity}]',
                                  '[{"call_id": "1", "status_code": "200000", "duration": 1e400}]'])
def test_non_finite_numbers_make_their_item_invalid_not_the_body(body):
    (item,) = push_body_decode(body.encode())
    with pytest.raises(PushItemInvalid) as refused:
        receipt_parse(message_type=VOICE_REPORT, item=item)
    assert refused.value.code == "non_finite"


def test_an_item_nested_too_deeply_is_invalid_and_a_body_too_deep_to_read_is_refused():
    deep_item = '[{"call_id": "1", "status_code": "200000", "x": ' + "[" * 900 + "]" * 900 + "}]"
    (item,) = push_body_decode(deep_item.encode())
    with pytest.raises(PushItemInvalid) as refused:
        receipt_parse(message_type=VOICE_REPORT, item=item)
    assert refused.value.code == "too_deep"
    with pytest.raises(PushBodyInvalid) as unreadable:
        push_body_decode(("[" * 100_000 + "]" * 100_000).encode())
    assert unreadable.value.code == "too_deep"


@pytest.mark.parametrize("body, code", [(b"[{", "not_json"), (b'{"call_id": "1"}', "not_array"), (b"\xff\xfe[]", "not_utf8"),
                                        (b"", "not_json")])
def test_a_body_that_is_not_a_json_array_is_refused_whole(body, code):
    with pytest.raises(PushBodyInvalid) as refused:
        push_body_decode(body)
    assert refused.value.code == code


def test_a_final_report_with_only_out_id_is_usable():
    receipt = receipt_parse(message_type=VOICE_REPORT, item={"out_id": "A1", "status_code": "200000"})
    assert (receipt.call_id, receipt.out_id) == ("", "A1")


def test_call_report_needs_status_time():
    with pytest.raises(PushItemInvalid) as refused:
        receipt_parse(message_type=VOICE_CALL_REPORT, item={"call_id": "1", "status_code": "200201"})
    assert refused.value.params == {"field": "status_time"}


@pytest.mark.parametrize(
    "code, outcome",
    [
        ("200000", CallRecord.Outcome.LISTENED),
        ("200001", CallRecord.Outcome.HUNG_UP_EARLY),
        ("200002", CallRecord.Outcome.BUSY),
        ("200112", CallRecord.Outcome.BUSY),
        ("200003", CallRecord.Outcome.NO_ANSWER),
        ("200113", CallRecord.Outcome.NO_ANSWER),
        ("200004", CallRecord.Outcome.INVALID_NUMBER),
        ("482", CallRecord.Outcome.INVALID_NUMBER),
        ("200005", CallRecord.Outcome.UNREACHABLE),
        ("200120", CallRecord.Outcome.UNREACHABLE),
        ("200010", CallRecord.Outcome.POWERED_OFF),
        ("200011", CallRecord.Outcome.SUSPENDED),
        ("200111", CallRecord.Outcome.REJECTED),
        ("999999", CallRecord.Outcome.FAILED),
        ("502", CallRecord.Outcome.FAILED),
        ("", CallRecord.Outcome.UNKNOWN),
    ],
)
def test_outcome_for_final_codes(code, outcome):
    assert outcome_for(code) == outcome


def test_the_nesting_a_body_may_have_does_not_depend_on_the_callers_stack():
    """A request passes through middleware before the webhook decodes it; more middleware must not turn a body that
    decoded before into "not JSON"."""
    body = ('[{"call_id": "1^1", "extra": ' + "[" * 900 + "]" * 900 + "}]").encode()

    def from_deep_stack(levels: int):
        return push_body_decode(body) if levels == 0 else from_deep_stack(levels - 1)

    assert push_body_decode(body)[0]["call_id"] == "1^1"
    assert from_deep_stack(300)[0]["call_id"] == "1^1"
