"""Importing the do-not-call list from the files offices keep: every row checked first, all or nothing, errors by row
and column, numbers already on the list updated, one audit entry for the file."""
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.models import AuditEntry, BlockedNumber
from notifications.services.blocked_numbers import blocked_numbers_import, number_key

from .conftest import csv_bytes, upload, xlsx_bytes

pytestmark = pytest.mark.django_db
Action = AuditEntry.Action
IMPORT = reverse("notifications:blocked_number_import")
LATER = (timezone.localdate() + timedelta(days=30)).isoformat()


def imported(data: bytes, user, name: str = "禁呼名单.csv"):
    return blocked_numbers_import(uploaded_file=upload(data, name), file_name=name, user=user)


def errors_of(result) -> list[tuple[int, str, str]]:
    return [(error.row, error.column, error.message) for error in result.errors]


# ----- what is read -----

def test_a_utf8_csv_with_bom_adds_each_number_with_its_reason_and_expiry(manager):
    data = csv_bytes([["号码", "原因", "到期"], ["13900001230", "投诉", LATER], ["139 0000 1231", "", ""]], bom=True)
    result = imported(data, manager)
    assert (result.imported, result.rows, result.added, result.updated) == (True, 2, 2, 0)
    first, second = BlockedNumber.objects.get(number="13900001230"), BlockedNumber.objects.get(number="13900001231")
    assert (first.reason, first.expires_on.isoformat(), first.created_by) == ("投诉", LATER, manager)
    assert (second.reason, second.expires_on) == ("Imported from 禁呼名单.csv", None)


def test_a_gb18030_csv_with_chinese_headers_is_read(manager):
    data = csv_bytes([["手机号", "拉黑原因", "有效期至"], ["13900001230", "客户要求不再来电", "2099年1月2日"]], encoding="gb18030")
    result = imported(data, manager)
    assert result.imported and result.added == 1
    blocked = BlockedNumber.objects.get()
    assert (blocked.reason, blocked.expires_on) == ("客户要求不再来电", date(2099, 1, 2))


def test_a_utf16_tab_separated_file_as_excel_saves_unicode_text_is_read(manager):
    data = csv_bytes([["number", "reason", "expires"], ["+86 139 0000 1230", "complaint", "2099/3/4"]],
                     encoding="utf-16-le", bom=True, delimiter="\t")
    assert data.startswith(b"\xff\xfe")
    result = imported(data, manager, "list.txt")
    assert result.imported, errors_of(result)
    assert BlockedNumber.objects.get().number == "13900001230"
    assert BlockedNumber.objects.get().expires_on == date(2099, 3, 4)


def test_an_xlsx_with_excel_number_damage_repaired_and_real_dates(manager):
    data = xlsx_bytes([["手机号码", "备注", "到期日期"], [13900001230.0, "投诉", datetime(2099, 5, 6)],
                       ["139 0000 1231", None, None], ["+8613900001232", "骚扰", "2099-05-07"]])
    result = imported(data, manager, "名单.xlsx")
    assert result.imported, errors_of(result)
    assert dict(BlockedNumber.objects.values_list("number", "expires_on")) == {
        "13900001230": date(2099, 5, 6), "13900001231": None, "13900001232": date(2099, 5, 7)}


def test_a_number_already_on_the_list_is_updated_and_counted_so(manager, operator):
    BlockedNumber.objects.create(number="13900001230", reason="旧原因", created_by=operator)
    BlockedNumber.objects.create(number="13900001231", reason="不变")
    data = csv_bytes([["号码", "原因", "到期"], ["13900001230", "新原因", LATER], ["13900001231", "", ""], ["13900001232", "新", ""]])
    result = imported(data, manager)
    assert (result.added, result.updated, result.unchanged) == (1, 1, 1)
    updated = BlockedNumber.objects.get(number="13900001230")
    assert (updated.reason, updated.expires_on.isoformat(), updated.created_by) == ("新原因", LATER, operator)
    assert BlockedNumber.objects.get(number="13900001231").reason == "不变"  # an empty reason keeps the one on the list


def test_without_an_expiry_column_the_expiries_on_the_list_are_kept(manager):
    BlockedNumber.objects.create(number="13900001230", reason="投诉", expires_on=date(2099, 1, 1))
    result = imported(csv_bytes([["号码", "原因"], ["13900001230", "再次投诉"]]), manager)
    assert result.updated == 1
    assert BlockedNumber.objects.get().expires_on == date(2099, 1, 1)


def test_the_import_is_one_audit_entry_and_each_number_added_or_changed_is_auditable(manager):
    BlockedNumber.objects.create(number="13900001230", reason="旧")
    imported(csv_bytes([["号码", "原因"], ["13900001230", "新"], ["13900001231", "投诉"]]), manager, "list.csv")
    [entry] = AuditEntry.objects.filter(action=Action.BLOCKED_NUMBERS_IMPORTED)
    assert (entry.user, entry.target_label) == (manager, "list.csv")
    assert entry.details == {"file": "list.csv", "rows": 2, "added": 1, "updated": 1, "unchanged": 0}
    added = AuditEntry.objects.get(action=Action.BLOCKED_NUMBER_ADDED)
    changed = AuditEntry.objects.get(action=Action.BLOCKED_NUMBER_CHANGED)
    assert (added.target_label, added.details["number_id"], added.details["file"]) == ("139****1231", number_key("13900001231"), "list.csv")
    assert (changed.target_label, changed.details["reason"]) == ("139****1230", "新")
    assert "13900001231" not in str(list(AuditEntry.objects.values_list("target_label", "details")))


# ----- what is refused: nothing imported, each error with its row and column -----

BAD_ROWS = [
    (["1.38E+10", "投诉", ""], "A", "shortened by Excel"),
    (["12345", "投诉", ""], "A", "not a valid"),
    (["", "投诉", ""], "A", "The number is missing."),
    (["13900001239", "投诉", "明天"], "C", "is not a date"),
    (["13900001239", "投诉", "2026-02-30"], "C", "is not a date"),
    (["13900001239", "投诉", "2001-01-01"], "C", "has passed"),
    (["13900001239", "长" * 201, ""], "B", "at most 200"),
    (["13900001230", "重复", ""], "A", "already in row 2 of the file"),
]


@pytest.mark.parametrize("row, column, words", BAD_ROWS)
def test_a_bad_row_refuses_the_whole_file_naming_row_and_column(manager, row, column, words):
    data = csv_bytes([["号码", "原因", "到期"], ["13900001230", "投诉", ""], row])
    result = imported(data, manager)
    assert not result.imported
    [(row_number, letter, message)] = errors_of(result)
    assert (row_number, letter) == (3, column)
    assert words in message
    assert not BlockedNumber.objects.exists()
    assert not AuditEntry.objects.exists()


def test_every_bad_row_is_reported_in_file_order(manager):
    data = csv_bytes([["号码", "原因", "到期"], ["12345", "", "昨天"], ["13900001230", "", ""], ["1.38E+10", "", ""]])
    result = imported(data, manager)
    assert [(row, column) for row, column, _message in errors_of(result)] == [(2, "A"), (2, "C"), (4, "A")]
    assert result.error_count == 2 and result.rows == 3


MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 4
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
RANDOM = bytes((index * 7919 + 13) % 256 for index in range(4096))


@pytest.mark.parametrize("data, words", [(MP3, "MP3"), (PDF, "PDF"), (RANDOM, "not a spreadsheet"), (XLS, ".xls"),
                                         (b"", "empty"), (csv_bytes([["姓名"], ["张三"]]), "No column holds the numbers")])
def test_a_file_that_is_no_list_of_numbers_is_refused_saying_why(manager, data, words):
    result = imported(data, manager, "名单.csv")
    assert not result.imported
    assert words in result.errors[0].message
    assert not BlockedNumber.objects.exists()


def test_the_file_size_and_row_limits_are_settings(manager, settings):
    settings.BLOCKED_NUMBERS_IMPORT_MAX_ROWS = 2
    rows = [["号码"], *([f"1390000{index:04d}"] for index in range(3))]
    result = imported(csv_bytes(rows), manager)
    assert "at most 2" in result.errors[0].message and not BlockedNumber.objects.exists()
    settings.BLOCKED_NUMBERS_IMPORT_MAX_BYTES = 10
    assert "MB" in imported(csv_bytes(rows[:2]), manager).errors[0].message


def test_a_number_added_meanwhile_by_someone_else_imports_nothing_and_says_to_upload_again(manager, monkeypatch):
    manager_of_rows = BlockedNumber.objects
    insert = manager_of_rows.bulk_create

    def someone_blocks_first(rows, **kwargs):  # between the import's look-up and its insert
        BlockedNumber(number="13900001231", reason="同时添加").save()
        return insert(rows, **kwargs)

    monkeypatch.setattr(manager_of_rows, "bulk_create", someone_blocks_first)
    result = imported(csv_bytes([["号码"], ["13900001230"], ["13900001231"]]), manager)
    assert not result.imported and "Upload the file again" in result.errors[0].message
    assert not BlockedNumber.objects.filter(number="13900001230").exists()
    assert not AuditEntry.objects.filter(action=Action.BLOCKED_NUMBERS_IMPORTED).exists()


# ----- the page -----

def test_the_page_shows_the_counts_after_an_import(client, manager):
    client.force_login(manager)
    BlockedNumber.objects.create(number="13900001230", reason="旧")
    data = csv_bytes([["号码", "原因"], ["13900001230", "新"], ["13900001231", "投诉"]])
    response = client.post(IMPORT, {"file": upload(data)})
    page = response.content.decode()
    assert response.status_code == 200 and response.context["result"].imported
    assert 'data-count="added">1<' in page and 'data-count="updated">1<' in page and 'data-count="refused">0<' in page


def test_the_page_lists_the_errors_and_says_nothing_was_imported(client, manager):
    client.force_login(manager)
    data = csv_bytes([["号码", "原因", "到期"], ["13900001230", "", ""], ["1.38E+10", "", "2001-01-01"]])
    response = client.post(IMPORT, {"file": upload(data)}, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported" in page and "No number was added or changed" in page
    assert "<td>3</td><td>A (号码)</td>" in page and "<td>3</td><td>C (到期)</td>" in page
    assert not BlockedNumber.objects.exists()


def test_a_missing_file_is_an_error_next_to_the_field(client, manager):
    client.force_login(manager)
    response = client.post(IMPORT, {})
    assert response.status_code == 200 and response.context["form"].errors["file"]


def test_operators_cannot_import_and_anonymous_users_are_sent_to_sign_in(client, operator):
    response = client.get(IMPORT)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    client.force_login(operator)
    assert client.get(IMPORT).status_code == 403
    assert client.post(IMPORT, {"file": upload(csv_bytes([["号码"], ["13900001230"]]))}).status_code == 403
    assert not BlockedNumber.objects.exists()
    assert "blocked-numbers/import/" not in client.get(reverse("notifications:blocked_number_list")).content.decode()


# ----- anything at all: imported, or a message; never a server error -----

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.binary(max_size=600) | st.binary(max_size=200).map(lambda tail: b"PK\x03\x04" + tail)
       | st.binary(max_size=200).map(lambda tail: b"\xff\xfe" + tail))
def test_arbitrary_bytes_never_fail_the_page(client, manager, data):
    client.force_login(manager)
    response = client.post(IMPORT, {"file": upload(data, "x.csv")})
    assert response.status_code == 200
    result = response.context["result"]
    if result is None:  # an empty upload: the form says so next to its field
        assert response.context["form"].errors["file"]
    else:
        assert result.imported or result.errors[0].message


cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(cells | st.sampled_from(["13900001230", "1.39E+10", "+86 139 0000 1231", "13900001232.0"]),
                               cells, cells | st.sampled_from(["2099-01-01", "2001-01-01", "2099年2月3日"])), min_size=1, max_size=6))
def test_arbitrary_cells_are_imported_or_refused_by_row_and_column(manager, rows):
    before = set(BlockedNumber.objects.values_list("number", "reason", "expires_on"))
    result = imported(csv_bytes([["号码", "原因", "到期"], *rows]), manager)
    if result.imported:
        assert result.added + result.updated + result.unchanged == result.rows
    else:
        assert result.errors and all(error.message for error in result.errors)
        assert all(error.column in "ABC" and error.column for error in result.errors if error.row >= 2)
        assert set(BlockedNumber.objects.values_list("number", "reason", "expires_on")) == before


def test_the_audit_log_page_tells_the_import_in_words(client, manager):
    imported(csv_bytes([["号码", "原因", "到期"], ["13900001230", "投诉", "2099-01-01"]]), manager, "list.csv")
    client.force_login(manager)
    page = client.get(reverse("notifications:audit_log"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 added, 0 updated, 0 unchanged, of 1 rows" in page
    assert "blocked until 2099-01-01" in page and "from the file list.csv" in page


xlsx_cells = (st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20) | st.none()
              | st.floats(allow_nan=False, allow_infinity=False) | st.integers(min_value=-10**15, max_value=10**15)
              | st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2200, 1, 1)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(xlsx_cells, xlsx_cells, xlsx_cells), min_size=1, max_size=5))
def test_arbitrary_xlsx_cells_are_imported_or_refused_by_row_and_column(manager, rows):
    result = imported(xlsx_bytes([["手机号", "原因", "到期"], *rows]), manager, "名单.xlsx")
    if result.imported:
        assert result.added + result.updated + result.unchanged == result.rows
    else:
        assert result.errors and all(error.message for error in result.errors)
