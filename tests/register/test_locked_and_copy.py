"""Editing approved content says it is locked (not that the role may not) and points to "Copy as new", which makes a
draft with a distinct name; templates and voice files alike."""
import pytest
from django.urls import reverse
from django.utils import translation

from notifications.models import CallerNumber, ReviewStatus, TtsTemplate, VoiceFile
from notifications.services.register import copy_name, tts_template_copy, voice_file_copy

from .helpers import make_qualification, make_template, make_voice_file, wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize(("prefix", "make", "code"), [
    ("tts_template", make_template, {"tts_code": "TTS_1"}),
    ("voice_file", make_voice_file, {"voice_code": "a.wav"}),
])
@pytest.mark.parametrize("method", ["get", "post"])
def test_editing_approved_content_says_it_is_locked_and_offers_copy_as_new(client, operator, prefix, make, code, method):
    item = make(status=ReviewStatus.APPROVED, **code)
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    response = getattr(client, method)(reverse(f"notifications:{prefix}_update", args=[item.pk]))
    page = response.content.decode()
    assert response.status_code == 409
    assert f"“{item.name}” is locked" in page and "the provider keeps it exactly as it was approved" in page
    assert "Your role" not in page and "Access denied" not in page
    assert f'action="{reverse(f"notifications:{prefix}_transition", args=[item.pk])}"' in page
    assert 'name="action" value="copy"' in page
    assert type(item).objects.get(pk=item.pk).name == item.name  # nothing changed


def test_content_in_review_is_locked_until_the_decision_without_a_copy_button(client, operator):
    template = make_template(status=ReviewStatus.SUBMITTED)
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("notifications:tts_template_update", args=[template.pk]))
    page = response.content.decode()
    assert response.status_code == 409 and "waiting for the provider’s review" in page and 'value="copy"' not in page


def test_a_released_number_is_locked_as_history(client, operator):
    number = CallerNumber.objects.create(number="057188880000", qualification=make_qualification(),
                                         status=CallerNumber.Status.RELEASED)
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("notifications:caller_number_update", args=[number.pk])).content.decode()
    assert "A released number is kept as history" in page


def test_the_role_still_decides_first(client, manager):
    template = make_template(status=ReviewStatus.APPROVED, tts_code="TTS_1")
    client.force_login(manager)
    assert client.get(reverse("notifications:tts_template_update", args=[template.pk])).status_code == 403
    assert client.post(reverse("notifications:tts_template_transition", args=[template.pk]), {"action": "copy"}).status_code == 403
    assert TtsTemplate.objects.count() == 1


def test_the_detail_page_of_approved_content_says_it_is_locked(client, operator):
    voice_file = make_voice_file(status=ReviewStatus.APPROVED, voice_code="a.wav")
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("notifications:voice_file_detail", args=[voice_file.pk])).content.decode()
    assert 'id="va-locked"' in page and "Copy as new" in page
    assert reverse("notifications:voice_file_update", args=[voice_file.pk]) not in page  # no Edit button


def test_copies_get_distinct_names_within_the_providers_30_characters(operator):
    with translation.override("en"):
        original = make_template(status=ReviewStatus.APPROVED, tts_code="TTS_1", name="取件通知")
        first = tts_template_copy(template=original, user=operator)
        second = tts_template_copy(template=original, user=operator)
        long = make_template(status=ReviewStatus.APPROVED, tts_code="TTS_2", name="很" * 30)
        long_copy = tts_template_copy(template=long, user=operator)
    assert (first.name, second.name) == ("取件通知 (copy)", "取件通知 (copy 2)")
    assert len(long_copy.name) <= 30 and long_copy.name.endswith(" (copy)") and long_copy.name != long.name
    assert (first.status, first.copied_from, first.tts_code, first.content) == (ReviewStatus.DRAFT, original, "", original.content)


def test_copy_names_are_unique_among_all_items():
    make_template(name="取件通知 (copy)")
    with translation.override("en"):
        assert copy_name(TtsTemplate, "取件通知") == "取件通知 (copy 2)"


def test_copy_as_new_of_a_voice_file_makes_a_draft_with_its_own_recording(client, operator, tmp_path):
    original = make_voice_file(status=ReviewStatus.APPROVED, voice_code="a.wav", name="提示音")
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("notifications:voice_file_transition", args=[original.pk]), {"action": "copy"})
    copy = VoiceFile.objects.exclude(pk=original.pk).get()
    assert response["Location"] == reverse("notifications:voice_file_detail", args=[copy.pk])
    assert (copy.status, copy.voice_code, copy.name) == (ReviewStatus.DRAFT, "", "提示音 (copy)")
    assert copy.qualification == original.qualification
    assert copy.audio.name != original.audio.name
    original.audio.delete(save=False)  # the copy keeps playing whatever happens to the original's file
    with copy.audio.open("rb") as handle:
        assert handle.read() == wav_bytes()
    # The copy is an ordinary draft: it can be edited.
    assert client.get(reverse("notifications:voice_file_update", args=[copy.pk])).status_code == 200


def test_a_voice_file_whose_recording_is_gone_is_not_copied_silently(operator):
    original = make_voice_file(status=ReviewStatus.APPROVED, voice_code="a.wav")
    original.audio.delete(save=False)
    original.audio.name = "voice/missing.wav"
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        voice_file_copy(voice_file=original, user=operator)
    assert VoiceFile.objects.count() == 1
