"""The fault matrix: under each fault, with real processes over HTTP, no call is dialled twice, none is
lost, every one ends final within a bounded wait, and no call the provider placed is reported failed.

Marked `services`: it runs in CI's PostgreSQL + Redis pass (and fails there rather than skip when something is
missing); on the embedded default it is skipped.
"""
import pytest

from notifications.models import CallEvent, CallRecord
from tests.faults.harness import SCENARIO_BY_NAME, SCENARIOS, run_scenario

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CALLS = 30


def _report(harness, result) -> str:
    return (f"{result.scenario}: {result.problems[:10]} statuses={result.statuses} notes={result.notes} "
            f"requests={result.requests} placed={result.placed}\n{harness.logs()}")


@pytest.mark.parametrize("name", [scenario.name for scenario in SCENARIOS])
def test_every_call_is_dialled_at_most_once_and_ends_final(on_harness, name):
    index = [scenario.name for scenario in SCENARIOS].index(name)
    result = run_scenario(on_harness, SCENARIO_BY_NAME[name], calls=CALLS, index=index)
    report = _report(on_harness, result)
    print(f"{name}: {result.seconds:.1f} s {result.statuses} requests={result.requests} placed={result.placed} {result.notes}")
    assert result.dialled_twice == 0, report
    assert result.lost == 0, report
    assert result.not_final == 0, report
    assert result.placed_but_failed == 0, report

    # The fault really happened, so the figures above mean something.
    statuses = result.statuses
    if name in ("5xx", "throttling"):
        assert result.requests > result.placed, report  # refused requests, retried or given up, not placed
    if name == "5xx":
        # Refused with a 5xx: it may have been placed, so never redialled; it ends "outcome unknown" with its reason.
        assert statuses.get(CallRecord.Status.OUTCOME_UNKNOWN, 0) >= 1, report
    if name == "read_timeout":
        # Held past the client's read timeout: the call was placed but its answer never came; its receipts settle it.
        # (an API answer event without any provider code: the client gave up waiting)
        assert CallEvent.objects.filter(kind=CallEvent.Kind.API_ANSWER, status_code="").exists(), report
    if name in ("dropped", "long_follow_up"):
        assert CallEvent.objects.filter(kind=CallEvent.Kind.DETAIL_QUERY).exists(), report  # settled by detail queries
        assert statuses.get(CallRecord.Status.COMPLETED, 0) >= 1, report
    if name == "kill9":
        assert on_harness.restarts() >= 1, report
    if name == "long_follow_up":
        assert result.follow_up.get("longest", 0) > 1.0, report  # a run outlived its 1 s interval...
        assert result.follow_up.get("runs_after", 0) >= 1, report  # ...and the follow-up went on running after it
