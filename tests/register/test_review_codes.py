"""Review codes stay unique when `make run` is restarted, and a review result the console cannot record is shown on
the item instead of leaving it "in review" with nothing said."""
import json

import pytest
from django.urls import reverse
from django.utils import translation

from notifications.models import ReviewStatus, TtsTemplate
from notifications.services import provider_sync
from notifications.services.review import resource_record_decision
from simulator import Simulator, SimulatorConfig, start_server

from .helpers import make_qualification, make_template, make_voice_file

# What the simulator's old counter handed out first, run after run.
FIRST_CODE_OF_EVERY_RUN = "TTS_100000001"


@pytest.fixture
def restarted_simulator(settings, live_server):
    """A simulator process that has just started: it knows only what the console tells it, like after `make run`."""
    config = SimulatorConfig(access_key_id=settings.ALIYUN_ACCESS_KEY_ID, access_key_secret=settings.ALIYUN_ACCESS_KEY_SECRET,
                             receipt_token=settings.RECEIPT_WEBHOOK_TOKEN, time_scale=0.01)
    app = Simulator(config)
    server = start_server(app, host="127.0.0.1", port=0)
    settings.ALIYUN_VMS_ENDPOINT = server.url
    settings.SIMULATOR_CONTROL_URL = server.url + "_simulator/"
    settings.SIMULATOR_CONSOLE_URL = live_server.url
    yield app
    app.engine.wait_idle(5)
    server.shutdown()
    server.server_close()
    app.engine.stop()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_a_restart_the_simulator_hands_out_a_code_no_item_has(restarted_simulator):
    earlier = make_template(status=ReviewStatus.APPROVED, tts_code=FIRST_CODE_OF_EVERY_RUN, name="上次运行批准的")
    seeded = make_template(status=ReviewStatus.APPROVED, tts_code="TTS_999999999999", name="种子模板")
    provider_sync.publish_account()  # what the console does when `make run` starts
    waiting = make_template(status=ReviewStatus.SUBMITTED, name="新提交的")
    provider_sync.request_review(waiting)
    assert restarted_simulator.engine.wait_idle(10)
    waiting.refresh_from_db()
    assert waiting.status == ReviewStatus.APPROVED
    assert waiting.tts_code.startswith("TTS_") and waiting.tts_code[4:].isdigit()
    assert waiting.tts_code not in (earlier.tts_code, seeded.tts_code)
    assert int(waiting.tts_code[4:]) > 999999999999


def test_codes_never_repeat_within_a_simulator_even_after_its_account_is_cleared():
    app = Simulator(SimulatorConfig(access_key_id="k", access_key_secret="s", receipt_token="t"))
    first = app.account.new_template_code()
    app.account.merge({"templates": [{"code": first, "content": "您好"}]})
    app.account.clear()
    assert app.account.new_template_code() != first


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reviews_a_restarted_simulator_forgot_are_asked_for_again(restarted_simulator):
    # Submitted while the previous simulator ran; it went away before deciding.
    waiting = make_template(status=ReviewStatus.SUBMITTED)
    provider_sync.publish_account()
    assert restarted_simulator.engine.wait_idle(10)
    assert TtsTemplate.objects.get(pk=waiting.pk).status == ReviewStatus.APPROVED


def _report(client, payload):
    return client.post(reverse("notifications:simulator_review"), data=json.dumps(payload), content_type="application/json",
                       headers={"X-Simulator-Key": "test-access-secret"})


@pytest.mark.django_db
def test_an_approval_with_a_code_in_use_is_shown_on_the_item(client, operator, manager):
    other = make_template(status=ReviewStatus.APPROVED, tts_code="TTS_123", name="取件通知")
    waiting = make_template(status=ReviewStatus.SUBMITTED, name="发货通知")
    response = _report(client, {"kind": "tts_template", "ref": str(waiting.pk), "decision": "approved", "code": "TTS_123"})
    assert response.status_code == 409
    waiting.refresh_from_db()
    assert waiting.status == ReviewStatus.SUBMITTED and waiting.tts_code == ""
    client.force_login(operator)
    page = client.get(reverse("notifications:tts_template_detail", args=[waiting.pk])).content.decode()
    assert 'id="va-unrecorded-review"' in page
    assert "TTS_123" in page and "“取件通知”" in page and f"#{other.pk}" in page
    # The manager records the decision with the right code; the note goes with it.
    resource_record_decision(resource=waiting, approved=True, code="TTS_124", decided_by=manager)
    page = client.get(reverse("notifications:tts_template_detail", args=[waiting.pk])).content.decode()
    assert "va-unrecorded-review" not in page and "TTS_123" not in page


@pytest.mark.django_db
def test_the_note_is_in_words_a_business_user_reads(client, settings):
    settings.LANGUAGE_CODE = "en"
    make_template(status=ReviewStatus.APPROVED, tts_code="TTS_123", name="取件通知")
    waiting = make_template(status=ReviewStatus.SUBMITTED)
    _report(client, {"kind": "tts_template", "ref": str(waiting.pk), "decision": "approved", "code": "TTS_123"})
    note = provider_sync.unrecorded_review_note(TtsTemplate.objects.get(pk=waiting.pk))
    assert note.startswith("The provider reported approval with code TTS_123, but that code already belongs to “取件通知”")
    assert "records the decision here with the right code" in note


@pytest.mark.django_db
def test_an_approval_under_an_unapproved_qualification_is_shown_on_the_item(client, settings):
    settings.LANGUAGE_CODE = "en"
    voice_file = make_voice_file(status=ReviewStatus.SUBMITTED,
                                 qualification=make_qualification(status=ReviewStatus.REJECTED, company_name="杭州驳回科技有限公司"))
    response = _report(client, {"kind": "voice_file", "ref": str(voice_file.pk), "decision": "approved", "code": "a.wav"})
    assert response.status_code == 409
    with translation.override("en"):
        note = provider_sync.unrecorded_review_note(type(voice_file).objects.get(pk=voice_file.pk))
    assert "code a.wav, but it was not recorded" in note and "“杭州驳回科技有限公司”" in note


@pytest.mark.django_db
def test_a_late_report_for_an_item_already_decided_leaves_no_note(client):
    template = make_template(status=ReviewStatus.REJECTED, reject_reason="含营销内容")
    assert _report(client, {"kind": "tts_template", "ref": str(template.pk), "decision": "approved",
                            "code": "TTS_9"}).status_code == 409
    template.refresh_from_db()
    assert template.reject_reason == "含营销内容"  # the recorded rejection stays as it was
