"""Campaigns at scale: checking a 100,000-row list, and sending a campaign to the simulator.

    .venv/bin/python bench/campaign.py check [--rows 100000] [--pg postgres://postgres@127.0.0.1:5432/va_bench_campaign_check]
    .venv/bin/python bench/campaign.py send  [--rows 20000] [--qps 500] [--workers 2]   (see `send` below)
    .venv/bin/python bench/campaign.py page  [--rows 100000] [--pg [postgres://postgres@127.0.0.1:5432/va_bench_campaign_page]]

`check` builds a list of --rows rows twice, as a CSV in GBK (what Excel in China saves) and as an XLSX saved the way
Excel saves it (shared strings, a dimension), both kept in var/bench/ for the next run; mostly valid mobiles, with
numbers typed with spaces, a few invalid ones and a few repeated. On a fresh SQLite database (var/bench/campaign.sqlite3,
the default engine) it then measures, each step in a process of its own so each peak is its own: reading the list
(`campaign_load_file`: read every row, store the file and headers) and checking it (`campaign_check`: every row's
rules, CampaignRow rows written). It prints the seconds and the peak extra memory (the process's peak RSS above its
RSS before the step) of each, and the CPU seconds (on a shared machine the clock also counts other processes' turns).
With --pg the same runs on PostgreSQL. Targets: check <= 10 s, <= 200 MB extra.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from history import cpu_reference  # the same yardstick as the history bench's figures

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "var" / "bench"
CHECK_DB = BENCH / "campaign.sqlite3"
HEADERS = ["手机号", "姓名", "订单号"]
CONTENT = "尊敬的${name}，您的订单${order}已发货。"


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="read and check a list of --rows rows, CSV (GBK) and XLSX")
    check.add_argument("--rows", type=int, default=100_000)
    check.add_argument("--pg", help="a PostgreSQL URL to check on instead of SQLite (its database is made afresh)")
    step = commands.add_parser("check-step", help=argparse.SUPPRESS)  # one measured step, run by `check`
    step.add_argument("--phase", choices=("read", "check"), required=True)
    step.add_argument("--file", type=Path)
    step.add_argument("--campaign", type=int)
    step.add_argument("--database")
    send = commands.add_parser("send", help="send a campaign to the simulator (PostgreSQL, Redis, RQ workers)")
    add_send_arguments(send)
    page = commands.add_parser("page", help="time the page and the progress endpoint of a campaign of --rows rows mid-send")
    page.add_argument("--rows", type=int, default=100_000)
    page.add_argument("--requests", type=int, default=20)
    page.add_argument("--reuse", action="store_true", help="time the campaign the last run built (SQLite only)")
    page.add_argument("--pg", nargs="?", const=PAGE_PG, help=f"on PostgreSQL (its database made afresh; default {PAGE_PG})")
    args = parser.parse_args()
    {"check": check_main, "check-step": check_step, "send": send_main, "page": page_main}[args.command](args)


# ----- check -----------------------------------------------------------------------------------------------------

def setup_django(database_url: str) -> None:
    os.environ.update(DATABASE_URL=database_url, DJANGO_DEBUG="0", DJANGO_LOG_LEVEL="WARNING",
                      DJANGO_SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
                      ALIYUN_ACCESS_KEY_ID="LTAIbenchkey", ALIYUN_ACCESS_KEY_SECRET="bench-access-secret",
                      RECEIPT_WEBHOOK_TOKEN="bench-receipt-token", DJANGO_MEDIA_ROOT=str(BENCH / "media"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceadmin.settings.base")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def list_rows(count: int):
    """(number cell, name, order): a number typed with spaces every 50th row, an invalid one every 1,000th, and
    every 997th row repeating the one before."""
    previous = None
    for index in range(count):
        number = 13800000000 + index
        cell = f"{number // 10**8} {number // 10**4 % 10**4:04d} {number % 10**4:04d}" if index % 50 == 1 else number
        if index % 1000 == 7:
            cell = "12345"
        if index % 997 == 3 and previous is not None:
            cell = previous
        previous = cell
        yield cell, f"客户{index}", f"DD{index:08d}"


def build_files(count: int) -> tuple[Path, Path]:
    BENCH.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = BENCH / f"campaign-{count}.gbk.csv", BENCH / f"campaign-{count}.xlsx"
    if not csv_path.exists():
        import csv

        with open(csv_path, "w", encoding="gbk", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(HEADERS)
            writer.writerows(list_rows(count))
    if not xlsx_path.exists():
        import openpyxl

        # A normal workbook, not write-only: it saves the sheet's dimension, as Excel does.
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(HEADERS)
        for row in list_rows(count):
            sheet.append(row)
        workbook.save(xlsx_path)
        shared_strings(xlsx_path)
    return csv_path, xlsx_path


def shared_strings(path: Path) -> None:
    """Move the text cells openpyxl writes inline into a shared-strings table, where Excel keeps them."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {item.filename: source.read(item) for item in source.infolist()}
    strings: dict[bytes, int] = {}

    def shared(match) -> bytes:
        return b't="s"><v>%d</v>' % strings.setdefault(match.group(1), len(strings))

    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(rb't="inlineStr"><is><t(?: [^>]*)?>(.*?)</t></is>', shared, parts[sheet])
    parts["xl/sharedStrings.xml"] = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
        % (len(strings), len(strings)) + b"".join(b"<si><t>%s</t></si>" % text for text in strings) + b"</sst>")
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", (
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
        b'Target="sharedStrings.xml" Id="rIdStrings" /></Relationships>'))
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" /></Types>'))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in parts.items():
            target.writestr(name, content)


def check_main(args) -> None:
    if args.pg:
        from benchdb import pg_database_create

        pg_database_create(args.pg, fresh=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{CHECK_DB}{suffix}").unlink(missing_ok=True)
    database = args.pg or f"sqlite:///{CHECK_DB}"
    started = time.perf_counter()
    csv_path, xlsx_path = build_files(args.rows)
    print(f"lists of {args.rows:,} rows ready in {time.perf_counter() - started:.1f} s: {csv_path.name}, {xlsx_path.name}")
    setup_django(database)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")
    print(cpu_reference())
    # CPU seconds beside the clock's: on a shared machine the clock counts the time other processes had the CPU.
    print(f"{'list':10} {'step':6} {'seconds':>8} {'CPU s':>6} {'extra MB':>9}  result")
    for label, path in (("CSV (GBK)", csv_path), ("XLSX", xlsx_path)):
        read = run_step("--database", database, "--phase", "read", "--file", str(path))
        print(f"{label:10} {'read':6} {read['seconds']:8.2f} {read['cpu']:6.2f} {read['extra_mb']:9.1f}  {read['encoding']}, "
              f"{read['headers']}")
        checked = run_step("--database", database, "--phase", "check", "--campaign", str(read["campaign"]))
        summary = checked["summary"]
        print(f"{label:10} {'check':6} {checked['seconds']:8.2f} {checked['cpu']:6.2f} {checked['extra_mb']:9.1f}  "
              f"{summary['total']:,} rows: "
              f"{summary['valid']:,} valid, {summary['refused']:,} refused {summary['by_reason']}")


def run_step(*arguments: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "check-step", *arguments], capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"the step {arguments} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_step(args) -> None:
    setup_django(args.database)
    import openpyxl  # noqa: F401 - imported before the baseline: its import is not the step's memory
    from django.contrib.auth.models import User
    from django.core.files import File

    from notifications.models import Campaign, Qualification, TtsTemplate
    from notifications.rules.identifiers import credit_code_check_char
    from notifications.rules.templates import extract_variables
    from notifications.services.campaign_check import campaign_check, campaign_load_file

    if args.phase == "read":
        user = User.objects.get_or_create(username="bench-operator")[0]
        first17 = "91330100MA2B3C4D5"
        qualification = Qualification.objects.get_or_create(
            credit_code=first17 + credit_code_check_char(first17),
            defaults={"company_name": "杭州示例科技有限公司", "legal_representative": "王五", "contact_name": "李四",
                      "contact_phone": "13800000000", "status": "approved"})[0]
        template = TtsTemplate.objects.get_or_create(
            tts_code="TTS_BENCH01", defaults={"name": "发货通知", "content": CONTENT, "qualification": qualification,
                                               "variables": extract_variables(CONTENT), "status": "approved"})[0]
        campaign = Campaign.objects.create(name=f"bench {args.file.name}", tts_template=template, created_by=user)
        baseline = rss_mb("VmRSS")
        started, cpu = time.perf_counter(), time.process_time()
        with open(args.file, "rb") as handle:
            campaign = campaign_load_file(campaign, File(handle, name=args.file.name))
        seconds = time.perf_counter() - started
        result = {"campaign": campaign.pk, "encoding": campaign.source_encoding, "headers": campaign.headers}
    else:
        campaign = Campaign.objects.get(pk=args.campaign)
        mapping = {"callee": "手机号", "params": {"name": "姓名", "order": "订单号"}}
        baseline = rss_mb("VmRSS")
        started, cpu = time.perf_counter(), time.process_time()
        summary = campaign_check(campaign, mapping)
        seconds = time.perf_counter() - started
        result = {"summary": summary | {"first_errors": len(summary["first_errors"])}}
    print(json.dumps(result | {"seconds": seconds, "cpu": time.process_time() - cpu, "extra_mb": rss_mb("VmHWM") - baseline},
                     ensure_ascii=False))


def rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0



# ----- send -------------------------------------------------------------------------------------------------------
#
# `send` runs everything as production does, on loopback, with the fault matrix's machinery (tests/faults/harness.py):
# gunicorn with the project's config, --workers `rqworker` processes and `runcron` on a private redis-server, the
# simulator in this process (its QPS limit per aligned second set to --qps, as the provider's account would be) pushing
# its receipts to the console. The PostgreSQL database (--pg) is created afresh. VMS_ACCOUNT_QPS is --qps, so the
# campaigns' budget is floor(qps × (1 − CAMPAIGN_TEST_CALL_SHARE)). It prints the sustained rate (whole seconds
# between the first and the last call) against that budget, the busiest second (by the calls' sent_at, the moment the
# sender let each request out, in aligned wall-clock seconds; by the moment each arrived at the simulator, in
# wall-clock seconds and in the simulator's own QPS window; and, for information, the busiest second starting
# anywhere), how late requests arrive after their sent_at, the simulator's refusals (over its QPS, and
# by per-callee flow control), calls dialled twice (an OutId placed twice, a callee placed twice, a row with two
# calls), rows not final once the receipts are in, and the median time of `GET /campaigns/<id>/progress/` while the
# campaign sends. Targets: rate within 5 % of the budget, busiest second never above it, 0 refusals, 0 dialled
# twice, every row final, progress median <= 100 ms.

SEND_DIGITS = "0123570"  # callees' last digits: the simulator's outcomes (0 listened, 2 busy, 3 no answer, …)


def add_send_arguments(parser) -> None:
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--qps", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--wait", type=float, default=120.0, help="seconds for the last receipts once everything is sent")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/voiceadmin_bench_campaign")


def _timed_simulator_class():
    from notifications.aliyun import spec
    from simulator.app import ApiError
    from tests.faults.harness import CountingSimulator

    class TimedSimulator(CountingSimulator):
        """Also keeps the moment each placed call arrived (where the provider applies its QPS limit: before anything
        else), by OutId, and counts QPS and flow-control refusals."""

        def __init__(self, config):
            super().__init__(config)
            self.arrivals: dict[str, float] = {}
            self.per_window: Counter = Counter()  # the simulator's own QPS window: seconds of its monotonic clock
            self.throttled = 0
            self.flow_controlled = 0

        def _single_call_by_tts(self, params):
            arrived, window = time.time(), int(time.monotonic())
            try:
                answer = super()._single_call_by_tts(params)
            except ApiError as exc:
                if exc.code.startswith("Throttling"):
                    with self._lock:
                        self.throttled += 1
                raise
            with self._lock:
                if isinstance(answer, dict) and answer.get("Code") == "OK":
                    self.arrivals[params.get("OutId", "")] = arrived
                    self.per_window[window] += 1
                elif isinstance(answer, dict) and answer.get("Code") == spec.ERROR_FLOW_CONTROL:
                    self.flow_controlled += 1
            return answer

    return TimedSimulator


def _busiest_span(moments: list[float], span: float) -> int:
    """The most of the sorted `moments` in any `span` seconds (a window starting anywhere)."""
    busiest, first = 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= span:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


def send_main(args) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    from benchdb import pg_database_create

    from tests.faults import harness as faults

    pg_database_create(args.pg, fresh=True)
    faults.CountingSimulator = _timed_simulator_class()  # the harness builds its simulator by this name
    extra = {"VMS_ACCOUNT_QPS": str(args.qps), "CAMPAIGN_QUIET_HOURS": "", "CAMPAIGN_SEND_INTERVAL_SECONDS": "2",
             "HEALTH_STALE_INTERVALS": "30"}
    harness = faults.Harness(database_url=args.pg, workers=args.workers, web_workers=2, extra_env=extra)
    harness.simulator.config.qps_tts = args.qps
    os.environ.update(faults.WINDOWS)
    os.environ.update(extra)
    os.environ.update(DJANGO_SETTINGS_MODULE="voiceadmin.settings.test", DATABASE_URL=args.pg, REDIS_URL=harness.redis.url,
                      ALIYUN_ACCESS_KEY_ID=faults.KEY_ID, ALIYUN_ACCESS_KEY_SECRET=faults.KEY_SECRET,
                      RECEIPT_WEBHOOK_TOKEN=faults.TOKEN, DJANGO_LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    campaign, user = _send_prepare(args.rows)
    harness.start(workers=False)
    harness.reset_simulator(tts_code=campaign.tts_template.tts_code, content=campaign.tts_template.content, faults={})
    connection.close()
    try:
        _send_measure(args, harness, campaign, user)
    finally:
        harness.stop()
        print(f"process logs: {harness.workdir}")


def _send_prepare(rows: int):
    from django.contrib.auth.models import Group, User

    from notifications.models import Campaign, CampaignRow
    from notifications.roles import OPERATORS
    from tests.faults.harness import make_template

    template = make_template("TTS_CAMPAIGN_BENCH")
    user = User.objects.create_user("bench-operator")
    user.groups.add(Group.objects.get(name=OPERATORS))
    approver = User.objects.create_user("bench-manager")
    campaign = Campaign.objects.create(
        name="Bench campaign", tts_template=template, created_by=user, approved_by=approver, state=Campaign.State.DRAFT,
        rate_cap=1000, max_retries=0, check_summary={"total": rows, "valid": rows, "refused": 0},
    )
    params = {name: "A1" for name in template.variables}
    numbers = (f"139{n:07d}{SEND_DIGITS[n % len(SEND_DIGITS)]}" for n in range(rows))
    CampaignRow.objects.bulk_create(
        (CampaignRow(campaign=campaign, row_number=n + 2, raw_number=number, called_number=number, params=params)
         for n, number in enumerate(numbers)),
        batch_size=5000,
    )
    return campaign, user


def _session_cookie(user) -> str:
    """A signed-in session, as the login page would leave it (the test client's force_login writes it in the database)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _progress_timer(base: str, cookie: str, campaign_id: int, stop, times: list, errors: list) -> None:
    import requests

    session = requests.Session()
    session.cookies.set("sessionid", cookie, domain="127.0.0.1")
    while not stop.is_set():
        started = time.perf_counter()
        try:
            response = session.get(f"{base}/campaigns/{campaign_id}/progress/", timeout=10, allow_redirects=False)
            if response.status_code == 200:
                times.append((time.perf_counter() - started) * 1000)
            else:
                errors.append(response.status_code)
        except Exception as exc:  # noqa: BLE001 (counted: the run goes on)
            errors.append(type(exc).__name__)
        stop.wait(0.5)


def _send_measure(args, harness, campaign, user) -> None:
    import statistics
    import threading

    from django.db.models import Count, Max, Min
    from django.db.models.functions import Trunc

    from notifications.models import CallRecord, Campaign, CampaignRow
    from notifications.services.campaign_send import WINDOW_GUARD_SECONDS, campaign_budget

    budget = campaign_budget()
    cookie = _session_cookie(user)
    harness.start_workers()
    times, errors = [], []
    stop = threading.Event()
    timer = threading.Thread(target=_progress_timer, args=(harness.web_url, cookie, campaign.pk, stop, times, errors),
                             daemon=True)
    print(f"{args.rows:,} rows, account QPS {args.qps} (campaign budget {budget}/s), {args.workers} RQ workers, "
          f"on {os.cpu_count()} cores", flush=True)
    time.sleep(2)  # the workers and the cron process are up
    started = time.monotonic()
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.SCHEDULED)  # as approval leaves it
    timer.start()
    waiting = [CampaignRow.State.WAITING, CampaignRow.State.RETRY_WAIT]
    give_up = started + args.rows / max(budget, 1) * 4 + 120
    while CampaignRow.objects.filter(campaign=campaign, state__in=waiting).exists():
        if time.monotonic() > give_up:
            print("gave up waiting for the rows to be sent", flush=True)
            break
        time.sleep(0.5)
    stop.set()
    sent_seconds = time.monotonic() - started
    deadline = time.monotonic() + args.wait
    while (CampaignRow.objects.filter(campaign=campaign, state=CampaignRow.State.CALLING).exists()
           and time.monotonic() < deadline):
        time.sleep(0.5)
    time.sleep(3)  # the sender's next tick finishes the campaign

    calls = CallRecord.objects.filter(campaign=campaign)
    span = calls.aggregate(first=Min("sent_at"), last=Max("sent_at"), n=Count("id"))
    per_second = sorted(calls.annotate(second=Trunc("sent_at", "second")).values("second").annotate(n=Count("id"))
                        .values_list("second", "n"))
    # Whole seconds between the first and the last (both partly empty, so left out), seconds without a call included.
    whole = (per_second[-1][0] - per_second[0][0]).total_seconds() - 1 if len(per_second) > 2 else 0
    rate = sum(n for _second, n in per_second[1:-1]) / whole if whole > 0 else float("nan")
    busiest_db = max((n for _second, n in per_second), default=0)
    simulator = harness.simulator
    arrivals = sorted(simulator.arrivals.values())
    busiest_sim = max(Counter(int(moment) for moment in arrivals).values(), default=0)
    busiest_own = max(simulator.per_window.values(), default=0)
    busiest_sliding = _busiest_span(arrivals, 1.0)
    sent_at = dict(calls.filter(out_id__in=list(simulator.arrivals)).values_list("out_id", "sent_at"))
    lags = sorted(1000 * (simulator.arrivals[out_id] - moment.timestamp()) for out_id, moment in sent_at.items())
    twice_out_id = sum(1 for count in simulator.placed().values() if count > 1)
    twice_callee = sum(1 for count in Counter(call["callee"] for call in simulator.calls).values() if count > 1)
    twice_row = CampaignRow.objects.filter(campaign=campaign).annotate(n=Count("calls")).filter(n__gt=1).count()
    states = dict(CampaignRow.objects.filter(campaign=campaign).values_list("state").annotate(n=Count("id")))
    final = (CampaignRow.State.DONE, CampaignRow.State.REFUSED, CampaignRow.State.NOT_SENT)
    not_final = sum(n for state, n in states.items() if state not in final)
    campaign.refresh_from_db()
    median = statistics.median(times) if times else float("nan")
    p95 = sorted(times)[int(0.95 * (len(times) - 1))] if times else float("nan")

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    seconds = (span["last"] - span["first"]).total_seconds() if span["n"] > 1 else float("nan")
    print(f"\nsent {span['n']:,} calls in {sent_seconds:.1f} s (first to last call {seconds:.1f} s); campaign {campaign.state}")
    print(f"sustained rate (whole seconds): {rate:.1f}/s against the budget {budget}/s ({100 * rate / budget:.1f} %) — "
          f"target within 5 %: {verdict(rate >= 0.95 * budget)}")
    print(f"busiest second: {busiest_db} by sent_at, {busiest_sim} arriving at the simulator in a wall-clock second, "
          f"{busiest_own} in the simulator's own QPS window — target never above {budget}: "
          f"{verdict(max(busiest_db, busiest_sim, busiest_own) <= budget)}")
    print(f"  (the busiest span of one second starting anywhere held {busiest_sliding} arrivals: the sender's window "
          f"keeps the requests it lets out to {budget} in any {1 + WINDOW_GUARD_SECONDS:g} s)")
    if lags:
        print(f"sent_at to arrival at the simulator: median {statistics.median(lags):.1f} ms, "
              f"p99 {lags[int(0.99 * (len(lags) - 1))]:.1f} ms, max {lags[-1]:.1f} ms")
    print(f"refusals by the simulator: {simulator.throttled} over its QPS, {simulator.flow_controlled} by per-callee flow "
          f"control — target 0: {verdict(simulator.throttled == 0 and simulator.flow_controlled == 0)}")
    print(f"dialled twice: {twice_out_id} OutIds, {twice_callee} callees, {twice_row} rows with two calls — target 0: "
          f"{verdict(not (twice_out_id or twice_callee or twice_row))}")
    print(f"rows by state {states}; not final: {not_final} — target 0: {verdict(not_final == 0)}")
    print(f"progress endpoint while sending: {len(times)} requests, median {median:.1f} ms, p95 {p95:.1f} ms, "
          f"errors {len(errors)} — target median <= 100 ms: {verdict(median <= 100)}")


# ----- page ------------------------------------------------------------------------------------------------------
# The campaign's page and its progress endpoint (polled every 2 s) while a campaign of --rows rows sends: a fresh
# database (SQLite var/bench/campaign-page.sqlite3, or --pg) holds one campaign mid-send, rows in every state, a call
# per attempt of every row done or calling, spread over the last hours (some in the last minute, so it has a rate).
# Prints the median and p95 of --requests requests to each through Django's test client, signed in as an operator.
# Targets: page <= 100 ms median, progress well under it.

PAGE_DB = BENCH / "campaign-page.sqlite3"
PAGE_PG = "postgres://postgres@127.0.0.1:5432/va_bench_campaign_page"


def _page_prepare(rows: int):
    from datetime import timedelta

    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from notifications.models import CallRecord, Campaign, CampaignRow, Mode
    from notifications.roles import OPERATORS
    from tests.faults.harness import make_template

    row_state, outcome, status = CampaignRow.State, CallRecord.Outcome, CallRecord.Status
    # (share of 100, state, outcome, final status, attempts): a campaign a bit more than half done.
    plan = [(30, row_state.WAITING, "", "", 0), (1, row_state.CALLING, "", "", 1),
            (5, row_state.RETRY_WAIT, outcome.NO_ANSWER, status.FAILED, 1), (2, row_state.REFUSED, "", "", 0),
            (35, row_state.DONE, outcome.LISTENED, status.COMPLETED, 1),
            (4, row_state.DONE, outcome.LISTENED, status.COMPLETED, 2),
            (8, row_state.DONE, outcome.HUNG_UP_EARLY, status.COMPLETED, 1),
            (6, row_state.DONE, outcome.NO_ANSWER, status.FAILED, 2), (4, row_state.DONE, outcome.BUSY, status.FAILED, 1),
            (3, row_state.DONE, outcome.INVALID_NUMBER, status.FAILED, 1),
            (2, row_state.DONE, outcome.UNKNOWN, status.OUTCOME_UNKNOWN, 1)]
    shares = [entry for entry in plan for _n in range(entry[0])]
    now = timezone.now()
    template = make_template("TTS_CAMPAIGN_PAGE")
    user = User.objects.create_user("bench-page-operator")
    user.groups.add(Group.objects.get(name=OPERATORS))
    approver = User.objects.create_user("bench-page-manager")
    campaign = Campaign.objects.create(
        name="Bench page", tts_template=template, created_by=user, approved_by=approver, state=Campaign.State.SENDING,
        rate_cap=50, max_retries=2, started_at=now - timedelta(hours=6), approved_at=now - timedelta(hours=6),
        headers=["手机号", "订单号"], mapping={"callee": "手机号", "params": {"order": "订单号"}},
        check_summary={"total": rows, "valid": rows, "refused": 0, "by_reason": {}, "first_errors": []},
    )
    CampaignRow.objects.bulk_create(
        (CampaignRow(campaign=campaign, row_number=n + 2, raw_number=f"139{n:08d}", called_number=f"139{n:08d}",
                     params={"order": f"DD{n:08d}"}, state=shares[n % 100][1], outcome=shares[n % 100][2],
                     final_status=shares[n % 100][3], attempts=shares[n % 100][4],
                     refusal_code="blocked" if shares[n % 100][1] == row_state.REFUSED else "")
         for n in range(rows)),
        batch_size=5000,
    )
    span = 6 * 3600  # the calls spread over the last six hours, one every few seconds, the latest just now
    called = list(CampaignRow.objects.filter(campaign=campaign, attempts__gt=0).order_by("row_number")
                  .values_list("id", "called_number", "attempts", "outcome", "final_status", "state"))
    step = span / max(1, sum(attempts for _i, _c, attempts, *_rest in called))
    calls, index = [], 0
    for row_id, number, attempts, row_outcome, final, state in called:
        for attempt in range(attempts):
            at = now - timedelta(seconds=span - index * step)
            last = attempt == attempts - 1
            calls.append(CallRecord(
                api=CallRecord.Api.TTS, mode=Mode.PUBLIC, tts_template=template, called_number=number,
                out_id=f"p{index:013d}", created_at=at, sent_at=at, campaign=campaign, campaign_row_id=row_id,
                status=(status.ACCEPTED if state == row_state.CALLING else final) if last else status.FAILED,
                outcome=row_outcome if last else outcome.NO_ANSWER))
            index += 1
            if len(calls) >= 5000:
                CallRecord.objects.bulk_create(calls)
                calls = []
    CallRecord.objects.bulk_create(calls)
    return campaign, user, index


def page_main(args) -> None:
    import statistics

    reuse = args.reuse and not args.pg and PAGE_DB.exists()
    if args.pg:
        from benchdb import pg_database_create

        pg_database_create(args.pg, fresh=True)
    BENCH.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        if not reuse:
            Path(f"{PAGE_DB}{suffix}").unlink(missing_ok=True)
    setup_django(args.pg or f"sqlite:///{PAGE_DB}")
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from notifications.models import CallRecord, Campaign

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # No collectstatic for a benchmark: the plain storage (the manifest's lookup costs next to nothing).
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if reuse:
        campaign = Campaign.objects.get(name="Bench page")
        user, call_count = campaign.created_by, CallRecord.objects.filter(campaign=campaign).count()
    else:
        campaign, user, call_count = _page_prepare(args.rows)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"database: {connection.vendor}; {args.rows:,} rows, {call_count:,} calls ready in "
          f"{time.perf_counter() - started:.1f} s")
    cache.clear()
    client = Client()
    client.force_login(user)
    print(f"{'request':10} {'median ms':>10} {'p95 ms':>8} {'first ms':>9}")
    for label, url in (("page", reverse("notifications:campaign_detail", args=[campaign.pk])),
                       ("progress", reverse("notifications:campaign_progress", args=[campaign.pk]))):
        times = []
        for _n in range(args.requests):
            before = time.perf_counter()
            response = client.get(url)
            times.append(1000 * (time.perf_counter() - before))
            assert response.status_code == 200, (label, response.status_code)
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
        print(f"{label:10} {statistics.median(times):10.1f} {p95:8.1f} {times[0]:9.1f}")


if __name__ == "__main__":
    main()
