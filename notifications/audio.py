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


def _wav_duration(data: bytes) -> float:
    try:
        with wave.open(io.BytesIO(data)) as wav:
            frames, rate = wav.getnframes(), wav.getframerate()
    except (wave.Error, EOFError) as exc:
        raise ValidationError(_("The WAV file is damaged: %(detail)s"), code="corrupt", params={"detail": str(exc)}) from None
    if not rate or not frames:
        raise ValidationError(_("The WAV file holds no sound."), code="corrupt")
    return frames / rate


def _mp3_duration(data: bytes) -> float:
    try:
        info = MP3(io.BytesIO(data)).info
    except (MutagenError, ValueError, EOFError) as exc:
        raise ValidationError(_("The MP3 file is damaged: %(detail)s"), code="corrupt", params={"detail": str(exc)}) from None
    if not info.length:
        raise ValidationError(_("The MP3 file holds no sound."), code="corrupt")
    return info.length


def inspect_voice_upload(upload) -> AudioInfo:
    """Verify a WAV or MP3 recording by parsing it (never by its name) and describe it, or raise ValidationError."""
    data = _read_all(upload, limit=MAX_VOICE_BYTES)
    kind = filetype.guess(data)
    if kind is None or kind.extension not in ("wav", "mp3"):
        raise ValidationError(
            _("This is not a WAV or MP3 recording (its content looks like %(kind)s)."),
            code="wrong_type",
            params={"kind": kind.mime if kind else _("unknown data")},
        )
    duration = _wav_duration(data) if kind.extension == "wav" else _mp3_duration(data)
    return AudioInfo(
        audio_format=kind.extension,
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
