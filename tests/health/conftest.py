"""Rows the health checks read: periodic runs, calls in each open state, receipt pushes."""
import itertools
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from notifications.models import CallRecord, Mode, PeriodicRun, Qualification, ReceiptDelivery, ReviewStatus, TtsTemplate
from notifications.services.health import EXPECTED_TASKS

_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def fresh_banner_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def embedded(settings):
    """The embedded default unless a test says otherwise: no Redis."""
    settings.REDIS_URL = ""


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def run(name: str, *, finished=None, started=None, succeeded: bool = True, summary: str = "", error: str = "", runs: int = 1):
    """The row the scheduler leaves after a run: started a second before it finished unless said otherwise."""
    if started is None and finished is not None:
        started = finished - timedelta(seconds=1)
    return PeriodicRun.objects.update_or_create(name=name, defaults={
        "started_at": started, "finished_at": finished, "succeeded": succeeded, "summaries": {"en": summary} if summary else {},
        "error": error,
        "run_count": runs,
    })[0]


def all_tasks_fresh() -> None:
    for name in EXPECTED_TASKS:
        run(name, finished=ago(seconds=2), summary="nothing to do")


@pytest.fixture
def template(db) -> TtsTemplate:
    qualification = Qualification.objects.create(
        company_name="杭州示例科技有限公司", credit_code="91330100MA2B3C4D5E", legal_representative="张三",
        contact_name="李四", contact_phone="13900000000", status=ReviewStatus.APPROVED,
    )
    return TtsTemplate.objects.create(
        name="取件通知", content="您的快递${code}已到。", mode=Mode.PUBLIC, qualification=qualification, tts_code="TTS_100001",
        status=ReviewStatus.APPROVED,
    )


@pytest.fixture
def make_call(template):
    def make(status: str, *, created=None, updated=None, **fields) -> CallRecord:
        n = next(_serial)
        values = {
            "api": CallRecord.Api.TTS, "mode": Mode.PUBLIC, "tts_template": template, "called_number": "13900001234",
            "params": {"code": "A12"}, "out_id": f"H{n:010d}", "status": status, "created_at": created or timezone.now(),
        }
        record = CallRecord.objects.create(**(values | fields))
        if updated is not None:  # updated_at is set on every save; a call stuck since then is written past it
            CallRecord.objects.filter(pk=record.pk).update(updated_at=updated)
        return record

    return make


def push(*, received=None, state: str = ReceiptDelivery.State.PENDING) -> ReceiptDelivery:
    body = b'[{"call_id":"1","out_id":"x","status_code":"200000"}]'
    return ReceiptDelivery.objects.create(
        message_type=ReceiptDelivery.MessageType.VOICE_REPORT, received_at=received or timezone.now(), size=len(body), body=body,
        state=state,
    )
