"""Daily figures, the dashboard, the CSV export, the audit of full numbers, and query counts that do not grow with rows."""
import csv
import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import AuditEntry, CallExport, CallRecord, DailyCallStat
from notifications.services.numbers import number_access_record, number_mask
from notifications.services.stats import (
    GROUP_FIELDS,
    call_figures,
    daily_stats_mark_dirty,
    daily_stats_rebuild,
    daily_stats_refresh,
    daily_stats_refresh_recent,
)
from tests.history.conftest import make_many

CODES = ["200000", "200001", "200002", "200003", "200010", "", "477"]


def _mixed(make_call, n):
    now = timezone.now()
    for i in range(n):
        make_call(code=CODES[i % len(CODES)], api="voice" if i % 3 == 0 else "tts", dedicated=i % 4 == 0,
                  created_at=now - timedelta(hours=7 * i))


def test_aggregates_equal_a_full_recount(make_call):
    _mixed(make_call, 60)
    daily_stats_rebuild()
    recount = call_figures(CallRecord.objects.order_by().values(*GROUP_FIELDS))
    expected = sorted((r["api"], r["outcome"], r["n"], r["answered"], r["listened"], r["seconds"] or 0) for r in recount)
    totals: dict = {}
    for row in DailyCallStat.objects.all():
        key = (row.api, row.tts_template_id, row.voice_file_id, row.caller_number_id, row.outcome)
        sums = totals.setdefault(key, [0, 0, 0, 0])
        for index, value in enumerate((row.count, row.answered_count, row.listened_count, row.duration_sum)):
            sums[index] += value
    got = sorted((key[0], key[4], *sums) for key, sums in totals.items())
    assert got == expected
    assert sum(row.count for row in DailyCallStat.objects.all()) == 60


def test_refresh_recomputes_only_the_given_day(make_call):
    call = make_call(code="200003")
    daily_stats_refresh(days=[timezone.localdate(call.created_at)])
    CallRecord.objects.filter(pk=call.pk).update(outcome=CallRecord.Outcome.LISTENED, status_code="200000", duration=40)
    assert DailyCallStat.objects.get().outcome == CallRecord.Outcome.NO_ANSWER
    daily_stats_mark_dirty(days=[timezone.localdate(call.created_at)])
    daily_stats_refresh_recent()
    row = DailyCallStat.objects.get()
    assert (row.outcome, row.count, row.answered_count, row.listened_count, row.duration_sum) == ("listened", 1, 1, 1, 40)


def test_dashboard_shows_figures_for_the_range(client, manager, make_call):
    make_call(code="200000", duration=30)
    make_call(code="200001", duration=10)
    make_call(code="200002")
    make_call(code="200003")
    make_call(code="200000", created_at=timezone.now() - timedelta(days=20))
    daily_stats_rebuild()
    client.force_login(manager)
    response = client.get(reverse("notifications:home"))
    total = response.context["figures"]["total"]
    assert (total["count"], total["answered"], total["listened"]) == (4, 2, 1)
    assert total["answered_rate"] == 0.5 and total["average_seconds"] == 20
    assert "<svg" in response.content.decode()
    month = client.get(reverse("notifications:home"), {"range": "30d"}).context["figures"]["total"]
    assert month["count"] == 5


def test_dashboard_counts_receipts_marked_dirty(client, manager, make_call):
    call = make_call(code="")
    daily_stats_rebuild()
    CallRecord.objects.filter(pk=call.pk).update(outcome=CallRecord.Outcome.LISTENED, status=CallRecord.Status.COMPLETED, duration=9)
    daily_stats_mark_dirty(days=[timezone.localdate(call.created_at)])
    client.force_login(manager)
    response = client.get(reverse("notifications:home"))
    assert response.context["figures"]["total"]["listened"] == 1


def test_dashboard_lists_calls_in_flight(client, operator, make_call):
    waiting = make_call(code="")
    make_call(code="200000")
    client.force_login(operator)
    response = client.get(reverse("notifications:home"))
    assert [c.pk for c in response.context["in_flight"]] == [waiting.pk]


def _export(client, **params):
    response = client.get(reverse("notifications:call_record_export"), params)
    body = b"".join(response.streaming_content)
    return response, body


def test_export_is_the_filtered_set_with_bom_and_masked_numbers(client, manager, make_call):
    make_call(code="200002", callee="15911112222")
    make_call(code="200000", callee="15933334444")
    client.force_login(manager)
    response, body = _export(client, outcome="busy")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 2 and len(rows[0]) == len(rows[1])
    assert "159****2222" in rows[1] and "200002" in rows[1]
    assert "15933334444" not in body.decode()
    export = CallExport.objects.get()
    assert (export.user, export.row_count, export.status, export.masked) == (manager, 1, CallExport.Status.FINISHED, True)
    assert export.filters == {"outcome": "busy"}


def test_export_streams_across_blocks(client, manager, make_call, monkeypatch, settings):
    monkeypatch.setattr("notifications.services.exports.PRINT_BLOCK", 7)
    settings.PHONE_MASKING = False
    calls = make_many(make_call, 23)
    client.force_login(manager)
    _response, body = _export(client)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]
    assert [row[1] for row in rows] == [c.out_id for c in sorted(calls, key=lambda c: c.pk)]
    assert CallExport.objects.get().row_count == 23 and not CallExport.objects.get().masked


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_export_of_committed_rows_comes_from_the_helper_processes_in_order(client, manager, make_call, monkeypatch):
    """Outside a transaction SQLite prints the blocks in helper processes, which must hand them back in id order."""
    def printed_here(*_statement):
        raise AssertionError("a large export of committed rows is printed by the helper processes")

    monkeypatch.setattr("notifications.services.exports.PRINT_BLOCK", 4)
    monkeypatch.setattr("notifications.services.exports._block_printed_here", printed_here)
    calls = make_many(make_call, 30, status_msg='忙, "稍后"\n再拨')
    client.force_login(manager)
    _response, body = _export(client, outcome="listened")
    header, *rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert [row[1] for row in rows] == [c.out_id for c in sorted(calls, key=lambda c: c.pk)]
    assert {row[header.index("状态描述")] for row in rows} == {'忙, "稍后"\n再拨'}
    assert {row[header.index("被叫号码")] for row in rows} == {"159****0000"}
    assert CallExport.objects.get().row_count == 30


def test_export_with_a_filter_no_call_can_match_is_the_header_alone(client, manager, make_call):
    make_call(code="200000")
    client.force_login(manager)
    response, body = _export(client, outcome="no-such-outcome")
    assert response.status_code == 200
    assert len(list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))) == 1
    export = CallExport.objects.get()
    assert (export.row_count, export.filters) == (0, {"outcome": "no-such-outcome"})  # recorded as asked, not "all calls"


@pytest.mark.parametrize("number", ["1", "12", "123", "1234567", "12345678", "15912345678", "8613912345678"])
def test_export_masks_numbers_as_the_pages_do(client, manager, make_call, number):
    make_call(callee=number)
    client.force_login(manager)
    _response, body = _export(client)
    header, row = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert row[header.index("被叫号码")] == number_mask(number)


def test_export_shows_times_in_the_company_zone_and_blank_cells_for_missing_ones(client, manager, make_call):
    from datetime import UTC, datetime

    make_call(code="200002", created_at=datetime(2026, 3, 5, 23, 30, 15, tzinfo=UTC),
              end_time=datetime(2026, 3, 5, 23, 31, 0, tzinfo=UTC), status_msg='占线, "忙"\n再试')
    client.force_login(manager)
    _response, body = _export(client)
    header, row = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert row[header.index("创建时间")] == "2026-03-06 07:30:15"  # Asia/Shanghai, UTC+8
    assert row[header.index("结束时间")] == "2026-03-06 07:31:00"
    assert row[header.index("接听时间")] == ""
    assert row[header.index("状态描述")] == '占线, "忙"\n再试'  # quoted, line break kept
    assert CallExport.objects.get().row_count == 1


@pytest.mark.parametrize("zone, utc_times, local_texts", [
    # Summer time starts (02:00 → 03:00) and ends (03:00 → 02:00) in Berlin.
    ("Europe/Berlin", [(3, 29, 0, 59, 59), (3, 29, 1, 0, 0), (10, 25, 0, 30, 5), (10, 25, 1, 30, 5)],
     ["2026-03-29 01:59:59", "2026-03-29 03:00:00", "2026-10-25 02:30:05", "2026-10-25 02:30:05"]),
    # A quarter-hour offset moves the minutes too.
    ("Asia/Kathmandu", [(6, 1, 18, 20, 7)], ["2026-06-02 00:05:07"]),
])
def test_export_times_follow_the_zone_across_offset_changes(client, manager, make_call, settings, zone, utc_times, local_texts):
    from datetime import UTC, datetime

    settings.TIME_ZONE = zone
    for month, day, hour, minute, second in utc_times:
        make_call(code="200000", created_at=datetime(2026, month, day, hour, minute, second, 123456, tzinfo=UTC))
    client.force_login(manager)
    response = client.get(reverse("notifications:call_record_export"), headers={"accept-language": "en"})
    header, *rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == len(local_texts)
    assert sorted(row[header.index("Created at")] for row in rows) == sorted(local_texts)


def test_export_needs_permission_and_exports_are_listed(client, operator, manager, make_call):
    client.force_login(operator)
    assert client.get(reverse("notifications:call_record_export")).status_code == 403
    assert client.get(reverse("notifications:call_export_list")).status_code == 403
    client.force_login(manager)
    _export(client, outcome="busy")
    page = client.get(reverse("notifications:call_export_list"))
    assert page.status_code == 200 and list(page.context["exports"]) == list(CallExport.objects.all())


def test_exports_list_their_filters_in_words(client, manager, make_call, register):
    client.force_login(manager)
    client.cookies["django_language"] = "en"
    _export(client, range="7d", outcome="busy", tts_template=register["template"].pk, callee="13700000000")
    _export(client, outcome="bogus")
    page = client.get(reverse("notifications:call_export_list")).content.decode()
    for shown in ("Quick range: Last 7 days", "Outcome: Busy", "TTS template: Code", "Callee: 137****0000", "Outcome: bogus"):
        assert f'<span class="badge text-bg-light border me-1">{shown}</span>' in page


def test_number_access_is_audited(operator, make_call):
    call = make_call()
    number_access_record(user=operator, call=call)
    access = AuditEntry.objects.get(action=AuditEntry.Action.FULL_NUMBER_VIEW)
    assert (access.user, access.target_id, access.target_label) == (operator, str(call.pk), call.out_id)


def _queries(client, url, params=None) -> int:
    # Every measured request starts with cold caches (the top bar's open-alert count, the health banner): a count
    # cached by an earlier request would take a query off one side only.
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("notifications:call_record_list", {}),
        ("notifications:call_record_list", {"outcome": "listened", "range": "30d"}),
        ("notifications:call_record_list", {"q": "15900000000"}),
        ("notifications:home", {"range": "30d"}),
        ("admin:notifications_callrecord_changelist", {}),
    ],
)
def test_query_count_does_not_grow_with_rows(client, superuser, make_call, name, params):
    client.force_login(superuser)
    make_many(make_call, 10)
    daily_stats_rebuild()
    few = _queries(client, reverse(name), params)
    make_many(make_call, 990, code="200002")
    _mixed(make_call, 50)
    daily_stats_rebuild()
    assert _queries(client, reverse(name), params) == few


def test_admin_changelist_search_and_detail(client, superuser, make_call):
    call = make_call(callee="13700000000")
    make_call()
    client.force_login(superuser)
    response = client.get(reverse("admin:notifications_callrecord_changelist"), {"q": "13700000000"})
    assert response.context["cl"].result_count == 1
    change = reverse("admin:notifications_callrecord_change", args=[call.pk])
    assert client.get(change).status_code == 200
    # What the provider reported is shown, not edited by hand.
    assert 'name="_save"' not in client.get(change).content.decode()
    assert client.post(change, {"status": "failed", "called_number": "13800000000"}).status_code == 403
    assert client.get(reverse("admin:notifications_callrecord_add")).status_code == 403
    call.refresh_from_db()
    assert (call.status, call.called_number) == ("completed", "13700000000")


def test_admin_changelist_says_more_than_when_it_stops_counting(client, superuser, make_call, monkeypatch):
    from notifications.admin.calls import EstimatedCountPaginator

    monkeypatch.setattr(EstimatedCountPaginator, "cap", 3)
    make_many(make_call, 4)
    client.force_login(superuser)
    url = reverse("admin:notifications_callrecord_changelist")
    page = client.get(url, headers={"accept-language": "en"}).content.decode()
    assert "More than 3 call records: narrow the list by date, a filter or a search to reach the others." in page
    page = client.get(url, {"status__exact": "failed"}, headers={"accept-language": "zh-hans"}).content.decode()
    assert "0 呼叫记录" in page and "超过" not in page


def test_admin_changelist_rows_show_local_times_labels_and_checkboxes(client, superuser, make_call):
    call = make_call(callee="13700000000")
    client.force_login(superuser)
    page = client.get(reverse("admin:notifications_callrecord_changelist"), headers={"accept-language": "en"}).content.decode()
    assert f'value="{call.pk}" class="action-select"' in page
    # The time in the company's zone, the choices by their labels, an unset outcome as the admin's empty mark.
    assert timezone.localtime(call.created_at).strftime("%Y-%m-%d %H:%M:%S") in page
    assert all(label in page for label in ("Completed", "Answered, listened to the end", "TTS"))
    make_call(code="")
    in_flight = client.get(reverse("admin:notifications_callrecord_changelist"), {"status__exact": "accepted"}).content.decode()
    assert '<td class="field-outcome_name">-</td>' in in_flight


@pytest.mark.parametrize("query", ["", "?status__exact=completed", "?_popup=1&_to_field=id"])
def test_admin_rows_are_the_ones_django_would_write(rf, superuser, make_call, query):
    from django.contrib import admin
    from django.contrib.admin.templatetags.admin_list import items_for_result

    from notifications.templatetags.call_admin import call_record_row

    make_call(code="200000", user=superuser, dedicated=True)
    make_call(code="200002", api="voice")
    make_call(code="", status_code="  ")  # in flight: no outcome, no duration, a blank code
    request = rf.get(reverse("admin:notifications_callrecord_changelist") + query)
    request.user = superuser
    changelist = admin.site._registry[CallRecord].get_changelist_instance(request)
    assert changelist.result_list
    for record in changelist.result_list:
        assert call_record_row(changelist, record) == list(items_for_result(changelist, record, None))


def test_detail_page_masks_for_managers_and_audits_full_views(client, operator, manager, make_call):
    call = make_call(callee="15912340000")
    url = reverse("notifications:call_record_detail", args=[call.pk])
    client.force_login(manager)
    body = client.get(url).content.decode()
    assert "159****0000" in body and "15912340000" not in body
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.FULL_NUMBER_VIEW).exists()
    client.force_login(operator)
    assert "15912340000" in client.get(url).content.decode()
    access = AuditEntry.objects.get(action=AuditEntry.Action.FULL_NUMBER_VIEW)
    assert (access.user, access.target_id) == (operator, str(call.pk))


def test_detail_page_plays_the_voice_file_of_a_voice_call(client, manager, make_call, register, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "voice").mkdir()
    (tmp_path / "voice" / "tone.wav").write_bytes(b"RIFF-recording")
    call = make_call(api="voice")
    client.force_login(manager)
    body = client.get(reverse("notifications:call_record_detail", args=[call.pk])).content.decode()
    player = reverse("notifications:voice_file_audio", args=[register["voice"].pk])
    assert f'<audio controls preload="none" src="{player}"' in body
    assert b"".join(client.get(player).streaming_content) == b"RIFF-recording"


def test_a_receipt_marks_its_day_for_recount(make_call, django_capture_on_commit_callbacks):
    from notifications.models import DailyStatDirtyDay
    from notifications.services.receipts import VOICE_REPORT, receipts_ingest
    from tests.receipts.conftest import voice_report

    call = make_call(code="", status=CallRecord.Status.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(call)])
    assert list(DailyStatDirtyDay.objects.values_list("day", flat=True)) == [timezone.localdate(call.created_at)]
    daily_stats_refresh_recent()
    assert DailyCallStat.objects.get().listened_count == 1 and not DailyStatDirtyDay.objects.exists()


def test_periodic_follow_up_keeps_todays_figures_current(make_call, settings, vms_simulator):
    from notifications.jobs import calls_follow_up_job

    make_call(code="200000", created_at=timezone.now())
    assert not DailyCallStat.objects.exists()
    calls_follow_up_job()
    assert DailyCallStat.objects.get().listened_count == 1


def test_dashboard_form_names_the_default_range(client, manager):
    client.force_login(manager)
    page = client.get(reverse("notifications:home")).content.decode()
    assert '<option value="7d" selected>' in page


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "Asia/Kathmandu"])
def test_stamp_writes_what_the_date_filter_writes(settings, zone):
    from datetime import UTC, datetime

    from django.template import engines

    settings.TIME_ZONE = zone
    both = engines["django"].from_string('{% load times %}{{ moment|date:"Y-m-d H:i:s" }}|{{ moment|stamp }}')
    for moment in (datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, 5, tzinfo=UTC),
                   datetime(2026, 12, 31, 23, 59, 0, tzinfo=UTC), None):
        by_date, by_stamp = both.render({"moment": moment}).split("|")
        assert by_stamp == by_date
