"""The receipt inbox: pushes applied in arrival order, replayed, pruned, and calls placed elsewhere; its pages per role."""
import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from notifications.models import CallEvent, CallRecord, ReceiptDelivery
from notifications.services.receipt_inbox import (
    receipt_deliveries_replay,
    receipt_delivery_store,
    receipt_inbox_apply_pending,
    receipt_inbox_prune,
    receipts_record_placed_elsewhere,
)

from .conftest import call_report, voice_report

pytestmark = pytest.mark.django_db


def store(message_type: str, items, **fields) -> ReceiptDelivery:
    body = items if isinstance(items, bytes) else json.dumps(items, ensure_ascii=False).encode()
    delivery = receipt_delivery_store(message_type=message_type, body=body)
    if fields:
        ReceiptDelivery.objects.filter(pk=delivery.pk).update(**fields)
        delivery.refresh_from_db()
    return delivery


def test_pushes_are_applied_oldest_first_and_each_says_what_became_of_its_items(make_call):
    call = make_call()
    first = store("VoiceCallReport", [call_report(call, "200201", "2024-03-06 16:21:03")])
    second = store("VoiceReport", [voice_report(call), voice_report(None, call_id="nobody^1", out_id=""), "junk"])
    summary = receipt_inbox_apply_pending()
    assert (summary.deliveries, summary.items, summary.applied, summary.unmatched, summary.invalid) == (2, 4, 2, 1, 1)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == ReceiptDelivery.State.APPLIED
    assert second.state == ReceiptDelivery.State.PARTLY_APPLIED
    assert (second.item_count, second.applied_count, second.unmatched_count, second.invalid_count) == (3, 1, 1, 1)
    assert [(p["index"], p["reason"]) for p in second.problems] == [(1, "unmatched"), (2, "invalid")]
    call.refresh_from_db()
    assert call.status == CallRecord.Status.COMPLETED


def test_applying_twice_is_harmless_and_a_replay_matches_what_was_unmatched(make_call):
    delivery = store("VoiceReport", [voice_report(None, call_id="late^1", out_id="")])
    receipt_inbox_apply_pending()
    delivery.refresh_from_db()
    assert delivery.state == ReceiptDelivery.State.UNMATCHED
    assert receipt_inbox_apply_pending().deliveries == 0  # nothing pending: nothing applied again by itself

    call = make_call(call_id="late^1")  # the call becomes known (here: by hand)
    assert receipt_deliveries_replay(deliveries=ReceiptDelivery.objects.filter(state=ReceiptDelivery.State.UNMATCHED)) == 1
    receipt_inbox_apply_pending()
    delivery.refresh_from_db()
    call.refresh_from_db()
    assert (delivery.state, delivery.apply_runs) == (ReceiptDelivery.State.APPLIED, 2)
    assert call.status == CallRecord.Status.COMPLETED
    assert CallEvent.objects.filter(call=call).count() == 1  # attached, not stored twice


def test_a_call_closed_as_outcome_unknown_is_settled_by_its_late_receipt(make_call):
    call = make_call(call_id=None, status=CallRecord.Status.OUTCOME_UNKNOWN, outcome=CallRecord.Outcome.UNKNOWN)
    store("VoiceReport", [voice_report(None, "200003", call_id="9^1", out_id=call.out_id)])
    receipt_inbox_apply_pending()
    call.refresh_from_db()
    assert (call.status, call.outcome, call.call_id) == (CallRecord.Status.FAILED, CallRecord.Outcome.NO_ANSWER, "9^1")


@override_settings(RECEIPT_INBOX_KEEP_DAYS=90)
def test_pruning_deletes_old_pushes_but_never_one_still_waiting(make_call):
    old = timezone.now() - timedelta(days=91)
    kept_waiting = store("VoiceReport", [voice_report(make_call())], received_at=old)
    applied_old = store("VoiceReport", [voice_report(make_call())], received_at=old, state=ReceiptDelivery.State.APPLIED)
    recent = store("VoiceReport", [voice_report(make_call())], state=ReceiptDelivery.State.APPLIED)
    assert receipt_inbox_prune().deliveries == 1
    assert set(ReceiptDelivery.objects.values_list("pk", flat=True)) == {kept_waiting.pk, recent.pk}
    assert not ReceiptDelivery.objects.filter(pk=applied_old.pk).exists()


@override_settings(RECEIPT_ELSEWHERE_GRACE_MINUTES=10)
def test_receipts_unmatched_after_the_grace_period_become_a_call_placed_elsewhere(make_call):
    report = {**voice_report(None, "200001", call_id="theirs^1", out_id="their-7"), "callee": "13900005678"}
    store("VoiceCallReport", [call_report(None, "200201", "2024-03-06 16:21:03", call_id="theirs^1", out_id="their-7")])
    store("VoiceReport", [report])
    receipt_inbox_apply_pending()
    assert not CallRecord.objects.filter(placed_elsewhere=True).exists()  # within the grace period: could still be ours

    CallEvent.objects.update(created_at=timezone.now() - timedelta(minutes=11))
    assert receipts_record_placed_elsewhere() == 1
    call = CallRecord.objects.get(placed_elsewhere=True)
    assert (call.call_id, call.called_number, call.api) == ("theirs^1", "13900005678", CallRecord.Api.OTHER)
    assert (call.status, call.outcome) == (CallRecord.Status.COMPLETED, CallRecord.Outcome.HUNG_UP_EARLY)
    assert "their-7" in call.api_message
    assert call.events.count() == 2
    assert receipts_record_placed_elsewhere() == 0  # once


@override_settings(RECEIPT_ELSEWHERE_GRACE_MINUTES=10)
def test_our_own_call_whose_receipt_beat_the_api_answer_is_never_taken_for_elsewhere(make_call):
    store("VoiceReport", [voice_report(None, call_id="ours^1", out_id="")])
    receipt_inbox_apply_pending()
    call = make_call(call_id="ours^1", status=CallRecord.Status.ACCEPTED)  # the API's answer came after the receipt
    from notifications.services.receipts import call_record_claim_pending_receipts

    call_record_claim_pending_receipts(record=call)
    CallEvent.objects.update(created_at=timezone.now() - timedelta(minutes=11))
    assert receipts_record_placed_elsewhere() == 0
    assert not CallRecord.objects.filter(placed_elsewhere=True).exists()


# ----- the pages -----
def test_the_deliveries_page_lists_pushes_with_states_and_filters_for_managers(client, manager, make_call):
    store("VoiceReport", [voice_report(make_call())])
    store("VoiceCallReport", [{"status_code": "200201"}])
    receipt_inbox_apply_pending()
    client.force_login(manager)
    page = client.get(reverse("notifications:receipt_delivery_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "va-state-applied" in page and "va-state-invalid" in page
    filtered = client.get(reverse("notifications:receipt_delivery_list"), {"state": "invalid"}, HTTP_ACCEPT_LANGUAGE="en")
    assert filtered.content.decode().count("va-state-invalid") == 1
    assert "va-state-applied" not in filtered.content.decode().split("<tbody>")[1]
    by_type = client.get(reverse("notifications:receipt_delivery_list"), {"message_type": "VoiceReport"}).content.decode()
    assert "VoiceCallReport</td>" not in by_type


def test_the_deliveries_page_is_refused_to_operators(client, operator):
    client.force_login(operator)
    assert client.get(reverse("notifications:receipt_delivery_list")).status_code == 403


def test_the_detail_shows_the_raw_body_each_item_and_masks_numbers_for_a_manager(client, manager, operator, make_call):
    call = make_call()
    delivery = store("VoiceReport", [{**voice_report(call), "callee": "13900001231"}, {"status_code": "200000"}])
    receipt_inbox_apply_pending()
    client.force_login(manager)
    page = client.get(reverse("notifications:receipt_delivery_detail", args=[delivery.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "13900001231" not in page and "139****1231" in page
    assert reverse("notifications:call_record_detail", args=[call.pk]) in page
    assert "neither call_id nor out_id" in page
    client.force_login(operator)
    operator_page = client.get(reverse("notifications:receipt_delivery_detail", args=[delivery.pk]))
    assert operator_page.status_code == 403


def test_replay_from_the_page_one_or_a_filtered_set(client, manager, make_call, django_capture_on_commit_callbacks):
    invalid = store("VoiceReport", b'{"not": "an array"}')
    unmatched = store("VoiceReport", [voice_report(None, call_id="later^1", out_id="")])
    receipt_inbox_apply_pending()
    make_call(call_id="later^1")
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notifications:receipt_deliveries_replay"), {"state": "unmatched"})
    assert response.status_code == 302 and "state=unmatched" in response["Location"]
    unmatched.refresh_from_db()
    invalid.refresh_from_db()
    assert unmatched.state == ReceiptDelivery.State.APPLIED
    assert (invalid.state, invalid.apply_runs) == (ReceiptDelivery.State.INVALID, 0)  # not in the filtered set
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notifications:receipt_delivery_replay", args=[invalid.pk]))
    invalid.refresh_from_db()
    assert (invalid.state, invalid.apply_runs) == (ReceiptDelivery.State.INVALID, 1)


def test_replay_needs_its_permission(client, operator, make_call):
    delivery = store("VoiceReport", [voice_report(make_call())])
    client.force_login(operator)
    assert client.post(reverse("notifications:receipt_delivery_replay", args=[delivery.pk])).status_code == 403


def test_the_admin_lists_pushes_read_only_with_a_replay_action(client, superuser, make_call, django_capture_on_commit_callbacks):
    delivery = store("VoiceReport", [voice_report(make_call())])
    client.force_login(superuser)
    listing = client.get(reverse("admin:notifications_receiptdelivery_changelist"))
    assert listing.status_code == 200
    assert client.get(reverse("admin:notifications_receiptdelivery_change", args=[delivery.pk])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:notifications_receiptdelivery_changelist"),
                    {"action": "replay", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.state == ReceiptDelivery.State.APPLIED


def test_the_deliveries_page_pages_by_arrival_both_ways(client, manager):
    start = timezone.now() - timedelta(hours=1)
    for n in range(55):
        store("VoiceReport", [{"status_code": "200000", "call_id": f"page^{n}"}], received_at=start + timedelta(seconds=n))
    client.force_login(manager)
    first = client.get(reverse("notifications:receipt_delivery_list"))
    assert len(first.context["page"].rows) == 50 and first.context["page"].rows[0].received_at == start + timedelta(seconds=54)
    second = client.get(reverse("notifications:receipt_delivery_list"), {"after": first.context["page"].next_cursor})
    assert [d.received_at for d in second.context["page"].rows] == [start + timedelta(seconds=n) for n in range(4, -1, -1)]
    back = client.get(reverse("notifications:receipt_delivery_list"), {"before": second.context["page"].prev_cursor})
    assert [d.pk for d in back.context["page"].rows] == [d.pk for d in first.context["page"].rows]
