"""What the console says when the provider does not accept a call: each cause in its own words, in the user's
language, with the provider's raw message kept in the event's payload."""
import re
import socket

import pytest
from django.utils import translation

from notifications.models import CallEvent, CallRecord
from notifications.services.calls_dispatch import MAX_SEND_ATTEMPTS, call_record_dispatch
from tests.dialing.conftest import make_template, queued_call

pytestmark = pytest.mark.django_db
LATIN_WORDS = re.compile(r"[A-Za-z]{4,}")  # an English word inside a Chinese message


@pytest.fixture
def template(vms_simulator):
    template = make_template()
    vms_simulator.account.add_template(template.tts_code, template.content, mode=template.mode, kind=template.kind)
    return template


@pytest.fixture
def closed_port(settings, vms_simulator):
    """The provider's endpoint points at a port nobody listens on: the connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.ALIYUN_VMS_ENDPOINT = f"http://127.0.0.1:{port}/"


def dispatch_in(language: str, record: CallRecord) -> CallRecord:
    with translation.override(language):
        call_record_dispatch(call_record_id=record.pk)
    record.refresh_from_db()
    return record


def test_unreachable_provider_is_named_as_such_in_chinese(template, closed_port):
    record = dispatch_in("zh-hans", queued_call(template))
    retry = record.events.get(kind=CallEvent.Kind.RETRY)
    assert "无法连接" in retry.message and "繁忙" not in retry.message
    assert not LATIN_WORDS.search(retry.message), retry.message
    assert retry.payload["message"] == "The provider could not be reached."  # the raw words stay in the payload


def test_unreachable_provider_after_every_attempt_is_not_called_busy(template, closed_port):
    record = queued_call(template, attempts=MAX_SEND_ATTEMPTS - 1)
    record = dispatch_in("zh-hans", record)
    assert record.status == CallRecord.Status.FAILED
    assert "无法连接" in record.api_message and "繁忙" not in record.api_message
    assert not LATIN_WORDS.search(record.api_message), record.api_message
    record = dispatch_in("en", queued_call(template, attempts=MAX_SEND_ATTEMPTS - 1))
    assert "could not be reached" in record.api_message and "busy" not in record.api_message


def test_throttled_provider_is_busy_in_chinese_without_english(template, vms_simulator):
    vms_simulator.set_faults(throttle_share=1.0)
    record = dispatch_in("zh-hans", queued_call(template))
    retry = record.events.get(kind=CallEvent.Kind.RETRY)
    assert "繁忙" in retry.message and not LATIN_WORDS.search(retry.message), retry.message
    assert retry.payload["message"] == "Request was denied due to user flow control."


def test_rejected_call_says_why_in_chinese(template, vms_simulator):
    template.tts_code = "TTS_UNKNOWN"  # not in the provider's account
    template.save()
    record = dispatch_in("zh-hans", queued_call(template))
    assert record.status == CallRecord.Status.FAILED
    assert "拒绝" in record.api_message and record.api_code in record.api_message
    without_code = record.api_message.replace(record.api_code, "")
    assert not LATIN_WORDS.search(without_code), record.api_message
    answer = record.events.get(kind=CallEvent.Kind.API_ANSWER)
    assert answer.payload["message"] and answer.payload["code"] == record.api_code


def test_no_answer_after_sending_is_unknown_in_chinese(template, vms_simulator, settings):
    settings.ALIYUN_VMS_READ_TIMEOUT = 0.3
    vms_simulator.set_faults(read_timeout_share=1.0, read_timeout_seconds=1.0)
    record = dispatch_in("zh-hans", queued_call(template))
    assert record.status == CallRecord.Status.UNKNOWN
    assert "没有" in record.api_message and not LATIN_WORDS.search(record.api_message), record.api_message
