"""Dispatch throughput: calls placed per second through the RQ queue to the simulator, with 1 and 2 worker processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/va_h3a REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/dial.py

Records are created `queued` in bulk and the dispatcher woken as a dial wakes it (one job); `rqworker --burst`
processes (the project's worker class: SimpleWorker, no fork per job) then send them to a simulator running as its
own process, a batch per claim, full batches waking a run for the other worker. The figure is calls accepted per second of wall time while
the workers ran; the busiest second at the simulator is checked against the provider's QPS limit.
"""
import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path

from benchdb import pg_database_create

ROOT = Path(__file__).resolve().parent.parent
BENCH_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALIYUN_ACCESS_KEY_ID": "LTAIbenchkey",
    "ALIYUN_ACCESS_KEY_SECRET": "bench-access-secret",
    "RECEIPT_WEBHOOK_TOKEN": "bench-receipt-token",
    "DJANGO_LOG_LEVEL": "WARNING",
    # Simulated time runs slowly, so no receipt is due while the bench runs: the simulator only answers calls.
    "SIMULATOR_TIME_SCALE": "1000",
    "SIMULATOR_RECEIPT_BASE_URL": "http://127.0.0.1:9/receipts/",
}
CREDIT_CODE = "91330100MA0BENCH0"  # the bench's own qualification; its calls are removed before each round


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def setup_django(endpoint: str) -> None:
    os.environ.update(BENCH_ENV, ALIYUN_VMS_ENDPOINT=endpoint, DJANGO_SETTINGS_MODULE="voiceadmin.settings.base")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def wait_for(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the simulator did not start at {url}")


def simulator_control(base: str, path: str, payload=None):
    request = urllib.request.Request(base + "_simulator/" + path, method="PUT" if payload is not None else "GET",
                                     data=json.dumps(payload).encode() if payload is not None else None,
                                     headers={"X-Simulator-Key": BENCH_ENV["ALIYUN_ACCESS_KEY_SECRET"],
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def prepare(calls: int, round_no: int):
    from notifications.models import CallEvent, CallRecord, Mode, Qualification, ReviewStatus, TtsTemplate
    from notifications.rules.identifiers import credit_code_check_char

    qualification, _ = Qualification.objects.get_or_create(
        credit_code=CREDIT_CODE + credit_code_check_char(CREDIT_CODE),
        defaults={"company_name": "基准测试有限公司", "legal_representative": "张三", "contact_name": "李四",
                  "contact_phone": "13800000000", "status": ReviewStatus.APPROVED},
    )
    template, _ = TtsTemplate.objects.get_or_create(
        tts_code="TTS_BENCH", defaults={"name": "基准", "content": "您的订单${order}已发货。", "mode": Mode.PUBLIC,
                                        "qualification": qualification, "variables": ["order"], "status": ReviewStatus.APPROVED},
    )
    CallEvent.objects.filter(call__tts_template=template).delete()
    CallRecord.objects.filter(tts_template=template).delete()
    # Distinct callees (the provider's per-callee flow control); each round uses its own range.
    records = CallRecord.objects.bulk_create(
        CallRecord(api=CallRecord.Api.TTS, mode=Mode.PUBLIC, tts_template=template, params={"order": f"A{n}"},
                   called_number=f"13{round_no}{n:08d}", out_id=f"b{round_no}{n:09d}")
        for n in range(calls)
    )
    return template, [record.pk for record in records]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_round(*, workers: int, calls: int, round_no: int, simulator_url: str, simulator_pid: int) -> None:
    import django_rq
    from rq import Queue

    from notifications import jobs
    from notifications.models import CallRecord

    template, ids = prepare(calls, round_no)
    queue: Queue = django_rq.get_queue("default")
    queue.empty()
    queue.connection.delete(jobs.DISPATCH_WAKE_KEY)
    queue.enqueue(jobs.calls_dispatch_job)
    before = len(simulator_control(simulator_url, "calls"))

    env = {**os.environ}
    simulator_cpu = cpu_seconds(simulator_pid)
    workers_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    processes = [
        subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "rqworker", "--burst", "default"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    for process in processes:
        process.wait()
    elapsed = time.perf_counter() - started
    simulator_cpu = cpu_seconds(simulator_pid) - simulator_cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu = after.ru_utime + after.ru_stime - workers_cpu.ru_utime - workers_cpu.ru_stime

    statuses = Counter(CallRecord.objects.filter(tts_template=template).values_list("status", flat=True))
    accepted = statuses.get(CallRecord.Status.ACCEPTED, 0)
    placed = simulator_control(simulator_url, "calls")[before:]
    per_second = Counter(call["accepted_at"][:19] for call in placed)
    busiest = max(per_second.values(), default=0)
    moments = sorted(call["accepted_at"] for call in placed)
    span = (datetime.fromisoformat(moments[-1]) - datetime.fromisoformat(moments[0])).total_seconds() if len(moments) > 1 else 0
    steady = f"{len(placed) / span / workers:.0f}" if span else "n/a"
    limit = int(os.environ.get("SIMULATOR_QPS_TTS", "1000"))
    print(f"{workers} worker(s): {calls} calls, {accepted} accepted in {elapsed:.2f} s "
          f"(including worker start-up) = {accepted / elapsed:.0f} calls/s, {accepted / elapsed / workers:.0f} per worker "
          f"({steady} per worker from first to last call); "
          f"busiest second at the provider {busiest} calls (limit {limit}: {'OK' if busiest <= limit else 'EXCEEDED'}); "
          f"statuses {dict(statuses)}")
    print(f"  CPU time: workers {workers_cpu:.1f} s, simulator {simulator_cpu:.1f} s, over {elapsed:.1f} s of wall time "
          f"on {os.cpu_count()} cores")
    if len(placed) != accepted or set(statuses) != {CallRecord.Status.ACCEPTED}:
        print("  WARNING: not every call was accepted exactly once")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="calls per round")
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            raise SystemExit(f"{name} must be set (e.g. REDIS_URL=redis://127.0.0.1:6379/13)")

    if os.environ["DATABASE_URL"].startswith("postgres"):
        pg_database_create(os.environ["DATABASE_URL"])
    port = free_port()
    simulator_url = f"http://127.0.0.1:{port}/"
    setup_django(simulator_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    simulator = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "runsimulator", "--port", str(port)],
                                 env={**os.environ}, stdout=subprocess.DEVNULL)
    try:
        wait_for(simulator_url + "_simulator/account")
        simulator_control(simulator_url, "account", {"templates": [
            {"code": "TTS_BENCH", "content": "您的订单${order}已发货。", "mode": "public", "kind": "notification", "status": "approved"}]})
        for round_no, workers in enumerate((1, 2), start=5):
            run_round(workers=workers, calls=args.calls, round_no=round_no, simulator_url=simulator_url,
                      simulator_pid=simulator.pid)
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)


if __name__ == "__main__":
    main()
