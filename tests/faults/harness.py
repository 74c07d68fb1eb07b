"""The fault matrix's machinery, shared by tests/faults (about 30 calls a scenario) and bench/faults.py (200).

Everything runs as it does in production, on loopback: the console under gunicorn (the project's gunicorn config),
`manage.py rqworker` processes, the `manage.py runcron` process, a private `redis-server` (so it can be restarted
without touching the machine's), and the simulator over HTTP, pushing its receipts to the console's webhook. The
caller's process only records calls with `call_record_create`, switches faults and reads the results.

Workers and the cron process are supervised as systemd's `Restart=always` would: one that exits (a Redis restart
ends an RQ worker's loop) is started again after a second; a test's `kill -9` is followed the same way.
"""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from simulator import Simulator, SimulatorConfig, start_server
from simulator.config import Faults

ROOT = Path(__file__).resolve().parent.parent.parent
KEY_ID, KEY_SECRET, TOKEN = "LTAIfaultskey", "faults-access-secret", "faults-receipt-token"
TIME_SCALE = 0.01  # simulated seconds run 100x faster: a call plays out in under half a second
RESTART_SECONDS = 1.0  # what a supervisor waits before starting an exited process again (systemd's RestartSec)

# Fault windows, shortened (voiceadmin/settings/base.py): sends give up after 1 s, the follow-up and the other
# periodic tasks tick every second, detail queries and "outcome unknown" come seconds after a call, not minutes.
WINDOWS = {
    "ALIYUN_VMS_CONNECT_TIMEOUT": "1",
    "ALIYUN_VMS_READ_TIMEOUT": "1",
    "CALL_FOLLOW_UP_INTERVAL_SECONDS": "1",
    "CALL_DISPATCH_WAKE_INTERVAL_SECONDS": "1",
    "RECEIPT_INBOX_APPLY_INTERVAL_SECONDS": "1",
    "CALL_DETAIL_QUERY_AFTER_MINUTES": "0.02",
    "CALL_EXPECTED_SECONDS": "2",
    "CALL_RECEIPT_RETRY_WINDOW_MINUTES": "0.1",
    "CALL_SENDING_GRACE_SECONDS": "2",
    "RECEIPT_ELSEWHERE_GRACE_MINUTES": "10",
    "HEALTH_STALE_INTERVALS": "30",
}

# The simulator's outcome by the callee's last digit (simulator/engine.py OUTCOMES), as the console should record it.
OUTCOME_BY_DIGIT = {"0": "listened", "1": "hung_up_early", "2": "busy", "3": "no_answer", "4": "invalid_number",
                    "5": "powered_off", "6": "suspended", "7": "unreachable", "8": "listened", "9": "listened"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_port(port: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds:.0f} s")


class CountingSimulator(Simulator):
    """The simulator, also counting every SingleCall request it received per OutId (placed or not)."""

    def __init__(self, config):
        super().__init__(config)
        self.requests: Counter = Counter()

    def reset(self) -> None:
        super().reset()
        self.requests.clear()

    def _single_call_by_tts(self, params):
        with self._lock:
            self.requests[params.get("OutId", "")] += 1
        return super()._single_call_by_tts(params)

    def placed(self) -> Counter:
        """Calls placed (accepted and played) per OutId."""
        with self._lock:
            return Counter(call["out_id"] for call in self.calls)


class RedisServer:
    """A redis-server of our own on a fixed port, without persistence: a restart loses every key, as a crash would."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = workdir / "redis"
        self._dir.mkdir(exist_ok=True)
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self._dir), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def restart(self, down_seconds: float = 1.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


class Supervised:
    """A console process (worker, cron, web), started again after RESTART_SECONDS whenever it exits unasked."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path, *, restart: bool = True):
        self.name, self.argv, self.env, self.log_path = name, argv, env, log
        self.restart = restart
        self.starts = 0
        self.process: subprocess.Popen | None = None
        self._stopping = False
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            log = open(self.log_path, "ab")  # noqa: SIM115 (the child keeps it)
            # A session of its own: `kill -9` reaches the worker and the work-horse it forked, as a crash would.
            self.process = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
            log.close()
            self.starts += 1
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name=f"supervise-{self.name}", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        while not self._stopping:
            process = self.process
            if process is not None and process.poll() is not None and self.restart and not self._stopping:
                time.sleep(RESTART_SECONDS)
                if not self._stopping:
                    self.start()
            time.sleep(0.1)

    def kill9(self) -> None:
        """SIGKILL to the whole process group; the supervisor starts a new one."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping = True
        process = self.process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class Harness:
    """Redis, the simulator, gunicorn, RQ workers and the cron process around one database (`database_url`)."""

    def __init__(self, *, database_url: str, workers: int = 2, web_workers: int = 2, extra_env: dict | None = None):
        self.database_url = database_url
        self.workdir = Path(tempfile.mkdtemp(prefix="voiceadmin-faults-"))
        self.redis = RedisServer(self.workdir)
        self.simulator = CountingSimulator(SimulatorConfig(
            access_key_id=KEY_ID, access_key_secret=KEY_SECRET, receipt_token=TOKEN, time_scale=TIME_SCALE,
            receipt_base_url=""))
        self._server = None
        self.web_port = free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.workers_wanted = workers
        self.web_workers = web_workers
        self.extra_env = extra_env or {}
        self.workers: list[Supervised] = []
        self.cron: Supervised | None = None
        self.web: Supervised | None = None

    # ----- lifecycle -----

    def env(self) -> dict:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_", "SIMULATOR_"))}
        env.update(WINDOWS)
        env.update({
            "DJANGO_SETTINGS_MODULE": "voiceadmin.settings.test", "DATABASE_URL": self.database_url, "REDIS_URL": self.redis.url,
            "ALIYUN_VMS_ENDPOINT": self._server.url, "ALIYUN_ACCESS_KEY_ID": KEY_ID, "ALIYUN_ACCESS_KEY_SECRET": KEY_SECRET,
            "RECEIPT_WEBHOOK_TOKEN": TOKEN, "DJANGO_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        return env

    def start(self, *, workers: bool = True) -> None:
        self.redis.start()
        self._server = start_server(self.simulator, host="127.0.0.1", port=0)
        env = self.env()
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.web = Supervised("web", [gunicorn, "-c", str(ROOT / "voiceadmin" / "gunicorn.conf.py"), "-b",
                                      f"127.0.0.1:{self.web_port}", "-w", str(self.web_workers), "--access-logfile",
                                      "/dev/null"], env, self.workdir / "web.log")
        self.web.start()
        if workers:
            self.start_workers()
        wait_port(self.web_port)
        self._warm_up()

    def start_workers(self) -> None:
        """The RQ workers and the cron process (when the project has one)."""
        for n in range(self.workers_wanted):
            self.add_worker(n)
        if (ROOT / "notifications" / "management" / "commands" / "runcron.py").exists():
            self.cron = Supervised("cron", [sys.executable, str(ROOT / "manage.py"), "runcron", "--logging-level", "WARNING"],
                                   self.env(), self.workdir / "cron.log")
            self.cron.start()

    def stop_workers(self) -> None:
        """Stop the workers and the cron process (a warm shutdown: the cron process hands its leader key back)."""
        for process in [*self.workers, self.cron]:
            if process is not None:
                process.stop()
        self.workers, self.cron = [], None

    def _warm_up(self) -> None:
        """gunicorn loads the app lazily in each worker: the first pushes must not wait for that (the provider gives
        up after 2 s here)."""
        import urllib.request

        for _ in range(self.web_workers * 3):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{self.web_url}/healthz", timeout=10).read()

    def add_worker(self, n: int) -> Supervised:
        # No --name: RQ draws a fresh one per start, and a killed worker's name may still be registered.
        worker = Supervised(f"worker{n}", [sys.executable, str(ROOT / "manage.py"), "rqworker", "default", "--with-scheduler"],
                            self.env(), self.workdir / f"worker{n}.log")
        worker.start()
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        self.stop_workers()
        if self.web is not None:
            self.web.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self.simulator.engine.stop()
        self.redis.stop()

    def logs(self, tail: int = 15) -> str:
        """The last lines of every process's log (for a failing test's message)."""
        parts = []
        for path in sorted(self.workdir.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()[-tail:]
            parts.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def restarts(self) -> int:
        """How many times the supervisor started a worker or the cron process again."""
        return sum(max(0, process.starts - 1) for process in [*self.workers, self.cron] if process is not None)

    # ----- a scenario -----

    def reset_simulator(self, *, tts_code: str, content: str, faults: dict) -> None:
        self.simulator.engine.wait_idle(15)
        self.simulator.reset()
        self.simulator.config.faults = Faults(**faults)
        self.simulator.config.receipt_base_url = f"{self.web_url}/receipts/"
        self.simulator.account.merge({"templates": [{"code": tts_code, "content": content, "mode": "public",
                                                     "kind": "notification", "status": "approved"}]})


@dataclass
class Scenario:
    name: str
    title: str
    faults: dict = field(default_factory=dict)
    # Called once the calls are recorded, while they are being sent: the disruption (kill, restart, duplicate jobs).
    during: Callable | None = None
    after: Callable | None = None  # called once every call is final: checks that need the run to be over
    wait_seconds: float = 60.0


@dataclass
class Result:
    scenario: str
    calls: int
    dialled_twice: int
    lost: int
    not_final: int
    placed_but_failed: int
    seconds: float
    requests: int = 0  # SingleCall requests the simulator received (a throttled or 5xx request is not a placement)
    placed: int = 0
    statuses: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # one line per call that broke a rule, for a test's message
    follow_up: dict = field(default_factory=dict)  # long_follow_up: the longest run seen and how many ran

    @property
    def clean(self) -> bool:
        return not (self.dialled_twice or self.lost or self.not_final or self.placed_but_failed)


def wait_until(predicate: Callable[[], bool], seconds: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# ----- the disruptions -----

def _when_sending(harness: Harness, share: float, seconds: float = 30.0) -> None:
    """Wait until the simulator has received `share` of the calls: the middle of the run."""
    total = harness.scenario_calls
    wait_until(lambda: sum(harness.simulator.requests.values()) >= max(1, int(total * share)), seconds, step=0.02)


def kill_workers(harness: Harness) -> None:
    _when_sending(harness, 0.25)
    for worker in harness.workers:
        worker.kill9()
    harness.notes.append(f"kill -9 of {len(harness.workers)} workers after "
                         f"{sum(harness.simulator.requests.values())} of {harness.scenario_calls} requests")


def restart_redis(harness: Harness) -> None:
    _when_sending(harness, 0.25)
    sent = sum(harness.simulator.requests.values())
    harness.redis.restart(down_seconds=1.0)
    harness.notes.append(f"Redis restarted (down 1 s, keys lost) after {sent} of {harness.scenario_calls} requests")


def enqueue_twice(harness: Harness) -> None:
    import django_rq

    queue = django_rq.get_queue("default")
    for job in ("notifications.jobs.calls_dispatch_job", "notifications.jobs.calls_follow_up_job",
                "notifications.jobs.receipt_inbox_apply_job", "notifications.jobs.dispatch_wake_job"):
        queue.enqueue(job)
        queue.enqueue(job)
    harness.notes.append("dispatcher, follow-up, inbox and wake-up jobs each enqueued twice more")


def watch_follow_up(harness: Harness) -> None:
    """Follow the follow-up's runs in the background, for `follow_up_went_on`.

    PeriodicRun holds only the latest run, and the next run may start a few milliseconds after one ends, so a finish
    can be overwritten before it is seen. Each run seen is kept as start -> [end seen, last time seen running]; a run
    whose end was missed lasted at least until it was last seen running and ended before the next run started.
    """
    from django.db import close_old_connections
    from django.utils import timezone

    from notifications.models import PeriodicRun

    runs: dict = {}
    harness.follow_up_runs = runs

    def watch():
        try:
            while not harness.watch_done.is_set():
                run = PeriodicRun.objects.filter(name="calls_follow_up").values("started_at", "finished_at").first()
                if run and run["started_at"]:
                    seen = runs.setdefault(run["started_at"], [None, None])
                    if run["finished_at"] and run["finished_at"] >= run["started_at"]:
                        seen[0] = run["finished_at"]
                    else:
                        seen[1] = timezone.now()
                time.sleep(0.05)
        finally:
            close_old_connections()

    threading.Thread(target=watch, daemon=True).start()


def follow_up_runs_seen(runs: dict) -> list[tuple[float, object, object]]:
    """(seconds it lasted at least, start, end at the latest) for each run whose length is known or bounded."""
    starts = sorted(runs)
    seen = []
    for index, start in enumerate(starts):
        end, last_running = runs[start]
        if end is not None:
            seen.append(((end - start).total_seconds(), start, end))
        elif last_running is not None:
            # Still going (no later start seen): its end is not known yet, so no run can count as "after" it.
            later = starts[index + 1] if index + 1 < len(starts) else None
            seen.append(((last_running - start).total_seconds(), start, later))
    return seen


def follow_up_went_on(harness: Harness, seconds: float = 8.0) -> None:
    """Once the calls are final: wait for a follow-up run that started after the longest one ended (the schedule
    survived a run longer than its interval), and note how long that run took."""
    def longest():
        seen = follow_up_runs_seen(dict(harness.follow_up_runs))
        return max(seen, key=lambda run: run[0]) if seen else None

    def next_run_started():
        # The calls may turn final while the long run is still going: wait for its end, then for a run after it.
        found = longest()
        return found is not None and found[2] is not None and any(start > found[2] for start in list(harness.follow_up_runs))

    wait_until(next_run_started, seconds, step=0.1)
    found = longest()
    harness.follow_up = {"longest": found[0] if found else 0.0,
                         "runs_after": sum(1 for start in list(harness.follow_up_runs)
                                           if found and found[2] is not None and start > found[2])}


SCENARIOS = [
    Scenario("5xx", "5xx share 30 %", {"error_5xx_share": 0.3}),
    Scenario("read_timeout", "read-timeout share 30 %", {"read_timeout_share": 0.3, "read_timeout_seconds": 2.0}),
    Scenario("throttling", "throttling share 50 %", {"throttle_share": 0.5}),
    Scenario("dropped", "dropped receipts 50 %", {"drop_receipts_share": 0.5}),
    Scenario("duplicated", "duplicated receipts 50 %", {"duplicate_receipts_share": 0.5}),
    Scenario("kill9", "worker kill -9 mid-send", {"latency_ms": 150}, during=kill_workers),
    Scenario("redis_restart", "Redis restarted mid-run", {"latency_ms": 150}, during=restart_redis),
    Scenario("enqueued_twice", "the same jobs enqueued twice", {"latency_ms": 50}, during=enqueue_twice),
    # Every receipt lost, and the gateway slow: each follow-up run makes one detail query per call, far past its 1 s.
    Scenario("long_follow_up", "follow-up run longer than its interval", {"drop_receipts_share": 1.0, "latency_ms": 120},
             during=watch_follow_up, after=follow_up_went_on),
]
SCENARIO_BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


def make_template(tts_code: str):
    """An approved notification template under an approved qualification (as tests/dialing/conftest.py makes them)."""
    from notifications.models import Mode, Purpose, Qualification, ReviewStatus, TtsTemplate
    from notifications.rules.identifiers import credit_code_check_char

    first17 = f"91330100MA{zlib.crc32(tts_code.encode()) % 10**6:06d}X"[:17]  # the same in every process
    qualification, _ = Qualification.objects.get_or_create(
        credit_code=first17 + credit_code_check_char(first17),
        defaults={"company_name": "故障测试有限公司", "legal_representative": "王五", "contact_name": "李四",
                  "contact_phone": "13800000000", "status": ReviewStatus.APPROVED})
    template, _ = TtsTemplate.objects.get_or_create(
        tts_code=tts_code, defaults={"name": "故障测试", "content": "您的订单${order}已发货。", "kind": Purpose.NOTIFICATION,
                                     "mode": Mode.PUBLIC, "qualification": qualification, "variables": ["order"],
                                     "status": ReviewStatus.APPROVED})
    return template


def run_scenario(harness: Harness, scenario: Scenario, *, calls: int, index: int) -> Result:
    """Record `calls` calls under `scenario`'s faults, disrupt the run, wait until every call is final, and count."""
    from django.db import close_old_connections

    from notifications.models import CallRecord
    from notifications.services.dialing import call_record_create

    template = make_template(f"TTS_FAULT{index:02d}")
    harness.reset_simulator(tts_code=template.tts_code, content=template.content, faults=scenario.faults)
    harness.scenario_calls = calls
    harness.watch_done = threading.Event()
    harness.notes = []
    harness.follow_up = {}
    restarts_before = harness.restarts()

    started = time.monotonic()
    # Distinct callees (the provider's per-callee flow control); the last digit picks the simulator's outcome.
    # The disruption waits for its moment beside the dials: the workers start sending with the first call recorded.
    disruption = threading.Thread(target=scenario.during, args=(harness,), daemon=True) if scenario.during else None
    if disruption is not None:
        disruption.start()
    records = [call_record_create(tts_template=template, called_number=f"139{index % 10}{n:06d}{n % 10}",
                                  params={"order": f"A{n}"}) for n in range(calls)]
    if disruption is not None:
        disruption.join()
    ids = [record.pk for record in records]
    final = list(CallRecord.FINAL_STATUSES)
    wait_until(lambda: CallRecord.objects.filter(pk__in=ids).exclude(status__in=final).count() == 0,
               scenario.wait_seconds, step=0.25)
    seconds = time.monotonic() - started
    if scenario.after is not None:
        scenario.after(harness)
    harness.watch_done.set()
    close_old_connections()

    placed, requests = harness.simulator.placed(), harness.simulator.requests
    rows = list(CallRecord.objects.filter(pk__in=ids).values("out_id", "called_number", "status", "outcome", "api_message"))
    result = Result(scenario=scenario.name, calls=calls, dialled_twice=0, lost=0, not_final=0, placed_but_failed=0,
                    seconds=seconds, requests=sum(requests.values()), placed=sum(placed.values()),
                    statuses=dict(Counter(row["status"] for row in rows)), notes=list(harness.notes))
    for row in rows:
        out_id, is_final = row["out_id"], row["status"] in final
        if placed[out_id] > 1:
            result.dialled_twice += 1
            result.problems.append(f"{out_id} placed {placed[out_id]} times")
        if not placed[out_id] and not (is_final and row["api_message"]):
            result.lost += 1
            result.problems.append(f"{out_id} never reached the provider and is {row['status']} without a reason")
        if not is_final:
            result.not_final += 1
            result.problems.append(f"{out_id} still {row['status']} after {seconds:.0f} s")
        # A placed call may fail only by its own outcome (busy, no answer...), never as a refused or unplaced call.
        if placed[out_id] and row["status"] == CallRecord.Status.FAILED \
                and row["outcome"] != OUTCOME_BY_DIGIT[row["called_number"][-1]]:
            result.placed_but_failed += 1
            result.problems.append(f"{out_id} was placed but ended failed ({row['outcome']}): {row['api_message'][:120]}")
    restarts = harness.restarts() - restarts_before
    if restarts:
        result.notes.append(f"{restarts} worker/cron restarts by the supervisor")
    if harness.follow_up:
        result.notes.append(f"longest follow-up run {harness.follow_up['longest']:.1f} s (interval 1 s), "
                            f"{harness.follow_up['runs_after']} runs started after it ended")
        result.follow_up = dict(harness.follow_up)
    harness.simulator.config.faults = Faults()
    return result


def table(results: list[Result]) -> str:
    head = f"{'scenario':<40} {'calls':>5} {'dialled twice':>13} {'lost':>5} {'not final':>9} {'placed-but-failed':>17} {'seconds':>8}"
    lines = [head, "-" * len(head)]
    for r in results:
        title = SCENARIO_BY_NAME[r.scenario].title if r.scenario in SCENARIO_BY_NAME else r.scenario
        lines.append(f"{title:<40} {r.calls:>5} {r.dialled_twice:>13} {r.lost:>5} {r.not_final:>9} {r.placed_but_failed:>17} "
                     f"{r.seconds:>8.1f}")
    return "\n".join(lines)
