"""Fixtures for the scheduling tests: the dialing tests' register entries, a private Redis, real worker processes."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.dialing.conftest import code_template, dedicated, english, notice, on_simulator, voice_file  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
# Every periodic task, in both modes: test_in_process checks the one table lists exactly these, and the tests of
# either mode wait for a run of each.
TASKS = {"calls_follow_up", "dispatch_wake", "receipt_inbox_apply", "receipt_inbox_prune", "campaign_send",
         "voice_file_audit_sync", "alerts_check", "calls_bill"}


def wait_for(predicate, timeout: float, interval: float = 0.1, message: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {message}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A private redis-server on a free port, without persistence, that a test may stop and start again."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="voiceadmin-redis-")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), 10, message="redis-server to start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def _pings(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.exceptions.ConnectionError:
        return False


def services_required():
    """Skip without Redis (REDIS_URL) unless VOICEADMIN_REQUIRE_SERVICES=1, as tests/dialing/test_queue.py does."""
    if not os.environ.get("REDIS_URL"):
        if os.environ.get("VOICEADMIN_REQUIRE_SERVICES"):
            pytest.fail("REDIS_URL must be set when VOICEADMIN_REQUIRE_SERVICES=1")
        pytest.skip("needs Redis (REDIS_URL)")


@pytest.fixture
def private_redis(settings):
    """This test's own redis-server; the test process's queue points at it too."""
    services_required()
    server = RedisServer()
    server.start()
    settings.REDIS_URL = server.url
    settings.RQ_QUEUES = {"default": {"URL": server.url, "DEFAULT_TIMEOUT": 300}}
    yield server
    server.stop()


class Processes:
    """Worker and cron processes of `manage.py`, with the environment a deployment gives them."""

    def __init__(self, env: dict, log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.running: list[subprocess.Popen] = []
        self._serial = 0

    def start(self, *args: str) -> subprocess.Popen:
        self._serial += 1
        log = open(self.log_dir / f"{self._serial:02d}-{args[0]}.log", "w")
        process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), *args], env=self.env, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        process.log_path = log.name
        self.running.append(process)
        return process

    def worker(self) -> subprocess.Popen:
        return self.start("rqworker", "--with-scheduler", "default")

    def cron(self) -> subprocess.Popen:
        return self.start("runcron")

    def stop_all(self) -> None:
        # The test is over: no run needs to finish, so no warm shutdown waiting for a slow follow-up.
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        for process in self.running:
            process.wait(10)

    def logs(self) -> str:
        return "\n".join(f"== {p.args[2:]} (exit {p.poll()})\n" + Path(p.log_path).read_text()[-3000:] for p in self.running)


def test_database_url() -> str:
    """The URL of the test database pytest-django created, for the processes this test starts."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


test_database_url.__test__ = False


@pytest.fixture
def processes(private_redis, settings, tmp_path, request):
    """Start workers and the cron process on the private Redis, the test database and the test's simulator, with
    short intervals; everything started is stopped at the end (its output is printed when the test failed)."""
    request.getfixturevalue("on_simulator")  # the endpoint below is the simulator's
    intervals = {
        "CALL_FOLLOW_UP_INTERVAL_SECONDS": "2", "CALL_DISPATCH_WAKE_INTERVAL_SECONDS": "1",
        "RECEIPT_INBOX_APPLY_INTERVAL_SECONDS": "1", "RECEIPT_INBOX_PRUNE_INTERVAL_SECONDS": "2",
    }
    for name, value in intervals.items():
        setattr(settings, name, int(value))
    env = {
        **os.environ, **intervals,
        "DJANGO_SETTINGS_MODULE": "voiceadmin.settings.test",
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": private_redis.url,
        "ALIYUN_VMS_ENDPOINT": settings.ALIYUN_VMS_ENDPOINT,
        "CALL_DETAIL_QUERY_AFTER_MINUTES": "0",
        "PYTHONUNBUFFERED": "1",
    }
    started = Processes(env, tmp_path)
    yield started
    started.stop_all()
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        print(started.logs())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
