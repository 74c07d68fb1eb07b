"""The console under load: signed-in users loading pages while receipts pour in, with a worker applying the inbox.

    .venv/bin/python bench/load.py [--seconds 60] [--users 20] [--rate 1000] [--batch 100] [--seed-count 300000]
        [--web-workers 4] [--pg postgres://postgres@127.0.0.1:5432/va_bench_load] [--redis redis://127.0.0.1:6379/10]

gunicorn with the project's config (voiceadmin/gunicorn.conf.py) on a free loopback port, PostgreSQL (the database is
created when missing and seeded with `seed_calls` up to --seed-count calls; a loaded one is kept), one
`rqworker default` and `runcron` on Redis. For --seconds: --users signed-in users (half operators, half managers)
each load a page every 2 s, in turn the call log, a search by callee, the dashboard and a call's detail page; and
receipts arrive at --rate per second as pushes of --batch (a call's ringing and answered VoiceCallReports, then its
VoiceReport) for calls accepted just before the run. Then it waits for the inbox to be applied and prints the
webhook's answer times, the pages' times, errors, and each push's apply lag (ReceiptDelivery.received_at to
applied_at). Targets: webhook p99 <= 200 ms, pages p95 <= 300 ms, 0 errors, every push applied within 10 s.
"""
import argparse
import itertools
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from benchdb import pg_database_create

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-receipt-token"
BENCH_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "DJANGO_SECURE_COOKIES": "0",  # plain HTTP on loopback: the session cookie must travel
    "ALIYUN_ACCESS_KEY_ID": "LTAIbenchkey",
    "ALIYUN_ACCESS_KEY_SECRET": "bench-access-secret",
    "ALIYUN_VMS_ENDPOINT": "http://127.0.0.1:9/",  # nothing is dialled; a detail query would fail fast
    "RECEIPT_WEBHOOK_TOKEN": TOKEN,
    "DJANGO_LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "voiceadmin.settings.base",
}
TEMPLATE_CODE = "TTS_LOAD_BENCH"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def cpu_by_role(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each role's process tree (children reaped count too), by PostgreSQL's processes, and
    by this process (the users and the provider's pushes): where a saturated machine's time goes."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            comm, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
            stats[int(entry)] = (comm, int(rest[1]), sum(int(value) for value in rest[11:15]) / tick)
    children: dict[int, list[int]] = {}
    for pid, (_comm, ppid, _cpu) in stats.items():
        children.setdefault(ppid, []).append(pid)

    def tree(pid: int) -> float:
        return stats.get(pid, ("", 0, 0.0))[2] + sum(tree(child) for child in children.get(pid, []))

    used = {role: tree(pid) for role, pid in roots.items()}
    used["postgres"] = sum(cpu for comm, _ppid, cpu in stats.values() if comm == "postgres")
    used["load generator (this process)"] = stats.get(os.getpid(), ("", 0, 0.0))[2]
    return used


# ----- setup (this process, Django configured) -----

def prepare(calls: int, seed_count: int, user_count: int):
    """Seed history, make the users and the calls the receipts are for (accepted just now, fresh for each run)."""
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.utils import timezone

    from notifications.models import CallEvent, CallRecord, Mode, ReceiptDelivery
    from notifications.roles import MANAGERS, OPERATORS
    from tests.faults.harness import make_template  # the fault bench's approved template, made the same way

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # production settings read the manifest
    present = CallRecord.objects.count()
    if present < seed_count:
        print(f"seeding {seed_count - present:,} calls...", flush=True)
        call_command("seed_calls", count=seed_count - present)
    template = make_template(TEMPLATE_CODE)
    CallEvent.objects.filter(call__tts_template=template).delete()
    CallRecord.objects.filter(tts_template=template).delete()
    ReceiptDelivery.objects.all().delete()  # the lag is measured on this run's pushes only
    run = random.randrange(10**6)
    records = CallRecord.objects.bulk_create(
        CallRecord(api=CallRecord.Api.TTS, mode=Mode.PUBLIC, tts_template=template, params={"order": f"L{n}"},
                   called_number=f"137{n:08d}", out_id=f"l{run:06d}{n:07d}", call_id=f"9{run:06d}{n:07d}^1",
                   status=CallRecord.Status.ACCEPTED, sent_at=timezone.now())
        for n in range(calls)
    )
    users = []
    for n in range(user_count):
        group = OPERATORS if n % 2 == 0 else MANAGERS
        user = User.objects.filter(username=f"load-{n}").first() or User.objects.create_user(f"load-{n}")
        user.groups.add(Group.objects.get(name=group))
        users.append(user)
    sample = list(CallRecord.objects.exclude(tts_template=template).order_by("?").values_list("pk", "called_number")[:200])
    return records, users, sample


def session_cookie(user) -> str:
    """A signed-in session, as the login page would leave it (without paying the password hash 20 times)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    # The backend that holds the account (the first ones only guard the sign-in: lockout, password sign-in off).
    session[BACKEND_SESSION_KEY] = next(path for path in settings.AUTHENTICATION_BACKENDS
                                        if path.endswith("ModelBackendOneQuery"))
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def receipt_batches(records, batch: int):
    """Pushes in the provider's order: per group of calls, the ringing reports, the answered ones, then the finals."""
    from django.utils import timezone

    from notifications.aliyun.spec import format_provider_time

    now = timezone.now()
    ring, start, end = (format_provider_time(now + timedelta(seconds=s)) for s in (2, 8, 30))
    for index in range(0, len(records), batch):
        group = records[index:index + batch]
        yield "VoiceCallReport", [{"call_id": r.call_id, "out_id": r.out_id, "status_code": "200201", "smart_status_code": "",
                                   "status_time": ring} for r in group]
        yield "VoiceCallReport", [{"call_id": r.call_id, "out_id": r.out_id, "status_code": "200102", "smart_status_code": "",
                                   "status_time": start} for r in group]
        yield "VoiceReport", [{"call_id": r.call_id, "out_id": r.out_id, "caller": "057188880000", "callee": r.called_number,
                               "status_code": "200000", "smart_status_code": "ANSWERED", "status_msg": "执行完成",
                               "hangup_direction": "用户", "originate_time": ring, "ring_time": ring, "start_time": start,
                               "end_time": end, "duration": "22", "b_duration": 22} for r in group]


# ----- the load -----

class Figures:
    def __init__(self):
        self.lock = threading.Lock()
        self.webhook: list[float] = []
        self.pages: dict[str, list[float]] = {}
        self.errors: list[str] = []

    def page(self, name: str, ms: float) -> None:
        with self.lock:
            self.pages.setdefault(name, []).append(ms)

    def error(self, text: str) -> None:
        with self.lock:
            if len(self.errors) < 1000:
                self.errors.append(text)


def user_loop(base: str, cookie: str, sample: list, stop: float, figures: Figures, offset: float) -> None:
    import requests

    session = requests.Session()
    session.cookies.set("sessionid", cookie, domain="127.0.0.1")
    pages = itertools.cycle(["call log", "search", "dashboard", "call detail"])
    time.sleep(offset)  # users start spread over the first 2 s, not in one burst
    next_at = time.monotonic()
    while next_at < stop:
        name = next(pages)
        pk, number = random.choice(sample)
        url, params = {
            "call log": (f"{base}/calls/", {}),
            "search": (f"{base}/calls/", {"q": number[-8:]}),
            "dashboard": (f"{base}/", {"range": "7d"}),
            "call detail": (f"{base}/calls/{pk}/", {}),
        }[name]
        started = time.perf_counter()
        try:
            response = session.get(url, params=params, timeout=30, allow_redirects=False)
            ms = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                figures.error(f"{name}: HTTP {response.status_code}")
            figures.page(name, ms)
        except Exception as exc:  # noqa: BLE001 (counted, not raised: the run goes on)
            figures.error(f"{name}: {type(exc).__name__}")
        next_at += 2.0
        time.sleep(max(0.0, next_at - time.monotonic()))


def push(base: str, message_type: str, records: list, figures: Figures, session_pool: threading.local) -> None:
    import requests

    session = getattr(session_pool, "session", None) or requests.Session()
    session_pool.session = session
    body = json.dumps(records, ensure_ascii=False).encode()
    started = time.perf_counter()
    try:
        response = session.post(f"{base}/receipts/{message_type}/{TOKEN}/", data=body,
                                 headers={"Content-Type": "application/json"}, timeout=10)
        ms = (time.perf_counter() - started) * 1000
        with figures.lock:
            figures.webhook.append(ms)
        if response.status_code != 200 or response.json().get("code") != 0:
            figures.error(f"webhook: HTTP {response.status_code}")
    except Exception as exc:  # noqa: BLE001
        figures.error(f"webhook: {type(exc).__name__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rate", type=int, default=1000, help="receipts per second")
    parser.add_argument("--batch", type=int, default=100, help="receipts per push")
    parser.add_argument("--seed-count", type=int, default=300_000)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/va_bench_load")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    args = parser.parse_args()

    pg_database_create(args.pg)  # a loaded one is kept: seeding takes a while
    os.environ.update(BENCH_ENV, DATABASE_URL=args.pg, REDIS_URL=args.redis)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import django_rq

    from notifications.models import ReceiptDelivery

    pushes = int(args.seconds * args.rate / args.batch)
    calls = (pushes + 2) // 3 * args.batch
    records, users, sample = prepare(calls, args.seed_count, args.users)
    cookies = [session_cookie(user) for user in users]
    django_rq.get_queue("default").empty()
    from django.db import connection

    connection.close()

    workdir = Path(tempfile.mkdtemp(prefix="voiceadmin-load-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes = {
        "web": [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "voiceadmin" / "gunicorn.conf.py"),
                "-b", f"127.0.0.1:{port}", "-w", str(args.web_workers), "--access-logfile", "/dev/null"],
        "worker": [sys.executable, str(ROOT / "manage.py"), "rqworker", "default", "--with-scheduler"],
        "cron": [sys.executable, str(ROOT / "manage.py"), "runcron", "--logging-level", "WARNING"],
    }
    running = {}
    for name, argv in processes.items():
        with open(workdir / f"{name}.log", "wb") as log:
            running[name] = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        import requests

        for _ in range(200):
            try:
                requests.get(f"{base}/healthz", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.1)
        for _ in range(args.web_workers * 4):  # each gunicorn worker loads the app on its first request
            requests.get(f"{base}/accounts/login/", timeout=30)
        time.sleep(2)  # the worker and the cron process are up

        figures = Figures()
        batches = list(itertools.islice(receipt_batches(records, args.batch), pushes))
        print(f"{len(users)} users, {pushes} pushes of {args.batch} receipts ({args.rate}/s) over {args.seconds:.0f} s, "
              f"{args.web_workers} gunicorn workers, 1 RQ worker, on {os.cpu_count()} cores", flush=True)
        cpu_before = cpu_by_role({name: process.pid for name, process in running.items()})
        started = time.monotonic()
        stop = started + args.seconds
        users_threads = [threading.Thread(target=user_loop, args=(base, cookie, sample, stop, figures, n * 2.0 / len(cookies)),
                                          daemon=True) for n, cookie in enumerate(cookies)]
        for thread in users_threads:
            thread.start()
        interval = args.batch / args.rate
        local = threading.local()
        with ThreadPoolExecutor(max_workers=16) as pool:
            for n, (message_type, items) in enumerate(batches):
                time.sleep(max(0.0, started + n * interval - time.monotonic()))
                pool.submit(push, base, message_type, items, figures, local)
        for thread in users_threads:
            thread.join()
        load_seconds = time.monotonic() - started
        cpu_after = cpu_by_role({name: process.pid for name, process in running.items()})

        # Every push of this run applied (or given up on after 120 s).
        deadline = time.monotonic() + 120
        while ReceiptDelivery.objects.filter(applied_at__isnull=True).exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        rows = list(ReceiptDelivery.objects.values_list("received_at", "applied_at", "state", "item_count"))
        lags = [(applied - received).total_seconds() for received, applied, _state, _items in rows if applied]
        pending = sum(1 for _received, applied, _state, _items in rows if applied is None)
        states = {}
        for _received, _applied, state, _items in rows:
            states[state] = states.get(state, 0) + 1

        print(f"\nran {load_seconds:.1f} s")
        hook = figures.webhook or [float("nan")]
        print(f"webhook ({len(hook)} pushes):  p50 {statistics.median(hook):7.1f} ms   p99 {percentile(hook, 0.99):7.1f} ms   "
              f"max {max(hook):7.1f} ms   target p99 <= 200 ms: {'met' if percentile(hook, 0.99) <= 200 else 'MISSED'}")
        every = [ms for values in figures.pages.values() for ms in values] or [float("nan")]
        for name, values in sorted(figures.pages.items()):
            print(f"  {name:12} ({len(values):4d}):  p50 {statistics.median(values):7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms")
        print(f"pages ({len(every)} loads):  p50 {statistics.median(every):7.1f} ms   p95 {percentile(every, 0.95):7.1f} ms   "
              f"target p95 <= 300 ms: {'met' if percentile(every, 0.95) <= 300 else 'MISSED'}")
        shares = ", ".join(f"{role} {cpu_after[role] - cpu_before.get(role, 0.0):.1f} s" for role in cpu_after)
        print(f"CPU during the load ({load_seconds:.0f} s x {os.cpu_count()} cores = {load_seconds * os.cpu_count():.0f} "
              f"core-seconds): {shares}")
        print(f"errors: {len(figures.errors)}" + (f" (first: {figures.errors[:5]})" if figures.errors else ""))
        print(f"receipt apply lag ({len(lags)} pushes applied, {pending} not applied, states {states}): "
              f"p50 {statistics.median(lags) if lags else float('nan'):.2f} s   p99 {percentile(lags, 0.99):.2f} s   "
              f"max {max(lags) if lags else float('nan'):.2f} s   target every push within 10 s: "
              f"{'met' if lags and max(lags) <= 10 and not pending else 'MISSED'}")
    finally:
        for process in running.values():
            process.terminate()
        for process in running.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        print(f"process logs: {workdir}")
    if not any((workdir / f"{name}.log").stat().st_size for name in processes):
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
