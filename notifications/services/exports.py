"""CSV export of a filtered call log: streamed with constant memory and recorded in `CallExport`.

On PostgreSQL the server writes the CSV itself (`COPY (SELECT …) TO STDOUT`, times and masks computed in SQL) and the
rows pass through in chunks; elsewhere keyset batches are formatted here.
"""
import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

from django.db import connection
from django.db.models import CharField, F, Func, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import CallExport
from notifications.services.numbers import number_mask

BATCH = 5000
COPY_CHUNK = 256 * 1024

# (header, value expression) — the call log's columns, then every receipt field.
COLUMNS = (
    (lambda: _("Created at"), "created_at"),
    (lambda: _("OutId"), "out_id"),
    (lambda: _("CallId"), "call_id"),
    (lambda: _("API"), "api"),
    (lambda: _("Mode"), "mode"),
    (lambda: _("TTS template"), "tts_template__name"),
    (lambda: _("Voice file"), "voice_file__name"),
    (lambda: _("Callee"), "called_number"),
    (lambda: _("Caller number"), "caller_number__number"),
    (lambda: _("Placed by"), "requested_by__username"),
    (lambda: _("Status"), "status"),
    (lambda: _("Outcome"), "outcome"),
    (lambda: _("Status code"), "status_code"),
    (lambda: _("Smart status code"), "smart_status_code"),
    (lambda: _("Status message"), "status_msg"),
    (lambda: _("Hung up by"), "hangup_direction"),
    (lambda: _("Originated at"), "originate_time"),
    (lambda: _("Rang at"), "ring_time"),
    (lambda: _("Answered at"), "start_time"),
    (lambda: _("Ended at"), "end_time"),
    (lambda: _("Duration (s)"), "duration"),
    (lambda: _("Final receipt at"), "final_report_at"),
    (lambda: _("RequestId"), "request_id"),
    (lambda: _("API code"), "api_code"),
)
CALLEE = [field for _label, field in COLUMNS].index("called_number")
TIMES = [i for i, (_label, field) in enumerate(COLUMNS) if field in {"created_at", "originate_time", "ring_time", "start_time",
                                                                      "end_time", "final_report_at"}]


class MaskedNumber(Func):
    """`number_mask` in PostgreSQL: 159****0000 for numbers longer than seven digits, 1***9 for shorter ones."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"CASE WHEN length({sql}) > 7 THEN left({sql}, 3) || repeat('*', length({sql}) - 7) || right({sql}, 4) "
            f"WHEN length({sql}) > 0 THEN left({sql}, 1) || repeat('*', greatest(length({sql}) - 2, 1)) || right({sql}, 1) "
            f"ELSE {sql} END",
            (*params,) * 8,
        )


class LocalTimeText(Func):
    """A timestamp as 'YYYY-MM-DD HH:MM:SS' in the company's time zone.

    Parsing six datetimes per row into Python objects costs more than the rest of the export together. PostgreSQL
    formats the local time itself; SQLite hands over the stored UTC text, which `_LocalMinutes` rewrites.
    """

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"to_char({sql} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')", (*params, timezone.get_current_timezone_name())

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC; the cast keeps sqlite3 from parsing it into a datetime.
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST({sql} AS TEXT)", params


class _LocalMinutes(dict):
    """Stored UTC text → local 'YYYY-MM-DD HH:MM:SS', converting each distinct minute once.

    Time zones change offset only on whole minutes, so the local minute of a UTC minute says it all; the seconds
    are copied. A month of calls has at most 43,200 distinct minutes, whatever the number of rows.
    """

    def __init__(self, zone):
        super().__init__()
        self.zone = zone

    def __missing__(self, utc_minute: str) -> str:
        local = datetime.fromisoformat(utc_minute).replace(tzinfo=UTC).astimezone(self.zone)
        self[utc_minute] = text = local.strftime("%Y-%m-%d %H:%M")
        return text

    def text(self, stored: str | None) -> str | None:
        return stored and self[stored[:16]] + stored[16:19]


def call_export_start(*, user, filters: dict, masked: bool) -> CallExport:
    return CallExport.objects.create(user=user, filters=filters, masked=masked)


def call_export_finish(*, export: CallExport, rows: int) -> None:
    CallExport.objects.filter(pk=export.pk).update(row_count=rows, status=CallExport.Status.FINISHED, finished_at=timezone.now())


def call_export_rows(*, queryset: QuerySet, masked: bool, export: CallExport | None = None) -> Iterator[str | bytes]:
    """CSV (BOM first so Excel reads UTF-8) of every row in `queryset`, in id (creation) order.

    The export record is updated when the stream ends, with the number of rows actually sent.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([label() for label, _field in COLUMNS])
    yield "\ufeff" + _drain(buffer)
    sent = 0
    try:
        if connection.vendor == "postgresql":
            for chunk, rows_so_far in _rows_copied(queryset, masked=masked):
                sent = rows_so_far
                yield chunk
        else:
            for rows, rows_so_far in _rows_batched(queryset, masked=masked):
                sent = rows_so_far
                writer.writerows(rows)
                yield _drain(buffer)
    finally:
        if export is not None:
            call_export_finish(export=export, rows=sent)


def _rows_copied(queryset: QuerySet, *, masked: bool) -> Iterator[tuple[bytes, int]]:
    """(CSV bytes, rows so far) straight from PostgreSQL's COPY: one pass, no row ever becomes a Python object."""
    fields = [
        LocalTimeText(F(field)) if index in TIMES else MaskedNumber(F(field)) if masked and index == CALLEE else field
        for index, (_label, field) in enumerate(COLUMNS)
    ]
    sql, params = queryset.order_by("id").values_list(*fields).query.sql_with_params()
    lines = 0
    pending = bytearray()
    with connection.cursor() as cursor:
        # Django's psycopg cursors bind client-side, so the filters' parameters fit in a COPY statement.
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for data in copy:  # about one row each: gathered into chunks of COPY_CHUNK bytes
                pending += data
                if len(pending) >= COPY_CHUNK:
                    lines += pending.count(b"\n")  # rows so far, or a few more if a message holds a line break
                    yield bytes(pending), lines
                    pending.clear()
        yield bytes(pending), cursor.cursor.rowcount  # exact, once COPY has finished


def _rows_batched(queryset: QuerySet, *, masked: bool) -> Iterator[tuple[list[list], int]]:
    """(rows, rows so far) by keyset batches on the primary key: one pass over its index, whatever the filters."""
    local = _LocalMinutes(timezone.get_current_timezone())
    fields = [LocalTimeText(F(field)) if index in TIMES else field for index, (_label, field) in enumerate(COLUMNS)]
    base = queryset.order_by("id").values_list("id", *fields)
    sent = 0
    last_id = 0
    while True:
        rows = list(base.filter(id__gt=last_id)[:BATCH])
        if not rows:
            return
        last_id = rows[-1][0]
        values = [list(row[1:]) for row in rows]
        for row in values:
            for index in TIMES:
                row[index] = local.text(row[index])
            if masked:
                row[CALLEE] = number_mask(row[CALLEE])
        sent += len(values)
        yield values, sent


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
