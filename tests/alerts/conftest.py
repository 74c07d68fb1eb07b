"""Alert rules, a frozen clock, rows the rules look at, and a real local HTTP server standing in for a chat robot."""
import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from notifications.models import AlertRule, CallRecord, Mode, Qualification, ReviewStatus, TtsTemplate
from notifications.services.alert_kinds import KINDS

# The frozen clock: every check in these tests runs "now" at this moment.
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def english():
    """The alerts' descriptions are read in English here (the console's default language is Chinese)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def alerts_settings(settings):
    settings.REDIS_URL = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALERTS_DELIVERY_TIMEOUT_SECONDS = 0.5
    settings.ALERTS_DELIVERY_ATTEMPTS = 3
    settings.ALERTS_DELIVERY_RETRY_SECONDS = 60
    cache.clear()
    yield settings
    cache.clear()


def at(**delta) -> datetime:
    return NOW + timedelta(**delta)


def make_rule(kind: str, *, name: str | None = None, created_at=None, **fields) -> AlertRule:
    params = {**KINDS[kind].defaults(), **fields.pop("params", {})}
    return AlertRule.objects.create(name=name or f"{kind} rule", kind=kind, params=params,
                                    created_at=created_at or at(days=-1), **fields)


@pytest.fixture
def qualification(db) -> Qualification:
    return Qualification.objects.create(
        company_name="杭州示例科技有限公司", credit_code="91330100MA2B3C4D5E", legal_representative="张三",
        contact_name="李四", contact_phone="13900000000", status=ReviewStatus.APPROVED,
    )


@pytest.fixture
def template(qualification) -> TtsTemplate:
    return TtsTemplate.objects.create(
        name="取件通知", content="您的快递${code}已到。", mode=Mode.PUBLIC, qualification=qualification, tts_code="TTS_100001",
        status=ReviewStatus.APPROVED,
    )


@pytest.fixture
def make_call(template):
    def make(status: str, *, created=None, **fields) -> CallRecord:
        values = {
            "api": CallRecord.Api.TTS, "mode": Mode.PUBLIC, "tts_template": template, "called_number": "13900001234",
            "params": {"code": "A12"}, "out_id": f"A{next(_serial):010d}", "status": status, "created_at": created or at(minutes=-1),
        }
        return CallRecord.objects.create(**(values | fields))

    return make


class RobotServer:
    """A chat robot's incoming webhook on 127.0.0.1: checks the signature the way the service does and records what
    it got. `mode`: "ok", "error500", or "slow" (answers after `delay` seconds)."""

    def __init__(self, kind: str, secret: str = ""):
        self.kind, self.secret = kind, secret
        self.mode, self.delay = "ok", 2.0
        self.received: list[dict] = []
        self.refused: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                query = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
                if server.mode == "slow":
                    time.sleep(server.delay)
                if server.mode == "error500":
                    self.send_response(500)
                    self.end_headers()
                    return
                problem = server.check(query, body)
                if problem:
                    server.refused.append(problem)
                    answer = {"errcode": 310000, "errmsg": problem} if server.kind != "feishu" else {"code": 19021, "msg": problem}
                else:
                    server.received.append({"query": query, "body": body})
                    answer = {"errcode": 0, "errmsg": "ok"} if server.kind != "feishu" else {"code": 0, "msg": "success"}
                data = json.dumps(answer).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the console gave up waiting (the "slow" mode)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/robot/send?access_token=tok-SECRET-123"

    def check(self, query: dict, body: dict) -> str:
        if self.kind == "dingtalk":
            if self.secret:
                timestamp = query.get("timestamp", "")
                if not timestamp.isdigit() or abs(int(timestamp) - time.time() * 1000) > 3_600_000:
                    return "timestamp missing or stale"
                digest = hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256).digest()
                if query.get("sign") != base64.b64encode(digest).decode():  # parse_qs has URL-decoded it
                    return "sign not match"
            if body.get("msgtype") != "text" or not body.get("text", {}).get("content"):
                return "bad message"
        elif self.kind == "feishu":
            if self.secret:
                timestamp = body.get("timestamp", "")
                if not str(timestamp).isdigit() or abs(int(timestamp) - time.time()) > 3600:
                    return "timestamp missing or stale"
                digest = hmac.new(f"{timestamp}\n{self.secret}".encode(), b"", hashlib.sha256).digest()
                if body.get("sign") != base64.b64encode(digest).decode():
                    return "sign match fail"
            if body.get("msg_type") != "text" or not body.get("content", {}).get("text"):
                return "bad message"
        elif body.get("msgtype") != "text" or not body.get("text", {}).get("content"):
            return "bad message"
        return ""

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def robot():
    servers = []

    def start(kind: str, secret: str = "") -> RobotServer:
        server = RobotServer(kind, secret)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
