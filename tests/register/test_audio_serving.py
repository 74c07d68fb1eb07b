"""The recording is served in parts (HTTP Range), so a player can seek and Safari plays it at all."""
import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from notifications.http_ranges import byte_range

from .audio_files import wav_bytes
from .helpers import make_qualification, upload

RECORDING = wav_bytes(seconds=1.0)  # 16,044 bytes


@pytest.fixture
def audio_url(client, operator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(operator)
    response = client.post(reverse("notifications:voice_file_create"), {
        "name": "提示音", "mode": "public", "qualification": make_qualification().pk,
        "audio": upload("tone.wav", RECORDING, "audio/wav"),
    })
    assert response.status_code == 302
    from notifications.models import VoiceFile

    return reverse("notifications:voice_file_audio", args=[VoiceFile.objects.get().pk])


def _get(client, url, **headers):
    response = client.get(url, headers=headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_a_plain_get_is_the_whole_file_and_says_ranges_are_accepted(client, audio_url):
    response, body = _get(client, audio_url)
    assert response.status_code == 200 and body == RECORDING
    assert response["Accept-Ranges"] == "bytes" and response["Content-Type"] == "audio/wav"
    assert response["Content-Length"] == str(len(RECORDING))


@pytest.mark.parametrize(("asked", "first", "last"), [
    ("bytes=0-99", 0, 99), ("bytes=-100", len(RECORDING) - 100, len(RECORDING) - 1),
    ("bytes=100-", 100, len(RECORDING) - 1), ("bytes=16000-99999", 16000, len(RECORDING) - 1), ("bytes=0-1", 0, 1),
])
def test_a_range_is_answered_with_that_part(client, audio_url, asked, first, last):
    response, body = _get(client, audio_url, range=asked)
    assert response.status_code == 206
    assert body == RECORDING[first:last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(RECORDING)}"
    assert response["Content-Length"] == str(last - first + 1) and response["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize("asked", ["bytes=99999-", "bytes=-0", f"bytes={len(RECORDING)}-"])
def test_a_range_beyond_the_file_is_416_with_the_size(client, audio_url, asked):
    response, _body = _get(client, audio_url, range=asked)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(RECORDING)}"


@pytest.mark.parametrize("asked", ["bytes=abc", "items=0-9", "bytes=9-5", "bytes=0-9,20-29", "bytes=-"])
def test_a_malformed_or_multiple_range_is_ignored_and_the_whole_file_sent(client, audio_url, asked):
    response, body = _get(client, audio_url, range=asked)
    assert response.status_code == 200 and body == RECORDING


def test_if_range_for_another_version_gets_the_whole_file(client, audio_url):
    etag = _get(client, audio_url)[0]["ETag"]
    assert _get(client, audio_url, range="bytes=0-9", if_range=etag)[0].status_code == 206
    response, body = _get(client, audio_url, range="bytes=0-9", if_range='"an-older-recording"')
    assert response.status_code == 200 and body == RECORDING


def test_ranges_do_not_open_the_recording_to_anyone_else(client, audio_url):
    client.logout()
    response = client.get(audio_url, headers={"range": "bytes=0-99"})
    assert response.status_code == 302 and reverse("login") in response["Location"]
    client.force_login(User.objects.create_user(username="nobody"))  # signed in, in no group
    assert client.get(audio_url, headers={"range": "bytes=0-99"}).status_code == 403


def test_byte_range_reads_the_header_as_the_rfc_says():
    assert byte_range("bytes=0-0", 10) == (0, 0)
    assert byte_range("bytes=-20", 10) == (0, 9)  # more than the file: all of it
    assert byte_range("bytes=5-", 0) is False  # nothing satisfies a range of an empty file
    assert byte_range("bytes=,", 10) is None
