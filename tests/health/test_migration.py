"""Migration 0019 keeps each task's last summary, written in one language, shown as written until its next run."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from notifications.models import PeriodicRun

BEFORE = [("notifications", "0018_audit_do_not_call_download")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_summary_written_in_one_language_is_kept_and_shown_as_written():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    OldRun = executor.loader.project_state(BEFORE).apps.get_model("notifications", "PeriodicRun")
    OldRun.objects.create(name="calls_bill", summary="48 通已结束的呼叫完成计费", succeeded=True)
    OldRun.objects.create(name="dispatch_wake", summary="")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert dict(PeriodicRun.objects.values_list("name", "summaries")) == {
        "calls_bill": {"": "48 通已结束的呼叫完成计费"}, "dispatch_wake": {}}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert PeriodicRun.objects.get(name="calls_bill").summary == "48 通已结束的呼叫完成计费"


@pytest.fixture(autouse=True)
def _latest_schema_afterwards():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # later tests expect the whole schema
