"""The receipt webhook as the provider sees it: token, body shape, acknowledgement."""
import json

import pytest
from django.test import Client

from notifications.models import CallEvent, CallRecord

from .conftest import call_report, example, voice_report, webhook_url

pytestmark = pytest.mark.django_db


def post(client, message_type: str, body, token: str = "test-receipt-token"):
    data = body if isinstance(body, str | bytes) else json.dumps(body, ensure_ascii=False)
    # English reasons, whatever the catalogs say: the assertions read them.
    return client.post(webhook_url(message_type, token), data=data, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def test_batch_is_acknowledged_in_the_provider_shape_and_applied(client, make_call):
    call = make_call()
    response = post(client, "VoiceReport", [voice_report(call)])
    assert response.status_code == 200
    assert response.json() == example("receipt-http-ack-response.json")
    call.refresh_from_db()
    assert call.status == CallRecord.Status.COMPLETED


def test_webhook_needs_no_login_and_no_csrf_token(make_call):
    call = make_call()
    response = post(Client(enforce_csrf_checks=True), "VoiceReport", [voice_report(call)])
    assert response.status_code == 200


def test_every_call_report_example_is_accepted(client):
    for name in ("receipt-voicecallreport-300000.json", "receipt-voicecallreport-dtmf.json", "receipt-voicecallreport-inbound.json"):
        assert post(client, "VoiceCallReport", example(name)).status_code == 200
    assert CallEvent.objects.filter(call=None).count() == 3


def test_wrong_token_is_forbidden_and_stores_nothing(client, make_call):
    call = make_call()
    response = post(client, "VoiceReport", [voice_report(call)], token="guess")
    assert response.status_code == 403
    assert CallEvent.objects.count() == 0
    call.refresh_from_db()
    assert call.status == CallRecord.Status.ACCEPTED


@pytest.mark.parametrize(
    "body, reason",
    [
        ("[{", "not valid JSON"),
        ({"call_id": "1"}, "JSON array"),
        ([{"call_id": "1", "status_code": "200000"}, {"status_code": "200000"}], "receipt 1: missing field(s): call_id"),
        ([{"call_id": "1", "status_code": "200000", "extra": {"note": "a\u0000b"}}], "receipt 0: text must not contain the NUL"),
    ],
)
def test_malformed_batch_is_refused_whole_with_a_reason(client, make_call, body, reason):
    call = make_call()
    if isinstance(body, list):
        body[0]["call_id"] = call.call_id
    response = post(client, "VoiceReport", body)
    assert response.status_code == 400
    assert reason in response.json()["msg"]
    assert CallEvent.objects.count() == 0
    call.refresh_from_db()
    assert call.status == CallRecord.Status.ACCEPTED


def test_other_message_types_are_not_accepted(client):
    response = post(client, "VoiceRecordReport", [{"call_id": "1", "status_code": "200010"}])
    assert response.status_code == 404
    assert "VoiceRecordReport" in response.json()["msg"]


def test_only_post_is_allowed(client):
    assert client.get(webhook_url("VoiceReport")).status_code == 405


def test_out_of_order_batch_ends_final(client, make_call):
    call = make_call()
    assert post(client, "VoiceReport", [voice_report(call, "200001")]).status_code == 200
    late = [call_report(call, "200102", "2024-03-06 16:21:08"), call_report(call, "200201", "2024-03-06 16:21:03")]
    assert post(client, "VoiceCallReport", late).status_code == 200
    call.refresh_from_db()
    assert (call.status, call.outcome) == (CallRecord.Status.COMPLETED, CallRecord.Outcome.HUNG_UP_EARLY)
