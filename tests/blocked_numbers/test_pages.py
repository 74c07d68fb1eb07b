"""The list with expiries (and its filter), the add form's expiry, the downloads masked by role, one page per number,
and the Django admin."""
import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from notifications.models import AuditEntry, BlockedNumber
from notifications.services.blocked_numbers import calls_to
from tests.dialing.conftest import queued_call

pytestmark = pytest.mark.django_db
LIST = reverse("notifications:blocked_number_list")
ADD = reverse("notifications:blocked_number_create")
CSV = reverse("notifications:blocked_number_export_csv")
XLSX = reverse("notifications:blocked_number_export_xlsx")
TODAY = timezone.localdate()


@pytest.fixture
def blocks(db):
    return (BlockedNumber.objects.create(number="13900001230", reason="=HYPERLINK(\"http://x\")", expires_on=TODAY + timedelta(days=3)),
            BlockedNumber.objects.create(number="13900001231", reason="合同结束", expires_on=TODAY - timedelta(days=1)),
            BlockedNumber.objects.create(number="13900001232", reason="投诉"))


# ----- the list -----

def test_the_list_shows_each_expiry_and_marks_expired_blocks_in_words_and_colour(client, operator, blocks):
    client.force_login(operator)
    page = client.get(LIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (TODAY + timedelta(days=3)).isoformat() in page and (TODAY - timedelta(days=1)).isoformat() in page
    assert page.count('<span class="va-state va-state-expired">Expired</span>') == 1
    assert page.count('<span class="va-state va-state-blocking">Blocking</span>') == 2
    assert "No expiry" in page


@pytest.mark.parametrize("state, shown", [("active", {"13900001230", "13900001232"}), ("expired", {"13900001231"}),
                                          ("", {"13900001230", "13900001231", "13900001232"})])
def test_the_list_filters_active_and_expired_blocks(client, operator, blocks, state, shown):
    client.force_login(operator)
    listed = client.get(LIST, {"state": state}).context["page"].object_list
    assert {blocked.number for blocked in listed} == shown


def test_the_add_form_takes_an_optional_expiry_not_in_the_past(client, manager):
    client.force_login(manager)
    past = client.post(ADD, {"number": "13900001230", "reason": "投诉", "expires_on": (TODAY - timedelta(days=1)).isoformat()})
    assert past.status_code == 200 and past.context["form"].has_error("expires_on", "past")
    assert 'type="date"' in past.content.decode()
    assert not BlockedNumber.objects.exists()
    client.post(ADD, {"number": "13900001230", "reason": "投诉", "expires_on": TODAY.isoformat()})
    assert BlockedNumber.objects.get().expires_on == TODAY  # today is its last day: still blocked today
    entry = AuditEntry.objects.get(action=AuditEntry.Action.BLOCKED_NUMBER_ADDED)
    assert entry.details["expires"] == TODAY.isoformat()


# ----- downloads -----

def rows_of_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # so that Excel reads UTF-8
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_csv_masks_numbers_for_a_role_that_sees_them_masked_and_is_formula_safe(client, manager, blocks):
    client.force_login(manager)
    response = client.get(CSV, HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Disposition"] == 'attachment; filename="do-not-call-list.csv"'
    header, *rows = rows_of_csv(response)
    assert header == ["Number", "Reason", "Blocked until", "State", "Blocked by", "Blocked at"]
    by_number = {row[0]: row for row in rows}
    assert set(by_number) == {"139****1230", "139****1231", "139****1232"}
    assert by_number["139****1230"][1] == "'=HYPERLINK(\"http://x\")"
    assert by_number["139****1231"][2:4] == [(TODAY - timedelta(days=1)).isoformat(), "Expired"]
    assert "13900001230" not in str(rows)


def test_the_csv_has_full_numbers_for_a_role_that_sees_them_and_follows_the_filter(client, operator, blocks):
    client.force_login(operator)
    _header, *rows = rows_of_csv(client.get(CSV, {"state": "expired"}))
    assert [row[0] for row in rows] == ["13900001231"]


def test_each_download_is_in_the_audit_log_without_the_numbers_or_the_search(client, operator, manager, blocks):
    client.force_login(operator)
    b"".join(client.get(CSV, {"state": "expired", "q": "1390000"}).streaming_content)
    client.force_login(manager)
    client.get(XLSX)
    first, second = AuditEntry.objects.filter(action=AuditEntry.Action.BLOCKED_NUMBERS_EXPORTED).order_by("id")
    assert (first.user, first.details) == (operator, {"format": "csv", "numbers": 1, "state": "expired",
                                                      "searched": True, "masked": False})
    assert (second.user, second.details["format"], second.details["numbers"], second.details["masked"]) == (
        manager, "xlsx", 3, True)
    assert "1390000" not in str(first.details) + first.target_label
    page = client.get(reverse("notifications:audit_log"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Do-not-call list downloaded" in page and "3 numbers as XLSX" in page and "narrowed by a search" in page


def test_the_xlsx_is_masked_and_formula_safe_too(client, manager, blocks):
    client.force_login(manager)
    response = client.get(XLSX)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert {row[0] for row in values[1:]} == {"139****1230", "139****1231", "139****1232"}
    cell = next(row for row in sheet.iter_rows() if row[0].value == "139****1230")[1]
    assert cell.data_type == "s" and cell.value.startswith("'=")


# ----- one number's page -----

def test_the_number_page_lists_its_calls_newest_first_paginated_and_masked(client, manager, notice, blocks):
    calls = [queued_call(notice, "13900001230") for _index in range(27)]
    other = queued_call(notice, "13900009999")
    client.force_login(manager)
    url = reverse("notifications:blocked_number_detail", args=[blocks[0].pk])
    assert "13900001230" not in url
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    listed = list(page.context["page"].object_list)
    assert listed == sorted(calls, key=lambda call: (call.created_at, call.pk), reverse=True)[:25]
    body = page.content.decode()
    assert reverse("notifications:call_record_detail", args=[listed[0].pk]) in body
    assert other.out_id not in body and "27 calls" in body
    assert "139****1230" in body and "13900001230" not in body
    assert len(client.get(url, {"page": 2}).context["page"].object_list) == 2
    current = body[body.index('id="va-current-block"'):body.index('id="va-block-history"')]
    assert (TODAY + timedelta(days=3)).isoformat() in current and "HYPERLINK" in current


def test_a_role_that_sees_full_numbers_sees_it_whole_and_the_view_is_audited(client, operator, blocks):
    client.force_login(operator)
    body = client.get(reverse("notifications:blocked_number_detail", args=[blocks[0].pk])).content.decode()
    assert "13900001230" in body
    assert AuditEntry.objects.filter(action=AuditEntry.Action.FULL_NUMBER_VIEW, target_label="139****1230").exists()


def test_a_number_unblocked_later_still_has_its_page_from_a_call_with_the_history(client, manager, notice):
    call = queued_call(notice, "13900001230")
    client.force_login(manager)
    client.post(ADD + f"?call={call.pk}", {"reason": "投诉", "call": call.pk})
    first = BlockedNumber.objects.get()
    client.post(reverse("notifications:blocked_number_delete", args=[first.pk]))
    client.post(ADD + f"?call={call.pk}", {"reason": "再次投诉", "call": call.pk})
    client.post(reverse("notifications:blocked_number_delete", args=[BlockedNumber.objects.get().pk]))
    url = reverse("notifications:call_number_page", args=[call.pk])
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and response.context["current"] is None
    assert [entry.action for entry in response.context["history"]] == [
        AuditEntry.Action.BLOCKED_NUMBER_REMOVED, AuditEntry.Action.BLOCKED_NUMBER_ADDED,
        AuditEntry.Action.BLOCKED_NUMBER_REMOVED, AuditEntry.Action.BLOCKED_NUMBER_ADDED]
    body = response.content.decode()
    assert "Not on the list" in body and "再次投诉" in body and call.out_id in body
    assert "13900001230" not in body


def test_the_call_page_links_to_its_numbers_page(client, operator, notice):
    call = queued_call(notice, "13900001230")
    client.force_login(operator)
    body = client.get(reverse("notifications:call_record_detail", args=[call.pk])).content.decode()
    assert reverse("notifications:call_number_page", args=[call.pk]) in body


def test_the_calls_are_found_through_the_callee_index():
    sql, params = calls_to("13900001230").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A nearly empty table is read whole whatever its indexes: with that ruled out, the plan shows what serves.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "callrecord_callee_idx" in plan, plan
    if connection.vendor == "sqlite":
        assert "SCAN" not in plan.replace("SCAN CONSTANT", ""), plan


def test_anonymous_users_are_sent_to_sign_in(client, blocks, notice):
    call = queued_call(notice, "13900001230")
    pages = (reverse("notifications:blocked_number_detail", args=[blocks[0].pk]),
             reverse("notifications:call_number_page", args=[call.pk]), CSV, XLSX, LIST, reverse("notifications:blocked_number_import"))
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


# ----- the Django admin -----

def test_the_admin_shows_and_edits_the_expiry(client, superuser, blocks):
    client.force_login(superuser)
    listing = client.get(reverse("admin:notifications_blockednumber_changelist"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "blocked until" in listing.lower() and "Expired" in listing
    change = client.get(reverse("admin:notifications_blockednumber_change", args=[blocks[2].pk])).content.decode()
    assert 'name="expires_on"' in change
    expired = client.get(reverse("admin:notifications_blockednumber_changelist"), {"state": "expired"}).context["cl"].result_list
    assert [blocked.number for blocked in expired] == ["13900001231"]
