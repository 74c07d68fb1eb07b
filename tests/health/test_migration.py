"""Migration 0019 keeps each task's last summary, written in one language, shown as written until its next run."""
import pytest
from django.utils import translation

from notifications.models import PeriodicRun
from tests.migrations import latest_schema_afterwards, migrate_to  # noqa: F401  (autouse fixture)

BEFORE = [("notifications", "0018_audit_do_not_call_download")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_summary_written_in_one_language_is_kept_and_shown_as_written():
    OldRun = migrate_to(BEFORE).get_model("notifications", "PeriodicRun")
    OldRun.objects.create(name="calls_bill", summary="48 通已结束的呼叫完成计费", succeeded=True)
    OldRun.objects.create(name="dispatch_wake", summary="")

    migrate_to()
    assert dict(PeriodicRun.objects.values_list("name", "summaries")) == {
        "calls_bill": {"": "48 通已结束的呼叫完成计费"}, "dispatch_wake": {}}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert PeriodicRun.objects.get(name="calls_bill").summary == "48 通已结束的呼叫完成计费"

