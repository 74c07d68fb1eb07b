"""The client against the simulator over real HTTP: every operation and every error class."""
import logging
import socket
from datetime import UTC, datetime

import pytest

from notifications.aliyun import (
    VmsFlowControlled,
    VmsOutcomeUnknown,
    VmsRejected,
    VmsThrottled,
    get_vms_client,
)
from notifications.aliyun.client import VmsClient

TEMPLATE = "您好${name}，您的订单${order}已发货。"


@pytest.fixture(params=["v1", "v3"])
def client(request, vms_simulator, settings):
    settings.ALIYUN_VMS_SIGNATURE_VERSION = request.param
    vms_simulator.account.add_template("TTS_100001", TEMPLATE)
    vms_simulator.account.add_template("TTS_100002", "您的验证码是${code}，五分钟内有效。", kind="verification")
    vms_simulator.account.add_template("TTS_200001", TEMPLATE, mode="dedicated")
    vms_simulator.account.add_voice_file("abc-def.wav")
    vms_simulator.account.add_number("057100000001")
    return get_vms_client()


def _tts(client, **overrides):
    args = {"called_number": "13800000000", "tts_code": "TTS_100001", "tts_params": {"name": "张三", "order": "A1"}, "out_id": "r1"}
    return client.single_call_by_tts(**{**args, **overrides})


def test_tts_call_is_placed_with_our_parameters(client, vms_simulator):
    placed = _tts(client, play_times=2, volume=80, speed=10)
    assert "^" in placed.call_id and placed.request_id
    call = vms_simulator.calls[0]
    assert call["OutId"] == "r1" and call["TtsCode"] == "TTS_100001" and call["PlayTimes"] == "2"
    assert call["TtsParam"] == '{"name":"张三","order":"A1"}'
    assert "CalledShowNumber" not in call


def test_voice_call_in_dedicated_mode_and_public_mode(client, vms_simulator):
    vms_simulator.account.add_voice_file("ded.wav", mode="dedicated")
    client.single_call_by_voice(called_number="13800000010", voice_code="abc-def.wav", out_id="v1")
    client.single_call_by_voice(called_number="13800000020", voice_code="ded.wav", out_id="v2", show_number="057100000001")
    assert [c["VoiceCode"] for c in vms_simulator.calls] == ["abc-def.wav", "ded.wav"]


def test_call_detail_after_the_call_ended(client, vms_simulator):
    placed = _tts(client, called_number="13800000001")
    sent_at = datetime.now(UTC)
    assert client.query_call_detail(call_id=placed.call_id, api="tts", query_date=sent_at) is None  # still ringing
    vms_simulator.drain()
    detail = client.query_call_detail(call_id=placed.call_id, api="tts", query_date=sent_at)
    assert detail.state == "200001" and detail.callee == "13800000001" and detail.duration > 0
    assert detail.end_time > detail.start_time


def test_call_detail_falls_back_to_the_other_product(client, vms_simulator):
    placed = client.single_call_by_voice(called_number="13800000030", voice_code="abc-def.wav", out_id="v3")
    vms_simulator.drain()
    detail = client.query_call_detail(call_id=placed.call_id, api="tts", query_date=datetime.now(UTC))
    assert detail.state == "200000"


def test_unknown_call_detail_is_none(client):
    assert client.query_call_detail(call_id="1^2", api="voice", query_date=datetime.now(UTC)) is None


def test_voice_file_audit(client, vms_simulator):
    vms_simulator.account.add_voice_file("new.wav", status="pending")
    audits = {a.voice_code: a for a in client.query_voice_file_audit(voice_codes=["abc-def.wav", "new.wav"])}
    assert audits["abc-def.wav"].state == "approved" and audits["new.wav"].state == "pending"


@pytest.mark.parametrize("overrides, code", [
    ({"tts_code": "TTS_999"}, "isv.TTS_TEMPLATE_ILLEGAL"),
    ({"called_number": "12345"}, "isv.MOBILE_NUMBER_ILLEGAL"),
    ({"tts_params": {"name": "张三"}}, "isv.TEMPLATE_MISSING_PARAMETERS"),
    ({"tts_params": {"name": "x" * 200, "order": "y" * 60}}, "isv.PARAM_LENGTH_LIMIT"),
    ({"tts_params": {"name": "https://evil.example", "order": "1"}}, "isv.PARAM_NOT_SUPPORT_URL"),
    ({"tts_code": "TTS_100002", "tts_params": {"code": "12 34"}}, "isv.TEMPLATE_PARAMS_ILLEGAL"),
    ({"play_times": 4}, "isv.INVALID_PARAMETERS"),
    ({"volume": 101}, "isv.INVALID_PARAMETERS"),
    ({"speed": -501}, "isv.INVALID_PARAMETERS"),
    ({"out_id": "x" * 16}, "isv.INVALID_PARAMETERS"),
    ({"show_number": "057100000001"}, "isv.TTS_TEMPLATE_ILLEGAL"),
    ({"tts_code": "TTS_200001"}, "isv.DISPLAY_NUMBER_ILLEGAL"),
    ({"tts_code": "TTS_200001", "show_number": "057199999999"}, "isv.DISPLAY_NUMBER_ILLEGAL"),
])
def test_business_rules_are_rejections(client, vms_simulator, overrides, code):
    with pytest.raises(VmsRejected) as info:
        _tts(client, **overrides)
    assert info.value.code == code and info.value.request_id
    assert not isinstance(info.value, VmsFlowControlled)
    assert vms_simulator.calls == []


def test_second_call_within_a_minute_is_flow_controlled(client):
    _tts(client)
    with pytest.raises(VmsFlowControlled) as info:
        _tts(client)
    assert info.value.code == "isv.BUSINESS_LIMIT_CONTROL" and "分钟级" in info.value.message


def test_throttled_once_then_accepted(client, vms_simulator):
    with pytest.raises(VmsThrottled) as info:
        _tts(client, called_number="17000000000")
    assert info.value.code == "Throttling.User" and vms_simulator.calls == []
    assert _tts(client, called_number="17000000000").call_id


def test_server_error_is_an_unknown_outcome_for_calls_and_retryable_for_queries(client, vms_simulator):
    vms_simulator.set_faults(error_5xx_share=1.0)
    with pytest.raises(VmsOutcomeUnknown) as info:
        _tts(client)
    assert info.value.code == "isp.SYSTEM_ERROR" and info.value.http_status == 500


def test_read_timeout_after_the_call_was_placed_is_an_unknown_outcome(vms_simulator, settings):
    settings.ALIYUN_VMS_READ_TIMEOUT = 0.3
    vms_simulator.account.add_template("TTS_100001", TEMPLATE)
    vms_simulator.set_faults(read_timeout_share=1.0, read_timeout_seconds=1.0)
    with pytest.raises(VmsOutcomeUnknown):
        _tts(get_vms_client())
    assert len(vms_simulator.calls) == 1  # the call exists although the client heard nothing


def test_connection_refused_is_throttled():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = VmsClient(endpoint=f"http://127.0.0.1:{port}/", access_key_id="k", access_key_secret="s", connect_timeout=0.5)
    with pytest.raises(VmsThrottled):
        _tts(client)


def test_wrong_secret_is_rejected_and_the_server_string_to_sign_is_not_exposed(vms_simulator, caplog):
    vms_simulator.account.add_template("TTS_100001", TEMPLATE)
    client = VmsClient(endpoint=vms_simulator.url, access_key_id="LTAItestkey", access_key_secret="wrong")
    with caplog.at_level(logging.DEBUG), pytest.raises(VmsRejected) as info:
        _tts(client, called_number="13812345678")
    assert info.value.code == "SignatureDoesNotMatch" and info.value.http_status == 400
    assert "13812345678" not in str(info.value) and "13812345678" not in caplog.text
    assert "wrong" not in caplog.text


def test_unknown_access_key_is_rejected(vms_simulator):
    client = VmsClient(endpoint=vms_simulator.url, access_key_id="LTAInobody", access_key_secret="x", signature_version="v3")
    with pytest.raises(VmsRejected) as info:
        _tts(client)
    assert info.value.code == "InvalidAccessKeyId.NotFound" and info.value.http_status == 404


def test_one_client_per_settings(settings, vms_simulator):
    first = get_vms_client()
    assert get_vms_client() is first
    settings.ALIYUN_VMS_READ_TIMEOUT = 1.5
    assert get_vms_client() is not first
