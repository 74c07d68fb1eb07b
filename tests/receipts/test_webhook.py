"""The receipt webhook as the provider sees it: token, body shape, acknowledgement, and no body that costs a receipt."""
import json

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.models import CallEvent, CallRecord, ReceiptDelivery

from .conftest import call_report, example, voice_report, webhook_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST a body as the provider does; the inbox job (woken on commit) runs before this returns."""
    def send(message_type: str, body, token: str = "test-receipt-token", client=client):
        data = body if isinstance(body, str | bytes) else json.dumps(body, ensure_ascii=False)
        with django_capture_on_commit_callbacks(execute=True):
            # English reasons, whatever the catalogs say: the assertions read them.
            return client.post(webhook_url(message_type, token), data=data, content_type="application/json",
                               HTTP_ACCEPT_LANGUAGE="en")
    return send


def test_batch_is_acknowledged_in_the_provider_shape_and_applied(post, make_call):
    call = make_call()
    response = post("VoiceReport", [voice_report(call)])
    assert response.status_code == 200
    assert response.json() == example("receipt-http-ack-response.json")
    call.refresh_from_db()
    assert call.status == CallRecord.Status.COMPLETED
    delivery = ReceiptDelivery.objects.get()
    assert (delivery.state, delivery.item_count, delivery.applied_count) == (ReceiptDelivery.State.APPLIED, 1, 1)


def test_the_body_is_kept_exactly_as_received_with_type_and_size(post, make_call):
    call = make_call()
    body = ('[ {"call_id": "' + call.call_id + '", "status_code": "200000", "status_msg": "执行完成"} ]').encode()
    post("VoiceReport", body)
    delivery = ReceiptDelivery.objects.get()
    assert bytes(delivery.body) == body
    assert (delivery.message_type, delivery.size) == ("VoiceReport", len(body))


def test_webhook_needs_no_login_and_no_csrf_token(post, make_call):
    call = make_call()
    response = post("VoiceReport", [voice_report(call)], client=Client(enforce_csrf_checks=True))
    assert response.status_code == 200


def test_every_call_report_example_is_accepted_and_kept_unmatched(post):
    for name in ("receipt-voicecallreport-300000.json", "receipt-voicecallreport-dtmf.json", "receipt-voicecallreport-inbound.json"):
        assert post("VoiceCallReport", example(name)).status_code == 200
    assert CallEvent.objects.filter(call=None).count() == 3
    assert set(ReceiptDelivery.objects.values_list("state", flat=True)) == {ReceiptDelivery.State.UNMATCHED}


def test_wrong_token_is_forbidden_and_stores_nothing(post, make_call):
    call = make_call()
    response = post("VoiceReport", [voice_report(call)], token="guess")
    assert response.status_code == 403
    assert (CallEvent.objects.count(), ReceiptDelivery.objects.count()) == (0, 0)
    call.refresh_from_db()
    assert call.status == CallRecord.Status.ACCEPTED


@override_settings(RECEIPT_WEBHOOK_TOKEN="", RECEIPT_WEBHOOK_TOKENS=["old-token", "new-token"])
def test_two_tokens_are_accepted_during_a_rotation(post, make_call):
    first, second = make_call(), make_call()
    assert post("VoiceReport", [voice_report(first)], token="old-token").status_code == 200
    assert post("VoiceReport", [voice_report(second)], token="new-token").status_code == 200
    assert post("VoiceReport", [voice_report(second)], token="test-receipt-token").status_code == 403


@pytest.mark.parametrize(
    "body, reason",
    [("[{", "not valid JSON"), ({"call_id": "1"}, "not an array"), (b"\xff\xfe[]", "not UTF-8"), ("", "not valid JSON"),
     ("[" * 100_000 + "]" * 100_000, "Nested too deeply")],
)
def test_a_body_that_is_not_a_json_array_gets_400_and_is_still_kept(post, body, reason):
    response = post("VoiceReport", body)
    assert response.status_code == 400
    assert reason in response.json()["msg"]
    assert response.json()["code"] == 400
    delivery = ReceiptDelivery.objects.get()
    assert delivery.state == ReceiptDelivery.State.INVALID
    assert CallEvent.objects.count() == 0


@override_settings(RECEIPT_BODY_MAX_BYTES=1000)
def test_a_body_over_the_size_limit_gets_413_and_is_not_kept(post, make_call):
    call = make_call()
    response = post("VoiceReport", [voice_report(call)] * 10)
    assert response.status_code == 413
    assert response.json()["code"] == 413
    assert ReceiptDelivery.objects.count() == 0


HOSTILE_ITEMS = [
    '{"call_id": "x\\ud800", "status_code": "200000"}',  # a lone surrogate
    '{"call_id": "1^1", "status_code": "200000", "duration": NaN}',
    '{"call_id": "1^1", "status_code": "200000", "b_duration": Infinity}',
    '{"call_id": "1^1", "status_code": "200000", "duration": -Infinity}',
    '{"call_id": "1^1", "status_code": "200000", "duration": 1e400}',
    '{"call_id": "1^1", "status_code": "200000", "duration": "1e400"}',
    '{"call_id": "1^1", "status_code": "200000", "duration": 9223372036854775808}',
    '{"call_id": "1^1", "status_code": "200000", "duration": "9223372036854775808"}',
    '{"call_id": "1^1", "status_code": "200000", "extra": ' + "[" * 900 + "]" * 900 + "}",
    '{"call_id": "1^1", "status_code": "200000", "note": "a\\u0000b"}',
    '{"status_code": "200000"}',  # neither call_id nor out_id
    '{"call_id": "1^1", "status_code": "200000", "end_time": "0001-01-01 00:00:00"}',
    '{"call_id": "1^1", "status_code": "200000", "end_time": "9999-12-31 23:59:59+14:00"}',
    '{"call_id": {"nested": true}, "status_code": "200000"}',
    '"just text"',
    "null",
]


@pytest.mark.parametrize("hostile", HOSTILE_ITEMS)
def test_one_unusable_item_never_costs_the_good_receipts_beside_it(post, make_call, hostile):
    before, after = make_call(), make_call()
    good = [json.dumps(voice_report(before)), json.dumps(voice_report(after, "200002"))]
    body = f"[{good[0]}, {hostile}, {good[1]}]"
    response = post("VoiceReport", body)
    assert response.status_code == 200
    for call, status in ((before, CallRecord.Status.COMPLETED), (after, CallRecord.Status.FAILED)):
        call.refresh_from_db()
        assert call.status == status
    delivery = ReceiptDelivery.objects.get()
    assert delivery.state in (ReceiptDelivery.State.PARTLY_APPLIED, ReceiptDelivery.State.APPLIED)
    assert delivery.applied_count >= 2


def test_a_final_report_without_call_id_is_matched_by_out_id(post, make_call):
    call = make_call(call_id=None, status=CallRecord.Status.UNKNOWN)
    report = voice_report(call)
    del report["call_id"]
    assert post("VoiceReport", [report, {"status_code": "200000"}]).status_code == 200
    call.refresh_from_db()
    assert call.status == CallRecord.Status.COMPLETED
    delivery = ReceiptDelivery.objects.get()
    assert delivery.state == ReceiptDelivery.State.PARTLY_APPLIED
    (problem,) = delivery.problems
    assert (problem["index"], problem["reason"], problem["code"]) == (1, "invalid", "no_ids")


def test_other_message_types_are_not_accepted(post):
    response = post("VoiceRecordReport", [{"call_id": "1", "status_code": "200010"}])
    assert response.status_code == 404
    assert "VoiceRecordReport" in response.json()["msg"]


def test_only_post_is_allowed(client):
    assert client.get(webhook_url("VoiceReport")).status_code == 405


def test_out_of_order_batch_ends_final(post, make_call):
    call = make_call()
    assert post("VoiceReport", [voice_report(call, "200001")]).status_code == 200
    late = [call_report(call, "200102", "2024-03-06 16:21:08"), call_report(call, "200201", "2024-03-06 16:21:03")]
    assert post("VoiceCallReport", late).status_code == 200
    call.refresh_from_db()
    assert (call.status, call.outcome) == (CallRecord.Status.COMPLETED, CallRecord.Outcome.HUNG_UP_EARLY)


# ----- any body at all: never a 5xx, never a good receipt lost -----
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["", "200000", "2024-03-06 16:21:30", "0001-01-01 00:00:00", "1e400", "-1", "用户", "\x00"]),
)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                       max_leaves=8)
_fields = st.sampled_from(["call_id", "out_id", "status_code", "status_time", "duration", "start_time", "end_time",
                           "hangup_direction", "dtmf", "biz_id", "smart_status_code", "status_msg", "callee"])
_items = st.one_of(st.dictionaries(_fields, _values, max_size=8), _values)


def _encode(value) -> str:
    # allow_nan: the provider's JSON may carry NaN and Infinity; surrogates come through \\u escapes as in the wild.
    return json.dumps(value, allow_nan=True)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(junk=st.lists(_items, max_size=4), message_type=st.sampled_from(["VoiceReport", "VoiceCallReport"]),
       tail=st.sampled_from(["", "]", "x", "\ud800", ",{"]))
def test_no_generated_body_gets_a_5xx_and_the_good_receipt_in_it_is_applied(post, make_call, junk, message_type, tail):
    call = make_call()
    good = voice_report(call) if message_type == "VoiceReport" else call_report(call, "200201", "2024-03-06 16:21:03")
    body = "[" + ", ".join([_encode(good), *(_encode(item) for item in junk)]) + "]" + tail
    response = post(message_type, body.encode("utf-8", "surrogatepass"))
    assert response.status_code < 500
    assert response.json()["code"] in (0, 400)
    if response.status_code == 200:
        call.refresh_from_db()
        assert call.status == (CallRecord.Status.COMPLETED if message_type == "VoiceReport" else CallRecord.Status.RINGING)
    else:
        assert tail  # only a broken body is refused, and it is kept
        assert ReceiptDelivery.objects.filter(state=ReceiptDelivery.State.INVALID).exists()
