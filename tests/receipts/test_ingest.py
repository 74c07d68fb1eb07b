"""Storing and applying receipt batches: dedup, matching, order, unknown calls, query count, detail queries."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.aliyun import CallDetail
from notifications.models import CallEvent, CallRecord
from notifications.services.receipts import (
    VOICE_CALL_REPORT,
    VOICE_REPORT,
    call_record_apply_detail,
    call_record_claim_pending_receipts,
    receipts_ingest,
)

from .conftest import call_report, voice_report

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")


def test_final_report_completes_the_call_with_outcome_times_and_raw_payload(make_call):
    call = make_call()
    result = receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(call)])
    call.refresh_from_db()
    assert (result.stored, result.matched) == (1, 1)
    assert call.status == CallRecord.Status.COMPLETED
    assert call.outcome == CallRecord.Outcome.LISTENED
    assert call.duration == 22
    assert call.hangup_direction == "user"
    assert call.end_time == datetime(2024, 3, 6, 16, 21, 30, tzinfo=BEIJING)
    assert call.final_report_at is not None
    (event,) = call.events.all()
    assert event.kind == CallEvent.Kind.VOICE_REPORT
    assert event.payload["status_msg"] == "执行完成"


def test_text_with_quotes_braces_and_backslashes_is_stored_as_sent(make_call):
    # Arrays of text travel to PostgreSQL in binary; this text would need escaping in an array literal.
    tricky = 'say "hi", {ok}; C:\\path\\ 用户\nNULL'
    call = make_call()
    report = {**voice_report(call), "status_msg": tricky, "extra": {"nested": [tricky, None, 1.5]}}
    receipts_ingest(message_type=VOICE_REPORT, records=[report])
    call.refresh_from_db()
    assert call.status_msg == tricky
    (event,) = call.events.all()
    assert (event.message, event.payload["extra"]) == (tricky, {"nested": [tricky, None, 1.5]})


def test_busy_report_marks_the_call_failed_busy(make_call):
    call = make_call()
    receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(call, "200002")])
    call.refresh_from_db()
    assert (call.status, call.outcome, call.status_code) == (CallRecord.Status.FAILED, CallRecord.Outcome.BUSY, "200002")


def test_the_same_receipt_twice_changes_nothing(make_call):
    call = make_call()
    batch = [call_report(call, "200201", "2024-03-06 16:21:03"), voice_report(call)]
    receipts_ingest(message_type=VOICE_CALL_REPORT, records=batch[:1])
    receipts_ingest(message_type=VOICE_REPORT, records=batch[1:])
    call.refresh_from_db()
    before = (call.status, call.final_report_at, call.updated_at)

    again = receipts_ingest(message_type=VOICE_CALL_REPORT, records=batch[:1] * 2)
    receipts_ingest(message_type=VOICE_REPORT, records=batch[1:])
    call.refresh_from_db()
    assert (again.stored, again.matched) == (0, 2)  # delivered again: applied, nothing new stored
    assert (call.status, call.final_report_at, call.updated_at) == before
    assert call.events.count() == 2


def test_intermediate_steps_move_the_call_forward_only(make_call):
    call = make_call()
    receipts_ingest(message_type=VOICE_CALL_REPORT, records=[call_report(call, "200102", "2024-03-06 16:21:08")])
    receipts_ingest(message_type=VOICE_CALL_REPORT, records=[call_report(call, "200201", "2024-03-06 16:21:03")])
    call.refresh_from_db()
    assert call.status == CallRecord.Status.ANSWERED
    assert call.ring_time == datetime(2024, 3, 6, 16, 21, 3, tzinfo=BEIJING)
    assert call.smart_status_code == "ANSWERED"


def test_call_in_doubt_is_confirmed_by_its_first_step_and_learns_its_call_id(make_call):
    call = make_call(call_id=None, status=CallRecord.Status.UNKNOWN)
    receipts_ingest(message_type=VOICE_CALL_REPORT, records=[
        call_report(None, "200101", "2024-03-06 16:21:01", call_id="5^5", out_id=call.out_id),
        call_report(None, "200100", "2024-03-06 16:21:40", call_id="5^5", out_id=call.out_id),
    ])
    call.refresh_from_db()
    assert (call.status, call.call_id) == (CallRecord.Status.ACCEPTED, "5^5")
    assert call.end_time == datetime(2024, 3, 6, 16, 21, 40, tzinfo=BEIJING)


def test_late_in_call_report_never_overwrites_the_final_report(make_call):
    call = make_call()
    receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(call)])
    receipts_ingest(message_type=VOICE_CALL_REPORT, records=[call_report(call, "200102", "2024-03-06 16:21:08")])
    call.refresh_from_db()
    assert call.status == CallRecord.Status.COMPLETED
    assert call.status_code == "200000"
    assert call.events.count() == 2


def test_unknown_dispatch_is_matched_by_out_id_and_learns_its_call_id(make_call):
    call = make_call(call_id=None, status=CallRecord.Status.UNKNOWN)
    receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(None, call_id="9^9", out_id=call.out_id)])
    call.refresh_from_db()
    assert call.call_id == "9^9"
    assert call.status == CallRecord.Status.COMPLETED


def test_receipt_for_an_unknown_call_is_kept_then_claimed(make_call):
    result = receipts_ingest(
        message_type=VOICE_CALL_REPORT, records=[call_report(None, "200201", "2024-03-06 16:21:03", call_id="7^7", out_id="")]
    )
    receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(None, "200001", call_id="7^7", out_id="")])
    assert result.unmatched == 1
    assert CallEvent.objects.filter(call=None, receipt_call_id="7^7").count() == 2

    call = make_call(call_id="7^7", status=CallRecord.Status.SENDING)
    assert call_record_claim_pending_receipts(record=call) == 2
    assert call.status == CallRecord.Status.COMPLETED
    assert call.outcome == CallRecord.Outcome.HUNG_UP_EARLY
    assert call.events.count() == 2
    assert call_record_claim_pending_receipts(record=call) == 0


def test_claim_does_not_take_a_receipt_of_another_call_with_the_same_out_id(make_call):
    receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(None, call_id="other^1", out_id="T999")])
    call = make_call(out_id="T999", call_id="mine^1")
    assert call_record_claim_pending_receipts(record=call) == 0
    assert call.events.count() == 0


def test_inbound_call_report_is_kept_unmatched(make_call):
    make_call()
    item = {"extend": "3619", "status_code": "200102", "smart_status_code": "ANSWERED", "status_time": "2023-03-06 00:47:10",
            "biz_id": "1^6"}
    result = receipts_ingest(message_type=VOICE_CALL_REPORT, records=[item])
    assert (result.stored, result.unmatched) == (1, 1)
    assert CallEvent.objects.get().payload["biz_id"] == "1^6"


def _mixed_batch(make_call, size: int) -> list[dict]:
    calls = [make_call() for _ in range(size // 2)]
    return [voice_report(call) for call in calls] + [voice_report(None, call_id=f"unknown^{i}", out_id="") for i in range(size // 2)]


def test_query_count_does_not_grow_with_the_batch(make_call):
    small, large = _mixed_batch(make_call, 10), _mixed_batch(make_call, 100)
    with CaptureQueriesContext(connection) as small_queries:
        receipts_ingest(message_type=VOICE_REPORT, records=small)
    with CaptureQueriesContext(connection) as large_queries:
        receipts_ingest(message_type=VOICE_REPORT, records=large)
    assert len(small_queries) == len(large_queries)
    assert CallRecord.objects.filter(status=CallRecord.Status.COMPLETED).count() == 55


def _detail(call_id: str, state: str, **fields) -> CallDetail:
    values = {
        "call_id": call_id, "state": state, "state_desc": "", "caller": "", "callee": "13900001234", "caller_show_number": "",
        "created_at": None, "ring_time": None, "start_time": None, "end_time": None, "duration": None, "hangup_direction": "",
        "request_id": "REQ-1", "raw": {"state": state},
    }
    values.update(fields)
    return CallDetail(**values)


def test_detail_query_settles_a_call_without_receipt(make_call):
    call = make_call(status=CallRecord.Status.UNKNOWN)
    ended = datetime(2024, 3, 6, 16, 22, tzinfo=BEIJING)
    call_record_apply_detail(record=call, detail=_detail(call.call_id, "200010", end_time=ended, duration=0))
    assert (call.status, call.outcome, call.end_time) == (CallRecord.Status.FAILED, CallRecord.Outcome.POWERED_OFF, ended)
    assert call.final_report_at is None
    (event,) = call.events.all()
    assert (event.kind, event.status_code, event.payload["request_id"]) == (CallEvent.Kind.DETAIL_QUERY, "200010", "REQ-1")


@pytest.mark.parametrize(("desc", "hangup", "shown"), [
    ("200000", 0, ("", "")),  # as the provider's own example: the code again, and a number of undocumented meaning
    ("用户接听", "用户", ("用户接听", "user")),
])
def test_detail_query_shows_only_words_the_provider_gave(make_call, desc, hangup, shown):
    call = make_call(status=CallRecord.Status.UNKNOWN)
    call_record_apply_detail(record=call, detail=_detail(call.call_id, "200000", state_desc=desc, hangup_direction=hangup,
                                                         raw={"state": "200000", "hangupDirection": hangup}))
    assert (call.status_msg, call.hangup_direction) == shown
    assert call.events.get().payload["data"]["hangupDirection"] == hangup  # kept as sent


def test_detail_query_never_overrides_the_final_report(make_call):
    call = make_call()
    receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(call)])
    call_record_apply_detail(record=call, detail=_detail(call.call_id, "200003"))
    assert (call.status_code, call.outcome) == ("200000", CallRecord.Outcome.LISTENED)
    assert call.events.filter(kind=CallEvent.Kind.DETAIL_QUERY).count() == 1


def test_detail_query_that_found_nothing_is_still_recorded(make_call):
    call = make_call()
    call_record_apply_detail(record=call, detail=None)
    call_record_apply_detail(record=call, detail=None)
    assert call.status == CallRecord.Status.ACCEPTED
    assert call.events.filter(kind=CallEvent.Kind.DETAIL_QUERY).count() == 2
