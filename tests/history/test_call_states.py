"""Honest final states and calls placed elsewhere, as the call log, the detail page, the dashboard and the admin show them.

The rows are made directly: setting these states is the dispatcher's, the follow-up's and the receipt inbox's work.
"""
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import CallRecord
from notifications.selectors import call_record_list
from notifications.services.stats import daily_stats_rebuild, dashboard_figures

URL = reverse("notifications:call_record_list")
S = CallRecord.Status
TIMEOUT = "No answer to the send (read timeout); its CallId was never learned."


@pytest.fixture
def states(make_call):
    """One call in each state the log must tell apart, newest first."""
    now = timezone.now()
    return {
        "completed": make_call(code="200000", created_at=now - timedelta(minutes=1)),
        "failed": make_call(code="200002", created_at=now - timedelta(minutes=2)),
        # As the dispatcher leaves a call whose result cannot be learned: final, with the reason.
        "outcome_unknown": make_call(code="", status=S.OUTCOME_UNKNOWN, outcome=CallRecord.Outcome.UNKNOWN, call_id=None,
                                     api_message=TIMEOUT, created_at=now - timedelta(minutes=3)),
        "unknown": make_call(code="", status=S.UNKNOWN, call_id=None, created_at=now - timedelta(minutes=4)),
        # As the receipt inbox records another system's call: no template, voice file, caller number, mode or user.
        "elsewhere": make_call(code="200000", api=CallRecord.Api.OTHER, mode="", placed_elsewhere=True, callee="13900001111",
                               api_message="Placed by another system using this account; known from its receipts.",
                               created_at=now - timedelta(minutes=5)),
    }


def out_ids(response) -> list[str]:
    return re.findall(r">(T\d{10})</a>", response.content.decode())


def lines(response) -> dict[str, str]:
    """Each table row of the call log by its OutId."""
    body = response.content.decode().split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return {re.search(r">(T\d{10})</a>", row).group(1): row for row in body.split("<tr")[1:]}


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", {"outcome_unknown": "Outcome unknown", "unknown": "Unclear, being checked", "failed": "Failed",
                "elsewhere": "Placed elsewhere"}),
        ("zh-hans", {"outcome_unknown": "结果未知", "unknown": "情况不明，核实中", "failed": "失败", "elsewhere": "其他系统发起"}),
    ],
)
def test_each_state_is_shown_in_its_own_words_and_colour(client, operator, states, language, words):
    client.force_login(operator)
    client.cookies["django_language"] = language
    shown = lines(client.get(URL))
    assert set(shown) == {call.out_id for call in states.values()}  # the whole account: ours and elsewhere alike
    for state in ("outcome_unknown", "unknown", "failed"):
        assert f'<span class="va-state va-state-{state}"' in shown[states[state].out_id]
        assert f">{words[state]}</span>" in shown[states[state].out_id]
    # Outcome unknown is not dressed as failed, and says why in its tooltip.
    assert "va-state-failed" not in shown[states["outcome_unknown"].out_id].split("</td>")[5]
    assert 'title="' in shown[states["outcome_unknown"].out_id]
    elsewhere = shown[states["elsewhere"].out_id]
    assert elsewhere.startswith(' class="va-row-elsewhere"')
    assert '<span class="va-state va-elsewhere" title="' in elsewhere and f">{words['elsewhere']}</span>" in elsewhere
    assert "va-elsewhere" not in shown[states["completed"].out_id]


def test_a_call_placed_elsewhere_has_dashes_that_say_why_not_misleading_blanks(client, operator, states):
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    cells = lines(client.get(URL))[states["elsewhere"].out_id].split("</td>")
    caller, resource, placed_by = cells[3], cells[4], cells[9]
    for cell in (caller, resource):
        assert 'title="Not known: another system using this account placed this call">—</span>' in cell
    assert "Public pool" not in caller  # not ours from the public pool: its caller number is simply not known
    assert "Not known (placed elsewhere):" not in resource
    assert ">Placed elsewhere</span>" in placed_by
    ours = lines(client.get(URL))[states["completed"].out_id]
    assert "Public pool" in ours and "TTS: Code" in ours


def test_the_status_filter_offers_every_state_and_returns_exactly_its_calls(client, operator, states):
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    page = client.get(URL).content.decode()
    select = page.split('name="status"', 1)[1].split("</select>", 1)[0]
    assert '<option value="outcome_unknown">Outcome unknown</option>' in select
    assert '<option value="unknown">Unclear, being checked</option>' in select
    expected = {
        "outcome_unknown": {states["outcome_unknown"].out_id},
        "unknown": {states["unknown"].out_id},
        "failed": {states["failed"].out_id},
        "completed": {states["completed"].out_id, states["elsewhere"].out_id},
    }
    for status, wanted in expected.items():
        assert set(out_ids(client.get(URL, {"status": status}))) == wanted, status


def test_who_placed_it_filters_ours_elsewhere_or_all(client, operator, states):
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    everyone = {call.out_id for call in states.values()}
    assert set(out_ids(client.get(URL, {"placed": "elsewhere"}))) == {states["elsewhere"].out_id}
    assert set(out_ids(client.get(URL, {"placed": "ours"}))) == everyone - {states["elsewhere"].out_id}
    assert set(out_ids(client.get(URL, {"placed": ""}))) == everyone
    # Combined with another filter, and counted as the footer says.
    response = client.get(URL, {"placed": "elsewhere", "status": "completed"})
    assert out_ids(response) == [states["elsewhere"].out_id] and response.context["count"].value == 1
    assert out_ids(client.get(URL, {"placed": "ours", "outcome": "listened"})) == [states["completed"].out_id]
    page = client.get(URL).content.decode()
    assert '<label class="form-label small mb-1" for="id_placed">Who placed it</label>' in page
    assert "Anyone (whole account)" in page


def test_an_unknown_choice_in_the_new_filters_is_an_error_that_matches_nothing(client, operator, states):
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    for params in ({"placed": "martians"}, {"status": "lost"}):
        response = client.get(URL, params)
        assert response.status_code == 200 and out_ids(response) == []
        assert list(response.context["filter"].form.errors) == list(params)


def test_the_export_list_names_the_new_filters_in_words(client, manager, states):
    client.force_login(manager)
    client.cookies["django_language"] = "en"
    b"".join(client.get(reverse("notifications:call_record_export"), {"placed": "elsewhere", "status": "outcome_unknown"})
             .streaming_content)
    page = client.get(reverse("notifications:call_export_list")).content.decode()
    assert "Who placed it" in page and "Placed elsewhere" in page and "Outcome unknown" in page


def test_the_elsewhere_filter_seeks_its_index(db):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL seeks it with either spelling; SQLite needs the IN list")
    for value in ("elsewhere", "ours"):
        queryset = call_record_list(data={"placed": value}).qs.order_by("-created_at", "-id").values("id")[:51]
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "callrecord_elsewhere_idx" in plan, plan


def test_our_failed_calls_seek_the_status_index_not_the_elsewhere_one(db):
    """Nearly every call is ours: walking callrecord_elsewhere_idx over 7 days to find the failed ones took the
    count 7 s at a million calls, where the status index answers it in a fraction of that."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's planner has statistics to choose with")
    queryset = call_record_list(data={"placed": "ours", "status": "failed", "range": "7d"}).qs
    sql, params = queryset.order_by("-created_at", "-id").values("id")[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "callrecord_status_idx" in plan, plan


def test_new_states_add_no_query_per_row(client, operator, make_call, states):
    client.force_login(operator)

    def queries(params):
        with CaptureQueriesContext(connection) as captured:
            client.get(URL, params)
        return len(captured)

    few = {params: queries(dict(params)) for params in ((), (("placed", "elsewhere"),), (("status", "outcome_unknown"),))}
    for _ in range(20):
        make_call(code="", api=CallRecord.Api.OTHER, mode="", placed_elsewhere=True, status=S.OUTCOME_UNKNOWN)
    assert {params: queries(dict(params)) for params in few} == few


# ----- the detail page -----
@pytest.mark.parametrize(
    ("language", "explained", "reason"),
    [
        ("en", "The provider's answer never came; the call may have been placed. It was not redialled.", "Reason:"),
        ("zh-hans", "服务商的应答始终未到；呼叫可能已经发出。系统未重拨。", "原因："),
    ],
)
def test_detail_explains_outcome_unknown_with_its_reason(client, operator, states, language, explained, reason):
    client.force_login(operator)
    client.cookies["django_language"] = language
    call = states["outcome_unknown"]
    page = client.get(reverse("notifications:call_record_detail", args=[call.pk])).content.decode()
    card = page.split('id="va-call-status"', 1)[1].split('id="va-call-timeline-slot"', 1)[0]
    assert explained in card and f"{reason}</strong> {TIMEOUT}" in card
    assert 'class="va-state va-state-outcome_unknown"' in card
    assert "calls.js" not in page  # final: the page does not poll for more
    # The live fragment the page polls says the same.
    status = client.get(reverse("notifications:call_record_status", args=[call.pk])).json()
    assert status["final"] is True and explained in status["status_html"]


def test_detail_says_an_unclear_call_is_still_being_checked(client, operator, states):
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("notifications:call_record_detail", args=[states["unknown"].pk])).content.decode()
    assert "Unclear, being checked" in page
    assert "No clear answer from the provider yet; a receipt or a detail query will settle it." in page
    assert "The provider's answer never came" not in page
    assert "calls.js" in page  # not final: it keeps updating


@pytest.mark.parametrize(
    ("language", "explained", "placed_by"),
    [
        ("en", "Placed by another system using this account; details come from its receipts and detail queries.",
         "Another system using this account"),
        ("zh-hans", "由使用本账号的其他系统发起；详情来自其回执和详单查询。", "使用本账号的其他系统"),
    ],
)
def test_detail_explains_a_call_placed_elsewhere(client, operator, states, language, explained, placed_by):
    client.force_login(operator)
    client.cookies["django_language"] = language
    page = client.get(reverse("notifications:call_record_detail", args=[states["elsewhere"].pk])).content.decode()
    assert explained in page.split('id="va-call-elsewhere"', 1)[1].split("</div>", 1)[0]
    assert f'<dd class="col-sm-8">{placed_by}</dd>' in page
    requested = page.split('id="va-call"', 1)[1].split("</dl>", 1)[0]
    # No settings of ours pretend to be the other system's (play times, volume, the public pool).
    for misleading in ("Play times", "Volume", "Public pool", "播放次数", "音量", "公共号池"):
        assert misleading not in requested
    assert "13900001111" in requested  # the callee, as its receipts named it


def test_detail_of_our_own_call_is_unchanged(client, operator, states):
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("notifications:call_record_detail", args=[states["completed"].pk])).content.decode()
    assert "va-call-elsewhere" not in page and "Play times" in page and "TTS · Public" in page


# ----- the dashboard -----
def test_dashboard_counts_outcome_unknown_and_elsewhere_apart(client, manager, states, make_call):
    make_call(code="", status=S.OUTCOME_UNKNOWN, outcome="", call_id=None)  # no outcome at all: still its own figure
    make_call(code="200003", api=CallRecord.Api.OTHER, mode="", placed_elsewhere=True)
    make_call(code="200000", created_at=timezone.now() - timedelta(days=20))  # outside the 7 days
    daily_stats_rebuild()
    today = timezone.localdate()
    figures = dashboard_figures(first=today - timedelta(days=6), last=today)
    total = figures["total"]
    assert (total["count"], total["outcome_unknown"], total["elsewhere"]) == (7, 2, 2)
    by_outcome = {row["outcome"]: row["count"] for row in figures["by_outcome"]}
    # Each outcome-unknown call in its own bucket, neither under failed nor under "no outcome yet" / "unknown".
    assert by_outcome == {"outcome_unknown": 2, "listened": 2, "busy": 1, "no_answer": 1, "": 1}
    assert sum(by_outcome.values()) == total["count"]
    # Calls placed elsewhere have their own lines: not merged into the public pool nor into a template.
    callers = {(row["caller_number__number"], row["elsewhere"]): row["count"] for row in figures["by_caller"]}
    assert callers == {(None, False): 5, (None, True): 2}
    resources = [row for row in figures["by_resource"] if row["elsewhere"]]
    assert [(row["count"], row["answered"]) for row in resources] == [(2, 1)]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ("Outcome unknown", "of which 1 placed elsewhere", "Not counted as failed.", "template or voice file not known")),
        ("zh-hans", ("结果未知", "其中 1 通由其他系统发起", "不计入失败。", "模板或语音文件不详")),
    ],
)
def test_dashboard_page_shows_both_figures_in_words(client, manager, states, language, words):
    daily_stats_rebuild()
    client.force_login(manager)
    client.cookies["django_language"] = language
    response = client.get(reverse("notifications:home"))
    page = response.content.decode()
    for text in words:
        assert text in page, text
    today = timezone.localdate()
    days = f"date_from={today - timedelta(days=6)}&amp;date_to={today}"
    assert f'data-figure="outcome_unknown"><a href="{URL}?status=outcome_unknown&amp;{days}">1</a>' in page
    assert f'href="{URL}?placed=elsewhere&amp;{days}"' in page
    # The outcome chart draws it as its own bar, in its own colour.
    assert 'class="va-chart-share va-state-outcome_unknown"' in str(response.context["outcome_chart"])
    # An unclear call is still in flight; an outcome-unknown one is final and is not.
    assert [call.pk for call in response.context["in_flight"]] == [states["unknown"].pk]


def test_dashboard_links_lead_to_exactly_those_calls(client, manager, states):
    daily_stats_rebuild()
    client.force_login(manager)
    page = client.get(reverse("notifications:home")).content.decode()
    for figure, state in (("outcome_unknown", "outcome_unknown"), ("elsewhere", "elsewhere")):
        link = re.search(rf'data-figure="{figure}"><a href="([^"]+)"', page).group(1).replace("&amp;", "&")
        assert out_ids(client.get(link)) == [states[state].out_id]


def test_dashboard_without_either_shows_zero_and_no_elsewhere_line(client, manager, make_call):
    make_call(code="200000")
    daily_stats_rebuild()
    client.force_login(manager)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("notifications:home")).content.decode()
    assert 'data-figure="outcome_unknown">0</div>' in page and 'data-figure="elsewhere"' not in page


# ----- the admin -----
def test_admin_filters_by_placed_elsewhere_and_the_new_status(client, superuser, states):
    url = reverse("admin:notifications_callrecord_changelist")
    client.force_login(superuser)
    client.cookies["django_language"] = "en"

    def listed(params):
        return {record.out_id for record in client.get(url, params).context["cl"].result_list}

    everyone = {call.out_id for call in states.values()}
    assert listed({"placed_elsewhere": "yes"}) == {states["elsewhere"].out_id}
    assert listed({"placed_elsewhere": "no"}) == everyone - {states["elsewhere"].out_id}
    assert listed({"status__exact": "outcome_unknown"}) == {states["outcome_unknown"].out_id}
    assert listed({"status__exact": "unknown"}) == {states["unknown"].out_id}
    page = client.get(url).content.decode()
    assert "By placed elsewhere" in page and "?placed_elsewhere=yes" in page
    assert "?status__exact=outcome_unknown" in page and "Outcome unknown" in page
    assert "Not known (placed elsewhere)" in page  # the API column of the elsewhere row


def test_admin_rows_of_the_new_states_are_the_ones_django_would_write(rf, superuser, states):
    from django.contrib import admin
    from django.contrib.admin.templatetags.admin_list import items_for_result

    from notifications.templatetags.call_admin import call_record_row

    request = rf.get(reverse("admin:notifications_callrecord_changelist") + "?placed_elsewhere=yes")
    request.user = superuser
    changelist = admin.site._registry[CallRecord].get_changelist_instance(request)
    assert [record.out_id for record in changelist.result_list] == [states["elsewhere"].out_id]
    request = rf.get(reverse("admin:notifications_callrecord_changelist"))
    request.user = superuser
    changelist = admin.site._registry[CallRecord].get_changelist_instance(request)
    for record in changelist.result_list:
        assert call_record_row(changelist, record) == list(items_for_result(changelist, record, None))
