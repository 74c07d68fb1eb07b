"""Sending a call: once and only once, whatever the provider answers or however the worker dies (simulator over HTTP)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import jobs
from notifications.aliyun import get_vms_client
from notifications.models import CallEvent, CallRecord
from notifications.services.calls_dispatch import MAX_SEND_ATTEMPTS, call_record_dispatch, calls_dispatch_due, calls_dispatch_waiting
from notifications.services.calls_follow_up import calls_follow_up
from notifications.services.receipts import receipts_ingest

from .conftest import queued_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipts_kept(on_simulator):
    """The simulator keeps its receipts instead of pushing them, so a test can deliver them when it chooses."""
    on_simulator.set_receipt_base_url("")
    on_simulator.app.config.receipt_base_url = ""
    return on_simulator


def deliver_receipts(simulator) -> None:
    simulator.drain()
    for push in simulator.pushed:
        receipts_ingest(message_type=push["message_type"], records=push["records"])


def kinds(record: CallRecord) -> list[str]:
    return list(record.events.values_list("kind", flat=True))


def test_dispatch_sends_the_call_with_its_parameters_and_stores_the_answer(on_simulator, notice):
    record = queued_call(notice, play_times=2, volume=80, speed=100)
    call_record_dispatch(call_record_id=record.pk)
    record.refresh_from_db()
    [call] = on_simulator.calls
    assert call["OutId"] == record.out_id
    assert call["CalledNumber"] == "13900001230"
    assert call["TtsCode"] == notice.tts_code
    assert (call["PlayTimes"], call["Volume"], call["Speed"]) == ("2", "80", "100")
    assert "CalledShowNumber" not in call
    assert record.status == CallRecord.Status.ACCEPTED
    assert record.call_id == call["call_id"]
    assert record.request_id and record.api_code == "OK" and record.sent_at is not None
    assert kinds(record) == [CallEvent.Kind.API_ANSWER]


def test_dedicated_call_shows_its_caller_number(on_simulator, dedicated):
    template, number = dedicated
    record = queued_call(template, caller_number=number)
    call_record_dispatch(call_record_id=record.pk)
    assert on_simulator.calls[0]["CalledShowNumber"] == number.number


def test_voice_file_call(on_simulator, voice_file):
    record = CallRecord.objects.create(api=CallRecord.Api.VOICE, mode=voice_file.mode, voice_file=voice_file,
                                       called_number="13900001230", out_id="v1")
    call_record_dispatch(call_record_id=record.pk)
    assert on_simulator.calls[0]["VoiceCode"] == voice_file.voice_code


def test_dispatch_twice_dials_once(on_simulator, notice):
    record = queued_call(notice)
    call_record_dispatch(call_record_id=record.pk)
    call_record_dispatch(call_record_id=record.pk)  # e.g. a retried or duplicated job
    jobs.calls_dispatch_job()
    record.refresh_from_db()
    assert [call["OutId"] for call in on_simulator.calls] == [record.out_id]
    assert record.attempts == 1


def test_worker_killed_after_sending_is_not_redialled_and_settles_by_receipt(receipts_kept, notice, settings):
    record = queued_call(notice)
    # The worker claimed the row and the request reached the provider, then the worker died before storing the answer.
    CallRecord.objects.filter(pk=record.pk).update(status=CallRecord.Status.SENDING, attempts=1,
                                                   sent_at=timezone.now() - timedelta(minutes=10))
    get_vms_client().single_call_by_tts(called_number=record.called_number, tts_code=notice.tts_code,
                                        tts_params=record.params, out_id=record.out_id)
    call_record_dispatch(call_record_id=record.pk)  # a retried job finds the row taken
    summary = calls_follow_up()
    record.refresh_from_db()
    assert summary.stale_sending == 1
    assert record.status == CallRecord.Status.UNKNOWN
    assert len(receipts_kept.calls) == 1

    deliver_receipts(receipts_kept)  # matched by OutId
    record.refresh_from_db()
    assert record.status == CallRecord.Status.COMPLETED
    assert record.outcome == CallRecord.Outcome.LISTENED
    assert record.call_id == receipts_kept.calls[0]["call_id"]
    calls_follow_up()
    assert len(receipts_kept.calls) == 1


def test_read_timeout_after_placement_is_unknown_and_never_redialled(receipts_kept, notice, settings):
    settings.ALIYUN_VMS_READ_TIMEOUT = 0.3
    receipts_kept.set_faults(read_timeout_share=1.0, read_timeout_seconds=1.0)
    record = queued_call(notice)
    call_record_dispatch(call_record_id=record.pk)
    record.refresh_from_db()
    assert record.status == CallRecord.Status.UNKNOWN
    assert "will not be redialled" in record.api_message
    receipts_kept.set_faults(read_timeout_share=0.0)
    call_record_dispatch(call_record_id=record.pk)
    calls_follow_up()
    assert len(receipts_kept.calls) == 1

    deliver_receipts(receipts_kept)
    record.refresh_from_db()
    assert record.status == CallRecord.Status.COMPLETED


def test_server_error_is_unknown_and_not_retried(on_simulator, notice):
    on_simulator.set_faults(error_5xx_share=1.0)
    record = queued_call(notice)
    call_record_dispatch(call_record_id=record.pk)
    on_simulator.set_faults(error_5xx_share=0.0)
    call_record_dispatch(call_record_id=record.pk)
    calls_follow_up()
    record.refresh_from_db()
    assert record.status == CallRecord.Status.UNKNOWN
    assert record.api_code == "isp.SYSTEM_ERROR"
    assert on_simulator.calls == []


def test_unknown_call_without_any_news_ends_outcome_unknown_not_failed(on_simulator, notice):
    # A read timeout or a killed worker leaves no CallId even when the call rang: it may have been placed.
    record = queued_call(notice, status=CallRecord.Status.UNKNOWN, sent_at=timezone.now() - timedelta(hours=1))
    assert calls_follow_up().settled == 1
    record.refresh_from_db()
    assert record.status == CallRecord.Status.OUTCOME_UNKNOWN
    assert record.is_final
    assert record.outcome == CallRecord.Outcome.UNKNOWN
    assert "cannot be known" in record.api_message and "not redialled" in record.api_message
    [note] = record.events.filter(kind=CallEvent.Kind.NOTE)
    assert note.message == record.api_message
    assert on_simulator.calls == []
    assert calls_follow_up().settled == 0  # final: left alone from now on


def test_the_pipelines_words_on_a_call_read_in_each_readers_language(client, manager, on_simulator, notice):
    from django.urls import reverse
    from django.utils import translation

    record = queued_call(notice, status=CallRecord.Status.UNKNOWN, sent_at=timezone.now() - timedelta(hours=1))
    with translation.override("zh-hans"):  # the scheduler's thread speaks the console's default
        calls_follow_up()
    client.force_login(manager)
    url = reverse("notifications:call_record_detail", args=[record.pk])
    english = client.get(url, headers={"accept-language": "en"}).content.decode()
    assert english.count("whether the call was placed cannot be known") == 3  # status card, answer card, timeline
    chinese = client.get(url, headers={"accept-language": "zh-hans"}).content.decode()
    assert chinese.count("因此无法得知该呼叫是否已拨出") == 3 and "cannot be known" not in chinese


def test_accepted_call_with_no_result_for_a_day_ends_outcome_unknown(on_simulator, notice):
    record = queued_call(notice, status=CallRecord.Status.ACCEPTED, call_id="116012854210^102781401",
                         sent_at=timezone.now() - timedelta(hours=25))
    CallEvent.objects.create(call=record, kind=CallEvent.Kind.DETAIL_QUERY)  # queried lately: no query this run
    assert calls_follow_up().settled == 1
    record.refresh_from_db()
    assert (record.status, record.outcome) == (CallRecord.Status.OUTCOME_UNKNOWN, CallRecord.Outcome.UNKNOWN)
    assert "within a day" in record.api_message


def test_throttled_once_then_accepted_is_one_call(on_simulator, notice, inline_jobs, django_capture_on_commit_callbacks):
    record = queued_call(notice, called_number="17000001230")  # the simulator throttles a 170 number's first attempt
    with django_capture_on_commit_callbacks(execute=True):
        call_record_dispatch(call_record_id=record.pk)
    record.refresh_from_db()
    assert record.status == CallRecord.Status.ACCEPTED
    assert record.attempts == 2
    assert len(on_simulator.calls) == 1
    assert kinds(record) == [CallEvent.Kind.RETRY, CallEvent.Kind.API_ANSWER]


def test_throttled_every_time_fails_after_bounded_attempts(on_simulator, notice, inline_jobs, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    monkeypatch.setattr("notifications.services.calls_dispatch.RETRY_BASE_SECONDS", 0.0)
    on_simulator.set_faults(throttle_share=1.0)
    record = queued_call(notice)
    with django_capture_on_commit_callbacks(execute=True):
        call_record_dispatch(call_record_id=record.pk)
    record.refresh_from_db()
    assert record.status == CallRecord.Status.FAILED
    assert record.attempts == MAX_SEND_ATTEMPTS
    assert "busy" in record.api_message
    assert on_simulator.calls == []


def test_rejected_call_fails_with_the_providers_reason(on_simulator, notice):
    notice.tts_code = "TTS_UNKNOWN"  # not in the provider's account
    notice.save()
    record = queued_call(notice)
    call_record_dispatch(call_record_id=record.pk)
    record.refresh_from_db()
    assert record.status == CallRecord.Status.FAILED
    assert record.outcome == CallRecord.Outcome.FAILED
    assert record.api_code.startswith("isv.")
    assert record.api_message.startswith("The provider refused the call")
    # Kept for each reader's language; the provider's own reason stays as it sent it.
    assert record.api_messages["zh-hans"].startswith(f"服务商拒绝了该呼叫（{record.api_code}）：")
    assert record.events.get(kind=CallEvent.Kind.API_ANSWER).messages == record.api_messages
    assert on_simulator.calls == []


def test_provider_flow_control_fails_the_call(on_simulator, notice):
    first, second = queued_call(notice), queued_call(notice)
    call_record_dispatch(call_record_id=first.pk)
    call_record_dispatch(call_record_id=second.pk)
    second.refresh_from_db()
    assert second.status == CallRecord.Status.FAILED
    assert second.api_code == "isv.BUSINESS_LIMIT_CONTROL"
    assert len(on_simulator.calls) == 1


def test_follow_up_queries_the_detail_of_a_call_whose_receipts_were_lost(receipts_kept, notice, settings):
    settings.CALL_DETAIL_QUERY_AFTER_MINUTES = 0
    record = queued_call(notice, called_number="13900001238")  # last digit 8: the simulator loses the receipts
    call_record_dispatch(call_record_id=record.pk)
    receipts_kept.drain()
    CallRecord.objects.filter(pk=record.pk).update(sent_at=timezone.now() - timedelta(minutes=5))
    summary = calls_follow_up()
    record.refresh_from_db()
    assert (summary.queried, summary.found) == (1, 1)
    assert record.status_code == "200000"
    assert CallEvent.Kind.DETAIL_QUERY in kinds(record)
    assert len(receipts_kept.calls) == 1


def test_dispatch_wake_up_sends_calls_whose_wake_up_was_lost(on_simulator, notice, inline_jobs):
    record = queued_call(notice)  # recorded, but its wake-up died with a worker
    later = queued_call(notice, called_number="13900001231", dispatch_after=timezone.now() + timedelta(minutes=1))
    summary = calls_dispatch_waiting()
    record.refresh_from_db()
    assert (summary.waiting, summary.claimed) == (1, 1)
    assert str(summary) == "1 queued calls were due, 1 sent"
    assert record.status == CallRecord.Status.ACCEPTED
    assert [call["OutId"] for call in on_simulator.calls] == [record.out_id]
    assert CallRecord.objects.get(pk=later.pk).status == CallRecord.Status.QUEUED  # waits for its backoff
    assert calls_dispatch_waiting().waiting == 0  # nothing left waiting: no spare run


def test_dispatcher_sends_every_due_call_once_in_batches_oldest_first(on_simulator, notice, monkeypatch, inline_jobs):
    monkeypatch.setattr("notifications.services.calls_dispatch.DISPATCH_BATCH", 3)
    records = [queued_call(notice, called_number=f"1390000{n:04d}") for n in range(7)]
    later = queued_call(notice, called_number="13900009999", dispatch_after=timezone.now() + timedelta(minutes=1))
    jobs.calls_dispatch_job()
    sent = [call["OutId"] for call in on_simulator.calls]
    assert sorted(sent) == sorted(record.out_id for record in records)
    # Batches of three, oldest first; within a batch the requests run side by side.
    assert [set(sent[i:i + 3]) for i in (0, 3, 6)] == [{r.out_id for r in records[i:i + 3]} for i in (0, 3, 6)]
    assert set(CallRecord.objects.exclude(pk=later.pk).values_list("status", "attempts")) == {(CallRecord.Status.ACCEPTED, 1)}
    later.refresh_from_db()
    assert later.status == CallRecord.Status.QUEUED  # throttled earlier: waits for its backoff
    CallRecord.objects.filter(pk=later.pk).update(dispatch_after=timezone.now())
    assert calls_dispatch_due() == 1
    assert calls_dispatch_due() == 0
    assert len(on_simulator.calls) == 8


def test_a_batch_with_mixed_answers_settles_each_call_on_its_own(on_simulator, notice):
    twins = [queued_call(notice, called_number="13900001230") for _ in range(2)]  # one callee twice a minute: flow control
    invalid = queued_call(notice, called_number="13900001231", params={})  # a variable missing
    assert calls_dispatch_due() == 3
    settled = {record.pk: record for record in CallRecord.objects.all()}
    assert sorted(settled[twin.pk].status for twin in twins) == [CallRecord.Status.ACCEPTED, CallRecord.Status.FAILED]
    assert {settled[twin.pk].api_code for twin in twins} == {"OK", "isv.BUSINESS_LIMIT_CONTROL"}
    assert settled[invalid.pk].status == CallRecord.Status.FAILED
    [placed] = on_simulator.calls
    assert placed["call_id"] in {settled[twin.pk].call_id for twin in twins}
    assert CallEvent.objects.filter(kind=CallEvent.Kind.API_ANSWER).count() == 3
