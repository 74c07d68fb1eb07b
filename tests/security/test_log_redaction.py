"""The receipt webhook's token never reaches a log: Django's request logger and runserver's access log."""
import json
import logging
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.test import Client

from notifications.logging import RedactWebhookToken, redact

TOKEN = "test-receipt-token"  # the one voiceadmin.settings.test configures
OTHER_TOKEN = "guessed-or-rotated-out-token"


def webhook_path(message_type: str = "VoiceReport", token: str = TOKEN) -> str:
    return f"/receipts/{message_type}/{token}/"


def assert_no_token_in(records, *tokens: str) -> None:
    """No record, however a handler formats it (message, args, traceback, the request it carries), holds a token."""
    assert records, "the request should have been logged"
    formatter = logging.Formatter("%(message)s")
    for record in records:
        shown = [formatter.format(record), record.getMessage(), repr(record.args), record.exc_text or ""]
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "META"):
            shown += [request.path, request.path_info, request.get_full_path(), repr(request), json.dumps(
                {key: value for key, value in request.META.items() if isinstance(value, str)})]
        for token in tokens:
            assert not any(token in text for text in shown), f"{token!r} in the log record {record.name}: {shown[0]!r}"


def request_records(caplog):
    return [record for record in caplog.records if record.name == "django.request"]


@pytest.fixture
def webhook_client():
    return Client(raise_request_exception=False)


def test_wrong_token_403_is_logged_without_the_token(webhook_client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = webhook_client.post(webhook_path(token=OTHER_TOKEN), data="[]", content_type="application/json")
    assert response.status_code == 403
    records = request_records(caplog)
    assert_no_token_in(records, OTHER_TOKEN, TOKEN)
    assert records[0].getMessage() == "Forbidden: /receipts/VoiceReport/[redacted]/"


def test_unknown_message_type_404_is_logged_without_the_token(webhook_client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = webhook_client.post(webhook_path("VoiceRecordReport"), data="[]", content_type="application/json")
    assert response.status_code == 404  # the token was right: the view saw it, only the log lost it
    records = request_records(caplog)
    assert_no_token_in(records, TOKEN)
    assert "/receipts/VoiceRecordReport/[redacted]/" in records[0].getMessage()


def test_get_405_is_logged_without_the_token(webhook_client, caplog):
    with caplog.at_level(logging.WARNING):
        response = webhook_client.get(webhook_path() + "?probe=1")
    assert response.status_code == 405
    records = request_records(caplog)
    assert_no_token_in(records, TOKEN)
    assert records[0].getMessage() == "Method Not Allowed (GET): /receipts/VoiceReport/[redacted]/"


def test_internal_error_500_and_its_traceback_are_logged_without_the_token(webhook_client, caplog, monkeypatch):
    def broken():
        raise RuntimeError("settings store unavailable")

    # A real failure inside the webhook's request, with the token in the URL the traceback's request describes.
    monkeypatch.setattr("notifications.services.webhook_tokens.webhook_tokens_configured", broken)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = webhook_client.post(webhook_path(), data="[]", content_type="application/json")
    assert response.status_code == 500
    records = request_records(caplog)
    assert_no_token_in(records, TOKEN)
    assert records[0].getMessage() == "Internal Server Error: /receipts/VoiceReport/[redacted]/"
    assert "settings store unavailable" in records[0].exc_text  # the traceback is kept, only the token goes


def test_the_real_request_keeps_its_path():
    """Redaction works on a copy: middleware and views after the log line still see the real path."""
    from django.test import RequestFactory

    request = RequestFactory().post(webhook_path())
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden: %s", (request.path,), None)
    record.request = request
    RedactWebhookToken().filter(record)
    assert request.path == webhook_path()
    assert record.request.path == "/receipts/VoiceReport/[redacted]/"
    assert TOKEN not in record.request.META["PATH_INFO"]


@pytest.mark.parametrize("text, expected", [
    ('"POST /receipts/VoiceReport/s3cr3t-t0ken/ HTTP/1.1" 200 19', '"POST /receipts/VoiceReport/[redacted]/ HTTP/1.1" 200 19'),
    ("https://console.example.com/app/receipts/VoiceCallReport/abc%2Fdef?x=1", "https://console.example.com/app/receipts/VoiceCallReport/[redacted]?x=1"),
    ("/receipts//no-type-token/", "/receipts//[redacted]/"),
    ("/calls/12/status/ and /receipts/ stay as they are", "/calls/12/status/ and /receipts/ stay as they are"),
])
def test_redact_hides_the_segment_after_the_message_type(text, expected):
    assert redact(text) == expected


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_runserver_access_log_holds_no_token(caplog):
    """Django's development server (what `runserver` and `make run` serve with) logs each request to django.server."""
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(WSGIHandler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    access_log = logging.getLogger("django.server")
    access_log.addHandler(caplog.handler)  # it does not propagate to the root logger caplog listens on
    try:
        statuses = []
        for path, method in ((webhook_path(), "POST"), (webhook_path(token=OTHER_TOKEN), "POST"), (webhook_path(), "GET")):
            request = urllib.request.Request(base + path, data=b"[]" if method == "POST" else None, method=method,
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    statuses.append(answer.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
        deadline = time.monotonic() + 5  # the line is written once the answer has gone out
        while len([r for r in caplog.records if r.name == "django.server"]) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        access_log.removeHandler(caplog.handler)
        server.shutdown()
        server.server_close()
    assert statuses == [200, 403, 405]
    lines = [record for record in caplog.records if record.name == "django.server"]
    assert len(lines) == 3
    assert_no_token_in(lines, TOKEN, OTHER_TOKEN)
    assert all("/receipts/VoiceReport/[redacted]/ HTTP/1.1" in line.getMessage() for line in lines)


def test_logging_settings_attach_the_filter_to_request_and_server_loggers():
    for name in ("django.request", "django.server"):
        assert any(isinstance(f, RedactWebhookToken) for f in logging.getLogger(name).filters), name
    # runserver's access log still has its handler (configuring the logger must not silence it).
    assert logging.getLogger("django.server").handlers
