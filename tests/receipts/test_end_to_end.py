"""Console and simulator over real HTTP: pushed receipts reach the final state; a manager's re-query settles a call."""
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from notifications.aliyun import get_vms_client
from notifications.models import CallEvent, CallRecord
from notifications.services.receipts import call_record_claim_pending_receipts


def _place(vms_simulator, make_call, callee: str) -> CallRecord:
    """What dialing does: record first (so receipts can match the OutId), then call, then store the CallId."""
    vms_simulator.account.add_template("TTS_100001", "您的快递${code}已到${place}，请及时领取。")
    record = make_call(call_id=None, status=CallRecord.Status.SENDING, called_number=callee)
    placed = get_vms_client().single_call_by_tts(
        called_number=callee, tts_code="TTS_100001", tts_params=record.params, out_id=record.out_id
    )
    CallRecord.objects.filter(pk=record.pk, call_id=None).update(call_id=placed.call_id, request_id=placed.request_id)
    CallRecord.objects.filter(pk=record.pk, status=CallRecord.Status.SENDING).update(status=CallRecord.Status.ACCEPTED)
    record.refresh_from_db()
    call_record_claim_pending_receipts(record=record)
    return record


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pushed_receipts_bring_the_call_to_its_final_state(live_server, vms_simulator, make_call):
    vms_simulator.set_receipt_base_url(live_server.url + "/receipts/")
    record = _place(vms_simulator, make_call, "13900001230")
    vms_simulator.drain()
    record.refresh_from_db()
    assert all(push["acknowledged"] for push in vms_simulator.pushed)
    assert (record.status, record.outcome, record.status_code) == (
        CallRecord.Status.COMPLETED, CallRecord.Outcome.LISTENED, "200000")
    assert record.duration == 24
    kinds = list(record.events.values_list("kind", flat=True))
    assert kinds.count(CallEvent.Kind.VOICE_REPORT) == 1
    assert kinds.count(CallEvent.Kind.CALL_REPORT) == 4


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_busy_call_pushed_ends_failed_busy(live_server, vms_simulator, make_call):
    vms_simulator.set_receipt_base_url(live_server.url + "/receipts/")
    record = _place(vms_simulator, make_call, "13900001232")
    vms_simulator.drain()
    record.refresh_from_db()
    assert (record.status, record.outcome) == (CallRecord.Status.FAILED, CallRecord.Outcome.BUSY)


@pytest.mark.django_db
def test_manager_requery_settles_a_call_whose_receipts_never_came(client, manager, vms_simulator, make_call):
    record = _place(vms_simulator, make_call, "13900001233")  # receipts are kept by the simulator, not pushed
    vms_simulator.drain()
    client.force_login(manager)
    response = client.post(reverse("notifications:call_record_requery", args=[record.pk]))
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.status, record.outcome, record.status_code) == (
        CallRecord.Status.FAILED, CallRecord.Outcome.NO_ANSWER, "200003")
    assert record.final_report_at is None  # settled by a query, not by the provider's final receipt
    assert record.events.filter(kind=CallEvent.Kind.DETAIL_QUERY).count() == 1
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["success"]


@pytest.mark.django_db
def test_requery_of_a_call_the_provider_does_not_know_records_an_empty_query(client, manager, vms_simulator, make_call):
    record = make_call(call_id="000000^0")
    client.force_login(manager)
    client.post(reverse("notifications:call_record_requery", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == CallRecord.Status.ACCEPTED
    assert record.events.get().payload == {"found": False}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_call_another_system_placed_on_the_account_becomes_a_call_placed_elsewhere(live_server, vms_simulator, settings):
    """Another system uses the same account: its receipts reach our webhook and, after the grace period, its call
    is in our call log, settled by its receipts; a detail query reaches it like one of ours."""
    from notifications.services.receipt_inbox import receipts_record_placed_elsewhere

    settings.RECEIPT_ELSEWHERE_GRACE_MINUTES = 0
    vms_simulator.set_receipt_base_url(live_server.url + "/receipts/")
    vms_simulator.account.add_template("TTS_900001", "您的订单${order}已发货")
    placed = get_vms_client().single_call_by_tts(called_number="13900004441", tts_code="TTS_900001",
                                                 tts_params={"order": "A7"}, out_id="crm-77")
    vms_simulator.drain()
    # The grace period is over at once here: the inbox run that applied the last push recorded the call.
    assert receipts_record_placed_elsewhere() == 0
    record = CallRecord.objects.get(call_id=placed.call_id)
    assert record.placed_elsewhere and "crm-77" in record.api_message
    assert (record.status, record.outcome, record.called_number) == (
        CallRecord.Status.COMPLETED, CallRecord.Outcome.HUNG_UP_EARLY, "13900004441")
    assert record.events.count() == 5

    from notifications.services.receipts import call_record_requery

    detail = call_record_requery(record=record)
    assert detail is not None and detail.call_id == placed.call_id
