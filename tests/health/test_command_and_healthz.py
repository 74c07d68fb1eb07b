"""`manage.py health` for monitoring (exit status, --json) and `/healthz` for load balancers."""
import io
import json
import socket

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from notifications.models import CallRecord
from tests.health.conftest import ago, all_tasks_fresh, run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _health(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("health", *args, stdout=out)
    except SystemExit as stopped:
        return stopped.code, out.getvalue()
    return 0, out.getvalue()


def test_exit_status_is_0_when_everything_runs(make_call):
    all_tasks_fresh()  # a separate process: the scheduler is seen through its recent runs
    make_call(CallRecord.Status.QUEUED)
    status, out = _health()
    assert status == 0
    assert out.splitlines()[0].startswith("OK (ok)")
    assert "  [OK] Call follow-up: Last finished 2 s ago. nothing to do" in out


def test_exit_status_is_1_on_a_warning(make_call):
    all_tasks_fresh()
    make_call(CallRecord.Status.QUEUED, created=ago(minutes=3))
    status, out = _health()
    assert status == 1
    assert "[Warning] Queued calls: 1 call queued; the oldest has waited 3 min" in out


def test_exit_status_is_2_when_critical():
    status, out = _health()
    assert status == 2
    assert out.splitlines()[0].startswith("Critical (critical)")
    assert "[Critical] Dispatcher wake-up: Never ran" in out


def test_json_is_machine_readable(make_call):
    all_tasks_fresh()
    run("calls_follow_up", finished=ago(minutes=10))
    make_call(CallRecord.Status.UNKNOWN, created=ago(minutes=5))
    status, out = _health("--json")
    report = json.loads(out)
    assert status == 2 and report["state"] == "critical"
    checks = {c["key"]: c for c in report["checks"]}
    follow_up = checks["task:calls_follow_up"]
    assert (follow_up["state"], follow_up["stale"], follow_up["figures"]["interval_seconds"]) == ("critical", True, 60.0)
    assert follow_up["figures"]["finished_at"].endswith("+00:00")
    assert checks["calls_unknown"]["figures"]["count"] == 1
    assert {c["state"] for c in report["checks"]} <= {"ok", "warning", "critical"}


# ----- /healthz -----

def test_healthz_needs_no_login_and_says_only_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_healthz_is_ok_even_when_the_console_is_critical(client):
    # Nothing ever ran (critical on the health page), but this process can serve: keep it in the pool.
    assert client.get("/healthz").status_code == 200


def test_healthz_answers_503_when_the_database_fails(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}  # which part failed goes to the log, not to the caller


def test_healthz_answers_503_when_redis_is_configured_and_down(client, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    assert client.get("/healthz").status_code == 503
