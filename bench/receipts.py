"""Receipt ingestion speed: batches of 100 through the service and through the webhook, beside a naive loop.

    .venv/bin/python bench/receipts.py [--calls 2000] [--pg postgres://postgres@127.0.0.1:5432/va_bench_receipts]

Prints, for SQLite (a throwaway file) and PostgreSQL (a bench database it recreates):
  - receipts/s ingested in-process by `receipts_ingest` (batches of 100),
  - receipts/s of a naive per-receipt get()/save() loop on the same kind of data,
  - on PostgreSQL, webhook p50/p99 latency per batch of 100 against gunicorn on a free loopback port.
Each call gets three receipts: ringing and answered (VoiceCallReport), then its VoiceReport.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchdb import pg_database_create

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-receipt-token"
BATCH = 100


def _env(database_url: str) -> dict:
    return {
        **os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "voiceadmin.settings.test",
        "RECEIPT_WEBHOOK_TOKEN": TOKEN, "REDIS_URL": "", "PYTHONPATH": str(ROOT), "DJANGO_LOG_LEVEL": "WARNING",
    }


def _batches(prefix: str, count: int) -> list[tuple[str, list[dict]]]:
    """(MessageType, batch) pairs in the order a provider would push them."""
    reports, finals = [], []
    for n in range(count):
        call_id, out_id = f"{prefix}{n}^1", f"{prefix}{n}"
        for code, second in (("200201", "03"), ("200102", "08")):
            reports.append({"call_id": call_id, "out_id": out_id, "status_code": code, "smart_status_code": "",
                            "status_time": f"2024-03-06 16:21:{second}"})
        finals.append({"call_id": call_id, "out_id": out_id, "status_code": "200000", "smart_status_code": "ANSWERED",
                       "status_msg": "执行完成", "hangup_direction": "用户", "ring_time": "2024-03-06 16:21:03",
                       "start_time": "2024-03-06 16:21:08", "end_time": "2024-03-06 16:21:30", "duration": "22",
                       "b_duration": 22})
    chunks = [("VoiceCallReport", reports[i:i + BATCH]) for i in range(0, len(reports), BATCH)]
    return chunks + [("VoiceReport", finals[i:i + BATCH]) for i in range(0, len(finals), BATCH)]


# ----- runs inside a child process with Django set up on one database -----
def _setup(prefix: str, count: int):
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from notifications.models import CallRecord, Mode, Qualification, TtsTemplate

    qualification, _ = Qualification.objects.get_or_create(
        credit_code="91330100MA2B3C4D5E",
        defaults={"company_name": "bench", "legal_representative": "-", "contact_name": "-", "contact_phone": "-"},
    )
    template, _ = TtsTemplate.objects.get_or_create(
        tts_code="TTS_BENCH", defaults={"name": "bench", "content": "${code}", "qualification": qualification}
    )
    CallRecord.objects.bulk_create(
        CallRecord(api=CallRecord.Api.TTS, mode=Mode.PUBLIC, tts_template=template, called_number="13900001234",
                   out_id=f"{prefix}{n}", call_id=f"{prefix}{n}^1", status=CallRecord.Status.ACCEPTED)
        for n in range(count)
    )


def _naive(message_type: str, records: list[dict]) -> None:
    """What one would write first: one lookup, one insert and one save per receipt."""
    from notifications.aliyun.push import receipt_dedup_key, receipt_parse
    from notifications.models import CallEvent, CallRecord
    from notifications.rules.call_state import receipt_apply

    for item in records:
        receipt = receipt_parse(message_type=message_type, item=item)
        key = receipt_dedup_key(receipt)
        if CallEvent.objects.filter(dedup_key=key).exists():
            continue
        record = CallRecord.objects.filter(call_id=receipt.call_id).first()
        CallEvent.objects.create(call=record, kind=CallEvent.Kind.CALL_REPORT, dedup_key=key, payload=item,
                                 status_code=receipt.status_code)
        if record is not None:
            receipt_apply(record=record, receipt=receipt)
            record.save()


def child(args) -> None:
    _setup("S", args.calls)
    _setup("N", args.calls)
    from notifications.services.receipts import receipts_ingest

    batches = _batches("S", args.calls)
    started = time.perf_counter()
    for message_type, records in batches:
        receipts_ingest(message_type=message_type, records=records)
    service = time.perf_counter() - started

    naive_batches = _batches("N", args.calls)
    started = time.perf_counter()
    for message_type, records in naive_batches:
        _naive(message_type, records)
    naive = time.perf_counter() - started
    total = sum(len(records) for _, records in batches)
    if args.webhook_calls:
        # Calls for the webhook runs: half for the sequential latency run, half for the concurrent one.
        _setup("H", args.calls // 2)
        _setup("C", args.calls // 2)
    print(json.dumps({"receipts": total, "service_per_s": total / service, "naive_per_s": total / naive}))


# ----- the parent: one child per database, gunicorn for the webhook -----
def _run_child(database_url: str, calls: int, webhook_calls: bool = False) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--calls", str(calls), *(["--webhook-calls"] if webhook_calls else [])],
        env=_env(database_url), cwd=ROOT, check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(base: str, message_type: str, records: list[dict]) -> float:
    request = urllib.request.Request(
        f"{base}/receipts/{message_type}/{TOKEN}/", data=json.dumps(records, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response)["code"] == 0
    return (time.perf_counter() - started) * 1000


def _webhook(database_url: str, calls: int) -> tuple[list[float], float]:
    """Sequential batches (latency per batch), then the same amount pushed by 4 senders at once (receipts/s)."""
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "voiceadmin.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2",
         "--log-level", "warning"],
        env=_env(database_url), cwd=ROOT, stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        latencies = [_post(base, message_type, records) for message_type, records in _batches("H", calls // 2)]
        # In-call reports first, then final reports, as the provider sends them; each phase spread over 4 senders.
        phases = _batches("C", calls // 2)
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            for message_type in ("VoiceCallReport", "VoiceReport"):
                list(pool.map(lambda batch: _post(base, *batch), [b for b in phases if b[0] == message_type]))
        elapsed = time.perf_counter() - started
        return latencies, sum(len(records) for _, records in phases) / elapsed
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/va_bench_receipts")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--webhook-calls", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    with tempfile.TemporaryDirectory() as tmp:
        sqlite = _run_child(f"sqlite:///{tmp}/bench.sqlite3", args.calls)
    print(f"SQLite      receipts_ingest {sqlite['service_per_s']:8.0f} receipts/s   naive loop {sqlite['naive_per_s']:7.0f}"
          f" receipts/s   x{sqlite['service_per_s'] / sqlite['naive_per_s']:.1f}   ({sqlite['receipts']} receipts, batches of {BATCH})")

    pg_database_create(args.pg, fresh=True)
    pg = _run_child(args.pg, args.calls, webhook_calls=True)
    print(f"PostgreSQL  receipts_ingest {pg['service_per_s']:8.0f} receipts/s   naive loop {pg['naive_per_s']:7.0f}"
          f" receipts/s   x{pg['service_per_s'] / pg['naive_per_s']:.1f}")
    latencies, concurrent = _webhook(args.pg, args.calls)
    q = statistics.quantiles(latencies, n=100)
    total = len(latencies) * BATCH
    print(f"PostgreSQL  webhook (gunicorn, 2 workers, sequential batches of {BATCH}): p50 {statistics.median(latencies):.1f} ms,"
          f" p99 {q[98]:.1f} ms per batch, {total / (sum(latencies) / 1000):.0f} receipts/s;"
          f" 4 concurrent senders {concurrent:.0f} receipts/s")


if __name__ == "__main__":
    main()
