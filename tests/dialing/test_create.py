"""call_record_create refuses, field by field, everything the provider would refuse, and records the rest `queued`."""
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from notifications.models import BlockedNumber, CallerNumber, CallRecord, ReviewStatus
from notifications.services.calls_create import call_record_create

from .conftest import make_qualification, make_template, queued_call

pytestmark = pytest.mark.django_db
PARAMS = {"name": "张三", "order": "A1001"}


def refused(**kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call_record_create(**kwargs)
    return {field: [error.code for error in errors] for field, errors in caught.value.error_dict.items()}


def test_a_valid_call_is_recorded_queued_with_a_short_unique_out_id(notice, operator):
    record = call_record_create(tts_template=notice, called_number="139 0000 1230", params=PARAMS, requested_by=operator)
    other = call_record_create(tts_template=notice, called_number="13900001231", params=PARAMS, requested_by=operator)
    assert record.status == CallRecord.Status.QUEUED
    assert record.called_number == "13900001230"
    assert (record.play_times, record.volume, record.speed) == (3, 100, None)
    assert 0 < len(record.out_id.encode()) <= 15
    assert record.out_id != other.out_id
    assert record.requested_by == operator


def test_the_job_is_enqueued_only_when_the_transaction_commits(notice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        call_record_create(tts_template=notice, called_number="13900001230", params=PARAMS)
    assert len(callbacks) >= 1


def test_unapproved_template_is_refused(db):
    template = make_template(status=ReviewStatus.SUBMITTED)
    assert refused(tts_template=template, called_number="13900001230", params=PARAMS)["resource"] == ["not_approved"]


def test_template_of_an_unapproved_qualification_is_refused(db):
    template = make_template(qualification=make_qualification(status=ReviewStatus.REJECTED))
    assert "qualification" in refused(tts_template=template, called_number="13900001230", params=PARAMS)["resource"]


def test_public_content_refuses_a_caller_number(notice, dedicated):
    _template, number = dedicated
    errors = refused(tts_template=notice, called_number="13900001230", params=PARAMS, caller_number=number)
    assert errors["caller_number"] == ["public_with_number"]


def test_dedicated_content_needs_an_active_number_of_its_qualification(dedicated):
    template, number = dedicated
    assert refused(tts_template=template, called_number="13900001230", params=PARAMS)["caller_number"] == ["required"]
    number.status = CallerNumber.Status.SUSPENDED
    number.save()
    errors = refused(tts_template=template, called_number="13900001230", params=PARAMS, caller_number=number)
    assert errors["caller_number"] == ["inactive"]
    stranger = CallerNumber.objects.create(number="057166667777", qualification=make_qualification(), status=CallerNumber.Status.ACTIVE)
    errors = refused(tts_template=template, called_number="13900001230", params=PARAMS, caller_number=stranger)
    assert errors["caller_number"] == ["qualification"]


def test_dedicated_call_with_its_own_number_is_recorded(dedicated):
    template, number = dedicated
    record = call_record_create(tts_template=template, called_number="13900001230", params=PARAMS, caller_number=number)
    assert record.caller_number == number
    assert record.mode == template.mode


@pytest.mark.parametrize("number", ["12345", "+1 415 555 0100", "0571-8888-6666 ext 12", "4008123123"])
def test_callee_must_be_a_mainland_mobile_or_landline(notice, number):
    assert "called_number" in refused(tts_template=notice, called_number=number, params=PARAMS)


def test_landline_with_area_code_is_accepted(notice):
    assert call_record_create(tts_template=notice, called_number="0571-8888 6666", params=PARAMS).called_number == "057188886666"


def test_ranges_are_field_errors(notice):
    errors = refused(tts_template=notice, called_number="13900001230", params=PARAMS, play_times=4, volume=101, speed=-501)
    assert errors["play_times"] == errors["volume"] == errors["speed"] == ["range"]


def test_parameters_are_checked_per_variable(notice, code_template):
    errors = refused(tts_template=notice, called_number="13900001230", params={"name": "见 http://x.cn", "extra": "1"})
    assert errors["param_name"] == ["link"]
    assert errors["param_order"] == ["required"]
    assert errors["params"] == ["extra"]
    assert refused(tts_template=code_template, called_number="13900001230", params={"code": "12-34"})["param_code"] == ["code_value"]


def test_blocked_numbers_are_never_called(notice):
    BlockedNumber.objects.create(number="13900001230", reason="投诉")
    assert refused(tts_template=notice, called_number="139-0000-1230", params=PARAMS)["called_number"] == ["blocked"]


def test_flow_control_counts_our_own_calls_of_the_same_qualification_and_purpose(notice, code_template):
    queued_call(notice, status=CallRecord.Status.FAILED)  # failed calls count too
    assert refused(tts_template=notice, called_number="13900001230", params=PARAMS)["called_number"] == ["flow_control"]
    # Another template of the same qualification and purpose shares the limit.
    sibling = make_template(qualification=notice.qualification)
    assert refused(tts_template=sibling, called_number="13900001230", params=PARAMS)["called_number"] == ["flow_control"]
    # Another purpose, another callee: their own limits.
    call_record_create(tts_template=code_template, called_number="13900001230", params={"code": "1234"})
    call_record_create(tts_template=notice, called_number="13900001231", params=PARAMS)


def test_five_calls_an_hour_from_our_records(notice):
    for minutes in (50, 40, 30, 20, 10):
        queued_call(notice, created_at=timezone.now() - timedelta(minutes=minutes))
    assert refused(tts_template=notice, called_number="13900001230", params=PARAMS)["called_number"] == ["flow_control"]


def test_per_user_rate_limit(notice, operator, settings):
    settings.DIAL_RATE_LIMIT_PER_MINUTE = 2
    for callee in ("13900001230", "13900001231"):
        call_record_create(tts_template=notice, called_number=callee, params=PARAMS, requested_by=operator)
    assert refused(tts_template=notice, called_number="13900001232", params=PARAMS, requested_by=operator)["__all__"] == ["rate_limit"]
    call_record_create(tts_template=notice, called_number="13900001232", params=PARAMS)  # another user (or none) is not limited


def test_voice_file_call_takes_no_parameters(voice_file):
    record = call_record_create(voice_file=voice_file, called_number="13900001230", params={"ignored": "x"})
    assert record.api == CallRecord.Api.VOICE
    assert record.params == {}
