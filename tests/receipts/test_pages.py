"""The call detail page, its live status endpoint and the re-query button, per role."""
import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from notifications.models import CallEvent, CallRecord
from notifications.services.receipts import VOICE_REPORT, receipts_ingest

from .conftest import voice_report

pytestmark = pytest.mark.django_db


def detail_url(call: CallRecord) -> str:
    return reverse("notifications:call_record_detail", args=[call.pk])


def test_operator_sees_request_answer_outcome_codes_and_timeline(client, operator, make_call):
    call = make_call(request_id="REQ-42", api_code="OK", speed=50)
    receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(call, "200002")])
    client.force_login(operator)
    response = client.get(detail_url(call))
    assert response.status_code == 200
    page = response.content.decode()
    assert "您的快递A12已到东门，请及时领取。" in page  # the text the callee heard
    assert "REQ-42" in page and call.call_id in page and call.out_id in page
    assert 'va-state-busy' in page and "200002" in page and "执行完成" in page
    assert "Asia/Shanghai" in page
    assert "13900001234" in page
    assert "&quot;hangup_direction&quot;: &quot;用户&quot;" in page  # the raw payload as the provider sent it
    assert "js/calls.js" not in page  # final: nothing left to poll
    assert "requery" not in page  # the operator may not re-query


def test_unfinished_call_page_polls_its_status(client, manager, make_call):
    call = make_call(status=CallRecord.Status.RINGING)
    client.force_login(manager)
    page = client.get(detail_url(call)).content.decode()
    assert "js/calls.js" in page
    assert reverse("notifications:call_record_status", args=[call.pk]) in page
    assert reverse("notifications:call_record_requery", args=[call.pk]) in page


def test_status_endpoint_returns_the_card_and_timeline(client, operator, make_call):
    call = make_call(status=CallRecord.Status.RINGING)
    client.force_login(operator)
    url = reverse("notifications:call_record_status", args=[call.pk])
    first = client.get(url).json()
    assert first["final"] is False
    receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(call)])
    then = client.get(url).json()
    assert then["final"] is True
    assert "va-state-listened" in then["status_html"]
    assert "VoiceReport" in then["timeline_html"] and "执行完成" in then["timeline_html"]


def test_timeline_says_what_each_status_code_means(client, operator, make_call):
    from notifications.services.receipts import VOICE_CALL_REPORT

    from .conftest import call_report

    call = make_call(status=CallRecord.Status.ACCEPTED)
    receipts_ingest(message_type=VOICE_CALL_REPORT, records=[call_report(call, "200201", "2024-03-06 16:20:03")])
    receipts_ingest(message_type=VOICE_REPORT, records=[voice_report(call, "200002")])
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    timeline = client.get(reverse("notifications:call_record_status", args=[call.pk])).json()["timeline_html"]
    assert '<span class="va-mono ms-1">200201</span> <span>callee ringing</span>' in timeline
    assert '<span class="va-mono ms-1">200002</span> <span>Busy</span>' in timeline


def test_user_without_role_is_refused(client, make_call):
    call = make_call()
    client.force_login(User.objects.create_user("visitor"))
    assert client.get(detail_url(call)).status_code == 403
    assert client.get(reverse("notifications:call_record_status", args=[call.pk])).status_code == 403


def test_anonymous_is_sent_to_login(client, make_call):
    response = client.get(detail_url(make_call()))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_operator_cannot_requery(client, operator, make_call):
    call = make_call()
    client.force_login(operator)
    response = client.post(reverse("notifications:call_record_requery", args=[call.pk]))
    assert response.status_code == 403
    assert not CallEvent.objects.exists()


def test_missing_call_is_404(client, manager):
    client.force_login(manager)
    assert client.get(reverse("notifications:call_record_detail", args=[999999])).status_code == 404
