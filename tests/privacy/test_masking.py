"""Every representation of a call a masked role (Managers) can reach shows its numbers masked; Operators see them whole,
and each full view is in the audit log."""
import csv
import io
import json

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from notifications.models import AuditEntry, CallEvent, CallRecord
from notifications.services.numbers import payload_mask, text_mask

from .conftest import CALLEE, MASKED

pytestmark = pytest.mark.django_db

# The callee, and the number passed as a parameter ("请回电 13800138000"): neither may reach a masked role.
FULL = (CALLEE, "13800138000")


def _no_full_number(text: str) -> None:
    for number in FULL:
        assert number not in text, f"{number} shown"


def test_the_raw_payloads_name_the_callee_so_masking_them_matters(dialled):
    payloads = json.dumps(list(dialled.events.values_list("payload", flat=True)), ensure_ascii=False)
    assert CALLEE in payloads  # the provider's receipt and detail query both carry it


def test_manager_sees_no_full_number_on_the_detail_page_and_nothing_is_audited(client, manager, dialled):
    client.force_login(manager)
    page = client.get(reverse("notifications:call_record_detail", args=[dialled.pk])).content.decode()
    _no_full_number(page)
    assert MASKED in page  # the header, and the payloads' "callee"
    assert "&quot;callee&quot;: &quot;139****1230&quot;" in page  # the VoiceReport's raw payload, masked
    assert "138****8000" in page  # the parameter, in the list and in the text heard
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.FULL_NUMBER_VIEW).exists()


def test_manager_gets_the_live_status_fragments_masked(client, manager, dialled):
    client.force_login(manager)
    response = client.get(reverse("notifications:call_record_status", args=[dialled.pk]))
    assert response.status_code == 200
    body = response.json()
    _no_full_number(body["status_html"] + body["timeline_html"])
    assert MASKED in body["timeline_html"]


def test_operator_sees_the_full_number_everywhere_and_the_view_is_audited(client, operator, dialled):
    client.force_login(operator)
    page = client.get(reverse("notifications:call_record_detail", args=[dialled.pk])).content.decode()
    assert f"&quot;callee&quot;: &quot;{CALLEE}&quot;" in page and "13800138000" in page
    entry = AuditEntry.objects.get(action=AuditEntry.Action.FULL_NUMBER_VIEW)
    assert (entry.user, entry.target_id, entry.target_label) == (operator, str(dialled.pk), dialled.out_id)
    status = client.get(reverse("notifications:call_record_status", args=[dialled.pk])).json()
    assert CALLEE in status["timeline_html"]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.FULL_NUMBER_VIEW).count() == 1  # polling is not a new view


def test_manager_csv_holds_the_callee_masked(client, manager, dialled):
    client.force_login(manager)
    response = client.get(reverse("notifications:call_record_export"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    _no_full_number(text)
    rows = list(csv.reader(io.StringIO(text)))
    assert any(MASKED in row for row in rows[1:])


def test_export_list_masks_a_number_typed_as_a_filter(client, manager, dialled):
    client.force_login(manager)
    b"".join(client.get(reverse("notifications:call_record_export"), {"callee": CALLEE}).streaming_content)
    page = client.get(reverse("notifications:call_export_list")).content.decode()
    _no_full_number(page)
    assert MASKED in page


@pytest.fixture
def staff_manager(manager):
    """A manager who was also given the admin (is_staff): the admin must mask for them as the console does."""
    manager.is_staff = True
    manager.save()
    return manager


def test_admin_masks_calls_and_events_for_a_staff_manager(client, staff_manager, dialled):
    client.force_login(staff_manager)
    event = dialled.events.get(kind=CallEvent.Kind.VOICE_REPORT)
    pages = [
        reverse("admin:notifications_callrecord_changelist"),
        reverse("admin:notifications_callrecord_change", args=[dialled.pk]),
        reverse("admin:notifications_callevent_changelist"),
        reverse("admin:notifications_callevent_change", args=[event.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        _no_full_number(response.content.decode())
    assert MASKED in client.get(pages[3]).content.decode()
    dialled.refresh_from_db()
    assert dialled.called_number == CALLEE  # masked on the page only, never saved


def test_admin_shows_full_numbers_to_a_superuser(client, superuser, dialled):
    client.force_login(superuser)
    assert CALLEE in client.get(reverse("admin:notifications_callrecord_change", args=[dialled.pk])).content.decode()
    assert CALLEE in client.get(reverse("admin:notifications_callrecord_changelist")).content.decode()


def test_admin_changelist_rows_stay_equal_to_djangos_own_when_masked(staff_manager, dialled):
    # The fast row writer and Django's rendering must agree on the masked value too.
    from django.contrib.admin.templatetags.admin_list import items_for_result

    from notifications.templatetags.call_admin import call_record_row

    request = RequestFactory().get("/admin/notifications/callrecord/")
    request.user = staff_manager
    changelist = admin.site._registry[CallRecord].get_changelist_instance(request)
    (record,) = changelist.result_list
    assert record.called_number == MASKED
    assert call_record_row(changelist, record) == list(items_for_result(changelist, record, None))


# ----- the masking function itself -----
def test_payload_mask_masks_every_number_key_and_number_text():
    payload = {
        "callee": "13900001231", "caller": "057188880001", "callee_show_num": "02166660001", "calleeShowNumber": "13900001231",
        "CalledNumber": 13900001231, "status_msg": "呼叫 +86 139-0000-1231 失败", "remark": "回电 0571-88880001",
        "data": json.dumps({"callee": "13900001231", "duration": 22}),
        "list": [{"show_number": "4001234567"}],
    }
    masked = payload_mask(payload)
    text = json.dumps(masked, ensure_ascii=False)
    for full in ("13900001231", "057188880001", "02166660001", "4001234567", "88880001"):
        assert full not in text
    assert masked["callee"] == "139****1231"
    assert json.loads(masked["data"]) == {"callee": "139****1231", "duration": 22}
    assert payload["callee"] == "13900001231"  # a copy: the stored payload is untouched


def test_payload_mask_leaves_ids_times_codes_and_counts_alone():
    payload = {"call_id": "116012354148^102813781231", "out_id": "13900001231", "RequestId": "0571888800019ABC",
               "status_code": "200000", "duration": 22, "start_time": "2024-03-06 16:21:08", "extend": ""}
    assert payload_mask(payload) == payload


def test_text_mask_keeps_other_digits():
    assert text_mask("订单 A1001，回电 13800138000。") == "订单 A1001，回电 138****8000。"
