"""Checks uploaded files by their content: voice recordings (WAV / MP3) and licence documents (image / PDF)."""
import hashlib
import io
import wave
from dataclasses import dataclass
from decimal import Decimal

import filetype
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from mutagen import MutagenError
from mutagen.mp3 import MP3

MAX_VOICE_BYTES = 2 * 1024 * 1024
MAX_LICENCE_BYTES = 5 * 1024 * 1024
LICENCE_MIME_TYPES = {"image/jpeg", "image/png", "application/pdf"}


@dataclass(frozen=True)
class AudioInfo:
    audio_format: str  # "wav" | "mp3"
    duration_seconds: Decimal
    size_bytes: int
    sha256: str


def _too_large(size: int, limit: int) -> ValidationError:
    # Sizes as people read them (5.7 MB), as the help texts give the limits.
    return ValidationError(_("The file is %(size)s; at most %(limit)s is accepted."), code="too_large",
                           params={"size": filesizeformat(size), "limit": filesizeformat(limit)})


def _read_all(upload, *, limit: int) -> bytes:
    size = getattr(upload, "size", None)
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if size is not None and size > limit:
        raise _too_large(size, limit)
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    if len(data) > limit:
        raise _too_large(len(data), limit)
    return data


def _cut_off(audio_format: str, promised: float, present: float) -> ValidationError:
    missing = promised - present
    return ValidationError(
        _("The %(format)s file is incomplete: its header promises %(promised)s s of sound but only %(present)s s are in "
          "the file (%(missing)s s, %(percent)s%%, missing). Upload the whole recording."),
        code="truncated",
        params={"format": audio_format, "promised": f"{promised:.2f}", "present": f"{present:.2f}",
                "missing": f"{missing:.2f}", "percent": max(1, round(100 * missing / promised))},
    )


def _wav_data_chunk(data: bytes) -> tuple[int, int]:
    """(offset, size the header gives) of the data chunk; `wave` has already found it."""
    position = 12  # after "RIFF", the RIFF size and "WAVE"
    while position + 8 <= len(data):
        name, size = data[position:position + 4], int.from_bytes(data[position + 4:position + 8], "little")
        if name == b"data":
            return position + 8, size
        position += 8 + size + (size & 1)  # chunks are padded to an even length
    raise ValidationError(_("The WAV file holds no sound."), code="corrupt")


def _wav_duration(data: bytes) -> float:
    """Seconds of sound really in the file: `wave` reads the header, which a cut file still has whole."""
    try:
        with wave.open(io.BytesIO(data)) as wav:
            rate, frame_bytes = wav.getframerate(), wav.getnchannels() * wav.getsampwidth()
    except (wave.Error, EOFError, RuntimeError) as exc:  # RuntimeError: a chunk that claims more bytes than exist
        raise ValidationError(_("The WAV file is damaged: %(detail)s"), code="corrupt", params={"detail": str(exc)}) from None
    offset, declared = _wav_data_chunk(data)
    if not rate or not frame_bytes or declared < frame_bytes:
        raise ValidationError(_("The WAV file holds no sound."), code="corrupt")
    promised, present = declared // frame_bytes, max(len(data) - offset, 0) // frame_bytes
    if present < promised:
        raise _cut_off("WAV", promised / rate, present / rate)
    return promised / rate


# ----- MP3: MPEG audio Layer III, walked frame by frame -----
_MPEG_1, _MPEG_2, _MPEG_25 = 0b11, 0b10, 0b00  # the version bits; 0b01 is reserved
_SAMPLE_RATES = {_MPEG_1: (44100, 48000, 32000), _MPEG_2: (22050, 24000, 16000), _MPEG_25: (11025, 12000, 8000)}
_KBPS_MPEG_1 = (None, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, None)
_KBPS_MPEG_2 = (None, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, None)  # MPEG-2 and 2.5


@dataclass(frozen=True)
class _Frame:
    version: int
    sample_rate: int
    samples: int  # per channel: 1152 in MPEG-1, 576 in MPEG-2 and 2.5
    size: int  # in bytes, header included
    side_info_end: int  # where a Xing/Info header would start in the first frame


def _mp3_frame(header: bytes) -> _Frame | None:
    """The Layer III frame a 4-byte header announces, or None if it is no such header.

    Bits, most significant first: 11 sync (all ones), 2 version, 2 layer (01 = III), 1 no-CRC, 4 bitrate index
    (0 = free format, 15 = invalid), 2 sample rate index (3 = reserved), 1 padding, 1 private, 2 channel mode
    (3 = mono), 2 mode extension, 1 copyright, 1 original, 2 emphasis (2 = reserved).
    """
    if len(header) < 4:
        return None
    bits = int.from_bytes(header[:4], "big")
    version, layer, bitrate_index = (bits >> 19) & 0b11, (bits >> 17) & 0b11, (bits >> 12) & 0b1111
    rate_index, padding, mono = (bits >> 10) & 0b11, (bits >> 9) & 1, (bits >> 6) & 0b11 == 0b11
    if bits >> 21 != 0x7FF or version == 0b01 or layer != 0b01 or rate_index == 3 or bits & 0b11 == 0b10:
        return None
    kbps = (_KBPS_MPEG_1 if version == _MPEG_1 else _KBPS_MPEG_2)[bitrate_index]
    if kbps is None:  # free format: no size to walk by
        return None
    rate = _SAMPLE_RATES[version][rate_index]
    samples = 1152 if version == _MPEG_1 else 576
    side_info = (17 if mono else 32) if version == _MPEG_1 else (9 if mono else 17)
    crc = 0 if (bits >> 16) & 1 else 2
    return _Frame(version, rate, samples, samples // 8 * kbps * 1000 // rate + padding, 4 + crc + side_info)


def _id3v2_end(data: bytes) -> int:
    """Where the audio starts after any ID3v2 tags (some programs write more than one) and zero padding."""
    position = 0
    while data[position:position + 3] == b"ID3" and len(data) >= position + 10:
        size = 0
        for byte in data[position + 6:position + 10]:  # "synchsafe": 7 bits a byte
            size = size << 7 | (byte & 0x7F)
        position += 10 + size + (10 if data[position + 5] & 0x10 else 0)  # the flag of a footer
    while position < len(data) and data[position] == 0:
        position += 1
    return position


def _tags_start(data: bytes) -> int:
    """Where the audio ends before an APEv2 and an ID3v1 tag at the end of the file."""
    end = len(data)
    if end >= 128 and data[end - 128:end - 125] == b"TAG":
        end -= 128
    if end >= 32 and data[end - 32:end - 24] == b"APETAGEX":
        size = int.from_bytes(data[end - 20:end - 16], "little")  # items and footer
        has_header = data[end - 9] & 0x80
        end = max(end - size - (32 if has_header else 0), 0)
    return end


def _frames_promised(data: bytes, start: int, frame: _Frame) -> int | None:
    """The frame count an encoder's Xing/Info or VBRI header in the first frame gives, if it has one."""
    xing = start + frame.side_info_end
    if data[xing:xing + 4] in (b"Xing", b"Info"):
        flags = int.from_bytes(data[xing + 4:xing + 8], "big")
        return int.from_bytes(data[xing + 8:xing + 12], "big") if flags & 1 else 0
    if data[start + 36:start + 40] == b"VBRI":
        return int.from_bytes(data[start + 50:start + 54], "big")
    return None


def _mp3_duration(data: bytes) -> float:
    """Seconds of sound in the frames really there; refuses data that is not frames and files cut short."""
    position, end = _id3v2_end(data), _tags_start(data)
    first = _mp3_frame(data[position:position + 4])
    if first is None:
        raise ValidationError(_("The MP3 file is damaged: data that is not MP3 sound was found after %(seconds)s s of sound."),
                              code="corrupt", params={"seconds": "0.00"})
    promised = _frames_promised(data, position, first)
    frames = -1 if promised is not None else 0  # an encoder's header frame is silent: it holds the header
    while position + 4 <= end:
        frame = _mp3_frame(data[position:position + 4])
        if frame is None or (frame.version, frame.sample_rate) != (first.version, first.sample_rate):
            if not data[position:end].strip(b"\0"):  # zero padding before the end
                break
            raise ValidationError(
                _("The MP3 file is damaged: data that is not MP3 sound was found after %(seconds)s s of sound."),
                code="corrupt", params={"seconds": f"{max(frames, 0) * first.samples / first.sample_rate:.2f}"},
            )
        if position + frame.size > end:
            break  # a last frame cut short: players drop it, and so does the duration
        frames += 1
        position += frame.size
    if frames <= 0:
        raise ValidationError(_("The MP3 file holds no sound."), code="corrupt")
    seconds = frames * first.samples / first.sample_rate
    if promised and promised > frames + 1:
        raise _cut_off("MP3", promised * first.samples / first.sample_rate, seconds)
    return seconds


def _is_mpeg_audio(data: bytes) -> bool:
    """mutagen finds MPEG audio where its frames follow each other (at least two), after any ID3 tags."""
    try:
        MP3(io.BytesIO(data))
    except (MutagenError, ValueError, EOFError):
        return False
    return True


def inspect_voice_upload(upload) -> AudioInfo:
    """Verify a WAV or MP3 recording by parsing it (never by its name) and describe it, or raise ValidationError.

    The duration is that of the sound really in the file, whatever its header says.
    """
    data = _read_all(upload, limit=MAX_VOICE_BYTES)
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        audio_format, duration = "wav", _wav_duration(data)
    elif _is_mpeg_audio(data):  # telephony MP3s too (8 kHz MPEG-2.5, no tag), which `filetype` does not know
        audio_format, duration = "mp3", _mp3_duration(data)
    else:
        kind = filetype.guess(data)
        raise ValidationError(
            _("This is not a WAV or MP3 recording (its content looks like %(kind)s)."),
            code="wrong_type",
            params={"kind": kind.mime if kind else _("unknown data")},
        )
    return AudioInfo(
        audio_format=audio_format,
        duration_seconds=Decimal(str(round(duration, 2))),
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def inspect_licence_upload(upload) -> str:
    """Verify that a licence scan is a JPEG, PNG or PDF by its content; return its MIME type or raise ValidationError."""
    data = _read_all(upload, limit=MAX_LICENCE_BYTES)
    kind = filetype.guess(data)
    if kind is None or kind.mime not in LICENCE_MIME_TYPES:
        raise ValidationError(
            _("The licence must be a JPEG or PNG image or a PDF document (its content looks like %(kind)s)."),
            code="wrong_type",
            params={"kind": kind.mime if kind else _("unknown data")},
        )
    if kind.mime == "application/pdf" and b"%%EOF" not in data[-1024:]:
        raise ValidationError(_("The PDF document is incomplete or damaged."), code="corrupt")
    if kind.mime == "image/png" and not data.rstrip(b"\0").endswith(b"IEND\xaeB`\x82"):
        raise ValidationError(_("The PNG image is incomplete or damaged."), code="corrupt")
    if kind.mime == "image/jpeg" and b"\xff\xd9" not in data[-64:]:
        raise ValidationError(_("The JPEG image is incomplete or damaged."), code="corrupt")
    return kind.mime


def content_type_of(data: bytes, default: str = "application/octet-stream") -> str:
    kind = filetype.guess(data)
    return kind.mime if kind else default
