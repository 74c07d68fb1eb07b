"""The audit log: each audited action writes one entry with who, what, which object and details; the Audit log page
filters by person, action and days, pages like the call log, speaks both languages and is the Managers'."""
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from notifications.models import AuditEntry, BlockedNumber, CallerNumber, ReviewStatus
from notifications.roles import ROLE_PERMISSIONS
from notifications.services.audit import audit_record
from notifications.services.blocked_numbers import number_key

from .conftest import CALLEE, MASKED

pytestmark = pytest.mark.django_db
Action = AuditEntry.Action
AUDIT_URL = "/audit/"


def only_entry(action: str) -> AuditEntry:
    (entry,) = AuditEntry.objects.filter(action=action)
    return entry


def sign_in(client, user) -> None:
    """Sign in and drop the sign-in's own entry, so a test counts only the entries it is about."""
    client.force_login(user)
    AuditEntry.objects.filter(action=Action.SIGN_IN, user=user).delete()


# ----- each action, one entry -----
def test_a_dial_from_the_form_is_one_entry_naming_the_call_with_the_callee_masked(dialled, operator):
    entry = only_entry(Action.DIAL)
    assert (entry.user, entry.username, entry.target_type.model, entry.target_id) == (operator, "operator", "callrecord", str(dialled.pk))
    assert entry.target_label == dialled.out_id and entry.details == {"callee": MASKED}


def test_a_review_decision_is_one_entry_with_the_decision(client, manager, template):
    template.status, template.tts_code = ReviewStatus.SUBMITTED, ""
    template.save()
    sign_in(client, manager)
    url = reverse("notifications:tts_template_transition", args=[template.pk])
    client.post(url, {"action": "reject", "reason": ""})  # refused (no reason): nothing happened, nothing recorded
    assert not AuditEntry.objects.exists()
    client.post(url, {"action": "approve", "code": "TTS_123456"})
    entry = only_entry(Action.REVIEW_DECISION)
    assert (entry.user, entry.target_type.model, entry.target_id) == (manager, "ttstemplate", str(template.pk))
    assert entry.target_label == "取件通知"
    assert entry.details == {"status": "approved", "code": "TTS_123456", "reason": ""}


def test_a_number_state_change_is_one_entry_from_and_to(client, manager, template):
    number = CallerNumber.objects.create(number="057188880001", qualification=template.qualification, status=CallerNumber.Status.PENDING)
    client.force_login(manager)
    client.post(reverse("notifications:caller_number_transition", args=[number.pk]), {"status": "active"})
    entry = only_entry(Action.NUMBER_TRANSITION)
    assert (entry.user, entry.target_id, entry.details) == (manager, str(number.pk), {"from": "pending", "to": "active"})


def test_an_export_is_one_entry_with_its_filters(client, manager, dialled):
    client.force_login(manager)
    b"".join(client.get(reverse("notifications:call_record_export"), {"outcome": "listened"}).streaming_content)
    entry = only_entry(Action.EXPORT)
    assert entry.user == manager and entry.target_type.model == "callexport"
    assert entry.details == {"filters": {"outcome": "listened"}, "masked": True}


def test_a_masked_roles_search_by_a_whole_number_is_recorded_masked_once_per_search(client, manager, operator, dialled):
    client.force_login(manager)
    log = reverse("notifications:call_record_list")
    assert dialled.out_id in client.get(log, {"q": "+86 139 0000 1230"}).content.decode()
    entry = only_entry(Action.FULL_NUMBER_SEARCH)
    assert (entry.user, entry.target_label, entry.details) == (manager, MASKED, {"field": "q", "number": MASKED})
    client.get(log, {"q": "+86 139 0000 1230", "after": "1.1"})  # turning the page is the same search
    client.get(log, {"q": dialled.out_id})  # an OutId is not a number
    client.get(log, {"q": "1230"})  # nor are four digits
    assert AuditEntry.objects.filter(action=Action.FULL_NUMBER_SEARCH).count() == 1
    client.get(log, {"callee": CALLEE})
    assert AuditEntry.objects.filter(action=Action.FULL_NUMBER_SEARCH, details__field="callee").count() == 1
    client.force_login(operator)  # who sees numbers whole learns nothing new by searching
    client.get(log, {"q": CALLEE})
    assert AuditEntry.objects.filter(action=Action.FULL_NUMBER_SEARCH).count() == 2
    assert CALLEE not in str(list(AuditEntry.objects.values_list("target_label", "details")))


def test_blocking_and_unblocking_are_one_entry_each_with_the_number_masked(client, manager):
    client.force_login(manager)
    client.post(reverse("notifications:blocked_number_create"), {"number": "13700001111", "reason": "投诉"})
    blocked = BlockedNumber.objects.get()
    added = only_entry(Action.BLOCKED_NUMBER_ADDED)
    assert (added.user, added.target_id, added.target_label) == (manager, str(blocked.pk), "137****1111")
    # The number's key links its entries across blocks; it is a keyed hash, not the number.
    assert added.details == {"reason": "投诉", "expires": "", "number_id": number_key("13700001111")}
    assert "13700001111" not in str(added.details)
    client.post(reverse("notifications:blocked_number_delete", args=[blocked.pk]))
    removed = only_entry(Action.BLOCKED_NUMBER_REMOVED)
    assert (removed.user, removed.target_label) == (manager, "137****1111")


def test_a_receipt_replay_is_one_entry(client, manager):
    from notifications.services.receipt_inbox import receipt_delivery_store

    delivery = receipt_delivery_store(message_type="VoiceReport", body=b"[]")
    client.force_login(manager)
    client.post(reverse("notifications:receipt_delivery_replay", args=[delivery.pk]))
    entry = only_entry(Action.RECEIPT_REPLAY)
    assert (entry.user, entry.target_type.model, entry.target_id) == (manager, "receiptdelivery", str(delivery.pk))


def test_an_entry_survives_its_user_and_the_system_writes_without_one(operator):
    entry = audit_record(user=operator, action=Action.SETTINGS_CHANGE, target="PHONE_MASKING", details={"to": "13900001230"})
    operator.delete()
    entry.refresh_from_db()
    assert (entry.user, entry.username, entry.details) == (None, "operator", {"to": "139****1230"})
    assert audit_record(user=None, action=Action.REVIEW_DECISION, target="x").username == ""


# ----- the page -----
def _entries(n: int, *, user=None, action=Action.DIAL, start=None) -> None:
    start = start or timezone.now()
    AuditEntry.objects.bulk_create(
        AuditEntry(user=user, username=user.username if user else "", action=action, target_label=f"entry-{i:03d}",
                   created_at=start - timedelta(minutes=i))
        for i in range(n)
    )


def test_operators_may_not_read_the_audit_log_and_see_no_link(client, operator, manager):
    client.force_login(operator)
    assert client.get(AUDIT_URL).status_code == 403
    assert AUDIT_URL not in client.get(reverse("notifications:home")).content.decode()
    client.force_login(manager)
    assert f'href="{AUDIT_URL}"' in client.get(reverse("notifications:home")).content.decode()


def test_the_log_pages_by_fifty_newest_first(client, manager, settings):
    settings.LANGUAGE_CODE = "en"
    _entries(60, user=manager)
    sign_in(client, manager)
    client.cookies["django_language"] = "en"
    first = client.get(AUDIT_URL)
    rows = first.context["page"].rows
    assert [row.target_label for row in rows] == [f"entry-{i:03d}" for i in range(50)]
    assert "60 entries match" in first.content.decode()
    second = client.get(AUDIT_URL, {"after": first.context["page"].next_cursor})
    assert [row.target_label for row in second.context["page"].rows] == [f"entry-{i:03d}" for i in range(50, 60)]
    assert second.context["page"].next_cursor is None and 'rel="prev"' in second.content.decode()


def test_the_log_filters_by_person_action_and_days(client, manager, operator):
    now = timezone.now()
    _entries(3, user=manager, action=Action.EXPORT, start=now)
    _entries(2, user=operator, action=Action.DIAL, start=now)
    _entries(4, user=operator, action=Action.DIAL, start=now - timedelta(days=10))
    sign_in(client, manager)

    def shown(**filters):
        return len(client.get(AUDIT_URL, filters).context["page"].rows)

    assert shown() == 9
    assert shown(user=manager.pk) == 3
    assert shown(action="dial") == 6
    assert shown(user=operator.pk, date_from=(timezone.localdate() - timedelta(days=2)).isoformat()) == 2
    assert shown(date_to=(timezone.localdate() - timedelta(days=5)).isoformat()) == 4


def test_a_bad_filter_is_said_next_to_its_field_and_matches_nothing(client, manager):
    _entries(2, user=manager)
    client.force_login(manager)
    client.cookies["django_language"] = "en"
    response = client.get(AUDIT_URL, {"date_from": "2026-05-02", "date_to": "2026-05-01", "action": "bogus"})
    page = response.content.decode()
    assert response.context["page"].rows == []
    assert "The first day must not be after the last day." in page
    assert "Select a valid choice." in page


def test_entries_read_as_words_with_links_in_english(client, manager, dialled):
    client.force_login(manager)
    client.cookies["django_language"] = "en"
    page = client.get(AUDIT_URL).content.decode()
    assert "Test call placed" in page and f"callee {MASKED}" in page
    assert f'href="{reverse("notifications:call_record_detail", args=[dialled.pk])}"' in page
    assert CALLEE not in page


def test_the_page_speaks_chinese(client, manager, dialled):
    client.force_login(manager)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(AUDIT_URL).content.decode()
    assert "审计日志" in page and "拨打测试呼叫" in page


def test_superusers_read_the_log_and_the_admin_shows_it_read_only(client, superuser, dialled):
    client.force_login(superuser)
    assert client.get(AUDIT_URL).status_code == 200
    entry = AuditEntry.objects.first()
    assert client.get(reverse("admin:notifications_auditentry_changelist")).status_code == 200
    change = client.get(reverse("admin:notifications_auditentry_change", args=[entry.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert client.post(reverse("admin:notifications_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_every_permission_the_roles_list_exists_and_is_granted():
    for name, codenames in ROLE_PERMISSIONS.items():
        granted = set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        assert granted == set(codenames), name
    assert Permission.objects.filter(codename="view_auditentry").exists()


def test_blocking_and_unblocking_in_the_admin_are_audited_too(client, superuser):
    sign_in(client, superuser)
    client.post(reverse("admin:notifications_blockednumber_add"), {"number": "13700002222", "reason": "投诉"})
    blocked = BlockedNumber.objects.get()
    client.post(reverse("admin:notifications_blockednumber_changelist"),
                {"action": "delete_selected", "_selected_action": [blocked.pk], "post": "yes"})
    assert not BlockedNumber.objects.exists()
    assert list(AuditEntry.objects.order_by("id").values_list("action", "target_label", "username")) == [
        (Action.BLOCKED_NUMBER_ADDED, "137****2222", "root"), (Action.BLOCKED_NUMBER_REMOVED, "137****2222", "root")]
