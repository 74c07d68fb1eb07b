"""The dashboard and the call log show one period: chosen From/To dates win over a quick range, and the
dashboard says which period its figures cover."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.services.stats import daily_stats_rebuild


def _dashboard(client, user, language="en", **query):
    client.force_login(user)
    client.cookies["django_language"] = language
    return client.get(reverse("notifications:home"), query)


@pytest.fixture
def calls_over_weeks(make_call):
    """One call today and one 20 days ago: the last 7 days hold one, the dates around day 20 the other."""
    now = timezone.now()
    calls = make_call(created_at=now), make_call(created_at=now - timedelta(days=20))
    daily_stats_rebuild()  # the dashboard reads the daily figures
    return calls


def _count(response) -> str:
    return response.content.decode().split('data-figure="count">')[1].split("<")[0]


def test_chosen_dates_win_over_the_quick_range(client, manager, calls_over_weeks):
    old_day = timezone.localdate(calls_over_weeks[1].created_at)
    response = _dashboard(client, manager, range="7d", date_from=(old_day - timedelta(days=1)).isoformat(),
                          date_to=(old_day + timedelta(days=1)).isoformat())
    assert _count(response) == "1"  # the old call, not today's
    page = response.content.decode()
    assert f"Chosen dates: calls created {old_day - timedelta(days=1):%Y-%m-%d} to {old_day + timedelta(days=1):%Y-%m-%d}" in page
    # The quick range now reads "Custom" (its empty choice), not "Last 7 days".
    assert '<option value="" selected>Custom</option>' in page


def test_a_quick_range_alone_is_named_with_its_days(client, manager, calls_over_weeks):
    response = _dashboard(client, manager, range="30d")
    today = timezone.localdate()
    assert _count(response) == "2"
    assert f"Last 30 days: calls created {today - timedelta(days=29):%Y-%m-%d} to {today:%Y-%m-%d}" in response.content.decode()


def test_with_nothing_chosen_the_page_says_last_7_days(client, manager, calls_over_weeks):
    response = _dashboard(client, manager)
    assert _count(response) == "1"
    assert "Last 7 days: calls created" in response.content.decode()


def test_a_range_ending_before_it_starts_is_refused_and_the_default_period_named(client, manager, calls_over_weeks):
    today = timezone.localdate()
    response = _dashboard(client, manager, date_from=today.isoformat(), date_to=(today - timedelta(days=3)).isoformat())
    page = response.content.decode()
    assert "The first day must not be after the last day." in page
    assert "Last 7 days: calls created" in page  # what the figures then cover, said plainly


def test_call_log_chosen_dates_win_over_the_quick_range(client, manager, calls_over_weeks):
    old = calls_over_weeks[1]
    old_day = timezone.localdate(old.created_at)
    client.force_login(manager)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("notifications:call_record_list"),
                          {"range": "today", "date_from": old_day.isoformat(), "date_to": old_day.isoformat()})
    page = response.content.decode()
    assert old.out_id in page  # applied together, "today" and a day 20 days back would show nothing
    assert calls_over_weeks[0].out_id not in page
