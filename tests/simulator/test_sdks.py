"""The official SDKs work unchanged against the simulator over plain HTTP."""
import json
import time

import pytest
from alibabacloud_dyvmsapi20170525 import models
from alibabacloud_dyvmsapi20170525.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from aliyunsdkcore.client import AcsClient
from aliyunsdkdyvmsapi.request.v20170525.QueryCallDetailByCallIdRequest import QueryCallDetailByCallIdRequest
from aliyunsdkdyvmsapi.request.v20170525.SingleCallByTtsRequest import SingleCallByTtsRequest
from aliyunsdkdyvmsapi.request.v20170525.SingleCallByVoiceRequest import SingleCallByVoiceRequest


@pytest.fixture
def account(vms_simulator, settings):
    vms_simulator.account.add_template("TTS_100001", "您好${name}，您的包裹已到。")
    vms_simulator.account.add_voice_file("abc.wav")
    return settings.ALIYUN_ACCESS_KEY_ID, settings.ALIYUN_ACCESS_KEY_SECRET, vms_simulator.url[len("http://"):-1]


def _legacy(request, host):
    request.set_endpoint(host)
    request.set_protocol_type("http")
    request.set_accept_format("json")
    return request


def test_legacy_core_sdk(account, vms_simulator):
    key_id, secret, host = account
    client = AcsClient(key_id, secret, "cn-hangzhou")
    tts = _legacy(SingleCallByTtsRequest(), host)
    tts.set_CalledNumber("13900000000")
    tts.set_TtsCode("TTS_100001")
    tts.set_TtsParam(json.dumps({"name": "张三"}))
    tts.set_OutId("legacy-1")
    call_id = json.loads(client.do_action_with_exception(tts))["CallId"]
    voice = _legacy(SingleCallByVoiceRequest(), host)
    voice.set_CalledNumber("13900000011")
    voice.set_VoiceCode("abc.wav")
    assert json.loads(client.do_action_with_exception(voice))["Code"] == "OK"
    vms_simulator.drain()
    query = _legacy(QueryCallDetailByCallIdRequest(), host)
    query.set_CallId(call_id)
    query.set_ProdId(11010000138001)
    query.set_QueryDate(int(time.time() * 1000))
    data = json.loads(json.loads(client.do_action_with_exception(query))["Data"])
    assert data["callee"] == "13900000000" and data["state"] == "200000"
    assert vms_simulator.calls[0]["OutId"] == "legacy-1"


@pytest.mark.parametrize("algorithm", ["v3-default", "v2"])
def test_current_sdk(account, vms_simulator, algorithm):
    key_id, secret, host = account
    config = open_api_models.Config(access_key_id=key_id, access_key_secret=secret, endpoint=host, protocol="http")
    if algorithm == "v2":
        config.signature_algorithm = "v2"
    client = Client(config)
    tts = client.single_call_by_tts(models.SingleCallByTtsRequest(
        called_number="13900000020", tts_code="TTS_100001", tts_param='{"name":"李四"}', out_id="sdk-1", play_times=1))
    assert tts.body.code == "OK" and "^" in tts.body.call_id
    voice = client.single_call_by_voice(models.SingleCallByVoiceRequest(called_number="13900000031", voice_code="abc.wav"))
    assert voice.body.code == "OK"
    vms_simulator.drain()
    detail = client.query_call_detail_by_call_id(models.QueryCallDetailByCallIdRequest(
        call_id=voice.body.call_id, prod_id=11000000300006, query_date=int(time.time() * 1000)))
    assert json.loads(detail.body.data)["state"] == "200001"
    assert vms_simulator.calls[0]["PlayTimes"] == "1"
