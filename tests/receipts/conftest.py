"""Fixtures for the receipt tests: an approved template and calls placed with it."""
import itertools
import json
from pathlib import Path

import pytest
from django.urls import reverse

from notifications.models import CallRecord, Mode, Qualification, TtsTemplate

DATA = Path(__file__).parent / "data"
_serial = itertools.count(1)


def example(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def webhook_url(message_type: str, token: str = "test-receipt-token") -> str:
    return reverse("notifications:receipt_webhook", args=[message_type, token])


@pytest.fixture
def tts_template(db) -> TtsTemplate:
    qualification = Qualification.objects.create(
        company_name="杭州示例科技有限公司", credit_code="91330100MA2B3C4D5E", legal_representative="张三",
        contact_name="李四", contact_phone="13900000000", status=Qualification.Status.APPROVED,
    )
    return TtsTemplate.objects.create(
        name="取件通知", content="您的快递${code}已到${place}，请及时领取。", mode=Mode.PUBLIC,
        qualification=qualification, tts_code="TTS_100001", status=TtsTemplate.Status.APPROVED,
    )


@pytest.fixture
def make_call(tts_template):
    def make(**fields) -> CallRecord:
        n = next(_serial)
        values = {
            "api": CallRecord.Api.TTS, "mode": Mode.PUBLIC, "tts_template": tts_template, "called_number": "13900001234",
            "params": {"code": "A12", "place": "东门"}, "out_id": f"T{n}", "call_id": f"1160{n:08d}^1028{n:06d}",
            "status": CallRecord.Status.ACCEPTED,
        }
        values.update(fields)
        return CallRecord.objects.create(**values)

    return make


def call_report(call: CallRecord | None, code: str, when: str, *, call_id: str | None = None, out_id: str | None = None) -> dict:
    return {
        "call_id": call_id if call_id is not None else call.call_id, "out_id": out_id if out_id is not None else call.out_id,
        "status_code": code, "smart_status_code": "ANSWERED" if code == "200102" else "", "status_time": when,
    }


def voice_report(call: CallRecord | None, code: str = "200000", *, call_id: str | None = None, out_id: str | None = None) -> dict:
    report = example("receipt-voicereport-single-call.json")[0]
    report.update({
        "call_id": call_id if call_id is not None else call.call_id,
        "out_id": out_id if out_id is not None else call.out_id,
        "status_code": code,
    })
    return report


@pytest.fixture(autouse=True)
def inbox_applied_in_process(settings):
    """These tests are about what a push does to calls: the inbox is applied in-process even on the services run
    (the queue's own path is exercised by tests/scheduling and tests/faults)."""
    settings.REDIS_URL = ""
