"""Recordings made in the test: WAV with the standard library, MP3 as silent MPEG audio Layer III frames.

An MP3 is a run of frames, each a 4-byte header and then its data (here all zeros: silence). The header's bits,
most significant first:

    AAAAAAAA AAABBCCD EEEEFFGH IIJJKLMM
    A  11 bits  sync, all ones
    B   2 bits  version: 00 MPEG-2.5, 10 MPEG-2, 11 MPEG-1 (01 reserved)
    C   2 bits  layer: 01 Layer III
    D   1 bit   1 = no CRC after the header
    E   4 bits  bitrate index into the version's table (kbit/s)
    F   2 bits  sample rate index into the version's table
    G   1 bit   padding: this frame is one byte longer
    H   1 bit   private
    I   2 bits  channel mode: 11 mono, 00 stereo
    J   2 bits  mode extension;  K copyright;  L original;  M 2 bits emphasis (00 none)

An encoder may put a "Info" (or "Xing") header in a first, silent frame, giving the number of frames that follow.
A frame holds 1152 samples in MPEG-1 and 576 in MPEG-2 and 2.5, and is samples / 8 × bitrate / sample rate bytes
long, plus the padding byte. Encoders set the padding bit on some frames so that the average is exact; so does this.
What `lame` makes of a phone recording is MPEG-2.5 at 8 kHz, 8 or 16 kbit/s, mono, with no ID3 tag.
"""
import io
import struct
import wave
from dataclasses import dataclass

VERSION_BITS = {"1": 0b11, "2": 0b10, "2.5": 0b00}
SAMPLE_RATES = {"1": (44100, 48000, 32000), "2": (22050, 24000, 16000), "2.5": (11025, 12000, 8000)}
KBPS = {"1": (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
        "2": (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}
KBPS["2.5"] = KBPS["2"]


@dataclass(frozen=True)
class Mp3:
    data: bytes
    frame_starts: tuple[int, ...]  # offset of each frame of sound
    samples_per_frame: int
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.frame_starts) * self.samples_per_frame / self.sample_rate

    @property
    def frame_seconds(self) -> float:
        return self.samples_per_frame / self.sample_rate


def mp3_header(*, version: str = "2.5", rate: int = 8000, kbps: int = 16, padding: bool = False, mono: bool = True) -> bytes:
    bits = 0x7FF << 21  # sync
    bits |= VERSION_BITS[version] << 19
    bits |= 0b01 << 17  # Layer III
    bits |= 1 << 16  # no CRC
    bits |= (KBPS[version].index(kbps) + 1) << 12
    bits |= SAMPLE_RATES[version].index(rate) << 10
    bits |= int(padding) << 9
    bits |= (0b11 if mono else 0b00) << 6
    return bits.to_bytes(4, "big")


def mp3(*, version: str = "2.5", rate: int = 8000, kbps: int = 16, frames: int = 100, mono: bool = True,
        info_frame: bool = False, id3v2: bool = False, id3v1: bool = False) -> Mp3:
    """`frames` frames of silence; with `info_frame`, first a LAME-style "Info" frame giving their number."""
    samples = 1152 if version == "1" else 576
    exact = samples // 8 * kbps * 1000 / rate
    side_info = (17 if mono else 32) if version == "1" else (9 if mono else 17)
    out = bytearray()
    if id3v2:
        body = b"TIT2\x00\x00\x00\x06\x00\x00\x03tone\x00"  # one text frame: the title
        out += b"ID3\x03\x00\x00" + bytes([0, 0, 0, len(body)]) + body
    starts, made = [], 0.0

    def frame(payload: bytes = b"") -> None:
        nonlocal made
        size = int(exact + made) - int(made)  # the padding byte where the average runs ahead
        made += exact
        padded = size > int(exact)
        body = payload.ljust(size - 4, b"\0")
        out.extend(mp3_header(version=version, rate=rate, kbps=kbps, padding=padded, mono=mono) + body)

    if info_frame:  # at the version's highest bitrate, as LAME writes it, so that it fits whatever the rate
        top = KBPS[version][-1]
        payload = bytes(side_info) + b"Info" + struct.pack(">II", 0x1, frames)
        out += mp3_header(version=version, rate=rate, kbps=top, mono=mono) + payload.ljust(samples // 8 * top * 1000 // rate - 4, b"\0")
    for _index in range(frames):
        starts.append(len(out))
        frame()
    if id3v1:
        out += b"TAG" + b"tone".ljust(125, b"\0")
    return Mp3(bytes(out), tuple(starts), samples, rate)


def wav_bytes(*, seconds: float = 0.5, rate: int = 8000, channels: int = 1, width: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(b"\x10" * (int(seconds * rate) * channels * width))
    return buffer.getvalue()


WAV_HEADER_BYTES = 44  # what `wave` writes before the samples
