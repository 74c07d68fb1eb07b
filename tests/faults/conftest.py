"""One harness for the whole fault matrix: Redis, the simulator and gunicorn, started once per module.

Each scenario gets fresh RQ workers and a fresh cron process, stopped again before the test's database flush: a
TRUNCATE beside workers that write every second can deadlock. Each scenario's calls, template and callees are its
own. PostgreSQL only: the console's processes share the test database with this one.
"""
import os
import shutil

import pytest

from tests.faults.harness import Harness


def _database_url(settings_dict: dict) -> str:
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def _unavailable(reason: str):
    if os.environ.get("VOICEADMIN_REQUIRE_SERVICES"):
        pytest.fail(f"the fault matrix must run when VOICEADMIN_REQUIRE_SERVICES=1: {reason}")
    pytest.skip(f"the fault matrix needs {reason}")


@pytest.fixture(scope="module")
def harness(django_db_setup):
    from django.db import connection

    if connection.vendor != "postgresql":
        _unavailable("PostgreSQL (DATABASE_URL=postgres://...)")
    if shutil.which("redis-server") is None:
        _unavailable("redis-server installed (it starts a private one to restart)")
    harness = Harness(database_url=_database_url(connection.settings_dict))
    try:
        harness.start(workers=False)
    except Exception:
        harness.stop()
        raise
    try:
        yield harness
    finally:
        harness.stop()
        shutil.rmtree(harness.workdir, ignore_errors=True)


@pytest.fixture
def on_harness(harness, transactional_db, settings):
    """Workers and cron for this scenario; this process records calls and enqueues jobs on the harness's Redis,
    as the console's web process would."""
    settings.REDIS_URL = harness.redis.url
    settings.RQ_QUEUES = {"default": {"URL": harness.redis.url, "DEFAULT_TIMEOUT": 300}}
    harness.start_workers()
    yield harness
    harness.stop_workers()
