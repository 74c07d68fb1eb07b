"""Parsing of the provider's receipts: every published example, loose types and the outcome table."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from notifications.models import CallRecord
from notifications.services.receipts import (
    VOICE_CALL_REPORT,
    VOICE_REPORT,
    ReceiptInvalid,
    outcome_for,
    receipts_parse,
)

from .conftest import example

BEIJING = ZoneInfo("Asia/Shanghai")


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
    "records, message",
    [
        ({"call_id": "1"}, "JSON array"),
        (["text"], "JSON object"),
        ([{"status_code": "200000"}], "call_id"),
        ([{"call_id": "1", "status_code": "200000", "start_time": "yesterday"}], "yesterday"),
        ([{"call_id": "1", "status_code": "200000", "duration": "long"}], "long"),
        ([{"call_id": "1", "status_code": ["200000"]}], "200000"),
    ],
)
def test_malformed_batches_are_refused_with_a_reason(records, message):
    with translation.override("en"), pytest.raises(ReceiptInvalid, match=message):
        receipts_parse(message_type=VOICE_REPORT, records=records)


def test_call_report_needs_status_time():
    with translation.override("en"), pytest.raises(ReceiptInvalid, match="status_time"):
        receipts_parse(message_type=VOICE_CALL_REPORT, records=[{"call_id": "1", "status_code": "200201"}])


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
