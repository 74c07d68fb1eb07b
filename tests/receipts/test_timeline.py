"""The call timeline and the provider-answer card: an API answer's code is not a receipt status."""
import pytest
from django.urls import reverse

from notifications.models import CallEvent, CallRecord
from notifications.services.calls_dispatch import call_record_dispatch
from notifications.services.receipts import VOICE_REPORT, receipts_ingest
from tests.dialing.conftest import make_template

from .conftest import voice_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed(vms_simulator):
    """A call sent through the simulator and accepted by it."""
    template = make_template()
    vms_simulator.account.add_template(template.tts_code, template.content, mode=template.mode, kind=template.kind)
    record = CallRecord.objects.create(
        api=CallRecord.Api.TTS, mode=template.mode, tts_template=template, called_number="13900001230",
        params={"name": "张三", "order": "A1"}, out_id="TL0001", status=CallRecord.Status.QUEUED,
    )
    call_record_dispatch(call_record_id=record.pk)
    record.refresh_from_db()
    assert record.status == CallRecord.Status.ACCEPTED
    return record


def status_json(client, record, language):
    client.cookies["django_language"] = language
    return client.get(reverse("notifications:call_record_status", args=[record.pk])).json()


@pytest.mark.parametrize(("language", "failed"), [("en", "Failed"), ("zh-hans", "失败")])
def test_accepted_call_answer_is_not_called_failed(client, operator, placed, language, failed):
    client.force_login(operator)
    timeline = status_json(client, placed, language)["timeline_html"]
    first = timeline.split("<li>")[1]
    assert '<span class="va-mono ms-1">OK</span>' in first
    assert failed not in first


def test_receipt_codes_still_get_their_meaning(client, operator, placed):
    receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(placed, "200002")])
    client.force_login(operator)
    timeline = status_json(client, placed, "en")["timeline_html"]
    assert '<span class="va-mono ms-1">200002</span> <span>Busy</span>' in timeline


def test_retry_event_code_is_not_called_failed(client, operator, placed):
    CallEvent.objects.create(call=placed, kind=CallEvent.Kind.RETRY, status_code="Throttling.User",
                             message="trying again in 2 s")
    client.force_login(operator)
    timeline = status_json(client, placed, "en")["timeline_html"]
    retry = timeline.split("<li>")[2]
    assert "Throttling.User" in retry and "Failed" not in retry


def test_provider_answer_card_refreshes_with_the_status(client, operator, placed):
    client.force_login(operator)
    page = client.get(reverse("notifications:call_record_detail", args=[placed.pk])).content.decode()
    assert 'id="va-call-answer-slot"' in page and placed.request_id in page
    # The call goes round again (a retry after throttling): attempts and message change while the page is open.
    CallRecord.objects.filter(pk=placed.pk).update(attempts=3, api_message="Provider busy, trying again")
    data = status_json(client, placed, "en")
    assert "answer_html" in data
    assert "Provider busy, trying again" in data["answer_html"]
    assert ">3<" in data["answer_html"].replace(" ", "")
    assert placed.request_id in data["answer_html"] and placed.call_id in data["answer_html"]
