"""CSV export of a filtered call log: streamed in keyset batches, constant memory, recorded in `CallExport`."""
import csv
from collections.abc import Iterator

from django.db.models import Q, QuerySet
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


class _Echo:
    """csv.writer wants a file; this one hands each line back."""

    def write(self, value):
        return value


def call_export_start(*, user, filters: dict, masked: bool) -> CallExport:
    return CallExport.objects.create(user=user, filters=filters, masked=masked)


def call_export_finish(*, export: CallExport, rows: int) -> None:
    CallExport.objects.filter(pk=export.pk).update(row_count=rows, status=CallExport.Status.FINISHED, finished_at=timezone.now())


def call_export_rows(*, queryset: QuerySet, masked: bool, export: CallExport | None = None) -> Iterator[str]:
    """CSV lines (BOM first so Excel reads UTF-8) of every row in `queryset`, oldest first, fetched in keyset batches.

    The export record is updated when the stream ends, with the number of rows actually sent.
    """
    writer = csv.writer(_Echo())
    tz = timezone.get_current_timezone()
    yield "\ufeff" + writer.writerow([label() for label, _field in COLUMNS])
    fields = [field for _label, field in COLUMNS]
    base = queryset.order_by("created_at", "id").values_list("created_at", "id", *fields)
    sent = 0
    last = None
    try:
        while True:
            batch = base
            if last is not None:
                batch = batch.filter(Q(created_at__gt=last[0]) | Q(created_at=last[0], id__gt=last[1]))
            rows = list(batch[:BATCH])
            if not rows:
                break
            last = rows[-1][:2]
            lines = []
            for row in rows:
                values = list(row[2:])
                for index in TIMES:
                    if values[index] is not None:
                        values[index] = values[index].astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
                if masked:
                    values[CALLEE] = number_mask(values[CALLEE])
                lines.append(writer.writerow(values))
            sent += len(rows)
            yield "".join(lines)
    finally:
        if export is not None:
            call_export_finish(export=export, rows=sent)

