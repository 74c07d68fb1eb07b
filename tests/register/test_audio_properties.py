"""Whatever recording, cut wherever: accepted means it is really audio of the duration stated (±1 frame), never a 500."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.audio import inspect_voice_upload
from notifications.models import VoiceFile

from .audio_files import KBPS, SAMPLE_RATES, WAV_HEADER_BYTES, mp3, wav_bytes
from .helpers import make_qualification, upload


@st.composite
def _mp3s(draw):
    version = draw(st.sampled_from(["1", "2", "2.5"]))
    return mp3(version=version, rate=draw(st.sampled_from(SAMPLE_RATES[version])), kbps=draw(st.sampled_from(KBPS[version])),
               frames=draw(st.integers(2, 120)), mono=draw(st.booleans()), info_frame=draw(st.booleans()),
               id3v2=draw(st.booleans()))


@st.composite
def _wavs(draw):
    return wav_bytes(seconds=draw(st.integers(0, 4000)) / 1000, rate=draw(st.sampled_from([8000, 16000, 44100])),
                     channels=draw(st.sampled_from([1, 2])), width=draw(st.sampled_from([1, 2])))


def _stated(data: bytes):
    try:
        return inspect_voice_upload(upload("recording", data))
    except ValidationError:
        return None


@settings(max_examples=200, deadline=None, database=None)
@given(made=_mp3s(), cut=st.floats(0, 1))
def test_a_cut_mp3_is_refused_or_stated_with_the_frames_it_holds(made, cut):
    data = made.data[:round(len(made.data) * cut)]
    info = _stated(data)
    whole_frames = sum(1 for index, start in enumerate(made.frame_starts)
                       if (made.frame_starts[index + 1] if index + 1 < len(made.frame_starts) else len(made.data)) <= len(data))
    if info is not None:
        assert info.audio_format == "mp3"
        assert abs(float(info.duration_seconds) - whole_frames * made.frame_seconds) <= made.frame_seconds + 0.005
    if cut == 1:  # whole: accepted (mutagen knows MPEG audio by two frames in a row, hence at least two)
        assert info is not None and abs(float(info.duration_seconds) - made.seconds) <= 0.005


@settings(max_examples=200, deadline=None, database=None)
@given(whole=_wavs(), cut=st.integers(0, 10_000_000))
def test_a_cut_wav_is_accepted_only_whole(whole, cut):
    data = whole[:cut]
    info = _stated(data)
    samples = len(whole) - WAV_HEADER_BYTES
    if info is not None:
        assert data == whole and samples > 0
        assert info.audio_format == "wav" and info.size_bytes == len(whole)
    elif data == whole:
        assert samples == 0  # only a file with no sound is refused whole


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(_mp3s().map(lambda made: made.data), _wavs()), cut=st.floats(0, 1), junk=st.binary(max_size=64))
@pytest.mark.django_db
def test_uploading_any_cut_or_spoilt_recording_never_fails_the_page(client, operator, data, cut, junk):
    client.force_login(operator)
    response = client.post(reverse("notifications:voice_file_create"), {
        "name": "提示音", "mode": "public", "qualification": make_qualification().pk,
        "audio": upload("tone.mp3", data[:round(len(data) * cut)] + junk, "audio/mpeg"),
    })
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert response.context["form"].errors["audio"]
    VoiceFile.objects.all().delete()
