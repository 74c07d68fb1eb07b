"""Call history at scale: the call log, the dashboard, the Usage page, the detail page, the admin changelist and the CSV
export.

    .venv/bin/python bench/history.py --engine sqlite   [--count 1000000] [--repeat 15] [--only pages|export]
    .venv/bin/python bench/history.py --engine postgres [--count 1000000] [--pg postgres://postgres@127.0.0.1:5432/va_bench_history]

Loads the database up to --count calls with `seed_calls` when it holds fewer (SQLite file var/bench/history.sqlite3;
the PostgreSQL database is created if missing), then prints for each page the median and p95 server time (in-process
test client) and its SQL query count, and for a CSV export of every row its rows/s, the peak memory growth (RSS) of
this process and the peak RSS of the helper processes SQLite prints with.
"""
import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES_PER_CURSOR = 10_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", choices=("pages", "export"), help="measure the pages or the CSV export alone")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/va_bench_history")
    args = parser.parse_args()

    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    if args.engine == "postgres":
        # Imported here: SQLite's export helpers re-import this module when they start, and psycopg would add
        # about 18 MB to each of them.
        from benchdb import pg_database_create

        pg_database_create(args.pg)  # a loaded one is kept: seeding it takes a while
    os.environ["DATABASE_URL"] = args.pg if args.engine == "postgres" else f"sqlite:///{ROOT / 'var' / 'bench' / 'history.sqlite3'}"
    # Production settings: DEBUG off, so templates come from the cached loader and static names from the manifest.
    os.environ.update(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
                      ALIYUN_ACCESS_KEY_ID="LTAIbenchkey", ALIYUN_ACCESS_KEY_SECRET="bench-access-secret",
                      RECEIPT_WEBHOOK_TOKEN="bench-receipt-token", DJANGO_LOG_LEVEL="WARNING",
                      # Signed in by the test client: the managers' second factor is not what is measured here.
                      VOICEADMIN_REQUIRE_2FA="0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceadmin.settings.base")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from notifications.models import CallRecord
    from notifications.roles import MANAGERS, OPERATORS
    from notifications.selectors import PAGE_SIZE, cursor_encode

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    present = CallRecord.objects.count()
    if present < args.count:
        call_command("seed_calls", count=args.count - present)
    total = CallRecord.objects.count()
    print(f"{connection.vendor}: {total:,} calls; {cpu_reference()}")
    started = time.perf_counter()
    billed = bill_everything()
    if billed:
        print(f"billed {billed:,} calls (a contract's notification price entered first) and rebuilt the daily figures "
              f"in {time.perf_counter() - started:.1f} s")

    def user(name, group=None, superuser=False):
        account = User.objects.filter(username=name).first() or User.objects.create_user(name, is_staff=superuser, is_superuser=superuser)
        if group:
            account.groups.add(Group.objects.get(name=group))
        return account

    operator, manager, root = user("bench-operator", OPERATORS), user("bench-manager", MANAGERS), user("bench-root", superuser=True)

    offset = min(PAGE_SIZE * (PAGES_PER_CURSOR - 1), max(total - PAGE_SIZE, 0))
    deep = CallRecord.objects.order_by("-created_at", "-id")[offset]  # found once by OFFSET; the page itself seeks
    sample = CallRecord.objects.order_by("-created_at", "-id")[total // 2]
    cases = [
        ("call log, first page", operator, reverse("notifications:call_record_list"), {}),
        ("call log, filtered (no answer, 7 days)", operator, reverse("notifications:call_record_list"),
         {"outcome": "no_answer", "range": "7d"}),
        ("call log, search by callee", operator, reverse("notifications:call_record_list"), {"q": sample.called_number}),
        # A seeded callee's last four digits end 20 of the 200,000 callees: about 100 calls at 1,000,000.
        ("call log, callee by last four digits", operator, reverse("notifications:call_record_list"),
         {"callee": sample.called_number[-4:]}),
        (f"call log, page {offset // PAGE_SIZE + 1:,} by cursor", operator, reverse("notifications:call_record_list"),
         {"after": cursor_encode(deep)}),
        ("call log, manager (masked)", manager, reverse("notifications:call_record_list"), {}),
        ("call log, outcome unknown", operator, reverse("notifications:call_record_list"), {"status": "outcome_unknown"}),
        ("call log, placed elsewhere", operator, reverse("notifications:call_record_list"), {"placed": "elsewhere"}),
        ("call log, ours, failed, 7 days", operator, reverse("notifications:call_record_list"),
         {"placed": "ours", "status": "failed", "range": "7d"}),
        ("dashboard, 30 days", manager, reverse("notifications:home"), {"range": "30d"}),
        ("usage, this month", manager, reverse("notifications:usage"), {}),
        ("usage, last month's CSV", manager, reverse("notifications:usage_csv"),
         {"month": f"{(date.today().replace(day=1) - timedelta(days=1)):%Y-%m}"}),
        ("call detail", operator, reverse("notifications:call_record_detail", args=[sample.pk]), {}),
        ("admin changelist", root, reverse("admin:notifications_callrecord_changelist"), {}),
        ("admin changelist, placed elsewhere", root, reverse("admin:notifications_callrecord_changelist"),
         {"placed_elsewhere": "yes"}),
    ]
    if args.only == "export":
        cases = []
    else:
        print(f"{'page':44} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    clients, queries, times = [], [], [[] for _case in cases]
    for label, account, url, params in cases:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(account)
        reset_queries()  # a request resets the log; start it empty so the capture's slice is right
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, params).status_code == 200, label
        clients.append(client)
        queries.append(len(captured))  # now: the capture reads the connection's log, which the next request resets
    # Round after round over all pages, so a slower spell of a shared machine weighs on every page alike.
    for _round in range(args.repeat):
        for index, (_label, _account, url, params) in enumerate(cases):
            started = time.perf_counter()
            clients[index].get(url, params)
            times[index].append((time.perf_counter() - started) * 1000)
    for (label, *_request), page_times, page_queries in zip(cases, times, queries, strict=True):
        page_times.sort()
        p95 = page_times[min(len(page_times) - 1, int(round(0.95 * (len(page_times) - 1))))]
        print(f"{label:44} {statistics.median(page_times):10.1f} {p95:8.1f} {page_queries:8d}")

    print(cpu_reference())
    if args.only == "pages":
        return
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(manager)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.get(reverse("notifications:call_record_export"))
    rows = -1  # the header line
    helpers = 0.0  # peak RSS of SQLite's printer processes, if the export started any
    for chunk in response.streaming_content:
        rows += chunk.count(b"\n")
        helpers = max([helpers, *(peak_rss_mb(child.pid) for child in multiprocessing.active_children())])
    elapsed = time.perf_counter() - started
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    print(f"CSV export: {rows:,} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s, peak memory growth {growth:.1f} MB"
          + (f", helper processes at most {helpers:.1f} MB each" if helpers else ""))


def bill_everything() -> int:
    """Bill the seeded calls as the follow-up would, all of them, and recount the days: the Usage page reads the daily
    figures, which then carry costs. Nothing to do on a database billed before."""
    from decimal import Decimal

    from notifications.models import PriceRule
    from notifications.services.stats import daily_stats_rebuild
    from notifications.services.usage import calls_bill

    PriceRule.objects.get_or_create(mode="public", kind="notification", effective_from=date(2020, 1, 1),
                                    defaults={"unit": PriceRule.Unit.MINUTE, "unit_price": Decimal("0.0500")})
    PriceRule.objects.get_or_create(mode="dedicated", kind="notification", effective_from=date(2020, 1, 1),
                                    defaults={"unit": PriceRule.Unit.MINUTE, "unit_price": Decimal("0.0700")})
    total = 0
    while billed := calls_bill(batches=1000):
        total += billed
    if total:
        daily_stats_rebuild()
    return total


def cpu_reference() -> str:
    """A fixed pure-Python loop: on a shared machine its time drifts, and the pages' times drift with it."""
    started = time.perf_counter()
    total = 0
    for number in range(5_000_000):
        total += number
    return f"CPU reference (5,000,000 additions in a Python loop) {(time.perf_counter() - started) * 1000:.0f} ms"


def peak_rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # ended meanwhile
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)


if __name__ == "__main__":
    main()
