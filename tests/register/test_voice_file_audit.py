"""Voice files learn their review result from the provider's QueryVoiceFileAuditInfo, asked over real HTTP."""
import json
import logging
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.urls import reverse

from notifications import jobs
from notifications.aliyun import VmsRejected, VmsThrottled, get_vms_client, spec
from notifications.models import AuditEntry, PeriodicRun, ReviewStatus, VoiceFile
from notifications.services.review import resource_submit
from notifications.services.voice_file_audit import voice_file_audit_sync
from tests.register.helpers import make_voice_file

pytestmark = pytest.mark.django_db


def _in_review(vms_simulator, code: str, status: str = "pending", reason: str = "", **fields) -> VoiceFile:
    vms_simulator.app.account.merge({"voice_files": [{"code": code, "status": status, "reason": reason}]})
    return make_voice_file(status=ReviewStatus.SUBMITTED, voice_code=code, **fields)


def _status(voice_file) -> tuple[str, str]:
    voice_file.refresh_from_db()
    return voice_file.status, voice_file.reject_reason


@pytest.fixture(autouse=True)
def english():
    """Run summaries are written in the active language (the console's, zh-hans, in a job); these tests read English."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def fast(settings):
    settings.VOICE_FILE_AUDIT_QPS = 1000


def test_approvals_rejections_and_files_still_in_review(vms_simulator, fast):
    approved = _in_review(vms_simulator, "a1.wav", "approved", name="欢迎语")
    rejected = _in_review(vms_simulator, "r1.wav", "rejected", reason="背景噪音过大", name="催缴提醒")
    waiting = _in_review(vms_simulator, "w1.wav", "pending", name="节日问候")
    uploading = _in_review(vms_simulator, "u1.wav", "AUDIT_STATE_UPLOADING", name="停电通知")

    summary = voice_file_audit_sync()

    assert (summary.approved, summary.rejected, summary.waiting, summary.errors) == (1, 1, 2, 0)
    assert str(summary) == "1 approved, 1 rejected, 2 still in review, 0 errors"
    assert _status(approved) == (ReviewStatus.APPROVED, "") and approved.voice_code == "a1.wav"
    assert _status(rejected) == (ReviewStatus.REJECTED, "背景噪音过大")
    assert _status(waiting)[0] == ReviewStatus.SUBMITTED
    assert _status(uploading)[0] == ReviewStatus.SUBMITTED  # approved but still being uploaded: not dialable yet


def test_the_audit_entry_names_no_person_and_says_the_provider_reported_it(vms_simulator, fast, client, manager):
    voice_file = _in_review(vms_simulator, "r2.wav", "rejected", reason="内容含营销信息")
    voice_file_audit_sync()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REVIEW_DECISION, target_id=str(voice_file.pk))
    assert entry.user is None and entry.username == ""
    assert entry.details == {"status": "rejected", "code": "", "reason": "内容含营销信息", "source": "provider_query"}
    client.force_login(manager)
    page = client.get(reverse("notifications:audit_log"), headers={"accept-language": "en"}).content.decode()
    assert "reported by the provider&#x27;s review query" in page or "reported by the provider's review query" in page
    assert "reason: 内容含营销信息" in page


def test_a_rejection_without_reason_still_gets_one(vms_simulator, fast):
    voice_file = _in_review(vms_simulator, "r3.wav", "rejected", reason="")
    voice_file_audit_sync()
    status, reason = _status(voice_file)
    assert status == ReviewStatus.REJECTED and reason  # the console's language: a sentence saying none was given


def test_more_than_ten_files_are_asked_about_ten_at_a_time_within_the_qps(vms_simulator, settings, monkeypatch):
    monkeypatch.setattr(vms_simulator.app.config, "qps_audit", 2)  # the simulator refuses a third request in the same second
    settings.VOICE_FILE_AUDIT_QPS = 2
    files = [_in_review(vms_simulator, f"f{index:02d}.wav", "approved" if index % 2 else "pending", name=f"文件{index}")
             for index in range(23)]
    started = time.monotonic()
    summary = voice_file_audit_sync()
    assert summary.requests == 3 and summary.errors == 0
    assert (summary.approved, summary.waiting) == (11, 12)
    assert time.monotonic() - started >= 1.0  # three requests at 2 a second
    assert sum(_status(f)[0] == ReviewStatus.APPROVED for f in files) == 11


def test_unpaced_requests_would_be_throttled_by_the_simulator(vms_simulator, fast, monkeypatch):
    """The QPS the sync keeps to is real: the simulator refuses a request over its limit."""
    monkeypatch.setattr(vms_simulator.app.config, "qps_audit", 1)
    for index in range(21):
        _in_review(vms_simulator, f"t{index:02d}.wav", "approved", name=f"文件{index}")
    summary = voice_file_audit_sync()  # three requests in a few milliseconds: at most two seconds begin meanwhile
    assert summary.errors and summary.last_error == "Throttling.User"
    assert summary.approved + summary.errors == 21


def test_a_throttled_provider_leaves_the_files_and_the_next_run_records_them(vms_simulator, fast, caplog):
    voice_file = _in_review(vms_simulator, "x1.wav", "approved")
    vms_simulator.set_faults(throttle_share=1.0)
    with caplog.at_level(logging.WARNING):
        summary = voice_file_audit_sync()
    assert (summary.approved, summary.errors, summary.last_error) == (0, 1, "Throttling.User")
    assert _status(voice_file)[0] == ReviewStatus.SUBMITTED
    assert "Throttling.User" in caplog.text
    vms_simulator.set_faults(throttle_share=0.0)
    assert voice_file_audit_sync().approved == 1
    assert _status(voice_file)[0] == ReviewStatus.APPROVED


def test_a_provider_5xx_leaves_the_files(vms_simulator, fast):
    voice_file = _in_review(vms_simulator, "x5.wav", "approved")
    vms_simulator.set_faults(error_5xx_share=1.0)
    summary = voice_file_audit_sync()
    assert summary.errors == 1 and summary.last_error == "isp.SYSTEM_ERROR"
    assert _status(voice_file)[0] == ReviewStatus.SUBMITTED


def test_a_signature_error_is_logged_without_secrets(vms_simulator, fast, settings, caplog):
    voice_file = _in_review(vms_simulator, "x2.wav", "approved")
    settings.ALIYUN_ACCESS_KEY_SECRET = "wrong-secret-value"
    with caplog.at_level(logging.DEBUG):
        summary = voice_file_audit_sync()
    assert summary.errors == 1 and summary.last_error == "SignatureDoesNotMatch"
    assert _status(voice_file)[0] == ReviewStatus.SUBMITTED
    assert "wrong-secret-value" not in caplog.text and "Signature=" not in caplog.text
    assert "x2.wav" not in caplog.text  # the signed query (with the codes) stays out of the log too


def test_the_network_down_leaves_the_files(vms_simulator, fast, settings):
    voice_file = _in_review(vms_simulator, "x3.wav", "approved")
    settings.ALIYUN_VMS_ENDPOINT = "http://127.0.0.1:9/"
    summary = voice_file_audit_sync()
    assert summary.errors == 1 and summary.last_error == "unreachable"
    assert _status(voice_file)[0] == ReviewStatus.SUBMITTED


def test_a_code_the_provider_does_not_know_is_an_error_of_that_file_only(vms_simulator, fast):
    unknown = make_voice_file(status=ReviewStatus.SUBMITTED, voice_code="never-uploaded.wav")
    known = _in_review(vms_simulator, "k1.wav", "approved", name="另一个")
    summary = voice_file_audit_sync()
    assert (summary.approved, summary.errors) == (1, 1)
    assert _status(unknown)[0] == ReviewStatus.SUBMITTED and _status(known)[0] == ReviewStatus.APPROVED


class _Garbled:
    """A gateway that answers OK with a Data of the wrong shape."""

    def __init__(self, body: dict):
        self.body = json.dumps(body).encode()
        self.server = make_server("127.0.0.1", 0, self, handler_class=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __call__(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [self.body]


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.parametrize("body", [{"Code": "OK", "Data": "not a list"}, {"Code": "OK", "Data": [{"AuditState": "AUDIT_STATE_PASS"}]}])
def test_a_garbled_answer_leaves_the_files(vms_simulator, fast, settings, body):
    voice_file = _in_review(vms_simulator, "x4.wav", "approved")
    garbled = _Garbled(body)
    settings.ALIYUN_VMS_ENDPOINT = garbled.url
    try:
        summary = voice_file_audit_sync()
    finally:
        garbled.server.shutdown()
    assert summary.errors == 1 and summary.last_error == "malformed"
    assert _status(voice_file)[0] == ReviewStatus.SUBMITTED


def test_a_file_decided_by_a_manager_meanwhile_is_not_touched(vms_simulator, fast, manager):
    from notifications.services.review import resource_record_decision

    voice_file = _in_review(vms_simulator, "m1.wav", "rejected", reason="噪音")
    resource_record_decision(resource=voice_file, approved=True, code="m1.wav", decided_by=manager)
    summary = voice_file_audit_sync()
    assert summary.rejected == 0 and summary.errors == 0  # not in review any more: not asked about
    assert _status(voice_file)[0] == ReviewStatus.APPROVED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_file_submitted_to_the_simulator_gets_a_code_and_its_review_arrives_by_the_sync(
        vms_simulator, operator, fast, django_capture_on_commit_callbacks):
    welcome = make_voice_file(name="welcome")
    refused = make_voice_file(name="please reject me")
    with django_capture_on_commit_callbacks(execute=True):
        resource_submit(resource=welcome, user=operator)
    with django_capture_on_commit_callbacks(execute=True):
        resource_submit(resource=refused, user=operator)
    welcome.refresh_from_db()
    refused.refresh_from_db()
    assert welcome.voice_code.endswith(".wav") and refused.voice_code.endswith(".wav")
    assert voice_file_audit_sync().waiting == 2  # the simulator has not decided yet
    vms_simulator.drain()  # its review decides (and tells nobody)
    assert _status(welcome)[0] == ReviewStatus.SUBMITTED
    summary = jobs.voice_file_audit_sync_job()
    assert summary == "1 approved, 1 rejected, 0 still in review, 0 errors"
    assert _status(welcome)[0] == ReviewStatus.APPROVED
    assert _status(refused) == (ReviewStatus.REJECTED, "语音文件内容不符合规范")
    assert PeriodicRun.objects.get(name="voice_file_audit_sync").summary == summary


def test_a_resubmitted_file_gets_a_new_code(vms_simulator, operator, fast, django_capture_on_commit_callbacks):
    voice_file = _in_review(vms_simulator, "old.wav", "rejected", reason="噪音")
    voice_file_audit_sync()
    with django_capture_on_commit_callbacks(execute=True):
        resource_submit(resource=voice_file, user=operator)
    voice_file.refresh_from_db()
    assert voice_file.status == ReviewStatus.SUBMITTED and voice_file.voice_code not in ("", "old.wav")
    assert voice_file_audit_sync().waiting == 1  # the old code's rejection is not read as the new one's


def test_the_run_is_shown_on_the_system_health_page(vms_simulator, fast, client, manager):
    _in_review(vms_simulator, "h1.wav", "approved")
    jobs.voice_file_audit_sync_job()
    client.force_login(manager)
    page = client.get(reverse("notifications:system_health"), headers={"accept-language": "en"}).content.decode()
    assert 'data-check="task:voice_file_audit_sync"' in page
    assert "Voice file review sync" in page and "1 approved, 0 rejected, 0 still in review, 0 errors" in page


def test_the_command_syncs_now(vms_simulator, fast, capsys):
    from django.core.management import call_command

    voice_file = _in_review(vms_simulator, "c1.wav", "approved")
    call_command("voice_file_audit_sync")
    assert "1 approved" in capsys.readouterr().out
    assert _status(voice_file)[0] == ReviewStatus.APPROVED


# ----- the client and the simulator against the reference -----

@pytest.mark.parametrize("state, word", sorted(spec.AUDIT_STATES.items()))
def test_every_published_audit_state_is_read(vms_simulator, state, word):
    vms_simulator.app.account.merge({"voice_files": [{"code": "s.wav", "status": state}]})
    [answer] = get_vms_client().query_voice_file_audit(voice_codes=["s.wav"])
    assert (answer.provider_state, answer.state) == (state, word)


def test_the_client_sends_at_most_ten_codes():
    with pytest.raises(ValueError):
        get_vms_client().query_voice_file_audit(voice_codes=[f"{n}.wav" for n in range(11)])


def test_the_simulator_refuses_more_than_ten_codes_and_an_unknown_business_type(vms_simulator):
    client = get_vms_client()
    with pytest.raises(VmsRejected) as refused:
        client._request("QueryVoiceFileAuditInfo", {"VoiceCodes": ",".join(f"{n}.wav" for n in range(11))}, placing=False)
    assert refused.value.code == spec.ERROR_INVALID_PARAMETERS
    with pytest.raises(VmsRejected) as refused:
        client._request("QueryVoiceFileAuditInfo", {"VoiceCodes": "a.wav", "BusinessType": "1"}, placing=False)
    assert refused.value.code == spec.ERROR_INVALID_PARAMETERS
    with pytest.raises(VmsRejected) as refused:
        client._request("QueryVoiceFileAuditInfo", {"BusinessType": "0"}, placing=False)
    assert refused.value.code == "MissingVoiceCodes"


def test_the_simulator_throttles_the_query_over_its_qps(vms_simulator, monkeypatch):
    monkeypatch.setattr(vms_simulator.app.config, "qps_audit", 1)
    vms_simulator.app.account.merge({"voice_files": [{"code": "q.wav", "status": "approved"}]})
    client = get_vms_client()
    with pytest.raises(VmsThrottled) as throttled:
        for _attempt in range(3):
            client.query_voice_file_audit(voice_codes=["q.wav"])
    assert throttled.value.code == "Throttling.User"


def test_a_manager_asks_the_provider_now_from_the_voice_file_list(vms_simulator, fast, client, manager, settings):
    settings.REDIS_URL = ""  # no queue and no scheduler thread in a test: the run happens in the request
    voice_file = _in_review(vms_simulator, "b1.wav", "approved")
    client.force_login(manager)
    page = client.get(reverse("notifications:voice_file_list"), headers={"accept-language": "en"}).content.decode()
    assert "Ask the provider for review results now" in page
    response = client.post(reverse("notifications:voice_file_audit_sync"))
    assert response.status_code == 302 and response["Location"] == reverse("notifications:voice_file_list")
    assert _status(voice_file)[0] == ReviewStatus.APPROVED


def test_operators_may_not_ask_for_review_results(vms_simulator, fast, client, operator):
    voice_file = _in_review(vms_simulator, "b2.wav", "approved")
    client.force_login(operator)
    page = client.get(reverse("notifications:voice_file_list"), headers={"accept-language": "en"}).content.decode()
    assert "Ask the provider for review results now" not in page
    assert client.post(reverse("notifications:voice_file_audit_sync")).status_code == 403
    assert _status(voice_file)[0] == ReviewStatus.SUBMITTED


def test_a_manager_deciding_by_hand_finds_the_upload_code_filled_in(vms_simulator, client, manager):
    voice_file = _in_review(vms_simulator, "hand.wav", "pending")
    client.force_login(manager)
    page = client.get(reverse("notifications:voice_file_detail", args=[voice_file.pk])).content.decode()
    assert 'value="hand.wav"' in page
