"""Load N realistic call records (with their final receipts as events) spread over the last 30 days, then rebuild the daily figures.

Rows go in by batches of executemany, or by COPY on PostgreSQL, so a million calls take a minute, not an hour.
"""
import json
import random
import time
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from notifications.models import CallerNumber, CallEvent, CallRecord, Mode, Qualification, ReviewStatus, TtsTemplate, VoiceFile
from notifications.services.receipts import outcome_for
from notifications.services.stats import daily_stats_rebuild

DAYS = 30
CALLEES = 200_000
BATCH = 10_000
# (status code, weight): roughly what a notification campaign sees.
FINAL_CODES = (
    ("200000", 52), ("200001", 12), ("200002", 6), ("200003", 13), ("200004", 2), ("200005", 3),
    ("200010", 4), ("200011", 1), ("200111", 2), ("200120", 1), ("477", 1),
)
IN_FLIGHT_SHARE = 0.01
ANSWERED_CODES = {"200000", "200001"}

RECORD_COLUMNS = (
    "id", "api", "mode", "tts_template_id", "voice_file_id", "called_number", "caller_number_id", "params", "play_times", "volume",
    "out_id", "call_id", "request_id", "api_code", "api_message", "attempts", "status", "outcome", "status_code",
    "smart_status_code", "status_msg", "hangup_direction", "originate_time", "ring_time", "start_time", "end_time", "duration",
    "final_report_at", "requested_by_id", "created_at", "sent_at", "updated_at",
)
EVENT_COLUMNS = ("call_id", "kind", "receipt_call_id", "receipt_out_id", "status_code", "message", "payload", "created_at")


SAMPLE_VALUES = {"code": "482913", "name": "张三", "date": "明天", "time": "10:00", "place": "一号会议室", "order": "A10086"}


def _sample_params(variables: list[str]) -> str:
    """The template's variables filled with plausible values, as the JSON text the call record stores."""
    return json.dumps({name: SAMPLE_VALUES.get(name, "示例") for name in variables}, ensure_ascii=False)


class Command(BaseCommand):
    help = "Create N realistic call records with receipts over the last 30 days (for demos and benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=20240501, help="Random seed, for repeatable data.")

    def handle(self, *args, count: int, seed: int, **options):
        rng = random.Random(seed)
        resources = self._resources()
        users = list(User.objects.filter(is_active=True).values_list("id", flat=True)[:5]) or [None]
        started = time.monotonic()
        first_id = (CallRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        now = timezone.now()
        records, events = [], []
        written = 0
        with transaction.atomic():
            for offset in range(count):
                record, event = self._row(rng, first_id + offset, now, resources, users)
                records.append(record)
                if event:
                    events.append(event)
                if len(records) >= BATCH:
                    self._write(records, events)
                    written += len(records)
                    records, events = [], []
            if records:
                self._write(records, events)
                written += len(records)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence('notifications_callrecord', 'id'), "
                        "(SELECT MAX(id) FROM notifications_callrecord))"
                    )
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # Fresh statistics, or the planner guesses from an empty table until autovacuum gets to it.
                    cursor.execute("ANALYZE notifications_callrecord; ANALYZE notifications_callevent")
        loaded = time.monotonic() - started
        self.stdout.write(f"Created {written} calls in {loaded:.1f} s ({written / max(loaded, 1e-9):,.0f} rows/s).")
        started = time.monotonic()
        rows = daily_stats_rebuild()
        self.stdout.write(f"Rebuilt the daily figures ({rows} rows) in {time.monotonic() - started:.1f} s.")

    def _resources(self):
        approved = TtsTemplate.objects.filter(status=ReviewStatus.APPROVED).values_list("id", "mode", "variables")
        templates = [(pk, mode, _sample_params(variables)) for pk, mode, variables in approved]
        voices = list(VoiceFile.objects.filter(status=ReviewStatus.APPROVED).values_list("id", "mode"))
        numbers = list(CallerNumber.objects.filter(status=CallerNumber.Status.ACTIVE).values_list("id", flat=True))
        if templates and voices and numbers:
            return templates, voices, numbers
        qualification = Qualification.objects.filter(status=ReviewStatus.APPROVED).first() or Qualification.objects.create(
            company_name="Seed Company", credit_code="91330100SEED00001", legal_representative="-", contact_name="-",
            contact_phone="057100000000", status=ReviewStatus.APPROVED,
        )
        if not templates:
            for index, mode in enumerate((Mode.PUBLIC, Mode.PUBLIC, Mode.DEDICATED), start=1):
                template = TtsTemplate.objects.create(
                    name=f"Seed template {index}", content="Your code is ${code}.", variables=["code"], mode=mode,
                    qualification=qualification,
                    tts_code=f"TTS_SEED{index:04d}", status=ReviewStatus.APPROVED,
                )
                templates.append((template.id, mode, _sample_params(["code"])))
        if not voices:
            for index, mode in enumerate((Mode.PUBLIC, Mode.DEDICATED), start=1):
                voice = VoiceFile.objects.create(
                    name=f"Seed voice {index}", audio=f"voice/seed-{index}.wav", mode=mode, qualification=qualification,
                    voice_code=f"seed-voice-{index}.wav", status=ReviewStatus.APPROVED,
                )
                voices.append((voice.id, mode))
        if not numbers:
            for index in (1, 2):
                number = CallerNumber.objects.create(
                    number=f"05710000990{index}", qualification=qualification, status=CallerNumber.Status.ACTIVE
                )
                numbers.append(number.id)
        return templates, voices, numbers

    def _row(self, rng, pk, now, resources, users):
        templates, voices, numbers = resources
        created = now - timedelta(seconds=rng.random() * DAYS * 86400)
        if rng.random() < 0.75:
            api, (template, mode, params), voice = CallRecord.Api.TTS, rng.choice(templates), None
        else:
            api, template, (voice, mode), params = CallRecord.Api.VOICE, None, rng.choice(voices), "{}"
        caller = rng.choice(numbers) if mode == Mode.DEDICATED else None
        callee = f"1{rng.choice('3456789')}{rng.randrange(CALLEES):09d}"
        out_id = f"S{pk:014d}"
        call_id = f"{pk}^{rng.randrange(10**9):09d}"
        in_flight = created > now - timedelta(minutes=10) or rng.random() < IN_FLIGHT_SHARE * 0.05
        code = "" if in_flight else rng.choices([c for c, _w in FINAL_CODES], weights=[w for _c, w in FINAL_CODES])[0]
        answered = code in ANSWERED_CODES
        ring = created + timedelta(seconds=rng.uniform(1, 6))
        start = ring + timedelta(seconds=rng.uniform(2, 15)) if answered else None
        duration = (rng.randint(20, 45) if code == "200000" else rng.randint(1, 15)) if answered else None
        end = (start + timedelta(seconds=duration)) if answered else (ring + timedelta(seconds=rng.uniform(5, 40)) if code else None)
        if in_flight:
            status, outcome = CallRecord.Status.ACCEPTED, ""
        else:
            outcome = outcome_for(code)
            status = CallRecord.Status.COMPLETED if answered else CallRecord.Status.FAILED
        final_at = end + timedelta(seconds=rng.uniform(1, 5)) if end else None
        record = (
            pk, api, mode, template, voice, callee, caller, params, 3, 100,
            out_id, call_id, f"SEED-{pk}", "OK", "OK", 1, status, outcome, code,
            "", "" if in_flight else ("用户接听" if answered else "未接通"), "user" if answered else "", created + timedelta(seconds=1),
            None if in_flight else ring, start, end, duration, final_at, rng.choice(users), created, created, final_at or created,
        )
        event = None
        if not in_flight:
            payload = {"call_id": call_id, "out_id": out_id, "status_code": code, "duration": duration or 0}
            event = (pk, CallEvent.Kind.VOICE_REPORT, call_id, out_id, code, "", json.dumps(payload), final_at)
        return record, event

    def _write(self, records, events):
        if connection.vendor == "postgresql":
            self._copy("notifications_callrecord", RECORD_COLUMNS, records)
            self._copy("notifications_callevent", EVENT_COLUMNS, events)
            return
        with connection.cursor() as cursor:
            for table, columns, rows in (("notifications_callrecord", RECORD_COLUMNS, records),
                                         ("notifications_callevent", EVENT_COLUMNS, events)):
                marks = ", ".join(["%s"] * len(columns))
                # Stored the way Django stores them (naive UTC text), or range filters would compare unlike strings.
                rows = [tuple(connection.ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v for v in row) for row in rows]
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def _copy(self, table, columns, rows):
        # COPY's text format built here: adapting each value through write_row costs more than generating the row.
        # Safe because generated values never hold a tab, a newline or a backslash.
        text = "".join(
            "\t".join("\\N" if v is None else v.isoformat() if isinstance(v, datetime) else str(v) for v in row) + "\n"
            for row in rows
        )
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(text)
