"""Checking a campaign's list before anything is sent: every row passes the rules of a test call, or is refused
with the reason, the row and the column.

The list is read when it is loaded (every refusal a file can earn is found then) and kept as read; the check streams
it again: rows are checked a batch at a time, with one query per batch for the callees' call history (the provider's
flow control; the do-not-call list is read once), and written with one INSERT run per batch. Nothing here queries
per row.
"""
import csv
import io
from collections.abc import Iterator
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.models import BlockedNumber, CallerNumber, CallRecord, Campaign, CampaignRow, Purpose, Qualification
from notifications.rules import dialing as rules
from notifications.rules.identifiers import number_from_spreadsheet_cell
from notifications.rules.templates import render_preview
from notifications.services.calls_create import _resource_errors, previous_calls_by_number
from notifications.services.campaign_files import UTF8, guess_mapping, read_table
from notifications.services.exports import formula_safe
from notifications.texts import in_each_language, in_language

# Rows per batch: its numbers go into one IN (...) query, under SQLite's 999 variables.
BATCH = 900
FIRST_ERRORS = 20
# A row is attempted at most 1 + 3 times; below that, how many the provider's day window leaves it is recorded.
MOST_ATTEMPTS = 4
ROOM_ROWS_KEPT = 10
# A new list or a new check may be made until sending starts; after approval it sends the campaign back to checking.
LOADABLE = (Campaign.State.DRAFT, Campaign.State.CHECKED, Campaign.State.AWAITING_APPROVAL, Campaign.State.SCHEDULED)
# A refusal as stored, in each language: the rows of a long list are shown and exported, not read as essays.
MESSAGE_LENGTH = 300
_RAW_LENGTH = CampaignRow._meta.get_field("raw_number").max_length


def _variables(campaign: Campaign) -> list[str]:
    return list(campaign.tts_template.variables) if campaign.tts_template_id else []


def _editable(campaign: Campaign) -> None:
    if campaign.state not in LOADABLE:
        raise ValidationError({"__all__": [ValidationError(
            _("This campaign is “%(state)s”: its list and its check can no longer change."), code="state",
            params={"state": campaign.state_label})]})


def _back_to_checking(campaign: Campaign) -> None:
    """A list or a mapping changed after approval must be approved again."""
    campaign.approved_by = None
    campaign.approved_at = None


def _delete_rows(campaign: Campaign) -> None:
    # A raw DELETE: Django's cascade would load every row to null CallRecord.campaign_row, and a campaign that has
    # not started has no calls (nulled first all the same, so the foreign key holds whatever happened).
    CallRecord.objects.filter(campaign_row__campaign=campaign).update(campaign_row=None)
    meta = CampaignRow._meta
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(meta.db_table)} "
                       f"WHERE {connection.ops.quote_name(meta.get_field('campaign').column)} = %s", [campaign.pk])


@transaction.atomic
def campaign_load_file(campaign: Campaign, uploaded_file) -> Campaign:
    """Read the list, store it with its headers and a guessed mapping; the campaign is (again) a draft.

    Raises CampaignFileError when the file cannot be read (the whole file is read first: nothing is stored then),
    ValidationError when the campaign has started.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _editable(campaign)
    table = read_table(uploaded_file, max_rows=settings.CAMPAIGN_MAX_ROWS)
    copy = io.StringIO()
    writer = csv.writer(copy, lineterminator="\r\n")  # both quoted in a cell
    writer.writerow(table.headers)
    for number, cells in table.rows:  # every refusal a file can earn is found before anything is stored
        writer.writerow([number, *cells])
    name = (getattr(uploaded_file, "name", "") or "list").replace("\\", "/").rsplit("/", 1)[-1]
    uploaded_file.seek(0)
    replaced = campaign.source_file.name
    campaign.source_file.save(name, ContentFile(uploaded_file.read()), save=False)
    if replaced:  # once the new list is committed: a rollback keeps the campaign on the old one, still there
        storage = campaign.source_file.storage
        transaction.on_commit(lambda: storage.delete(replaced))
    _table_copy_save(campaign, copy.getvalue())
    campaign.source_name = name[:campaign._meta.get_field("source_name").max_length]
    campaign.source_encoding = table.encoding
    campaign.headers = table.headers
    campaign.mapping = guess_mapping(table.headers, _variables(campaign))
    campaign.check_summary = {}
    campaign.checked_at = None
    campaign.state = Campaign.State.DRAFT
    _back_to_checking(campaign)
    campaign.save()
    _delete_rows(campaign)
    return campaign


# The list as read, kept beside the file: "<stored file name>", the headers, then "<row number>,<cells…>" per row,
# in UTF-8. The check and the preview read it instead of the upload: an XLSX takes openpyxl seconds to parse again,
# this a fraction of one. It answers for the file whose stored name it starts with; for any other (a file stored
# before it was written, a copy lost) they read the upload itself.
def _table_copy_name(campaign: Campaign) -> str:
    return f"campaigns/tables/campaign-{campaign.pk}.csv"


def _table_copy_save(campaign: Campaign, body: str) -> None:
    storage = campaign.source_file.storage
    name = _table_copy_name(campaign)
    if storage.exists(name):
        storage.delete(name)
    first = io.StringIO()
    csv.writer(first, lineterminator="\r\n").writerow([campaign.source_file.name])
    storage.save(name, ContentFile((first.getvalue() + body).encode(UTF8)))


def _stored_rows(campaign: Campaign) -> Iterator[tuple[int, list[str]]]:
    """The rows of the campaign's list as it was read, from the copy when it is the stored file's, else the file."""
    storage = campaign.source_file.storage
    name = _table_copy_name(campaign)
    if storage.exists(name):
        with storage.open(name, "rb") as handle:
            records = csv.reader(io.StringIO(handle.read().decode(UTF8), newline=""))
        if next(records, None) == [campaign.source_file.name] and next(records, None) == campaign.headers:
            yield from ((int(number), cells) for number, *cells in records)
            return
    with campaign.source_file.open("rb") as source:
        try:
            table = read_table(source, max_rows=settings.CAMPAIGN_MAX_ROWS)
            if table.headers != campaign.headers:
                raise ValidationError(_("The stored list no longer has the columns it was read with: upload it again."),
                                      code="changed")
            yield from table.rows
        except ValidationError as error:  # the file read when it was loaded; refused now (a setting changed)
            raise ValidationError({"file": error.error_list}) from None


def _campaign_errors(campaign: Campaign, mapping: dict) -> dict:
    """What stops the whole campaign, keyed by field: the content, its caller numbers, the list and the mapping."""
    errors: dict[str, list] = {}
    resource = campaign.resource
    if resource is None:
        errors["resource"] = [ValidationError(_("Choose a TTS template or a voice file."), code="required")]
    else:
        qualification = Qualification.objects.get(pk=resource.qualification_id)
        callers = list(CallerNumber.objects.select_related("qualification").filter(campaigns=campaign).order_by("number"))
        found: dict[str, list] = {}
        for caller in callers or [None]:
            _resource_errors(found, resource=resource, qualification=qualification, caller_number=caller,
                             play_times=campaign.play_times, volume=campaign.volume, speed=campaign.speed,
                             today=rules.company_today())
        for field, problems in found.items():
            # Once, not per number; an error naming its number (expired) once per number.
            unique = list({(error.code, error.message, tuple(sorted((error.params or {}).items()))): error
                           for error in problems}.values())
            errors["caller_numbers" if field == "caller_number" else field] = unique
    headers = campaign.headers or []
    if not headers or not campaign.source_file:
        errors["file"] = [ValidationError(_("Upload the list first."), code="required")]
        return errors
    if not mapping.get("callee"):
        errors["callee"] = [ValidationError(_("Choose the column that holds the numbers to call."), code="required")]
    elif mapping["callee"] not in headers:
        errors["callee"] = [ValidationError(_("The list has no column “%(header)s”."), code="invalid",
                                            params={"header": mapping["callee"]})]
    params = mapping.get("params") or {}
    for variable in _variables(campaign):
        header = params.get(variable)
        if not header:
            errors[f"param_{variable}"] = [ValidationError(
                _("Choose the column that holds ${%(name)s}."), code="required", params={"name": variable})]
        elif header not in headers:
            errors[f"param_{variable}"] = [ValidationError(
                _("The list has no column “%(header)s”."), code="invalid", params={"header": header})]
    return errors


def _clean_mapping(campaign: Campaign, mapping: dict) -> dict:
    params = (mapping or {}).get("params") or {}
    return {"callee": (mapping or {}).get("callee") or None,
            "params": {variable: params.get(variable) or None for variable in _variables(campaign)}}


class _Row:
    """One row as the check finds it (a CampaignRow's fields, without a model instance per row)."""

    __slots__ = ("called_number", "number", "params", "raw", "refusal_code", "refusal_messages", "state")

    def __init__(self, number: int, raw: str, params: dict):
        self.number, self.raw, self.params = number, raw, params
        self.called_number = self.refusal_code = ""
        self.refusal_messages = {}
        self.state = CampaignRow.State.WAITING


class _RowWriter:
    """Writes a batch of rows in one statement.

    Half the time of a 100,000-row check went into bulk_create building a model instance and preparing each value
    field by field; these rows hold text, a number and a small dict, so they are adapted here with the backend's own
    adapters. Every other column of CampaignRow gets its field's default, so a field added later is written too.
    """

    SET = ("campaign", "row_number", "raw_number", "called_number", "params", "state", "refusal_code",
           "refusal_messages", "updated_at")

    def __init__(self, campaign: Campaign, *, now):
        meta = CampaignRow._meta
        others = [field for field in meta.concrete_fields if not field.primary_key and field.name not in self.SET]
        columns = [meta.get_field(name).column for name in self.SET] + [field.column for field in others]
        quote = connection.ops.quote_name
        into = f"{quote(meta.db_table)} ({', '.join(quote(column) for column in columns)})"
        self.copy = f"COPY {into} FROM STDIN"
        self.insert = f"INSERT INTO {into} VALUES ({', '.join(['%s'] * len(columns))})"
        self.defaults = tuple(field.get_db_prep_save(field.get_default(), connection) for field in others)
        self.campaign_id = campaign.pk
        self.updated_at = connection.ops.adapt_datetimefield_value(now)
        self.params_encoder = meta.get_field("params").encoder
        self.messages_encoder = meta.get_field("refusal_messages").encoder
        self.no_messages = connection.ops.adapt_json_value({}, self.messages_encoder)  # a valid row's, adapted once

    def write(self, rows: list[_Row]) -> None:
        json_value = connection.ops.adapt_json_value
        values = [(self.campaign_id, row.number, row.raw[:_RAW_LENGTH], row.called_number,
                   json_value(row.params, self.params_encoder), row.state, row.refusal_code,
                   json_value(row.refusal_messages, self.messages_encoder) if row.refusal_messages else self.no_messages,
                   self.updated_at, *self.defaults)
                  for row in rows]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY, as the exports use it: executemany is a round trip per row, and one INSERT of the whole
                # batch is parsed by psycopg's client-side binding at a cost that grows with its parameters.
                with cursor.cursor.copy(self.copy) as copy:
                    for row in values:
                        copy.write_row(row)
            else:  # SQLite prepares the statement once and steps it per row, in-process: no round trips
                cursor.executemany(self.insert, values)


class _Checker:
    """The row rules of one check, with what earlier batches found (the numbers seen, the counts)."""

    def __init__(self, campaign: Campaign, mapping: dict, *, now):
        self.campaign = campaign
        headers = campaign.headers
        self.callee_header = mapping["callee"]
        self.callee_index = headers.index(self.callee_header)
        self.params = [(variable, header, headers.index(header)) for variable, header in mapping["params"].items()]
        self.headers_of = {variable: header for variable, header, _index in self.params}
        self.variables = _variables(campaign)
        resource = campaign.resource
        self.purpose = campaign.tts_template.kind if campaign.tts_template_id else Purpose.NOTIFICATION
        self.qualification_id = resource.qualification_id
        # The first attempt is made when sending starts: the calls made before then count against the day window.
        self.start = max(now, campaign.start_at) if campaign.start_at else now
        self.seen: dict[str, int] = {}  # number → the first row that will call it
        # The do-not-call list whole, in one query: it is short next to a list (a few thousand numbers at most).
        # Blocks in force the day sending starts: one that has expired by then no longer refuses the number.
        self.blocked = set(BlockedNumber.objects.in_force(timezone.localdate(self.start)).values_list("number", flat=True))
        # "day_room": {attempts the day window leaves: {"count", "rows"}} for valid rows left fewer than MOST_ATTEMPTS.
        # Counts, not a verdict: retries may change until sending starts, so the page compares them with its own.
        self.summary = {"total": 0, "valid": 0, "refused": 0, "by_reason": {}, "first_errors": [], "day_room": {}}

    def batch(self, rows: list[tuple[int, list[str]]]) -> list[_Row]:
        checked = [self._row(number, cells) for number, cells in rows]
        numbers = {row.called_number for row, problems in checked if not problems}
        blocked = self.blocked
        history = previous_calls_by_number(
            qualification_id=self.qualification_id, purpose=self.purpose, numbers=numbers,
            since=self.start - rules.FLOW_CONTROL_WINDOWS[-1][0]) if numbers else {}
        result = []
        for row, problems in checked:
            number = row.called_number
            if not problems:
                if number in blocked:
                    problems.append(("blocked", self.callee_header, ValidationError(
                        gettext_lazy("This number is on the do-not-call list."), code="blocked")))
                elif error := rules.flow_control_day_error(previous_calls=history.get(number, []), now=self.start):
                    problems.append(("flow_control", self.callee_header, error))
                elif number in self.seen:
                    problems.append(("duplicate", self.callee_header, ValidationError(
                        gettext_lazy("This number is already in row %(row)d of the list: it is called once."),
                        code="duplicate", params={"row": self.seen[number]})))
                else:
                    self.seen[number] = row.number
                    self._room(row, history.get(number, []))
            self._count(row, problems)
            result.append(row)
        return result

    def _room(self, row: _Row, previous_calls: list) -> None:
        length, permits = rules.FLOW_CONTROL_WINDOWS[-1]
        room = permits - sum(1 for moment in previous_calls if moment > self.start - length)
        if room < MOST_ATTEMPTS:
            entry = self.summary["day_room"].setdefault(str(room), {"count": 0, "rows": []})
            entry["count"] += 1
            if len(entry["rows"]) < ROOM_ROWS_KEPT:
                entry["rows"].append(row.number)

    def _row(self, number: int, cells: list[str]) -> tuple[_Row, list]:
        raw = cells[self.callee_index]
        values = {variable: cells[index] for variable, _header, index in self.params}
        row = _Row(number, raw, values)
        problems = []  # (reason code, header or None, ValidationError)
        try:
            row.called_number = number_from_spreadsheet_cell(raw)[0]
        except ValidationError as exc:
            problems.extend((f"number_{error.code}", self.callee_header, error) for error in exc.error_list)
        if self.campaign.tts_template_id:
            for name, errors in rules.param_errors(variables=self.variables, values=values, kind=self.purpose).items():
                problems.extend((f"param_{error.code}", self.headers_of.get(name), error) for error in errors)
        return row, problems

    def _count(self, row: _Row, problems: list) -> None:
        summary = self.summary
        summary["total"] += 1
        if not problems:
            summary["valid"] += 1
            return
        code, header, error = problems[0]
        row.state = CampaignRow.State.REFUSED
        row.called_number = ""
        row.refusal_code = code[:32]
        row.refusal_messages = refusal_messages(error, column=header)
        summary["refused"] += 1
        summary["by_reason"][row.refusal_code] = summary["by_reason"].get(row.refusal_code, 0) + 1
        if len(summary["first_errors"]) < FIRST_ERRORS:
            summary["first_errors"].append({"row": row.number, "column": header or "",
                                            "message": in_each_language(lambda: _text(error))})


def _text(error: ValidationError) -> str:
    return " ".join(error.messages)  # its messages are lazy: rendered in the language active now


def refusal_messages(error: ValidationError, *, column: str | None = None) -> dict[str, str]:
    """Why a row is refused, in each language (CampaignRow.refusal_messages), led by the column it is in, if any."""
    def render():
        message = _text(error)
        return _("%(column)s: %(message)s") % {"column": column, "message": message} if column else message
    return {code: text if len(text) <= MESSAGE_LENGTH else text[:MESSAGE_LENGTH - 1] + "…"
            for code, text in in_each_language(render).items()}


def retries_short(summary: dict, max_retries: int) -> dict | None:
    """Valid rows whose every attempt (1 + `max_retries`) would not fit the provider's day limit, given the calls
    already made to them when checked: {"count", "rows" (the first few), "allowed"}; None when all fit."""
    short = [entry for room, entry in (summary.get("day_room") or {}).items() if int(room) < 1 + max_retries]
    if not short:
        return None
    rows = sorted(row for entry in short for row in entry["rows"])[:ROOM_ROWS_KEPT]
    return {"count": sum(entry["count"] for entry in short), "rows": rows, "allowed": rules.FLOW_CONTROL_WINDOWS[-1][1]}


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(rows, size)):
        yield batch


def campaign_check(campaign: Campaign, mapping: dict) -> dict:
    """Check every row of the stored list with `mapping`; write the rows (valid ones `waiting`) and the summary.

    A campaign-level problem (the content not approved any more, a caller number, no callee column, a variable
    without a column) raises ValidationError keyed by field and stores nothing; so does a list that cannot be read.
    A check after approval sends the campaign back: it must be approved again.
    """
    with transaction.atomic():
        campaign = (Campaign.objects.select_for_update(of=("self",)).select_related("tts_template", "voice_file")
                    .get(pk=campaign.pk))
        _editable(campaign)
        mapping = _clean_mapping(campaign, mapping)
        errors = _campaign_errors(campaign, mapping)
        if errors:
            raise ValidationError(errors)
        now = timezone.now()
        checker = _Checker(campaign, mapping, now=now)
        writer = _RowWriter(campaign, now=now)
        _delete_rows(campaign)
        for batch in _batches(_stored_rows(campaign), BATCH):
            writer.write(checker.batch(batch))
        campaign.mapping = mapping
        campaign.check_summary = checker.summary
        campaign.checked_at = now
        campaign.state = Campaign.State.CHECKED
        _back_to_checking(campaign)
        campaign.save(update_fields=["mapping", "check_summary", "checked_at", "state", "approved_by", "approved_at",
                                     "updated_at"])
    return checker.summary


def campaign_preview(campaign: Campaign, mapping: dict, n: int = 5) -> list[dict]:
    """The first `n` rows as they will be spoken: {"row", "callee" (as it will be dialled, or as typed), "text"}.

    A column the mapping does not name leaves its ${variable} as it is; nothing is checked or stored here.
    """
    if not campaign.source_file or not campaign.headers:
        return []
    headers = campaign.headers
    mapping = _clean_mapping(campaign, mapping)
    callee = headers.index(mapping["callee"]) if mapping["callee"] in headers else None
    params = {variable: headers.index(header) for variable, header in mapping["params"].items() if header in headers}
    content = campaign.tts_template.content if campaign.tts_template_id else ""
    preview = []
    rows = _stored_rows(campaign)
    try:
        for number, cells in islice(rows, n):
            raw = cells[callee] if callee is not None else ""
            try:
                shown = number_from_spreadsheet_cell(raw)[0]
            except ValidationError:
                shown = raw
            if campaign.tts_template_id:
                text = render_preview(content, {variable: cells[index] for variable, index in params.items()})
            else:
                text = _("(the recording “%(name)s”)") % {"name": campaign.voice_file.name if campaign.voice_file_id else ""}
            preview.append({"row": number, "callee": shown, "text": text})
    finally:
        rows.close()  # the file read part way is closed now, not when the generator is collected
    return preview


def refused_rows_csv(campaign: Campaign) -> Iterator[str]:
    """CSV of the refused rows (row, number as in the file, reason in the reader's language), formula-safe, with a BOM
    so Excel reads UTF-8."""
    language = translation.get_language()  # now: the response is streamed after the request has ended
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_("Row"), _("Number as in the file"), _("Reason")])
    header = "\ufeff" + buffer.getvalue()
    rows = (CampaignRow.objects.filter(campaign=campaign, state=CampaignRow.State.REFUSED).order_by("row_number")
            .values_list("row_number", "raw_number", "refusal_messages"))

    def lines() -> Iterator[str]:
        yield header
        for batch in _batches(rows.iterator(chunk_size=2000), 2000):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows((number, formula_safe(raw), formula_safe(in_language(messages, language)))
                             for number, raw, messages in batch)
            yield buffer.getvalue()

    return lines()
