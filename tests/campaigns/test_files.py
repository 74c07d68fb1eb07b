"""Reading a campaign's list: real files from real offices are read right, or refused naming the row and the column."""
import csv
import io
import zipfile

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.rules.identifiers import number_from_spreadsheet_cell
from notifications.services.campaign_files import CampaignFileError, guess_mapping, read_table


@pytest.fixture(autouse=True)
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


def named(data: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def csv_bytes(rows, *, encoding="utf-8", delimiter=",", bom=False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" if bom else "").encode(encoding) + buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, *, build=None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if build:
        build(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read(data: bytes, name: str = "list.csv", max_rows: int = 1000):
    table = read_table(named(data, name), max_rows=max_rows)
    return table.headers, list(table.rows), table.encoding


def refusal(data: bytes, name: str = "list.csv", max_rows: int = 1000) -> CampaignFileError:
    with pytest.raises(CampaignFileError) as caught:
        read(data, name, max_rows)
    return caught.value


def text(error: ValidationError) -> str:
    return " ".join(error.messages)


# ----- CSV --------------------------------------------------------------------------------------------------------

def test_a_gb18030_csv_as_excel_in_china_saves_it_is_read():
    data = csv_bytes([["手机号", "姓名"], ["13800138000", "张三"], ["13900139000", "䶮李"]], encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the fixture really is GB18030
    headers, rows, encoding = read(data)
    assert headers == ["手机号", "姓名"]
    assert rows == [(2, ["13800138000", "张三"]), (3, ["13900139000", "䶮李"])]
    assert encoding == "gb18030"


def test_a_gbk_csv_is_read_as_gb18030():
    _headers, rows, encoding = read(csv_bytes([["电话", "名字"], ["13800138000", "王五"]], encoding="gbk"))
    assert rows == [(2, ["13800138000", "王五"])] and encoding == "gb18030"


@pytest.mark.parametrize("bom", [True, False])
def test_utf8_with_or_without_bom(bom):
    headers, rows, encoding = read(csv_bytes([["手机号", "name"], ["13800138000", "张三"]], bom=bom))
    assert headers == ["手机号", "name"]  # no BOM left in the first header
    assert rows == [(2, ["13800138000", "张三"])] and encoding == "utf-8"


def test_excel_unicode_text_utf16_with_tabs_is_read():
    data = "手机号\t姓名\r\n13800138000\t张三\r\n".encode("utf-16")
    headers, rows, encoding = read(data, "list.txt")
    assert (headers, rows, encoding) == (["手机号", "姓名"], [(2, ["13800138000", "张三"])], "utf-16")


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_the_delimiter_is_sniffed(delimiter):
    headers, rows, _encoding = read(csv_bytes([["手机号", "姓名", "订单"], ["13800138000", "张,三", "A1"]], delimiter=delimiter))
    assert headers == ["手机号", "姓名", "订单"]
    assert rows == [(2, ["13800138000", "张,三", "A1"])]


def test_a_one_column_list_is_read():
    headers, rows, _encoding = read(b"phone\n13800138000\n13900139000\n")
    assert headers == ["phone"] and [cells for _number, cells in rows] == [["13800138000"], ["13900139000"]]


def test_blank_rows_are_skipped_and_row_numbers_stay_the_files_own():
    data = b"\n\nphone,name\n13800138000,a\n\n,\n  ,  \n13900139000,b\n"
    headers, rows, _encoding = read(data)
    assert headers == ["phone", "name"]
    assert rows == [(4, ["13800138000", "a"]), (8, ["13900139000", "b"])]


def test_short_rows_are_padded_and_trailing_blank_headers_dropped():
    headers, rows, _encoding = read(b"phone,name,,\n13800138000\n13900139000,b,,\n")
    assert headers == ["phone", "name"]
    assert rows == [(2, ["13800138000", ""]), (3, ["13900139000", "b"])]


def test_a_value_in_a_column_without_header_is_refused_with_row_and_column():
    error = refusal(b"phone,name\n13800138000,a\n13900139000,b,surprise\n")
    assert (error.row, error.column, error.code) == (1, "C", "blank_header")
    assert "Column C has no header in row 1" in text(error) and "row 3 has a value" in text(error)


def test_duplicate_headers_are_refused_naming_both_columns():
    error = refusal(csv_bytes([["手机号", "姓名", "手机号"], ["13800138000", "a", "13900139000"]]))
    assert error.code == "duplicate_header" and error.column == "C"
    assert "columns A and C" in text(error) and "手机号" in text(error)


def test_headers_differing_in_case_are_duplicates():
    assert refusal(b"Name,phone,NAME\na,13800138000,b\n").code == "duplicate_header"


def test_a_blank_header_cell_is_refused_naming_the_column():
    error = refusal(b"phone,,name\n13800138000,x,a\n")
    assert (error.code, error.row, error.column) == ("blank_header", 1, "B")
    assert "column B has no header" in text(error)


def test_a_list_without_a_header_row_is_refused():
    error = refusal(b"13800138000,Zhang San\n13900139000,Li Si\n")
    assert error.code == "no_header" and error.row == 1
    assert "13800138000" in text(error)


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", b"\xef\xbb\xbf", b",,,\n,,\n"])
def test_an_empty_file_is_refused(data):
    assert refusal(data).code == "empty"


def test_headers_without_rows_are_refused():
    assert refusal(b"phone,name\n\n").code == "no_rows"


def test_more_rows_than_allowed_are_refused_saying_how_many():
    data = b"phone\n" + b"".join(b"1380013%04d\n" % index for index in range(12))
    error = refusal(data, max_rows=10)
    assert error.code == "too_many_rows"
    assert "12 rows" in text(error) and "at most 10" in text(error)
    assert len(read(data, max_rows=12)[1]) == 12


def test_an_unclosed_quote_reads_to_the_end_as_excel_does():
    headers, rows, _encoding = read(b'phone,name\n13800138000,"unclosed\n13900139000,b\n')
    assert headers == ["phone", "name"] and rows[0][0] == 2


# ----- not a spreadsheet ----------------------------------------------------------------------------------------

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 4
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
RANDOM = bytes((index * 7919 + 13) % 256 for index in range(4096))


@pytest.mark.parametrize("name", ["list.csv", "list.xlsx"])
@pytest.mark.parametrize("data, code", [(MP3, "not_a_spreadsheet"), (PDF, "not_a_spreadsheet"), (RANDOM, "not_a_spreadsheet")])
def test_a_file_that_is_not_a_spreadsheet_is_refused_whatever_its_name(data, code, name):
    error = refusal(data, name)
    assert error.code == code
    assert ".xlsx or CSV" in text(error)


def test_an_mp3_is_named_for_what_it_is():
    assert "MP3" in text(refusal(MP3, "list.csv"))


@pytest.mark.parametrize("name", ["list.xls", "list.xlsx", "list.csv"])
def test_an_old_xls_workbook_is_refused_saying_to_save_as_xlsx_or_csv(name):
    error = refusal(XLS, name)
    assert error.code == "old_excel"
    assert ".xlsx" in text(error) and "CSV" in text(error)


def test_a_zip_that_is_no_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert refusal(buffer.getvalue(), "list.xlsx").code == "not_a_spreadsheet"


def test_a_damaged_workbook_is_refused():
    data = xlsx_bytes([["phone"], ["13800138000"]])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            target.writestr(item, content[: len(content) // 2] if item.filename.startswith("xl/worksheets/") else content)
    assert refusal(buffer.getvalue(), "list.xlsx").code == "not_a_spreadsheet"


# ----- XLSX -------------------------------------------------------------------------------------------------------

def test_an_xlsx_list_is_read_with_numbers_as_whole_numbers():
    data = xlsx_bytes([["手机号", "姓名", "金额"], [13800138000, "张三", 12.5], [13900139000.0, "李四", 3], [None, None, None],
                       ["138 0013 8001", "王五", None]])
    headers, rows, encoding = read(data, "list.xlsx")
    assert headers == ["手机号", "姓名", "金额"] and encoding == "xlsx"
    assert rows == [(2, ["13800138000", "张三", "12.5"]), (3, ["13900139000", "李四", "3"]), (5, ["138 0013 8001", "王五", ""])]


def test_merged_header_cells_are_refused_naming_the_blank_columns():
    def merge(sheet):
        sheet.merge_cells("B1:C1")

    data = xlsx_bytes([["手机号", "客户", None], [13800138000, "张三", "VIP"]], build=merge)
    error = refusal(data, "list.xlsx")
    assert (error.code, error.row, error.column) == ("blank_header", 1, "C")
    assert "Column C has no header in row 1" in text(error) and "merged" in text(error)


def test_a_merged_header_cell_inside_the_headers_is_refused_naming_the_columns():
    def merge(sheet):
        sheet.merge_cells("A1:B1")

    error = refusal(xlsx_bytes([["客户", None, "手机号"], ["张三", "VIP", 13800138000]], build=merge), "list.xlsx")
    assert (error.code, error.row, error.column) == ("blank_header", 1, "B")
    assert "column B has no header" in text(error)


def test_a_formula_with_its_cached_value_is_read_as_the_value():
    data = xlsx_bytes([["phone", "name"], [13800138000, '=CONCAT("张","三")']])
    # What Excel saves: the formula and the value it computed (openpyxl itself saves no value).
    data = _patched_sheet(data, '<c r="B2"><f>CONCAT("张","三")</f><v /></c>', '<c r="B2" t="str"><f>CONCAT("张","三")</f><v>张三</v></c>')
    _headers, rows, _encoding = read(data, "list.xlsx")
    assert rows == [(2, ["13800138000", "张三"])]


def test_a_formula_without_a_cached_value_is_refused_with_row_and_column():
    data = xlsx_bytes([["phone", "name"], [13800138000, "张三"], [13900139000, "=CONCAT(\"李\",\"四\")"]])
    error = refusal(data, "list.xlsx")
    assert (error.code, error.row, error.column) == ("formula", 3, "B")
    assert "Row 3, column B" in text(error) and "formula" in text(error)


def test_a_cell_showing_an_excel_error_is_refused():
    data = xlsx_bytes([["phone", "name"], [13800138000, "=1/0"]])
    data = _patched_sheet(data, '<c r="B2"><f>1/0</f><v /></c>', '<c r="B2" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
    error = refusal(data, "list.xlsx")
    assert (error.code, error.row, error.column) == ("formula_error", 2, "B")


def test_blank_rows_in_a_workbook_keep_the_sheets_row_numbers():
    def spread(sheet):
        sheet["A7"], sheet["B7"] = 13900139000, "李四"

    headers, rows, _encoding = read(xlsx_bytes([["phone", "name"], [13800138000, "张三"]], build=spread), "list.xlsx")
    assert rows == [(2, ["13800138000", "张三"]), (7, ["13900139000", "李四"])]


def test_a_workbook_over_the_row_limit_is_refused():
    data = xlsx_bytes([["phone"]] + [[13800000000 + index] for index in range(6)])
    error = refusal(data, "list.xlsx", max_rows=5)
    assert error.code == "too_many_rows" and "6 rows" in text(error)


def test_duplicate_headers_in_a_workbook_are_refused():
    assert refusal(xlsx_bytes([["phone", "Phone"], [1, 2]]), "list.xlsx").code == "duplicate_header"


def _patched_sheet(data: bytes, old: str, new: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert old.encode() in content
                content = content.replace(old.encode(), new.encode())
            target.writestr(item, content)
    return buffer.getvalue()


# ----- numbers as Excel leaves them -------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, number", [
    ("13800138000", "13800138000"),
    ("13800138000.0", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("+86 138-0013-8000", "13800138000"),
    ("1.3800138000E+10", "13800138000"),
    ("1.38001380000E+10", "13800138000"),
    ("1.3800138000e10", "13800138000"),
    ("1012345678", "01012345678"),  # Beijing, its 0 lost
    ("2187654321", "02187654321"),  # Shanghai
    ("57188886666", "057188886666"),  # Hangzhou
    ("0571-8888-6666", "057188886666"),
])
def test_numbers_as_excel_leaves_them_are_repaired(cell, number):
    assert number_from_spreadsheet_cell(cell)[0] == number


@pytest.mark.parametrize("cell", ["1.38E+10", "1.38001E+10", "1,38E+10"])
def test_a_number_excel_shortened_is_refused_saying_so(cell):
    with pytest.raises(ValidationError) as caught:
        number_from_spreadsheet_cell(cell)
    assert caught.value.code == "shortened"
    assert f"shortened by Excel to {cell}" in text(caught.value) and "format the column as text" in text(caught.value)


@pytest.mark.parametrize("cell", ["", "12345", "abc", "1.5E+1", "+1 415 555 0100"])
def test_what_is_no_number_stays_refused(cell):
    with pytest.raises(ValidationError):
        number_from_spreadsheet_cell(cell)


@given(st.from_regex(r"1[0-9]{10}", fullmatch=True))
@settings(max_examples=300, deadline=None)
def test_the_fast_path_for_plain_mobiles_agrees_with_the_parser(digits):
    import phonenumbers

    from notifications.rules.identifiers import _ACCEPTED_TYPES, normalize_mainland_number

    try:
        parsed = phonenumbers.parse(digits, "CN")  # what normalize_mainland_number did for every number before
    except phonenumbers.NumberParseException:
        expected = None
    else:
        kind = _ACCEPTED_TYPES.get(phonenumbers.number_type(parsed)) if phonenumbers.is_valid_number(parsed) else None
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        expected = ("".join(ch for ch in national if ch.isdigit()), kind) if kind else None
    try:
        found = normalize_mainland_number(digits)
    except ValidationError:
        found = None
    assert found == expected


# ----- the mapping guessed from the headers -----------------------------------------------------------------------

@pytest.mark.parametrize("header", ["手机号", "手机", "电话", "号码", "被叫号码", "Phone", "mobile", "Number", "callee", "TEL",
                                    "Phone Number", "客户手机号", "联系电话"])
def test_the_callee_column_is_guessed_in_either_language(header):
    assert guess_mapping(["姓名", header, "订单"], [])["callee"] == header


def test_variables_match_their_name_without_case_or_as_placeholders():
    mapping = guess_mapping(["手机号", "Name", "${order_no}", "备注"], ["name", "order_no", "date"])
    assert mapping == {"callee": "手机号", "params": {"name": "Name", "order_no": "${order_no}", "date": None}}


def test_no_guess_when_nothing_fits():
    assert guess_mapping(["a", "b"], ["name"]) == {"callee": None, "params": {"name": None}}


def test_the_preferred_callee_header_wins():
    assert guess_mapping(["电话", "被叫号码"], [])["callee"] == "被叫号码"


# ----- any input --------------------------------------------------------------------------------------------------

cells = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@given(st.lists(st.lists(cells, min_size=1, max_size=4), min_size=0, max_size=6), st.sampled_from(["utf-8", "gb18030"]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_csv_is_read_or_refused_never_crashes(rows, encoding):
    try:
        data = csv_bytes(rows, encoding=encoding)
    except UnicodeEncodeError:
        return
    try:
        headers, read_rows, _encoding = read(data)
    except CampaignFileError as error:
        assert error.messages
        return
    assert headers and all(len(cells) == len(headers) for _number, cells in read_rows)


@given(st.binary(max_size=300))
@settings(max_examples=150, deadline=None)
def test_any_bytes_are_read_or_refused_never_crash(data):
    for name in ("list.csv", "list.xlsx"):
        try:
            read(data, name)
        except CampaignFileError as error:
            assert error.messages


@given(cells)
@settings(max_examples=300, deadline=None)
def test_any_cell_is_a_number_or_refused_with_a_reason(cell):
    try:
        number, kind = number_from_spreadsheet_cell(cell)
    except ValidationError as error:
        assert error.code and error.messages
    else:
        assert number.isdigit() and kind in {"mobile", "landline"}
