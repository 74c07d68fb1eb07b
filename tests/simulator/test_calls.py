"""Calls play out by the callee's last digit; receipts are pushed, acknowledged, retried; reviews come back."""
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from notifications.aliyun import get_vms_client


class Collector:
    """A receipt endpoint at the edge of the test: records each POST and answers as told."""

    def __init__(self):
        self.posts: list[tuple[str, list, dict]] = []
        self.answers: list[tuple[int, bytes]] = []  # consumed first, then 200 {"code":0}
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                collector.posts.append((self.path, body, dict(self.headers)))
                status, answer = collector.answers.pop(0) if collector.answers else (200, b'{"code":0,"msg":"ok"}')
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/receipts/"

    def records(self, message_type):
        return [record for path, body, _ in self.posts if f"/{message_type}/" in path for record in body]


@pytest.fixture
def collector(vms_simulator):
    collector = Collector()
    vms_simulator.set_receipt_base_url(collector.url)
    yield collector
    collector.server.shutdown()


@pytest.fixture
def client(vms_simulator):
    vms_simulator.account.add_voice_file("abc.wav")
    return get_vms_client()


EXPECTED = {"0": "200000", "1": "200001", "2": "200002", "3": "200003", "4": "200004", "5": "200010", "6": "200011",
            "7": "200005", "9": "200000"}


def test_outcome_by_last_digit_and_receipt_shapes(client, vms_simulator, collector):
    for digit in EXPECTED:
        client.single_call_by_voice(called_number=f"1380000001{digit}", voice_code="abc.wav", out_id=f"o{digit}")
    vms_simulator.drain()
    reports = {r["callee"][-1]: r for r in collector.records("VoiceReport")}
    assert {digit: r["status_code"] for digit, r in reports.items()} == EXPECTED
    answered = reports["0"]
    assert answered["out_id"] == "o0" and answered["hangup_direction"] == "机器"
    assert isinstance(answered["duration"], str) and isinstance(answered["b_duration"], int) and int(answered["duration"]) > 0
    assert len(answered["start_time"]) == len("2024-01-02 03:04:05")
    assert reports["1"]["hangup_direction"] == "用户"
    assert reports["2"]["start_time"] == "" and reports["2"]["duration"] == "0"
    steps = [(r["status_code"], r["smart_status_code"]) for r in collector.records("VoiceCallReport") if r["out_id"] == "o0"]
    # The refined result comes with the end of the call, not while it is still ringing.
    assert steps == [("200101", ""), ("200201", ""), ("200102", ""), ("200100", "ANSWERED")]
    assert all(path.endswith("/test-receipt-token/") for path, _, _ in collector.posts)


def test_lost_receipts_still_answer_the_detail_query(client, vms_simulator, collector):
    placed = client.single_call_by_voice(called_number="13800000018", voice_code="abc.wav", out_id="lost")
    vms_simulator.drain()
    assert collector.posts == []
    assert client.query_call_detail(call_id=placed.call_id, api="voice", query_date=datetime.now(UTC)).state == "200000"


def test_digit_nine_duplicates_receipts(client, vms_simulator, collector):
    client.single_call_by_voice(called_number="13800000019", voice_code="abc.wav", out_id="dup")
    vms_simulator.drain()
    assert len(collector.records("VoiceReport")) == 2


def test_unacknowledged_push_is_retried_then_given_up(client, vms_simulator, collector):
    vms_simulator.set_time_scale(0.002)
    collector.answers = [(200, b'{"code":"0"}'), (500, b""), (200, b"not json"), (404, b"")] * 10
    client.single_call_by_voice(called_number="13800000024", voice_code="abc.wav", out_id="retry")
    vms_simulator.drain(timeout=30)
    attempts = [body for path, body, _ in collector.posts if "/VoiceReport/" in path]
    assert len(attempts) == 4  # the first push and three retries, then the simulator gives up


def test_push_is_retried_until_acknowledged(client, vms_simulator, collector):
    vms_simulator.set_time_scale(0.002)
    collector.answers = [(503, b"")]
    client.single_call_by_voice(called_number="13800000034", voice_code="abc.wav", out_id="late")
    vms_simulator.drain(timeout=30)
    first, *later = vms_simulator.pushed
    assert first["acknowledged"] is False
    assert any(p["acknowledged"] and p["records"] == first["records"] for p in later)


def test_drop_receipts_fault(client, vms_simulator, collector):
    vms_simulator.set_faults(drop_receipts_share=1.0)
    client.single_call_by_voice(called_number="13800000044", voice_code="abc.wav", out_id="drop")
    vms_simulator.drain()
    assert collector.posts == [] and len(vms_simulator.calls) == 1


def _control(vms_simulator, method, path, key="test-access-secret", **kwargs):
    return requests.request(method, vms_simulator.control_url + path, headers={"X-Simulator-Key": key}, timeout=5, **kwargs)


def test_control_api_needs_the_key(vms_simulator):
    assert _control(vms_simulator, "GET", "account", key="nope").status_code == 403
    assert _control(vms_simulator, "GET", "account").status_code == 200


def test_control_api_account_faults_and_calls(vms_simulator):
    _control(vms_simulator, "PUT", "account", json={"templates": [{"code": "TTS_7", "content": "您好${name}"}],
                                                   "numbers": [{"number": "057100000009"}]})
    account = _control(vms_simulator, "GET", "account").json()
    assert [t["code"] for t in account["templates"]] == ["TTS_7"] and account["numbers"][0]["status"] == "active"
    assert _control(vms_simulator, "PUT", "faults", json={"latency_ms": 5}).json()["latency_ms"] == 5
    assert _control(vms_simulator, "PUT", "faults", json={"no_such_switch": 1}).status_code == 400
    get_vms_client().single_call_by_tts(called_number="13800000050", tts_code="TTS_7", tts_params={"name": "x"}, out_id="c")
    assert _control(vms_simulator, "GET", "calls").json()[0]["out_id"] == "c"


@pytest.mark.parametrize("review, decision", [
    ({"kind": "tts_template", "content": "您好${name}，您的快递已到。", "mode": "public", "template_kind": "notification"}, "approved"),
    ({"kind": "tts_template", "content": "您好${name}，请访问http网站。", "mode": "public", "template_kind": "notification"},
     "rejected"),
    ({"kind": "tts_template", "content": "您的订单${code}。", "mode": "public", "template_kind": "verification"}, "rejected"),
])
def test_reviews_report_back(vms_simulator, collector, review, decision):
    callback = collector.url + "review/"
    assert _control(vms_simulator, "POST", "reviews", json={**review, "ref": "42", "callback_url": callback}).status_code == 202
    vms_simulator.drain()
    path, body, headers = collector.posts[0]
    assert body["decision"] == decision and body["ref"] == "42" and headers["X-Simulator-Key"] == "test-access-secret"
    if decision == "approved":
        assert body["code"] in [item["code"] for item in vms_simulator.account.snapshot()["templates"]]
    else:
        assert body["reason"] and body["code"] == ""


@pytest.mark.parametrize("name, state, reason", [
    ("welcome", "AUDIT_STATE_PASS", ""),
    ("please reject me", "AUDIT_STATE_NOT_PASS", "语音文件内容不符合规范"),
])
def test_an_uploaded_voice_file_gets_its_code_at_once_and_its_review_by_the_audit_query(vms_simulator, collector, name, state,
                                                                                       reason):
    answer = _control(vms_simulator, "POST", "reviews", json={"kind": "voice_file", "name": name, "ref": "7"})
    assert answer.status_code == 202
    code = answer.json()["data"]["voiceCode"]  # the upload API's answer shape
    client = get_vms_client()
    assert [(a.voice_code, a.provider_state) for a in client.query_voice_file_audit(voice_codes=[code])] == [
        (code, "AUDIT_STATE_INIT")]
    vms_simulator.drain()
    [audit] = client.query_voice_file_audit(voice_codes=[code])
    assert (audit.provider_state, audit.reject_info) == (state, reason)
    assert collector.posts == []  # nothing is pushed back: the console asks
