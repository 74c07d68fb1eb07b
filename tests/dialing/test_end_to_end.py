"""Console and simulator over real HTTP: an operator dials from the form and every simulator outcome ends in the right state."""
import re
import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from notifications.models import CallRecord
from notifications.services.calls_follow_up import calls_follow_up

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The simulator's outcome by the callee's last digit, and what the console must end up saying.
EXPECTED = {
    "0": (CallRecord.Status.COMPLETED, CallRecord.Outcome.LISTENED),
    "1": (CallRecord.Status.COMPLETED, CallRecord.Outcome.HUNG_UP_EARLY),
    "2": (CallRecord.Status.FAILED, CallRecord.Outcome.BUSY),
    "3": (CallRecord.Status.FAILED, CallRecord.Outcome.NO_ANSWER),
    "4": (CallRecord.Status.FAILED, CallRecord.Outcome.INVALID_NUMBER),
    "5": (CallRecord.Status.FAILED, CallRecord.Outcome.POWERED_OFF),
    "6": (CallRecord.Status.FAILED, CallRecord.Outcome.SUSPENDED),
    "7": (CallRecord.Status.FAILED, CallRecord.Outcome.UNREACHABLE),
    "8": (CallRecord.Status.COMPLETED, CallRecord.Outcome.LISTENED),  # receipts lost: settled by the detail query
    "9": (CallRecord.Status.COMPLETED, CallRecord.Outcome.LISTENED),  # receipts duplicated and out of order
}


def csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10)
    assert page.status_code == 200, url
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def wait_until_final(records, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(CallRecord.objects.get(pk=r.pk).is_final for r in records):
            return
        time.sleep(0.1)


def test_operator_dials_from_the_form_and_every_outcome_is_settled(live_server, on_simulator, notice, operator, settings):
    settings.REDIS_URL = ""  # the live server sends the call itself once the form's transaction commits
    settings.DIAL_RATE_LIMIT_PER_MINUTE = 100
    settings.CALL_DETAIL_QUERY_AFTER_MINUTES = 0
    on_simulator.set_receipt_base_url(live_server.url + "/receipts/")
    operator.set_password("operator-password")
    operator.save()
    session = requests.Session()
    login = live_server.url + "/accounts/login/"
    response = session.post(login, {"username": "operator", "password": "operator-password",
                                    "csrfmiddlewaretoken": csrf(session, login)}, headers={"Referer": login}, timeout=10)
    assert response.status_code == 200 and "operator" in response.text

    form_url = f"{live_server.url}/dial/tts/?template={notice.pk}"
    for digit in EXPECTED:
        response = session.post(form_url, {
            "csrfmiddlewaretoken": csrf(session, form_url), "template": notice.pk, "called_number": f"1390000123{digit}",
            "play_times": "2", "volume": "90", "speed": "", "param_name": "张三", "param_order": f"A{digit}",
        }, headers={"Referer": form_url}, timeout=10)
        assert response.status_code == 200
        assert re.search(r"/calls/\d+/$", response.url), response.text[:500]

    records = {r.called_number[-1]: r for r in CallRecord.objects.all()}
    assert len(on_simulator.calls) == len(records) == 10
    for call in on_simulator.calls:
        record = records[call["CalledNumber"][-1]]
        assert call["OutId"] == record.out_id
        assert (call["TtsCode"], call["PlayTimes"], call["Volume"]) == (notice.tts_code, "2", "90")
        assert call["TtsParam"] == f'{{"name":"张三","order":"A{record.called_number[-1]}"}}'
        assert "CalledShowNumber" not in call

    on_simulator.drain()
    wait_until_final([r for digit, r in records.items() if digit != "8"])
    # The lost receipts: the follow-up asks the provider once the call should long have ended.
    CallRecord.objects.filter(pk=records["8"].pk).update(sent_at=timezone.now() - timedelta(minutes=10))
    calls_follow_up()
    for digit, (status, outcome) in EXPECTED.items():
        record = CallRecord.objects.get(pk=records[digit].pk)
        assert (digit, record.status, record.outcome) == (digit, status, outcome)
    assert len(on_simulator.calls) == 10
