"""Load N realistic call records (with their final receipts as events) spread over the last 30 days, then rebuild the daily figures.

On PostgreSQL the rows are drawn by the server itself (one INSERT … SELECT over generate_series per batch, seeded with
setseed); elsewhere they are drawn here and written by executemany. Both follow the same distributions below.
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
from notifications.rules.call_state import outcome_for
from notifications.services.stats import daily_stats_rebuild

DAYS = 30
CALLEES = 200_000
# Mobile prefixes in service; callee k gets prefix k mod 33 and k as its last eight digits, so all are distinct and valid.
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157",
    "158", "159", "166", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
)
BATCH = 10_000
SQL_BATCH = 250_000
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
    "final_report_at", "requested_by_id", "created_at", "sent_at", "updated_at", "placed_elsewhere",
)
EVENT_COLUMNS = ("call_id", "kind", "receipt_call_id", "receipt_out_id", "status_code", "message", "payload", "created_at")


SAMPLE_VALUES = {"code": "482913", "name": "张三", "date": "明天", "time": "10:00", "place": "一号会议室", "order": "A10086"}


def _sample_params(variables: list[str]) -> str:
    """The template's variables filled with plausible values, as the JSON text the call record stores."""
    return json.dumps({name: SAMPLE_VALUES.get(name, "示例") for name in variables}, ensure_ascii=False)


def _indexes_and_foreign_keys_drop(cursor) -> list[str]:
    """Drop the call tables' secondary indexes and foreign keys; return the statements that create them again.

    Indexes behind a constraint (the primary key, unique constraints) stay and guard the rows as they go in; the partial
    unique index on CallId is rebuilt with the others, which checks the loaded rows then.
    """
    tables = ["notifications_callrecord", "notifications_callevent"]
    cursor.execute(
        """SELECT 'DROP INDEX ' || i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
           FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
           UNION ALL
           SELECT format('ALTER TABLE %%s DROP CONSTRAINT %%I', c.conrelid::regclass, c.conname),
                  format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid))
           FROM pg_constraint c WHERE c.contype = 'f' AND (c.conrelid = ANY(%s::regclass[]) OR c.confrelid = ANY(%s::regclass[]))""",
        [tables, tables, tables],
    )
    pairs = cursor.fetchall()
    # A foreign key cannot be dropped while checks of it wait for the commit: run those checks now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for drop, _create in pairs:
        cursor.execute(drop)
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return [create for _drop, create in pairs]


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
        with transaction.atomic():
            if connection.vendor == "postgresql":
                events = self._generate_in_postgresql(first_id, count, seed, resources, users)
            else:
                events = self._generate_here(first_id, count, rng, resources, users)
        loaded = time.monotonic() - started
        self.stdout.write(f"Created {count} calls and {events} receipt events in {loaded:.1f} s "
                          f"({count / max(loaded, 1e-9):,.0f} calls/s, {(count + events) / max(loaded, 1e-9):,.0f} rows/s).")
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            started = time.monotonic()
            # As autovacuum leaves a table that has been in use for months: visibility map and hint bits set, so
            # the pages' index-only scans work at once. VACUUM cannot run inside a transaction (as in tests).
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE) notifications_callrecord, notifications_callevent")
            self.stdout.write(f"Vacuumed the call tables in {time.monotonic() - started:.1f} s.")
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

    def _generate_here(self, first_id, count, rng, resources, users) -> int:
        """Returns how many events were written."""
        now = timezone.now()
        records, events, written = [], [], 0
        for offset in range(count):
            record, event = self._row(rng, first_id + offset, now, resources, users)
            records.append(record)
            if event:
                events.append(event)
            if len(records) >= BATCH or offset == count - 1:
                self._write(records, events)
                written += len(events)
                records, events = [], []
        return written

    def _generate_in_postgresql(self, first_id, count, seed, resources, users) -> int:
        """Returns how many events were written."""
        templates, voices, numbers = resources
        code_cases, outcome_cases, threshold = [], [], 0.0
        total_weight = sum(weight for _code, weight in FINAL_CODES)
        for code, weight in FINAL_CODES:
            threshold += weight / total_weight
            code_cases.append(f"WHEN r_code < {threshold!r} THEN '{code}'")
            outcome_cases.append(f"WHEN '{code}' THEN '{outcome_for(code)}'")
        params = {
            "now": timezone.now(), "seconds": DAYS * 86400, "callees": CALLEES, "flight_share": IN_FLIGHT_SHARE * 0.05,
            "tts_ids": [pk for pk, _mode, _params in templates], "tts_modes": [mode for _pk, mode, _params in templates],
            "tts_params": [text for _pk, _mode, text in templates],
            "voice_ids": [pk for pk, _mode in voices], "voice_modes": [mode for _pk, mode in voices],
            "numbers": numbers, "users": users, "prefixes": list(MOBILE_PREFIXES), "answered": sorted(ANSWERED_CODES), "listened": "200000",
            "tts": CallRecord.Api.TTS, "voice": CallRecord.Api.VOICE, "dedicated": Mode.DEDICATED,
            "accepted": CallRecord.Status.ACCEPTED, "completed": CallRecord.Status.COMPLETED, "failed": CallRecord.Status.FAILED,
            "report": CallEvent.Kind.VOICE_REPORT,
        }
        # Each CTE draws its random numbers once per row (random() is volatile, so PostgreSQL never inlines them).
        # One statement per batch: the calls go in, and their VoiceReport events are made from the rows RETURNING
        # hands back, so the calls are never read again.
        batch_sql = f"""
            WITH drawn AS (
                SELECT pk, %(now)s::timestamptz - make_interval(secs => random() * %(seconds)s) AS created,
                       random() < 0.75 AS is_tts, random() AS r_resource, random() AS r_caller, random() AS r_code,
                       random() < %(flight_share)s AS r_flight, random() AS r_ring, random() AS r_start, random() AS r_duration,
                       random() AS r_end, random() AS r_final, random() AS r_user,
                       floor(random() * %(callees)s)::int AS callee, floor(random() * 1e9)::bigint AS call_no
                FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS pk
            ), picked AS (
                SELECT *,
                       CASE WHEN is_tts THEN 1 + floor(r_resource * cardinality(%(tts_ids)s::int[]))::int
                            ELSE 1 + floor(r_resource * cardinality(%(voice_ids)s::int[]))::int END AS resource,
                       created > %(now)s::timestamptz - interval '10 minutes' OR r_flight AS in_flight
                FROM drawn
            ), coded AS (
                SELECT *, CASE WHEN is_tts THEN (%(tts_modes)s::text[])[resource] ELSE (%(voice_modes)s::text[])[resource] END AS mode,
                       CASE WHEN in_flight THEN '' {" ".join(code_cases)} END AS code,
                       created + make_interval(secs => 1 + r_ring * 5) AS ring
                FROM picked
            ), timed AS (
                SELECT *, code = ANY(%(answered)s::text[]) AS answered,
                       CASE WHEN code = %(listened)s THEN 20 + floor(r_duration * 26)::int ELSE 1 + floor(r_duration * 15)::int END AS talk,
                       ring + make_interval(secs => 2 + r_start * 13) AS answered_at
                FROM coded
            ), ended AS (
                SELECT *, CASE WHEN answered THEN answered_at + make_interval(secs => talk)
                               WHEN code <> '' THEN ring + make_interval(secs => 5 + r_end * 35) END AS end_time
                FROM timed
            ), inserted AS (
            INSERT INTO notifications_callrecord ({", ".join(RECORD_COLUMNS)})
            SELECT pk, CASE WHEN is_tts THEN %(tts)s ELSE %(voice)s END, mode,
                   CASE WHEN is_tts THEN (%(tts_ids)s::int[])[resource] END, CASE WHEN NOT is_tts THEN (%(voice_ids)s::int[])[resource] END,
                   (%(prefixes)s::text[])[1 + callee %% cardinality(%(prefixes)s::text[])] || lpad(callee::text, 8, '0'),
                   CASE WHEN mode = %(dedicated)s THEN (%(numbers)s::int[])[1 + floor(r_caller * cardinality(%(numbers)s::int[]))::int] END,
                   CASE WHEN is_tts THEN (%(tts_params)s::jsonb[])[resource] ELSE '{{}}'::jsonb END, 3, 100,
                   'S' || lpad(pk::text, 14, '0'), pk || '^' || lpad(call_no::text, 9, '0'), 'SEED-' || pk, 'OK', 'OK', 1,
                   CASE WHEN in_flight THEN %(accepted)s WHEN answered THEN %(completed)s ELSE %(failed)s END,
                   CASE code {" ".join(outcome_cases)} ELSE '' END, code,
                   '', CASE WHEN in_flight THEN '' WHEN answered THEN '用户接听' ELSE '未接通' END,
                   CASE WHEN answered THEN 'user' ELSE '' END,
                   created + interval '1 second', CASE WHEN NOT in_flight THEN ring END, CASE WHEN answered THEN answered_at END,
                   end_time, CASE WHEN answered THEN talk END, end_time + make_interval(secs => 1 + r_final * 4),
                   (%(users)s::int[])[1 + floor(r_user * cardinality(%(users)s::int[]))::int], created, created,
                   coalesce(end_time + make_interval(secs => 1 + r_final * 4), created), false
            FROM ended
            RETURNING id, call_id, out_id, status_code, duration, final_report_at
            )
            INSERT INTO notifications_callevent ({", ".join(EVENT_COLUMNS)})
            SELECT id, %(report)s, call_id, out_id, status_code, '',
                   jsonb_build_object('call_id', call_id, 'out_id', out_id, 'status_code', status_code, 'duration', coalesce(duration, 0)),
                   final_report_at
            FROM inserted WHERE status_code <> ''
        """
        with connection.cursor() as cursor:
            # A load that at least doubles the tables goes in without their secondary indexes and foreign keys:
            # building those once afterwards costs far less than maintaining them row by row.
            set_aside = _indexes_and_foreign_keys_drop(cursor) if count >= first_id else []
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")  # index builds sort in memory, not on disk
            cursor.execute("SELECT setseed(%s)", [(seed % 2_000_001) / 1_000_000 - 1])
            events = 0
            for first in range(first_id, first_id + count, SQL_BATCH):
                batch = {**params, "first": first, "last": min(first + SQL_BATCH, first_id + count) - 1}
                cursor.execute(batch_sql, batch)
                events += cursor.rowcount
            for statement in set_aside:
                cursor.execute(statement)
            cursor.execute("SELECT setval(pg_get_serial_sequence('notifications_callrecord', 'id'), %s)", [first_id + count - 1])
            # Fresh statistics, or the planner guesses from an empty table until autovacuum gets to it.
            cursor.execute("ANALYZE notifications_callrecord; ANALYZE notifications_callevent")
        return events

    def _row(self, rng, pk, now, resources, users, days=DAYS):
        templates, voices, numbers = resources
        created = now - timedelta(seconds=rng.random() * days * 86400)
        if rng.random() < 0.75:
            api, (template, mode, params), voice = CallRecord.Api.TTS, rng.choice(templates), None
        else:
            api, template, (voice, mode), params = CallRecord.Api.VOICE, None, rng.choice(voices), "{}"
        caller = rng.choice(numbers) if mode == Mode.DEDICATED else None
        callee_no = rng.randrange(CALLEES)
        callee = f"{MOBILE_PREFIXES[callee_no % len(MOBILE_PREFIXES)]}{callee_no:08d}"
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
            False,  # placed_elsewhere: every seeded call is ours
        )
        event = None
        if not in_flight:
            payload = {"call_id": call_id, "out_id": out_id, "status_code": code, "duration": duration or 0}
            event = (pk, CallEvent.Kind.VOICE_REPORT, call_id, out_id, code, "", json.dumps(payload), final_at)
        return record, event

    def _write(self, records, events):
        with connection.cursor() as cursor:
            for table, columns, rows in (("notifications_callrecord", RECORD_COLUMNS, records),
                                         ("notifications_callevent", EVENT_COLUMNS, events)):
                marks = ", ".join(["%s"] * len(columns))
                # Stored the way Django stores them (naive UTC text), or range filters would compare unlike strings.
                rows = [tuple(connection.ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v for v in row) for row in rows]
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
