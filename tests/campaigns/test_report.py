"""Progress, the report and the per-row CSV: counts by what people ask, rate and estimated end, answer and
listen-through rates, calls by hour, retries that helped; the CSV masked by role, formula-safe, in the user's language."""
import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from notifications.models import CallRecord, Campaign, CampaignRow, Mode
from notifications.services.campaign_report import campaign_progress, campaign_report, campaign_rows_csv
from notifications.services.exports import formula_safe
from tests.campaigns.test_sending import NOON, local, make_sending_campaign, numbers

pytestmark = pytest.mark.django_db
RowState = CampaignRow.State
Outcome = CallRecord.Outcome
Status = CallRecord.Status


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.CAMPAIGN_QUIET_HOURS = ""
    settings.VMS_ACCOUNT_QPS = 1000
    settings.CAMPAIGN_TEST_CALL_SHARE = 0.1


def call(campaign, row, *, at, status=Status.COMPLETED, outcome=Outcome.LISTENED) -> CallRecord:
    return CallRecord.objects.create(
        api=CallRecord.Api.TTS, mode=Mode.PUBLIC, tts_template=campaign.tts_template, called_number=row.called_number,
        out_id=f"r{row.pk}x{CallRecord.objects.count()}", created_at=at, sent_at=at, status=status, outcome=outcome,
        campaign=campaign, campaign_row=row,
    )


def settle(row, state, *, outcome="", final_status="", attempts=1, **extra):
    CampaignRow.objects.filter(pk=row.pk).update(state=state, outcome=outcome, final_status=final_status,
                                                  attempts=attempts, **extra)


@pytest.fixture
def campaign(operator):
    """Ten rows: 2 waiting, 1 calling, 2 answered (1 on a retry), 1 hung up early, 1 busy, 1 invalid number,
    1 outcome unknown, 1 refused by the check, and one not sent (none: cancelled campaigns only)."""
    campaign = make_sending_campaign(operator, numbers(10), rate_cap=5, started_at=NOON)
    rows = list(campaign.rows.order_by("row_number"))
    settle(rows[2], RowState.CALLING)
    settle(rows[3], RowState.DONE, outcome=Outcome.LISTENED, final_status=Status.COMPLETED)
    settle(rows[4], RowState.DONE, outcome=Outcome.LISTENED, final_status=Status.COMPLETED, attempts=2)
    settle(rows[5], RowState.DONE, outcome=Outcome.HUNG_UP_EARLY, final_status=Status.COMPLETED)
    settle(rows[6], RowState.DONE, outcome=Outcome.BUSY, final_status=Status.FAILED, attempts=3)
    settle(rows[7], RowState.DONE, outcome=Outcome.INVALID_NUMBER, final_status=Status.FAILED)
    settle(rows[8], RowState.DONE, outcome=Outcome.UNKNOWN, final_status=Status.OUTCOME_UNKNOWN)
    settle(rows[9], RowState.REFUSED, attempts=0, refusal_code="blocked",
           refusal_messages={"en": "This number is on the do-not-call list.", "zh-hans": "该号码在禁呼名单中。"})
    # Calls: at 09:xx and 12:xx Shanghai time; 30 in the last minute before NOON + 1 h.
    call(campaign, rows[4], at=local(2026, 12, 4, 9, 10), status=Status.FAILED, outcome=Outcome.NO_ANSWER)
    for row in rows[2:9]:
        call(campaign, row, at=NOON + timedelta(minutes=5))
    return campaign


def test_progress_counts_what_people_ask_about(campaign):
    progress = campaign_progress(campaign, now=NOON + timedelta(minutes=5, seconds=30))
    assert {key: progress[key] for key in ("waiting", "in_progress", "answered", "not_answered", "failed",
                                           "outcome_unknown", "refused", "not_sent", "total", "done")} == {
        "waiting": 2, "in_progress": 1, "answered": 3, "not_answered": 1, "failed": 1, "outcome_unknown": 1,
        "refused": 1, "not_sent": 0, "total": 9, "done": 6,
    }
    assert progress["done_percent"] == 66 and progress["done_share"] == pytest.approx(6 / 9)
    assert progress["rate"] == pytest.approx(7 / 60, abs=0.01)  # 7 calls in the last 60 s
    assert progress["quiet_text"] == "" and not progress["quiet"]


def test_the_estimated_end_follows_the_rate_and_skips_quiet_hours(campaign, settings):
    # No call in the last minute: the cap (5/s) sets the pace; 3 rows left.
    quiet_free = campaign_progress(campaign, now=NOON + timedelta(hours=1))
    assert quiet_free["estimated_end"] == NOON + timedelta(hours=1, seconds=0.6)
    settings.CAMPAIGN_QUIET_HOURS = "21:00-08:00"
    at_night = campaign_progress(campaign, now=local(2026, 12, 4, 22, 0))
    assert at_night["estimated_end"] == local(2026, 12, 5, 8, 0, 0) + timedelta(seconds=0.6)
    with translation.override("en"):
        assert campaign_progress(campaign, now=local(2026, 12, 4, 22, 0))["quiet_text"] == \
            "Paused for quiet hours until 08:00."


def test_a_long_list_ends_after_the_night(operator, settings):
    settings.CAMPAIGN_QUIET_HOURS = "21:00-08:00"
    campaign = make_sending_campaign(operator, numbers(3600), rate_cap=1)  # an hour at 1 call/s
    end = campaign_progress(campaign, now=local(2026, 12, 4, 20, 30))["estimated_end"]
    assert end == local(2026, 12, 5, 8, 30)  # 30 min before 21:00, the other 30 after 08:00


def test_progress_costs_a_few_queries_whatever_the_size(operator, django_assert_max_num_queries):
    campaign = make_sending_campaign(operator, numbers(2000))
    with django_assert_max_num_queries(2):
        progress = campaign_progress(campaign)
    assert progress["waiting"] == 2000


def test_the_report_gives_rates_outcomes_hours_and_retries_that_helped(campaign):
    with translation.override("en"):
        report = campaign_report(campaign)
    assert report["rows_called"] == 6
    assert report["answer_rate"] == pytest.approx(3 / 6)
    assert report["listen_rate"] == pytest.approx(2 / 3)
    assert report["retries_helped"] == 1
    outcomes = {item["outcome"]: (item["label"], item["count"]) for item in report["outcomes"]}
    assert outcomes["listened"] == ("Answered, listened to the end", 2)
    assert outcomes["busy"] == ("Busy", 1)
    assert report["by_hour"] == [{"hour": 9, "count": 1}, {"hour": 12, "count": 7}]
    assert report["by_hour_peak"] == 7 and report["calls"] == 8


def test_an_empty_campaign_reports_no_rates(operator):
    report = campaign_report(make_sending_campaign(operator, numbers(2)))
    assert report["answer_rate"] is None and report["listen_rate"] is None and report["by_hour"] == []


def _csv(lines) -> list[list[str]]:
    text = "".join(lines)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_rows_csv_masks_numbers_for_managers_and_not_for_operators(campaign, operator, manager):
    with translation.override("en"):
        for_manager = _csv(campaign_rows_csv(campaign, manager))
        for_operator = _csv(campaign_rows_csv(campaign, operator))
    assert for_manager[0] == ["Row", "Callee", "name", "order", "Attempts", "State", "Outcome", "Outcome (code)", "Refusal"]
    first = campaign.rows.order_by("row_number").first()
    assert for_operator[1][1] == first.called_number
    assert for_manager[1][1] == first.called_number[:3] + "****" + first.called_number[-4:]
    assert len(for_manager) == 11
    busy = next(line for line in for_manager[1:] if line[7] == "busy")
    assert busy[4:7] == ["3", "Done", "Busy"]


def test_the_rows_csv_is_in_the_users_language_and_formula_safe(operator):
    campaign = make_sending_campaign(operator, numbers(1))
    campaign.rows.update(params={"name": "=HYPERLINK(\"http://x\")", "order": "-5"}, state=RowState.DONE,
                         outcome=Outcome.NO_ANSWER)
    with translation.override("zh-hans"):
        lines = campaign_rows_csv(campaign, operator)
    rows = _csv(lines)  # read after the language ended, as a streamed response is
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")" and rows[1][3] == "-5"
    assert rows[1][6] == "无人接听"


def test_formula_safe_follows_the_export_rule():
    assert formula_safe("=1+1") == "'=1+1"
    assert formula_safe("@SUM(A1)") == "'@SUM(A1)"
    assert formula_safe("'=1") == "''=1"
    assert formula_safe("+3.5") == "+3.5" and formula_safe("-5") == "-5"
    assert formula_safe("王") == "王" and formula_safe("") == ""


def test_progress_counts_not_sent_rows_of_a_cancelled_campaign(operator):
    campaign = make_sending_campaign(operator, numbers(3), state=Campaign.State.CANCELLED, finished_at=timezone.now())
    campaign.rows.update(state=RowState.NOT_SENT)
    progress = campaign_progress(campaign)
    assert (progress["not_sent"], progress["done"], progress["estimated_end"]) == (3, 3, None)


def test_the_page_and_progress_show_the_figures_people_saw_before(campaign, operator, client, django_assert_max_num_queries):
    """What a user reads on the page and the progress endpoint, with the counts computed once and the calls by hour
    counted partly from the cache: the same figures as one full count gives, on a first and a second look."""
    from django.core.cache import cache

    cache.clear()
    client.force_login(operator)
    with translation.override("en"):
        expected = campaign_report(campaign)
        for _look in range(2):
            with django_assert_max_num_queries(20):
                page = client.get(f"/campaigns/{campaign.pk}/")
            report, progress = page.context["report"], page.context["progress"]
            assert report["by_hour"] == [{"hour": 9, "count": 1}, {"hour": 12, "count": 7}] == expected["by_hour"]
            assert (report["calls"], report["rows_called"], report["retries_helped"]) == (8, 6, 1)
            assert [(item["outcome"], item["count"]) for item in report["outcomes"]] == \
                [("listened", 2), ("busy", 1), ("hung_up_early", 1), ("invalid_number", 1), ("unknown", 1)]
            html = page.content.decode()
            assert 'data-figure="answer_rate">50%' in html and 'data-figure="listen_rate">67%' in html
            assert 'data-figure="retries_helped">1<' in html
            assert 'max="9" value="6">66%<' in html
            for key, count in {"waiting": 2, "in_progress": 1, "answered": 3, "not_answered": 1, "failed": 1,
                               "outcome_unknown": 1, "refused": 1, "not_sent": 0}.items():
                assert f'data-count="{key}">{count}<' in html
                assert progress[key] == count
            polled = client.get(f"/campaigns/{campaign.pk}/progress/").json()
            assert {key: polled["progress"][key] for key in ("waiting", "in_progress", "answered", "not_answered",
                                                              "failed", "outcome_unknown", "refused", "not_sent",
                                                              "total", "done", "done_percent")} == {
                "waiting": 2, "in_progress": 1, "answered": 3, "not_answered": 1, "failed": 1, "outcome_unknown": 1,
                "refused": 1, "not_sent": 0, "total": 9, "done": 6, "done_percent": 66}
            assert 'max="9" value="6">66%<' in polled["html"]


def test_calls_after_the_cached_buckets_are_counted(campaign, django_assert_max_num_queries):
    """The settled buckets come from the cache; a call made since is counted at once, and a settled bucket is not
    counted twice when the next one settles."""
    from django.core.cache import cache

    cache.clear()
    later = NOON + timedelta(hours=2)
    assert campaign_report(campaign, now=later)["calls"] == 8
    row = campaign.rows.get(state=RowState.WAITING, row_number=2)
    call(campaign, row, at=later - timedelta(seconds=30))
    with django_assert_max_num_queries(2):
        report = campaign_report(campaign, now=later)
    assert report["calls"] == 9 and {"hour": 13, "count": 1} in report["by_hour"]
    assert campaign_report(campaign, now=later + timedelta(hours=1))["calls"] == 9
