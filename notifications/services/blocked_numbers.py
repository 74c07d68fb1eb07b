"""The do-not-call list: numbers no call may reach (checked by services/calls_create.py and the campaign check).

A block may end: `expires_on` is its last day in the company's time zone (TIME_ZONE), and from the next day the
number is called again. Lists are imported from the files offices keep (read by services/campaign_files.py, as
campaign lists are) and exported as CSV or XLSX, masked by role.
"""
import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from notifications.models import AuditEntry, BlockedNumber, CallRecord
from notifications.rules.identifiers import normalize_mainland_number, number_from_spreadsheet_cell
from notifications.services.audit import audit_record, audit_record_many
from notifications.services.campaign_files import CampaignFileError, guess_mapping, header_key, read_table
from notifications.services.exports import formula_safe
from notifications.services.numbers import number_mask, text_mask, user_sees_full_numbers

logger = logging.getLogger(__name__)
Action = AuditEntry.Action

REASON_MAX = BlockedNumber._meta.get_field("reason").max_length
FIRST_ERRORS = 20  # errors shown when a file is refused; the count says how many there are in all
# Headers of the optional columns, compared as campaign lists' headers are (no case, spaces, "_" or "-").
REASON_NAMES = ("原因", "禁呼原因", "拉黑原因", "屏蔽原因", "备注", "说明", "reason", "note", "notes", "comment")
EXPIRY_NAMES = ("到期", "到期日", "到期日期", "到期时间", "有效期至", "有效期", "截止日期", "截至", "禁呼至", "expires", "expireson",
                "expiry", "expirydate", "until", "blockeduntil", "enddate")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")


def company_today(now=None) -> date:
    """Today in the company's time zone: the day a block's expiry is compared with."""
    return timezone.localdate(now)


def number_key(number: str) -> str:
    """An opaque, stable key of a number (keyed hash): links audit entries about one number across blocks and unblocks
    without writing the number in them. Stored under a key ending in "id", which the audit's masking leaves alone."""
    return salted_hmac("notifications.blocked_numbers.number_key", number).hexdigest()[:24]


def block_details(blocked: BlockedNumber, **extra) -> dict:
    """What an audit entry about a block records: the reason, the expiry, the number's key."""
    return {"reason": blocked.reason, "expires": blocked.expires_on.isoformat() if blocked.expires_on else "",
            "number_id": number_key(blocked.number), **extra}


@transaction.atomic
def blocked_number_create(*, number: str, reason: str, user, expires_on: date | None = None) -> BlockedNumber:
    """Put a number on the do-not-call list: no call reaches it afterwards (until its expiry day has passed)."""
    normalized, _kind = normalize_mainland_number(number)
    blocked = BlockedNumber(number=normalized, reason=reason.strip(), created_by=user, expires_on=expires_on)
    blocked.full_clean()
    blocked.save()
    audit_record(user=user, action=Action.BLOCKED_NUMBER_ADDED, target=blocked, details=block_details(blocked))
    logger.info("number blocked by %s", user)
    return blocked


@transaction.atomic
def blocked_number_delete(*, blocked: BlockedNumber, user) -> None:
    """Take a number off the do-not-call list."""
    details = block_details(blocked)
    blocked.delete()
    audit_record(user=user, action=Action.BLOCKED_NUMBER_REMOVED, target=blocked, details=details)
    logger.info("number unblocked by %s", user)


def blocked_numbers_filtered(*, query: str = "", state: str = "", today: date | None = None):
    """The list as the page filters it: number contains `query`; `state` "active" (still refusing calls) or "expired"."""
    today = today or company_today()
    numbers = BlockedNumber.objects.select_related("created_by")
    if query:
        numbers = numbers.filter(number__contains=query)
    if state == "active":
        numbers = numbers.in_force(today)
    elif state == "expired":
        numbers = numbers.expired(today)
    return numbers


# ----- Import ----------------------------------------------------------------------------------------------------

@dataclass
class RowError:
    row: int
    column: str  # its letter, "" for the whole file
    header: str
    message: str


@dataclass
class ImportResult:
    """What an import found and did. With any error, nothing was imported (`imported` False)."""

    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0  # rows with at least one error (or 1 for a file that cannot be read)
    imported: bool = False
    has_expiry_column: bool = False

    @property
    def first_errors(self) -> list[RowError]:
        return self.errors[:FIRST_ERRORS]


@dataclass
class _Entry:
    row: int
    number: str
    reason: str
    expires_on: date | None


def parse_expiry(text: str) -> date:
    """A date as offices type it: 2026-05-12, 2026/5/12, 2026.5.12, 2026年5月12日, 20260512 (a time after it is ignored)."""
    text = text.strip()
    found = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if found:
        try:
            return date(*(int(part) for part in found.groups()))
        except ValueError:
            pass
    raise ValidationError(_("“%(value)s” is not a date: write it as 2026-05-12."), code="invalid_date", params={"value": text})


def _find(headers: list[str], names: tuple[str, ...]) -> int | None:
    keys = [header_key(header) for header in headers]
    return next((keys.index(name) for name in names if name in keys), None)


def _file_error(error: CampaignFileError) -> RowError:
    if error.code == "too_many_rows":
        message = _("The file has %(count)d rows; an import takes at most %(max)d. Split it into several files.") % {
            "count": error.params["count"], "max": error.params["max"]}
    elif error.code == "no_rows":
        message = _("The file has column headers but no rows.")
    else:
        message = " ".join(error.messages)
    return RowError(row=error.row or 0, column=error.column or "", header="", message=message)


def _read(uploaded_file, result: ImportResult, today: date) -> list[_Entry]:
    """Every row checked; problems go to `result.errors`, row by row, in the order of the file."""
    try:
        table = read_table(uploaded_file, max_rows=settings.BLOCKED_NUMBERS_IMPORT_MAX_ROWS)
        headers = table.headers
        callee = guess_mapping(headers, [])["callee"]
        if callee is None:
            raise CampaignFileError(
                _("No column holds the numbers: name one 号码, 手机号 or “number” (the headers found: %(headers)s)."),
                code="no_number_column", params={"headers": ", ".join(headers)})
        number_at, reason_at, expiry_at = headers.index(callee), _find(headers, REASON_NAMES), _find(headers, EXPIRY_NAMES)
        rows = list(table.rows)  # read to the end first: a file that fails part way imports nothing
    except CampaignFileError as error:
        result.errors.append(_file_error(error))
        result.error_count = 1
        return []
    entries, seen = [], {}
    for row_number, cells in rows:
        result.rows += 1
        problems = []

        def problem(index: int, message: str, problems=problems, row_number=row_number) -> None:
            problems.append(RowError(row=row_number, column=get_column_letter(index + 1), header=headers[index], message=message))

        number = ""
        try:
            number, _kind = number_from_spreadsheet_cell(cells[number_at])
        except ValidationError as error:
            problem(number_at, " ".join(error.messages) if cells[number_at] else _("The number is missing."))
        if number and number in seen:
            problem(number_at, _("This number is already in row %(row)d of the file.") % {"row": seen[number]})
        elif number:
            seen[number] = row_number
        reason = cells[reason_at].strip() if reason_at is not None else ""
        if len(reason) > REASON_MAX:
            problem(reason_at, _("The reason has %(length)d characters; at most %(max)d.") % {"length": len(reason), "max": REASON_MAX})
        expires_on = None
        if expiry_at is not None and cells[expiry_at].strip():
            try:
                expires_on = parse_expiry(cells[expiry_at])
            except ValidationError as error:
                problem(expiry_at, " ".join(error.messages))
            else:
                if expires_on < today:
                    problem(expiry_at, _("%(date)s has passed: a block must end today or later.") % {"date": expires_on.isoformat()})
        if problems:
            result.error_count += 1
            result.errors.extend(problems)
        else:
            entries.append(_Entry(row=row_number, number=number, reason=reason, expires_on=expires_on))
    result.has_expiry_column = expiry_at is not None
    return entries


def blocked_numbers_import(*, uploaded_file, file_name: str, user, now=None) -> ImportResult:
    """Check every row of a file, then, only if none is wrong, add its numbers and update those already on the list.

    All or nothing: one bad row (or an unreadable file) and nothing is imported, the result listing the errors by row
    and column. A number already on the list takes the file's reason (when the row has one) and its expiry (when
    the file has that column: an empty cell there means no expiry). One audit entry records the import, and one per
    number added or changed records the block, pointing at the file.
    """
    today = company_today(now)
    result = ImportResult()
    if uploaded_file.size > settings.BLOCKED_NUMBERS_IMPORT_MAX_BYTES:
        result.errors.append(RowError(row=0, column="", header="", message=_(
            "The file is %(size)s MB; an import takes at most %(max)s MB.") % {
            "size": f"{uploaded_file.size / 1e6:.1f}", "max": f"{settings.BLOCKED_NUMBERS_IMPORT_MAX_BYTES / 1e6:.1f}"}))
        result.error_count = 1
        return result
    entries = _read(uploaded_file, result, today)
    if result.errors:
        return result
    try:
        _apply(entries, result, user=user, file_name=file_name)
    except IntegrityError:  # another import or a manager added one of these numbers meanwhile: nothing was kept
        result.added = result.updated = result.unchanged = 0
        result.errors.append(RowError(row=0, column="", header="", message=_(
            "The list changed while the file was being imported; nothing was imported. Upload the file again.")))
        result.error_count = 1
        return result
    result.imported = True
    logger.info("do-not-call list imported by %s: %d added, %d updated", user, result.added, result.updated)
    return result


@transaction.atomic
def _apply(entries: list[_Entry], result: ImportResult, *, user, file_name: str) -> None:
    """Add the new numbers and update the others, in one transaction, with their audit entries."""
    with_expiry = result.has_expiry_column
    default_reason = (_("Imported from %(file)s") % {"file": file_name})[:REASON_MAX]
    existing = {}
    numbers = [entry.number for entry in entries]
    for start in range(0, len(numbers), 500):
        for blocked in BlockedNumber.objects.select_for_update().filter(number__in=numbers[start:start + 500]):
            existing[blocked.number] = blocked
    added, changed = [], []
    for entry in entries:
        blocked = existing.get(entry.number)
        if blocked is None:
            added.append(BlockedNumber(number=entry.number, reason=entry.reason or default_reason,
                                       expires_on=entry.expires_on, created_by=user))
            continue
        reason = entry.reason or blocked.reason
        expires_on = entry.expires_on if with_expiry else blocked.expires_on
        if (reason, expires_on) == (blocked.reason, blocked.expires_on):
            result.unchanged += 1
            continue
        blocked.reason, blocked.expires_on = reason, expires_on
        changed.append(blocked)
    BlockedNumber.objects.bulk_create(added, batch_size=500)
    BlockedNumber.objects.bulk_update(changed, ["reason", "expires_on"], batch_size=500)
    result.added, result.updated = len(added), len(changed)
    # The new rows' ids, for their audit entries (not every database returns them from a bulk insert).
    fresh = []
    added_numbers = [blocked.number for blocked in added]
    for start in range(0, len(added_numbers), 500):
        fresh += BlockedNumber.objects.filter(number__in=added_numbers[start:start + 500])
    audit_record(user=user, action=Action.BLOCKED_NUMBERS_IMPORTED, target=file_name[:200], details={
        "file": file_name, "rows": result.rows, "added": result.added, "updated": result.updated,
        "unchanged": result.unchanged})
    audit_record_many(user=user, action=Action.BLOCKED_NUMBER_ADDED,
                      targets=[(blocked, block_details(blocked, file=file_name)) for blocked in fresh])
    audit_record_many(user=user, action=Action.BLOCKED_NUMBER_CHANGED,
                      targets=[(blocked, block_details(blocked, file=file_name)) for blocked in changed])


# ----- Export ----------------------------------------------------------------------------------------------------

def _export_rows(numbers, user, today: date) -> Iterator[list[str]]:
    """Header, then one row per block: number (masked unless the user sees full numbers), reason, expiry, state, by, at."""
    masked = not user_sees_full_numbers(user)
    yield [_("Number"), _("Reason"), _("Blocked until"), _("State"), _("Blocked by"), _("Blocked at")]
    active, expired = _("Blocking"), _("Expired")
    for blocked in numbers.iterator(chunk_size=1000):
        number = number_mask(blocked.number) if masked else blocked.number
        reason = text_mask(blocked.reason) if masked else blocked.reason
        yield [
            formula_safe(number), formula_safe(reason), blocked.expires_on.isoformat() if blocked.expires_on else "",
            expired if blocked.is_expired(today) else active,
            formula_safe(blocked.created_by.get_username() if blocked.created_by else ""),
            timezone.localtime(blocked.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        ]


def blocked_numbers_csv(numbers, user, today: date | None = None) -> Iterator[str]:
    """The list as CSV lines, with the BOM Excel needs to read UTF-8; every text cell formula-safe."""
    rows = _export_rows(numbers, user, today or company_today())

    def lines() -> Iterator[str]:
        for index, row in enumerate(rows):
            buffer = io.StringIO()
            csv.writer(buffer).writerow(row)
            yield ("\ufeff" if index == 0 else "") + buffer.getvalue()

    return lines()


def blocked_numbers_xlsx(numbers, user, today: date | None = None) -> bytes:
    """The list as an XLSX workbook (written row by row: openpyxl's write-only mode). Cells are text, formula-safe."""
    from openpyxl import Workbook  # only here: openpyxl takes a while to import

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Do-not-call list")[:31])
    for row in _export_rows(numbers, user, today or company_today()):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ----- One number's page -----------------------------------------------------------------------------------------

def number_history(number: str, current: BlockedNumber | None):
    """Every audit entry about blocking this number, newest first: found by the number's key, which outlives the
    block (an unblocked and blocked again number has a new row), plus entries about the current block written
    before keys were recorded."""
    kind = ContentType.objects.get_for_model(BlockedNumber)
    about = Q(details__number_id=number_key(number))
    if current is not None:
        about |= Q(target_id=str(current.pk))
    return (AuditEntry.objects.filter(target_type=kind).filter(about)
            .exclude(action=Action.BLOCKED_NUMBERS_IMPORTED).order_by("-created_at", "-id"))


def calls_to(number: str):
    """Calls to this number, newest first (an index range of callrecord_callee_idx)."""
    return (CallRecord.objects.filter(called_number=number).order_by("-created_at", "-id")
            .select_related("tts_template", "voice_file"))
