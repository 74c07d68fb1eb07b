"""Quiet hours as pure functions: parsing, windows across midnight, the exact edges, and the next allowed moment."""
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from notifications.rules.quiet_hours import is_quiet, next_allowed, parse_quiet_hours, quiet_until, window_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = (time(21, 0), time(8, 0))
LUNCH = (time(12, 0), time(13, 30))


def at(hour, minute=0, second=0, day=4) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=SHANGHAI)


def test_the_setting_is_parsed_and_empty_means_no_quiet_hours():
    assert parse_quiet_hours("21:00-08:00") == NIGHT
    assert parse_quiet_hours(" 12:00 - 13:30 ") == LUNCH
    assert parse_quiet_hours("") is None
    assert parse_quiet_hours(None) is None
    assert parse_quiet_hours("08:00-08:00") is None  # an empty window


@pytest.mark.parametrize("text", ["21-08", "21:00", "25:00-08:00", "21:00-08:00-09:00", "nine to five"])
def test_a_malformed_setting_is_refused_with_the_expected_form(text):
    with pytest.raises(ValidationError, match="HH:MM-HH:MM"):
        parse_quiet_hours(text)


@pytest.mark.parametrize(("moment", "quiet"), [
    (at(20, 59, 59), False), (at(21), True), (at(23, 59, 59), True), (at(0), True), (at(7, 59, 59), True),
    (at(8), False), (at(12), False),
])
def test_a_window_across_midnight_includes_its_start_and_excludes_its_end(moment, quiet):
    assert is_quiet(moment, NIGHT) is quiet


@pytest.mark.parametrize(("moment", "quiet"), [(at(11, 59, 59), False), (at(12), True), (at(13, 29, 59), True), (at(13, 30), False)])
def test_a_window_within_one_day(moment, quiet):
    assert is_quiet(moment, LUNCH) is quiet


def test_no_window_is_never_quiet():
    assert not is_quiet(at(3), None)
    assert next_allowed(at(3), None) == at(3)
    assert quiet_until(at(3), None) is None


def test_the_next_allowed_moment_is_the_end_of_the_window_on_the_right_day():
    assert next_allowed(at(20, 59, 59), NIGHT) == at(20, 59, 59)  # allowed: unchanged
    assert next_allowed(at(21), NIGHT) == at(8, day=5)
    assert next_allowed(at(23, 30), NIGHT) == at(8, day=5)
    assert next_allowed(at(0, 0, 1, day=5), NIGHT) == at(8, day=5)
    assert next_allowed(at(7, 59, 59, day=5), NIGHT) == at(8, day=5)
    assert next_allowed(at(12, 15), LUNCH) == at(13, 30)
    assert quiet_until(at(22), NIGHT) == at(8, day=5)


def test_the_campaign_override_wins_over_the_company_setting():
    assert window_for(quiet_start=time(22), quiet_end=time(7), setting="21:00-08:00") == (time(22), time(7))
    assert window_for(quiet_start=None, quiet_end=None, setting="21:00-08:00") == NIGHT
    assert window_for(quiet_start=None, quiet_end=None, setting="") is None
    assert window_for(quiet_start=time(9), quiet_end=time(9), setting="21:00-08:00") is None  # override: none
