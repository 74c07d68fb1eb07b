"""seed_demo creates users with printed random passwords and a demo register once; the admin uses the review services."""
import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from notifications.models import CallerNumber, Qualification, ReviewStatus, TtsTemplate, VoiceFile

from .helpers import make_qualification, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _counts():
    return [model.objects.count() for model in (User, Qualification, CallerNumber, VoiceFile, TtsTemplate)]


def test_seed_demo_is_idempotent_and_prints_random_passwords():
    first = _seed()
    counts = _counts()
    assert first.count("with password") == 3
    assert User.objects.get(username="admin").is_superuser
    assert {q.status for q in Qualification.objects.all()} == set(ReviewStatus.values)
    assert TtsTemplate.objects.filter(status=ReviewStatus.APPROVED, tts_code="TTS_100001").exists()
    assert {(t.kind, t.mode) for t in TtsTemplate.objects.all()} >= {
        ("notification", "public"), ("notification", "dedicated"), ("verification", "public"), ("verification", "dedicated")
    }
    assert all(n.qualification.status == ReviewStatus.APPROVED for n in CallerNumber.objects.filter(status="active"))
    assert all(v.voice_code.endswith(".wav") for v in VoiceFile.objects.filter(status=ReviewStatus.APPROVED))
    password = first.split("'operator' with password ")[1].split()[0]
    assert User.objects.get(username="operator").check_password(password)

    second = _seed()
    assert _counts() == counts
    assert "with password" not in second and "exists" in second
    assert User.objects.get(username="operator").check_password(password)

    third = _seed("--reset-passwords")
    assert not User.objects.get(username="operator").check_password(password)
    assert "New password for 'operator'" in third


def test_every_seeded_qualification_past_draft_has_a_licence_scan_that_passes_the_upload_check():
    from notifications.audio import inspect_licence_upload

    _seed()
    for qualification in Qualification.objects.all():
        if qualification.status == ReviewStatus.DRAFT:
            continue
        with qualification.licence.open("rb") as scan:
            inspect_licence_upload(scan)  # raises if it is not a real image or PDF


def test_seeded_voice_files_are_real_8khz_mono_wavs():
    import wave

    _seed()
    for voice_file in VoiceFile.objects.all():
        with voice_file.audio.open("rb") as handle, wave.open(handle) as wav:
            assert (wav.getframerate(), wav.getnchannels()) == (8000, 1)


def test_admin_pages_and_bulk_submit(client, superuser):
    template = make_template()
    client.force_login(superuser)
    for model in ("qualification", "callernumber", "voicefile", "ttstemplate"):
        assert client.get(reverse(f"admin:notifications_{model}_changelist")).status_code == 200
    assert client.get(reverse("admin:notifications_ttstemplate_change", args=[template.pk])).status_code == 200
    assert client.get(reverse("admin:notifications_qualification_change", args=[template.qualification_id])).status_code == 200
    assert client.get(reverse("admin:notifications_voicefile_add")).status_code == 200
    client.post(
        reverse("admin:notifications_ttstemplate_changelist"), {"action": "submit_selected", "_selected_action": [template.pk]}
    )
    template.refresh_from_db()
    assert template.status == ReviewStatus.SUBMITTED


def test_admin_decision_action_needs_a_code_to_approve(client, superuser):
    template = make_template(status=ReviewStatus.SUBMITTED)
    client.force_login(superuser)
    url = reverse("admin:notifications_ttstemplate_changelist")
    data = {"action": "record_decision", "_selected_action": [template.pk], "apply": "1", "approved": "1"}
    client.post(url, data | {"code": ""})
    template.refresh_from_db()
    assert template.status == ReviewStatus.SUBMITTED
    client.post(url, data | {"code": "TTS_42"})
    template.refresh_from_db()
    assert (template.status, template.tts_code) == (ReviewStatus.APPROVED, "TTS_42")


def test_operator_sees_the_forms(client, operator):
    qualification = make_qualification(status=ReviewStatus.DRAFT)
    client.force_login(operator)
    for prefix in ("qualification", "caller_number", "voice_file", "tts_template"):
        assert client.get(reverse(f"notifications:{prefix}_create")).status_code == 200
    page = client.get(reverse("notifications:qualification_update", args=[qualification.pk])).content.decode()
    assert qualification.company_name in page
