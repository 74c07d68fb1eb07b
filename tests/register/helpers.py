"""Builders for register tests: valid by default, so a test sets only what it is about."""
import io
import itertools
import struct
import wave

from django.core.files.uploadedfile import SimpleUploadedFile

from notifications.models import Mode, Purpose, Qualification, ReviewStatus, TtsTemplate, VoiceFile
from notifications.rules.identifiers import credit_code_check_char

_serial = itertools.count(1)


def credit_code() -> str:
    first17 = f"91330100MA{next(_serial):06d}X"[:17]
    return first17 + credit_code_check_char(first17)


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(struct.pack("<h", 1000) * int(seconds * rate))
    return buffer.getvalue()


def mp3_bytes(frames: int = 40) -> bytes:
    """Silent MPEG-1 Layer III frames: 128 kbit/s, 44.1 kHz, mono; 417 bytes each, about 26 ms of sound."""
    return (b"\xff\xfb\x90\xc0" + bytes(413)) * frames


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_bytes() -> bytes:
    return (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
        b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
    )


def make_qualification(status: str = ReviewStatus.APPROVED, **fields) -> Qualification:
    values = {
        "company_name": "杭州示例科技有限公司",
        "credit_code": credit_code(),
        "legal_representative": "王五",
        "contact_name": "李四",
        "contact_phone": "13800000000",
        "status": status,
    }
    return Qualification.objects.create(**(values | fields))


def make_template(status: str = ReviewStatus.DRAFT, **fields) -> TtsTemplate:
    values = {
        "name": "发货通知",
        "content": "尊敬的${name}，您的订单已发货。",
        "kind": Purpose.NOTIFICATION,
        "mode": Mode.PUBLIC,
        "variables": ["name"],
        "status": status,
    }
    if "qualification" not in fields:
        values["qualification"] = make_qualification()
    return TtsTemplate.objects.create(**(values | fields))


def make_voice_file(status: str = ReviewStatus.DRAFT, **fields) -> VoiceFile:
    values = {"name": "提示音", "mode": Mode.PUBLIC, "audio_format": "wav", "duration_seconds": "0.50", "size_bytes": 8044,
              "sha256": "0" * 64, "status": status}
    qualification = fields.pop("qualification", None) or make_qualification()
    voice_file = VoiceFile(**(values | fields), qualification=qualification)
    voice_file.audio.save("tone.wav", upload("tone.wav", wav_bytes()), save=False)
    voice_file.save()
    return voice_file
