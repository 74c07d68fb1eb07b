"""Voice recordings are known by parsing them: telephony MP3s are accepted, cut files and non-audio refused with a reason."""
import random
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from notifications.audio import inspect_voice_upload
from notifications.models import VoiceFile

from .audio_files import WAV_HEADER_BYTES, mp3, mp3_header, wav_bytes
from .helpers import make_qualification, png_bytes, upload


def _inspect(data: bytes, name: str = "recording.mp3"):
    return inspect_voice_upload(upload(name, data))


@dataclass
class Refusal:
    code: str
    messages: list[str]


def _refusal(data: bytes, name: str = "recording.mp3") -> Refusal:
    """The refusal, its messages read in English (they are translated when read)."""
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            _inspect(data, name)
        return Refusal(refused.value.code, refused.value.messages)


@pytest.mark.parametrize(("version", "rate", "kbps"), [("2.5", 8000, 8), ("2.5", 8000, 16), ("2", 16000, 24), ("1", 44100, 128)])
def test_mp3s_with_no_tag_are_recognised_with_their_duration(version, rate, kbps):
    made = mp3(version=version, rate=rate, kbps=kbps, frames=250)
    info = _inspect(made.data)
    assert info.audio_format == "mp3"
    assert info.duration_seconds == Decimal(str(round(made.seconds, 2)))
    assert info.size_bytes == len(made.data)


def test_an_mp3_with_tags_and_an_encoder_info_frame_counts_only_the_sound():
    made = mp3(frames=125, info_frame=True, id3v2=True, id3v1=True)  # 125 × 72 ms
    assert _inspect(made.data).duration_seconds == Decimal("9.00")


def test_a_telephony_mp3_upload_is_accepted_and_described(client, operator):
    """What `lame` makes of a phone recording: refused before as "unknown data" because `filetype` does not know it."""
    made = mp3(version="2.5", rate=8000, kbps=16, frames=139)  # 10.008 s
    client.force_login(operator)
    response = client.post(reverse("notifications:voice_file_create"), {
        "name": "来电提醒", "mode": "public", "qualification": make_qualification().pk,
        "audio": upload("call.mp3", made.data, "audio/mpeg"),
    })
    assert response.status_code == 302
    voice_file = VoiceFile.objects.get()
    assert (voice_file.audio_format, voice_file.duration_seconds) == ("mp3", Decimal("10.01"))


@pytest.mark.parametrize(("name", "data", "says"), [
    ("notes.mp3", "这不是录音，只是一段文字。".encode() * 20, "This is not a WAV or MP3 recording (its content looks like unknown data)."),
    ("picture.mp3", png_bytes(), "This is not a WAV or MP3 recording (its content looks like image/png)."),
    ("noise.mp3", random.Random(7).randbytes(20_000), "This is not a WAV or MP3 recording"),
    ("junk.mp3", mp3_header() + random.Random(8).randbytes(5000), "This is not a WAV or MP3 recording"),
    ("tag-only.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(100), "This is not a WAV or MP3 recording"),
])
def test_what_is_not_audio_is_refused_whatever_its_name(name, data, says):
    refusal = _refusal(data, name)
    assert refusal.code == "wrong_type"
    assert refusal.messages[0].startswith(says)


def test_mp3_frames_followed_by_other_data_are_refused_saying_where():
    made = mp3(frames=50)  # 3.6 s of frames, then a text
    refusal = _refusal(made.data + b"<html>not sound</html>" * 40)
    assert refusal.messages == ["The MP3 file is damaged: data that is not MP3 sound was found after 3.60 s of sound."]


def test_an_mp3_cut_short_of_the_frames_its_header_promises_is_refused():
    made = mp3(frames=100, info_frame=True)
    refusal = _refusal(made.data[:made.frame_starts[10]])
    assert refusal.code == "truncated"
    assert refusal.messages == ["The MP3 file is incomplete: its header promises 7.20 s of sound but only 0.72 s are in "
                                "the file (6.48 s, 90%, missing). Upload the whole recording."]


def test_an_mp3_whose_last_frame_is_cut_counts_the_whole_frames_only():
    made = mp3(frames=40)
    info = _inspect(made.data[:made.frame_starts[-1] + 30])
    assert info.duration_seconds == Decimal(str(round(39 * made.frame_seconds, 2)))


def test_a_wav_holding_a_tenth_of_its_samples_is_refused_saying_how_much_is_missing():
    whole = wav_bytes(seconds=5.0)
    cut = whole[:WAV_HEADER_BYTES + (len(whole) - WAV_HEADER_BYTES) // 10]
    refusal = _refusal(cut, "tone.wav")
    assert refusal.code == "truncated"
    assert refusal.messages == ["The WAV file is incomplete: its header promises 5.00 s of sound but only 0.50 s are in "
                                "the file (4.50 s, 90%, missing). Upload the whole recording."]


@pytest.mark.parametrize("header_says", [0, 16_000])
def test_a_wav_header_with_no_samples_is_refused(header_says):
    header = bytearray(wav_bytes(seconds=0))
    header[40:44] = header_says.to_bytes(4, "little")  # the data chunk's size
    refusal = _refusal(bytes(header), "tone.wav")
    if header_says:
        assert "promises 1.00 s of sound but only 0.00 s" in refusal.messages[0]
    else:
        assert refusal.messages == ["The WAV file holds no sound."]


def test_a_whole_wav_is_accepted_with_the_duration_of_its_samples():
    stereo = wav_bytes(seconds=2.5, rate=16000, channels=2)
    info = _inspect(stereo, "music.wav")
    assert (info.audio_format, info.duration_seconds) == ("wav", Decimal("2.50"))
    # Chunks after the samples (a LIST of tags) are no sound, and do not hide a cut either.
    tagged = stereo + b"LIST" + (12).to_bytes(4, "little") + b"INFOINAM\x00\x00\x00\x00"
    assert _inspect(tagged, "music.wav").duration_seconds == Decimal("2.50")


def test_a_cut_wav_upload_shows_the_reason_next_to_the_field_and_keeps_nothing(client, operator):
    whole = wav_bytes(seconds=3.0)
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("notifications:voice_file_create"), {
        "name": "提示音", "mode": "public", "qualification": make_qualification().pk,
        "audio": upload("tone.wav", whole[:len(whole) // 2], "audio/wav"),
    })
    assert response.status_code == 200
    assert response.context["form"].errors["audio"] == [
        "The WAV file is incomplete: its header promises 3.00 s of sound but only 1.50 s are in the file "
        "(1.50 s, 50%, missing). Upload the whole recording."
    ]
    assert not VoiceFile.objects.exists()
