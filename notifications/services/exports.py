"""CSV export of a filtered call log: streamed with constant memory and recorded in `CallExport`.

The database writes the CSV itself, so a row never becomes a Python object: PostgreSQL with `COPY (SELECT …) TO
STDOUT`, SQLite with one `printf()` per row. Local times, masked numbers, choices named in words and text made safe
from spreadsheet formulas are computed in SQL on both.
"""
import csv
import io
import multiprocessing
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Case, CharField, F, Func, Max, Min, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import CallExport, CallRecord, Mode
from notifications.services.sqlite_printing import block_printed

# Ids per block of lines SQLite prints in one step. At 1,000,000 calls, 2,500 against 10,000 cut the web process's
# memory growth from 32 to 10 MB and each helper's peak from 36 to 25 MB, for 5% fewer rows/s.
PRINT_BLOCK = 2_500
PRINTERS = 2  # helper processes printing a large SQLite export
COPY_CHUNK = 256 * 1024

# How a column's cells are written:
TIME = "time"  # a moment in the company's time zone, written by the console
PLAIN = "plain"  # a number or a choice's code, written by the console
WORDS = "words"  # a choice named in the reader's language (the code has its own column)
TEXT = "text"  # what people or the provider typed: neutralised against spreadsheet formulas
NUMBER = "number"  # the callee: masked for roles that see masked numbers, then as TEXT

# (header, field, kind) — the call log's columns, then every receipt field.
COLUMNS = (
    (lambda: _("Created at"), "created_at", TIME),
    (lambda: _("OutId"), "out_id", TEXT),
    (lambda: _("CallId"), "call_id", TEXT),
    (lambda: _("API"), "api", WORDS),
    (lambda: _("API (code)"), "api", PLAIN),
    (lambda: _("Placed elsewhere"), "placed_elsewhere", WORDS),
    (lambda: _("Mode"), "mode", WORDS),
    (lambda: _("Mode (code)"), "mode", PLAIN),
    (lambda: _("TTS template"), "tts_template__name", TEXT),
    (lambda: _("Voice file"), "voice_file__name", TEXT),
    (lambda: _("Callee"), "called_number", NUMBER),
    (lambda: _("Caller number"), "caller_number__number", TEXT),
    (lambda: _("Placed by"), "requested_by__username", TEXT),
    (lambda: _("Status"), "status", WORDS),
    (lambda: _("Status (code)"), "status", PLAIN),
    (lambda: _("Outcome"), "outcome", WORDS),
    (lambda: _("Outcome (code)"), "outcome", PLAIN),
    (lambda: _("Status code"), "status_code", TEXT),
    (lambda: _("Smart status code"), "smart_status_code", TEXT),
    (lambda: _("Status message"), "status_msg", TEXT),
    (lambda: _("Hung up by"), "hangup_direction", WORDS),
    (lambda: _("Hung up by (code)"), "hangup_direction", TEXT),  # the provider's own spelling, whatever it is
    (lambda: _("Originated at"), "originate_time", TIME),
    (lambda: _("Rang at"), "ring_time", TIME),
    (lambda: _("Answered at"), "start_time", TIME),
    (lambda: _("Ended at"), "end_time", TIME),
    (lambda: _("Duration (s)"), "duration", PLAIN),
    (lambda: _("Final receipt at"), "final_report_at", TIME),
    (lambda: _("RequestId"), "request_id", TEXT),
    (lambda: _("API code"), "api_code", TEXT),
)
# Cells SQLite prints without quotes: what the console writes itself never holds a comma, quote or line break.
UNQUOTED = {index for index, (_label, _field, kind) in enumerate(COLUMNS) if kind in {TIME, PLAIN}}

# A text cell a spreadsheet would run as a formula (OWASP: one starting with = + - @ tab or CR) is written with an
# apostrophe in front. Apostrophes already leading such a cell count as part of it, so that taking one apostrophe off
# a cell matching FORMULA_START always gives the text back. A whole or decimal number (-5, +3.5) is no formula: kept.
FORMULA_START = "^'*[-=+@\t\r]"
NUMBER_TEXT = "^[-+]?[0-9]+([.][0-9]+)?$"


def formula_safe(text: str) -> str:
    """The same rule applied in Python, to cells written one by one."""
    if re.match(FORMULA_START, text) and not re.match(NUMBER_TEXT, text):
        return "'" + text
    return text


# The first characters that may start one (tab, CR, ', +, -, =, @): a cheap test that spares most cells the rest.
_RISKY_FIRST = "9, 13, 39, 43, 45, 61, 64"


def _choice_words() -> dict[str, dict]:
    """Each choice column's codes and their names in the active language."""
    return {
        "api": dict(CallRecord.Api.choices),
        "mode": dict(Mode.choices),
        "status": dict(CallRecord.Status.choices),
        "outcome": dict(CallRecord.Outcome.choices),
        "hangup_direction": {"user": _("Callee"), "platform": _("Platform")},
        "placed_elsewhere": {True: _("Yes"), False: _("No")},
    }


class FormulaSafe(Func):
    """A text cell that a spreadsheet shows and never runs (see FORMULA_START), computed in SQL.

    `first` is a cheaper expression whose text starts with the same character as the cell's (the number a mask is
    made of): most cells are settled by their first character alone, and the cell is then computed once.
    """

    output_field = CharField()

    def __init__(self, expression, first=None, **extra):
        super().__init__(expression, expression if first is None else first, **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        (sql, params), (first, first_params) = (compiler.compile(expression) for expression in self.source_expressions)
        # `< 65` before the list: a letter or a Chinese character is settled by one comparison.
        return (
            f"CASE WHEN ascii({first}) < 65 AND ascii({first}) IN ({_RISKY_FIRST}) AND {sql} ~ %s AND {sql} !~ %s "
            f"THEN '''' || {sql} ELSE {sql} END",
            (*first_params, *first_params, *params, FORMULA_START, *params, NUMBER_TEXT, *params, *params),
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite has no regular expressions: the same tests with ltrim() and GLOB.
        (sql, params), (first, first_params) = (compiler.compile(expression) for expression in self.source_expressions)
        rest = "substr(VALUE, 2)"
        number = (f"unicode(VALUE) IN (43, 45) AND {rest} <> '' AND {rest} NOT GLOB '*[^0-9.]*' AND {rest} NOT GLOB '*.*.*' "
                  f"AND {rest} NOT GLOB '.*' AND {rest} NOT GLOB '*.'")
        test = f"unicode(ltrim(VALUE, '''')) IN (9, 13, 43, 45, 61, 64) AND NOT ({number}) THEN '''' || VALUE ELSE VALUE END"
        return (
            f"CASE WHEN unicode({first}) IN ({_RISKY_FIRST}) AND {test.replace('VALUE', sql)}",
            (*first_params, *tuple(params) * test.count("VALUE")),
        )


class MaskedNumber(Func):
    """`number_mask` in SQL: 159****0000 for numbers longer than seven digits, 1***9 for shorter ones."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"CASE WHEN length({sql}) > 7 THEN left({sql}, 3) || repeat('*', length({sql}) - 7) || right({sql}, 4) "
            f"WHEN length({sql}) > 0 THEN left({sql}, 1) || repeat('*', greatest(length({sql}) - 2, 1)) || right({sql}, 1) "
            f"ELSE {sql} END",
            (*params,) * 8,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        stars = "*" * CallRecord._meta.get_field("called_number").max_length
        return (
            f"CASE WHEN length({sql}) > 7 THEN substr({sql}, 1, 3) || substr(%s, 1, length({sql}) - 7) || substr({sql}, -4) "
            f"WHEN length({sql}) > 0 THEN substr({sql}, 1, 1) || substr(%s, 1, max(length({sql}) - 2, 1)) || substr({sql}, -1) "
            f"ELSE {sql} END",
            (*params, *params, stars, *params, *params, *params, *params, stars, *params, *params),
        )


class LocalTimeText(Func):
    """A timestamp as 'YYYY-MM-DD HH:MM:SS' (seconds truncated) in the company's time zone.

    PostgreSQL converts with AT TIME ZONE. SQLite knows no zones: it shifts the stored UTC text by the offset in
    force at that instant, taken from `shifts` (see `utc_shifts`).
    """

    output_field = CharField()

    def __init__(self, expression, shifts=(), **extra):
        super().__init__(expression, **extra)
        self.shifts = shifts

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"to_char({sql} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')", (*params, timezone.get_current_timezone_name())

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC, which sorts as text. datetime() would round the
        # fraction up to the next second, so it is cut off first.
        sql, params = compiler.compile(self.source_expressions[0])
        *newer, (_since, oldest) = self.shifts
        if not newer:
            return f"datetime(substr({sql}, 1, 19), %s)", (*params, oldest)
        whens = " ".join(f"WHEN {sql} >= %s THEN %s" for _shift in newer)
        whens_params = [value for since, modifier in newer for value in (*params, since, modifier)]
        return f"datetime(substr({sql}, 1, 19), CASE {whens} ELSE %s END)", (*params, *whens_params, oldest)


class CsvLine(Func):
    """One CSV line printed by SQLite: NULL as an empty field; fields not in `plain` quoted, quotes doubled (%w).

    Quoting only where a value may need it keeps printf from scanning the rest.
    """

    output_field = CharField()

    def __init__(self, *expressions, plain=(), **extra):
        super().__init__(*expressions, **extra)
        self.plain = plain

    def as_sqlite(self, compiler, connection, **extra_context):
        fields = [compiler.compile(expression) for expression in self.source_expressions]
        line = ",".join("%s" if index in self.plain else '"%w"' for index in range(len(fields)))
        return (
            f"printf(%s, {', '.join(f'ifnull({sql}, %s)' for sql, _params in fields)})",
            (line, *[value for _sql, params in fields for value in (*params, "")]),
        )


@lru_cache(maxsize=64)
def utc_shifts(zone: ZoneInfo, since: date, until: date) -> tuple[tuple[str | None, str], ...]:
    """The zone's UTC offsets from `since` to `until` as SQLite datetime() modifiers, newest first.

    Each is (UTC text from which it applies, modifier); the oldest applies to everything before. Steps a day at a
    time and bisects each change to the second: no zone changes its offset twice within a day.
    """
    def offset(instant: datetime) -> int:
        return int(instant.astimezone(zone).utcoffset().total_seconds())

    moment = datetime.combine(since, time(), UTC)
    shifts = [(None, f"{offset(moment):+d} seconds")]
    while moment.date() < until:
        following = moment + timedelta(days=1)
        if offset(following) != offset(moment):
            before, after = 0, 86400  # seconds into the day: old offset at `before`, new at `after`
            while after - before > 1:
                middle = (before + after) // 2
                before, after = (middle, after) if offset(moment + timedelta(seconds=middle)) == offset(moment) else (before, middle)
            change = moment + timedelta(seconds=after)
            shifts.append((change.strftime("%Y-%m-%d %H:%M:%S"), f"{offset(change):+d} seconds"))
        moment = following
    return tuple(reversed(shifts))


def call_export_start(*, user, filters: dict, masked: bool) -> CallExport:
    return CallExport.objects.create(user=user, filters=filters, masked=masked)


def call_export_finish(*, export: CallExport, rows: int) -> None:
    CallExport.objects.filter(pk=export.pk).update(row_count=rows, status=CallExport.Status.FINISHED, finished_at=timezone.now())


def call_export_rows(*, queryset: QuerySet, masked: bool, export: CallExport | None = None) -> Iterator[str | bytes]:
    """CSV (BOM first so Excel reads UTF-8) of every row in `queryset`, in id (creation) order.

    Headers and choices are named in the language active now (the request's), not when the response is sent.
    The export record is updated when the stream ends, with the number of rows actually sent.
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([label() for label, _field, _kind in COLUMNS])
    words = {field: {code: str(word) for code, word in named.items()} for field, named in _choice_words().items()}
    return _streamed("\ufeff" + buffer.getvalue(), queryset, masked=masked, words=words, export=export)


def _streamed(header: str, queryset: QuerySet, *, masked: bool, words: dict, export: CallExport | None) -> Iterator[str | bytes]:
    yield header
    sent = 0
    try:
        rows = _rows_copied if connection.vendor == "postgresql" else _rows_printed
        for chunk, rows_so_far in rows(queryset, masked=masked, words=words):
            sent = rows_so_far
            yield chunk
    except EmptyResultSet:  # filters that no row can match (a value outside the choices): the header alone
        pass
    finally:
        if export is not None:
            call_export_finish(export=export, rows=sent)


def _columns(*, masked: bool, words: dict, shifts=()) -> list:
    def cell(field: str, kind: str):
        if kind == TIME:
            return LocalTimeText(F(field), shifts)
        if kind == WORDS:
            return _choice_named(field, words[field])
        if kind == NUMBER:
            return FormulaSafe(MaskedNumber(F(field)), first=F(field)) if masked else FormulaSafe(F(field))
        return FormulaSafe(F(field)) if kind == TEXT else field

    return [cell(field, kind) for _label, field, kind in COLUMNS]


def _choice_named(field: str, words: dict) -> Case:
    """The choice's name; a value no choice names (blank, or the provider's own spelling) as it is, made formula-safe."""
    return Case(*(When(**{field: code}, then=Value(word)) for code, word in words.items()),
                default=Value("") if field == "placed_elsewhere" else FormulaSafe(F(field)), output_field=CharField())


def _rows_copied(queryset: QuerySet, *, masked: bool, words: dict) -> Iterator[tuple[bytes, int]]:
    """(CSV bytes, rows so far) straight from PostgreSQL's COPY."""
    sql, params = queryset.order_by("id").values_list(*_columns(masked=masked, words=words)).query.sql_with_params()
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


def _rows_printed(queryset: QuerySet, *, masked: bool, words: dict) -> Iterator[tuple[str, int]]:
    """(CSV text, rows so far) from SQLite, which prints each row and joins a block of ids into one text.

    A large export is printed by PRINTERS helper processes, so it uses as many cores; at most PRINTERS + 1 blocks
    wait at any time, so memory stays bounded whatever the size. Inside a transaction, whose rows only this
    connection sees, and for small exports, the blocks are printed here one after another.
    """
    earliest = CallRecord.objects.order_by("created_at").values_list("created_at", flat=True).first()
    today = timezone.now().date()
    # A call's other times follow its creation by minutes; a day either side covers clocks that disagree.
    shifts = utc_shifts(timezone.get_current_timezone(), (earliest.date() if earliest else today) - timedelta(days=1),
                        today + timedelta(days=1))
    lines = queryset.annotate(csv_line=CsvLine(*_columns(masked=masked, words=words, shifts=shifts), plain=UNQUOTED))
    lines = lines.order_by("id").values_list("csv_line")
    ids = CallRecord.objects.aggregate(first=Min("id"), last=Max("id"))
    if ids["first"] is None:
        return
    firsts = range(ids["first"], ids["last"] + 1, PRINT_BLOCK)
    statements = (_block_statement(lines.filter(id__gte=first, id__lt=first + PRINT_BLOCK)) for first in firsts)
    if connection.in_atomic_block or connection.is_in_memory_db() or len(firsts) <= PRINTERS:
        blocks = (_block_printed_here(*statement) for statement in statements)
    else:
        blocks = _blocks_printed_by_helpers(statements)
    sent = 0
    for count, text in blocks:
        if count:
            sent += count
            yield text + "\n", sent


def _block_statement(lines: QuerySet) -> tuple[str, tuple]:
    sql, params = lines.query.sql_with_params()
    # The subquery keeps its ORDER BY: SQLite never flattens an ordered subquery into an aggregate.
    return f'SELECT count(*), group_concat("csv_line", char(10)) FROM ({sql})', params


def _block_printed_here(sql: str, params: tuple) -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _blocks_printed_by_helpers(statements: Iterator[tuple[str, tuple]]) -> Iterator[tuple[int, str]]:
    path = str(connection.settings_dict["NAME"])
    pending = deque()
    with connection.cursor() as cursor, ProcessPoolExecutor(PRINTERS, mp_context=multiprocessing.get_context("spawn")) as printers:
        try:
            for sql, params in statements:
                # Django's %s placeholders become SQLite's ?, converted as Django's own cursor does it.
                pending.append(printers.submit(block_printed, path, cursor.cursor.convert_query(sql), params))
                if len(pending) > PRINTERS:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # the download was abandoned or failed: blocks not started yet are dropped
            for block in pending:
                block.cancel()
