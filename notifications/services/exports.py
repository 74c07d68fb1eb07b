"""CSV export of a filtered call log: streamed in keyset batches, constant memory, recorded in `CallExport`."""
import csv
import io
from collections.abc import Iterator

from django.db import connection
from django.db.models import CharField, F, Func, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import CallExport
from notifications.services.numbers import number_mask

BATCH = 5000

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


class LocalTimeText(Func):
    """A timestamp as 'YYYY-MM-DD HH:MM:SS' in the company's time zone, formatted by PostgreSQL.

    Parsing six datetimes per row into Python objects costs more than the rest of the export together.
    """

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"to_char({sql} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')", (*params, timezone.get_current_timezone_name())


def call_export_start(*, user, filters: dict, masked: bool) -> CallExport:
    return CallExport.objects.create(user=user, filters=filters, masked=masked)


def call_export_finish(*, export: CallExport, rows: int) -> None:
    CallExport.objects.filter(pk=export.pk).update(row_count=rows, status=CallExport.Status.FINISHED, finished_at=timezone.now())


def call_export_rows(*, queryset: QuerySet, masked: bool, export: CallExport | None = None) -> Iterator[str]:
    """CSV text (BOM first so Excel reads UTF-8) of every row in `queryset`, in id (creation) order, by keyset batches.

    Paging on the primary key alone makes the whole export one pass over its index, whatever the filters. The export
    record is updated when the stream ends, with the number of rows actually sent.
    """
    tz = timezone.get_current_timezone()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label() for label, _field in COLUMNS])
    yield "\ufeff" + _drain(buffer)
    fields = [field for _label, field in COLUMNS]
    times_in_db = connection.vendor == "postgresql"
    if times_in_db:
        fields = [LocalTimeText(F(field)) if index in TIMES else field for index, field in enumerate(fields)]
    base = queryset.order_by("id").values_list("id", *fields)
    sent = 0
    last_id = 0
    try:
        while True:
            rows = list(base.filter(id__gt=last_id)[:BATCH])
            if not rows:
                break
            last_id = rows[-1][0]
            values = [list(row[1:]) for row in rows]
            for row in values:
                if not times_in_db:
                    for index in TIMES:
                        if row[index] is not None:
                            row[index] = row[index].astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
                if masked:
                    row[CALLEE] = number_mask(row[CALLEE])
            writer.writerows(values)
            sent += len(rows)
            yield _drain(buffer)
    finally:
        if export is not None:
            call_export_finish(export=export, rows=sent)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
