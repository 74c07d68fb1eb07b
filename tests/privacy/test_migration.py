"""Migration 0007 starts the audit log with every full-number view recorded before it, and gives Managers the page."""
import pytest
from django.utils import timezone

from tests.migrations import latest_schema_afterwards, migrate_to  # noqa: F401  (autouse fixture)

BEFORE = [("notifications", "0006_receipt_inbox_and_honest_states")]
AFTER = [("notifications", "0007_audit_log")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_number_accesses_recorded_before_become_audit_entries():
    old = migrate_to(BEFORE)
    User = old.get_model("auth", "User")
    Qualification = old.get_model("notifications", "Qualification")
    TtsTemplate = old.get_model("notifications", "TtsTemplate")
    CallRecord = old.get_model("notifications", "CallRecord")
    NumberAccess = old.get_model("notifications", "NumberAccess")
    user = User.objects.create(username="auditor")
    qualification = Qualification.objects.create(company_name="Q", credit_code="91330100MA0000001X", legal_representative="A",
                                                 contact_name="B", contact_phone="057100000000", status="approved")
    template = TtsTemplate.objects.create(name="T", content="x", qualification=qualification, status="approved")
    call = CallRecord.objects.create(api="tts", mode="public", tts_template=template, called_number="13900001230", out_id="OLD1")
    seen = timezone.now() - timezone.timedelta(days=3)
    NumberAccess.objects.create(user=user, call=call, created_at=seen)

    new = migrate_to(AFTER)
    (entry,) = new.get_model("notifications", "AuditEntry").objects.all()
    assert (entry.user_id, entry.username, entry.action) == (user.pk, "auditor", "full_number_view")
    assert (entry.target_type.model, entry.target_id, entry.target_label, entry.created_at) == ("callrecord", str(call.pk), "OLD1", seen)
    Group = new.get_model("auth", "Group")
    assert Group.objects.get(name="Managers").permissions.filter(codename="view_auditentry").exists()
    assert not Group.objects.get(name="Operators").permissions.filter(codename="view_auditentry").exists()

