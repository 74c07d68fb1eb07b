"""The call builder the history and usage tests share places its calls "today" at any hour of the night."""
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from tests.history import conftest


def test_a_call_built_deep_into_a_run_just_after_midnight_is_still_made_today(make_call, monkeypatch):
    just_after_midnight = datetime(2026, 12, 6, 0, 2, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr(timezone, "now", lambda: just_after_midnight)
    for _ in range(20_000):  # about as many calls as a full run has built by the time the usage tests run
        next(conftest._serial)
    earlier, later = make_call(), make_call()
    assert {timezone.localdate(earlier.created_at), timezone.localdate(later.created_at)} == {just_after_midnight.date()}
    assert earlier.created_at > later.created_at  # a later serial is a moment further back: orders stay stable
