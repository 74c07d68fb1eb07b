"""Reading a campaign's list: a CSV or XLSX file as offices really save it, or a refusal that names the row and column.

A file is recognised by its content, never by its name: an XLSX is a ZIP holding a workbook, an old .xls is an OLE2
compound file, and a CSV is text that decodes as UTF-8 (with or without the BOM Excel writes), as GB18030 (what
Excel in China writes for "CSV", a superset of GBK) or, with its BOM, as UTF-16 (Excel's "Unicode text"). Cells
come out as text, stripped; what Excel did to phone numbers (1.38E+10, 13800138000.0, lost leading zeros) is undone
later, by `number_from_spreadsheet_cell`.
"""
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

import filetype
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl.utils import get_column_letter

UTF8 = "utf-8"
GB18030 = "gb18030"
UTF16 = "utf-16"
XLSX = "xlsx"
DELIMITERS = (",", "\t", ";")

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls), and password-protected .xlsx files
# Control characters that never occur in a text file (tab, line feed and carriage return do).
_BINARY = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
# A formula element in a worksheet's XML (<f>, <f t="shared" …/>, <x:f>): "<" is always a tag in XML.
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"})
# A header that is a phone number (or any long number) means the first row is data: the header row is missing.
_NUMBER_LIKE = re.compile(r"[+0-9][0-9 .\-eE+]{6,}")


class CampaignFileError(ValidationError):
    """The list cannot be read; `row` (as numbered in the file) and `column` (its letter) say where, when known."""

    def __init__(self, message, row: int | None = None, column: str | None = None, *, code: str = "invalid",
                 params: dict | None = None):
        super().__init__(message, code=code, params=params)
        self.row = row
        self.column = column


@dataclass
class Table:
    """A list as read: its headers, then (row number in the file, cells as text) for every row that is not blank.

    `encoding` is "utf-8", "gb18030", "utf-16" or "xlsx". `rows` is an iterator that reads the file as it goes, and
    may raise CampaignFileError part way (a formula with no value, too many rows): consume it whole before relying
    on it.
    """

    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str


def read_table(uploaded_file, *, max_rows: int) -> Table:
    """Read a CSV or XLSX list; raise CampaignFileError for anything that is not a list we can send to."""
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    data = uploaded_file.read()
    if isinstance(data, str):
        data = data.encode(UTF8)
    if not data.strip():
        raise CampaignFileError(_("The file is empty."), code="empty")
    if data.startswith(_OLE2):
        raise CampaignFileError(
            _("This is an Excel 97-2003 workbook (.xls) or a password-protected one: open it in Excel and save it as "
              ".xlsx (Excel workbook) or CSV, without a password."), code="old_excel")
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_table(data, max_rows=max_rows)
    kind = filetype.guess(data[:8192])
    if kind is not None and kind.extension not in {"csv", "txt"}:
        raise CampaignFileError(
            _("This is not a spreadsheet but a %(kind)s file: upload the list as .xlsx or CSV."),
            code="not_a_spreadsheet", params={"kind": kind.extension.upper()})
    return _csv_table(data, max_rows=max_rows)


def _not_a_spreadsheet() -> CampaignFileError:
    return CampaignFileError(_("This file is not a spreadsheet: upload the list as .xlsx or CSV."), code="not_a_spreadsheet")


# ----- CSV -------------------------------------------------------------------------------------------------------

def _decoded(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text": UTF-16 with its BOM, tab-separated
        try:
            return data.decode(UTF16), UTF16
        except UnicodeDecodeError:
            raise _not_a_spreadsheet() from None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode(UTF8), UTF8
        except UnicodeDecodeError:
            raise _not_a_spreadsheet() from None
    for encoding in (UTF8, GB18030):  # valid UTF-8 is almost never meant as GB18030; the other way round is common
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise _not_a_spreadsheet()


def _delimiter(text: str) -> str:
    """The delimiter the header line uses most (outside quotes); a one-column list has none: comma."""
    first = next((line for line in io.StringIO(text) if line.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", first)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _csv_table(data: bytes, *, max_rows: int) -> Table:
    text, encoding = _decoded(data)
    if _BINARY.search(text):
        raise _not_a_spreadsheet()
    records = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=False)
    return _table(_csv_cells(records), encoding=encoding, max_rows=max_rows)


def _csv_cells(records) -> Iterator[tuple[int, list[str]]]:
    number = 0
    try:
        for number, cells in enumerate(records, start=1):
            yield number, [cell.strip() for cell in cells]
    except csv.Error:  # a cell over the csv module's size limit: no list has one
        raise CampaignFileError(_("Row %(row)d cannot be read as CSV: a cell is far too long, or a quote is never "
                                  "closed."), code="csv", params={"row": number + 1}, row=number + 1) from None


# ----- XLSX ------------------------------------------------------------------------------------------------------

def _xlsx_table(data: bytes, *, max_rows: int) -> Table:
    import openpyxl  # only here: the console imports this module on every start, and openpyxl takes a while

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        raise _not_a_spreadsheet() from None
    if "xl/workbook.xml" not in names:
        if "mimetype" in names and b"spreadsheet" in archive.read("mimetype"):
            raise CampaignFileError(
                _("This is an OpenDocument spreadsheet (.ods): save it as .xlsx (Excel workbook) or CSV."), code="ods")
        raise _not_a_spreadsheet()
    has_formulas = any(_has_formula(archive, name) for name in names if name.startswith("xl/worksheets/"))
    try:
        values = _xlsx_rows(openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True))
        # data_only gives a formula's cached value, and None when Excel never saved one (a file written by a
        # program, not by Excel): read the formulas alongside only then, to tell such a cell from an empty one.
        formulas = _xlsx_rows(openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)) if has_formulas else None
    except Exception:  # openpyxl raises whatever its parser meets in a damaged archive
        raise _not_a_spreadsheet() from None
    return _table(_xlsx_cells(values, formulas), encoding=XLSX, max_rows=max_rows)


def _has_formula(archive: zipfile.ZipFile, name: str) -> bool:
    tail = b""
    with archive.open(name) as part:
        while chunk := part.read(1 << 20):
            if _FORMULA_TAG.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


def _xlsx_rows(workbook) -> Iterator[tuple]:
    # The first sheet: a list has one, and "the first" is what the operator sees on opening the file. The dimension
    # a program wrote may be wrong (A1 for a whole sheet); reset, every cell is read.
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=True)
    except Exception:  # damaged XML inside a valid archive, met part way
        raise _not_a_spreadsheet() from None
    finally:
        workbook.close()


def _xlsx_cells(values: Iterator[tuple], formulas: Iterator[tuple] | None) -> Iterator[tuple[int, list[str]]]:
    # Read-only sheets give an empty row for each missing one, so the count is the sheet's own row number.
    for number, cells in enumerate(values, start=1):
        typed = next(formulas, ()) if formulas is not None else ()
        row = []
        for index, value in enumerate(cells):
            if value.__class__ is str and not value.startswith("#"):  # most cells: spared the tests below
                row.append(value.strip())
                continue
            if value is None and index < len(typed) and _is_formula(typed[index]):
                raise CampaignFileError(
                    _("Row %(row)d, column %(column)s holds a formula whose value was never saved. Open the file in "
                      "Excel and save it again, or replace the formula by its value."),
                    code="formula", params={"row": number, "column": get_column_letter(index + 1)},
                    row=number, column=get_column_letter(index + 1))
            text = _cell_text(value)
            if text in _EXCEL_ERRORS:
                raise CampaignFileError(
                    _("Row %(row)d, column %(column)s shows the error %(value)s: correct the formula or the value."),
                    code="formula_error", params={"row": number, "column": get_column_letter(index + 1), "value": text},
                    row=number, column=get_column_letter(index + 1))
            row.append(text)
        yield number, row


def _is_formula(value) -> bool:
    """A cell of the formulas' reading that holds a formula: its text, or an array or data-table formula object."""
    if isinstance(value, str):
        return value.startswith("=")
    return value is not None and not isinstance(value, int | float | bool | datetime | date | time)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel keeps the whole number even when it shows 1.38E+10: a float with no fraction is written whole.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


# ----- Both ------------------------------------------------------------------------------------------------------

def _table(numbered: Iterator[tuple[int, list[str]]], *, encoding: str, max_rows: int) -> Table:
    """Headers from the first row that is not blank; then the rows, blank ones skipped, each as wide as the headers."""
    for number, cells in numbered:
        if any(cells):
            headers = _headers(cells, row=number)
            return Table(headers=headers, rows=_rows(numbered, headers, header_row=number, max_rows=max_rows),
                         encoding=encoding)
    raise CampaignFileError(_("The file is empty."), code="empty")


def _headers(cells: list[str], *, row: int) -> list[str]:
    # Blank cells at the end are no columns (Excel often keeps a few formatted ones).
    while cells and not cells[-1]:
        cells = cells[:-1]
    if any(_NUMBER_LIKE.fullmatch(cell) for cell in cells):
        raise CampaignFileError(
            _("Row %(row)d holds data (%(value)s), not column headers: add a first row that names each column, "
              "for example 手机号 and the template's variables."),
            code="no_header", params={"row": row, "value": next(cell for cell in cells if _NUMBER_LIKE.fullmatch(cell))},
            row=row)
    # A merged header cell leaves the columns after its first one blank. We refuse it rather than repeat the
    # merged value: repeated, it would be a duplicate header, and which column is meant would still be unknown.
    blank = [get_column_letter(index + 1) for index, cell in enumerate(cells) if not cell]
    if blank:
        raise CampaignFileError(
            ngettext(
                "Row %(row)d: column %(columns)s has no header (merged header cells leave every column after the "
                "first one blank). Give every column a header of its own.",
                "Row %(row)d: columns %(columns)s have no header (merged header cells leave every column after the "
                "first one blank). Give every column a header of its own.",
                len(blank)),
            code="blank_header", params={"row": row, "columns": ", ".join(blank)}, row=row, column=blank[0])
    seen: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = cell.casefold()
        if key in seen:
            first, second = get_column_letter(seen[key] + 1), get_column_letter(index + 1)
            raise CampaignFileError(
                _("Row %(row)d: columns %(first)s and %(second)s have the same header “%(header)s”. Give each column a "
                  "header of its own."),
                code="duplicate_header", params={"row": row, "first": first, "second": second, "header": cell},
                row=row, column=second)
        seen[key] = index
    return cells


def _rows(numbered: Iterator[tuple[int, list[str]]], headers: list[str], *, header_row: int,
          max_rows: int) -> Iterator[tuple[int, list[str]]]:
    width = len(headers)
    count = 0
    for number, cells in numbered:
        if not any(cells):
            continue
        count += 1
        if count > max_rows:
            continue  # counted to the end, so the message says how many there are
        if len(cells) > width:
            extra = next((index for index in range(width, len(cells)) if cells[index]), None)
            if extra is not None:  # a merged header cell over it, or a value typed beside the list
                column = get_column_letter(extra + 1)
                raise CampaignFileError(
                    _("Column %(column)s has no header in row %(header_row)d (merged header cells leave every column "
                      "after the first one blank), but row %(row)d has a value in it: give every column a header of "
                      "its own, or delete the value."),
                    code="blank_header", params={"row": number, "column": column, "header_row": header_row},
                    row=header_row, column=column)
            cells = cells[:width]
        elif len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        yield number, cells
    if count > max_rows:
        raise CampaignFileError(
            _("The list has %(count)d rows; a campaign takes at most %(max)d. Split it into several campaigns."),
            code="too_many_rows", params={"count": count, "max": max_rows})
    if count == 0:
        raise CampaignFileError(_("The list has column headers but no rows."), code="no_rows")


def guess_mapping(headers: list[str], variables: list[str]) -> dict:
    """Which header holds the callee and which each variable, by name, in either language; None where none fits."""
    keys = [header_key(header) for header in headers]
    names = [_variable_name(header) for header in headers]
    params = {}
    for variable in variables:
        wanted = variable.casefold()
        params[variable] = next((header for header, name in zip(headers, names, strict=True) if name == wanted), None)
    taken = {header for header in params.values() if header}
    free = [(header, key) for header, key in zip(headers, keys, strict=True) if header not in taken]
    callee = next((header for name in CALLEE_NAMES for header, key in free if key == name), None)
    if callee is None:  # 客户手机号, 联系电话, "Mobile phone": a header that says what kind of number it holds
        callee = next((header for header, key in free if any(word in key for word in CALLEE_WORDS)), None)
    return {"callee": callee, "params": params}


# In the order preferred when several headers fit; compared without case, spaces, "_" or "-".
CALLEE_NAMES = (
    "被叫号码", "被叫", "手机号码", "手机号", "手机", "电话号码", "联系电话", "电话", "号码", "联系方式", "手机號碼", "電話",
    "callee", "callednumber", "phonenumber", "phone", "mobilenumber", "mobile", "mobilephone", "cellphone", "cell",
    "telephone", "tel", "number", "msisdn",
)
CALLEE_WORDS = ("手机", "电话", "phone", "mobile")


def _variable_name(header: str) -> str:
    """The header as a variable's name: "Name" and "${name}" both name `name`."""
    name = header.strip()
    if name.startswith("${") and name.endswith("}"):
        name = name[2:-1].strip()
    return name.casefold()


def header_key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", _variable_name(header))
