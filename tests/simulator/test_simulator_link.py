"""The console side of the simulator link: review requests go out, decisions come back through a keyed view."""
import json

import pytest
from django.urls import reverse

from notifications.models import ReviewStatus
from notifications.services import provider_sync
from tests.register.helpers import make_template, make_voice_file

URL = reverse("notifications:simulator_review")


def _post(client, payload, key="test-access-secret"):
    return client.post(URL, data=json.dumps(payload), content_type="application/json", headers={"X-Simulator-Key": key})


@pytest.mark.django_db
def test_a_decision_without_the_key_is_forbidden(client):
    template = make_template(status=ReviewStatus.SUBMITTED)
    payload = {"kind": "tts_template", "ref": str(template.pk), "decision": "approved", "code": "TTS_1", "reason": ""}
    assert _post(client, payload, key="guess").status_code == 403
    assert client.post(URL, data=json.dumps(payload), content_type="application/json").status_code == 403
    template.refresh_from_db()
    assert template.status == ReviewStatus.SUBMITTED


@pytest.mark.django_db
def test_decisions_are_recorded(client):
    template = make_template(status=ReviewStatus.SUBMITTED)
    voice_file = make_voice_file(status=ReviewStatus.SUBMITTED)
    assert _post(client, {"kind": "tts_template", "ref": str(template.pk), "decision": "approved", "code": "TTS_77"}).status_code == 204
    assert _post(client, {"kind": "voice_file", "ref": str(voice_file.pk), "decision": "rejected", "reason": "噪音"}).status_code == 204
    template.refresh_from_db()
    voice_file.refresh_from_db()
    assert template.status == ReviewStatus.APPROVED and template.tts_code == "TTS_77"
    assert voice_file.status == ReviewStatus.REJECTED and voice_file.reject_reason == "噪音"
    # A second decision for the same item is refused, not applied.
    assert _post(client, {"kind": "tts_template", "ref": str(template.pk), "decision": "rejected", "reason": "x"}).status_code == 409


@pytest.mark.django_db
def test_malformed_decisions(client):
    assert _post(client, {"kind": "qualification", "ref": "1", "decision": "approved"}).status_code == 400
    assert _post(client, {"kind": "tts_template", "ref": "999999", "decision": "approved", "code": "TTS_1"}).status_code == 404


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_simulator_reviews_a_submitted_template_end_to_end(vms_simulator, live_server, settings):
    settings.SIMULATOR_CONSOLE_URL = live_server.url
    template = make_template(status=ReviewStatus.SUBMITTED)
    provider_sync.request_review(template)
    vms_simulator.drain()
    template.refresh_from_db()
    assert template.status == ReviewStatus.APPROVED and template.tts_code.startswith("TTS_")
    assert template.tts_code in [t["code"] for t in vms_simulator.account.snapshot()["templates"]]


@pytest.mark.django_db
def test_publishing_the_register_fills_the_simulator_account(vms_simulator):
    template = make_template(status=ReviewStatus.APPROVED, tts_code="TTS_555")
    voice_file = make_voice_file(status=ReviewStatus.APPROVED, voice_code="x.wav")
    provider_sync.publish_account()
    snapshot = vms_simulator.account.snapshot()
    assert [t["code"] for t in snapshot["templates"]] == [template.tts_code]
    assert [v["code"] for v in snapshot["voice_files"]] == [voice_file.voice_code]


@pytest.mark.django_db
def test_a_stopped_simulator_does_not_break_the_console(settings):
    settings.SIMULATOR_CONTROL_URL = "http://127.0.0.1:9/_simulator/"
    provider_sync.publish_approved(make_template(status=ReviewStatus.APPROVED, tts_code="TTS_556"))
    provider_sync.request_review(make_template(status=ReviewStatus.SUBMITTED))


def test_without_a_control_url_nothing_is_sent(settings):
    settings.SIMULATOR_CONTROL_URL = ""
    assert provider_sync.is_enabled() is False


def test_a_console_on_another_port_has_the_simulator_call_it_back_there(settings, monkeypatch):
    from notifications.management.commands.runconsole import Command

    monkeypatch.setenv("SIMULATOR_CONSOLE_URL", "http://127.0.0.1:8000")  # as .env.example has it
    monkeypatch.setenv("SIMULATOR_CONTROL_URL", "")
    monkeypatch.delenv("SIMULATOR_CONTROL_URL")  # the command sets it for its children; restored after the test
    settings.SIMULATOR_CONTROL_URL = ""
    simulator_env = Command._link_settings(8100, 8101)
    assert settings.SIMULATOR_CONSOLE_URL == "http://127.0.0.1:8100"  # review decisions' callback address
    assert settings.ALIYUN_VMS_ENDPOINT == simulator_env["ALIYUN_VMS_ENDPOINT"] == "http://127.0.0.1:8101/"
    assert simulator_env["SIMULATOR_RECEIPT_BASE_URL"] == "http://127.0.0.1:8100/receipts/"
    assert simulator_env["SIMULATOR_CONTROL_URL"] == "http://127.0.0.1:8101/_simulator/"
