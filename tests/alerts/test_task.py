"""`alerts_check` is one of the periodic tasks: in the table both schedulers read, recorded on the health page."""
import pytest

from notifications import cron, jobs
from notifications.models import Alert, CallRecord, PeriodicRun
from notifications.services.health import EXPECTED_TASKS

from .conftest import at, make_rule

pytestmark = pytest.mark.django_db


def test_the_task_is_in_the_one_table_with_its_interval_setting(settings):
    settings.ALERTS_CHECK_INTERVAL_SECONDS = 45
    assert EXPECTED_TASKS["alerts_check"].interval_setting == "ALERTS_CHECK_INTERVAL_SECONDS"
    [task] = [task for task in cron.in_process_tasks() if task.name == "alerts_check"]
    assert task.interval == 45


def test_a_run_of_the_job_opens_alerts_and_is_recorded(make_call):
    make_rule("backlog", params={"source": "queue", "minutes": 10})
    make_call(CallRecord.Status.QUEUED, created=at(minutes=-20))  # the frozen "now" is in the past: long overdue
    result = jobs.alerts_check_job()
    assert "1 alerts opened" in result
    assert Alert.objects.filter(resolved_at__isnull=True).count() == 1
    run = PeriodicRun.objects.get(name="alerts_check")
    assert run.succeeded and run.run_count == 1 and "1 alerts opened" in run.summary
