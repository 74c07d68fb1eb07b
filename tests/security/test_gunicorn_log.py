"""gunicorn run with the shipped config (voiceadmin/gunicorn.conf.py) writes no webhook token to its logs."""
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "voiceadmin" / "gunicorn.conf.py"
TOKEN = "test-receipt-token"
OTHER_TOKEN = "guessed-or-rotated-out-token"

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _test_database_url() -> str:
    """The database this test run created, so the gunicorn worker stores the push where the test can see it."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _send(url: str, method: str = "POST", body: bytes | None = b"[]") -> int:
    request = urllib.request.Request(url, data=body if method == "POST" else None, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def gunicorn(tmp_path):
    port = _free_port()
    access_log, error_log, output = tmp_path / "access.log", tmp_path / "error.log", tmp_path / "output.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "voiceadmin.settings.test", "DATABASE_URL": _test_database_url(),
           "REDIS_URL": "", "PYTHONPATH": str(ROOT)}
    # Started from another directory: the config finds the project itself.
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(CONFIG), "-b", f"127.0.0.1:{port}", "-w", "1",
         "--access-logfile", str(access_log), "--error-logfile", str(error_log)],
        # Django's own log (django.request lines) goes to the worker's stderr, as under systemd or docker.
        cwd=tmp_path, env=env, stdout=output.open("wb"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"gunicorn did not start: {error_log.read_text() if error_log.exists() else ''}")
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}", access_log, error_log, output
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def test_access_and_error_logs_hold_no_token(gunicorn):
    from notifications.models import ReceiptDelivery

    base, access_log, error_log, output = gunicorn
    statuses = [
        _send(f"{base}/receipts/VoiceReport/{TOKEN}/"),  # the provider's push, acknowledged
        _send(f"{base}/receipts/VoiceReport/{OTHER_TOKEN}/"),
        _send(f"{base}/receipts/VoiceReport/{TOKEN}/", method="GET"),
        _send(f"{base}/receipts/VoiceRecordReport/{TOKEN}/"),
    ]
    assert statuses == [200, 403, 405, 404]
    assert ReceiptDelivery.objects.count() == 1  # the push really went through the worker to the database

    deadline = time.monotonic() + 5  # gunicorn writes the access line after the answer
    while len(access_log.read_text().splitlines()) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = access_log.read_text().splitlines()
    assert len(lines) == 4
    for line in lines:
        assert TOKEN not in line and OTHER_TOKEN not in line
    assert '"POST /receipts/VoiceReport/[redacted]/ HTTP/1.1" 200' in lines[0]
    assert '"POST /receipts/VoiceReport/[redacted]/ HTTP/1.1" 403' in lines[1]
    assert '"POST /receipts/VoiceRecordReport/[redacted]/ HTTP/1.1" 404' in lines[3]
    errors = error_log.read_text()
    assert TOKEN not in errors and OTHER_TOKEN not in errors
    django_log = output.read_text()
    assert "WARNING django.request Forbidden: /receipts/VoiceReport/[redacted]/" in django_log
    assert TOKEN not in django_log and OTHER_TOKEN not in django_log
