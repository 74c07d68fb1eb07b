"""The fault matrix at scale: every scenario of tests/faults at 200 calls, as a table.

    .venv/bin/python bench/faults.py [--calls 200] [--only kill9,redis_restart] [--pg postgres://postgres@127.0.0.1:5432/va_bench_faults]

The same machinery as the suite's matrix (tests/faults/harness.py): gunicorn with the project's config, two
`rqworker` processes and `runcron`, supervised (restarted a second after they exit, as systemd's Restart=always),
a private redis-server on a free port (restarted in one scenario), the simulator in this process pushing its
receipts to gunicorn over loopback. The PostgreSQL database is created afresh. Per scenario it prints the calls, how
many were dialled twice (placed more than once at the simulator), lost (never reached the simulator and not final
with a reason), not final within the wait, placed but reported failed, and the seconds until every call was final.
"""
import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from benchdb import pg_database_create

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/va_bench_faults")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds a scenario may take before calls count as not final")
    args = parser.parse_args()

    pg_database_create(args.pg, fresh=True)
    sys.path.insert(0, str(ROOT))
    from tests.faults.harness import KEY_ID, KEY_SECRET, SCENARIOS, TOKEN, WINDOWS, Harness, run_scenario, table

    harness = Harness(database_url=args.pg)
    # This process records the calls as the console's web process would: same database, same private Redis.
    os.environ.update(WINDOWS)
    os.environ.update(DJANGO_SETTINGS_MODULE="voiceadmin.settings.test", DATABASE_URL=args.pg, REDIS_URL=harness.redis.url,
                      ALIYUN_ACCESS_KEY_ID=KEY_ID, ALIYUN_ACCESS_KEY_SECRET=KEY_SECRET, RECEIPT_WEBHOOK_TOKEN=TOKEN,
                      DJANGO_LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    wanted = [name for name in args.only.split(",") if name]
    scenarios = [scenario for scenario in SCENARIOS if not wanted or scenario.name in wanted]
    results = []
    started = time.monotonic()
    harness.start(workers=False)
    try:
        for index, scenario in enumerate(scenarios):
            scenario.wait_seconds = args.wait
            harness.start_workers()  # fresh workers and cron per scenario, as the suite does
            try:
                result = run_scenario(harness, scenario, calls=args.calls, index=index)
            finally:
                harness.stop_workers()
            results.append(result)
            print(f"  {scenario.name}: {result.seconds:.1f} s, statuses {result.statuses}, SingleCall requests "
                  f"{result.requests}, placed {result.placed}; {'; '.join(result.notes)}", flush=True)
            for line in result.problems[:5]:
                print(f"    ! {line}", flush=True)
    finally:
        harness.stop()
    print()
    print(table(results))
    print(f"\n{len(results)} scenarios in {time.monotonic() - started:.0f} s; "
          f"{'every scenario clean' if all(r.clean for r in results) else 'SOME SCENARIOS BROKE A RULE'}")
    if all(r.clean for r in results):
        shutil.rmtree(harness.workdir, ignore_errors=True)
    else:
        print(f"process logs kept in {harness.workdir}")


if __name__ == "__main__":
    main()
