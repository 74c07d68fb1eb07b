"""The do-not-call list's tests: the dialing tests' register entries and simulator, a clock to set, files to upload."""
import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.dialing.conftest import code_template, dedicated, english, inline_jobs, notice, on_simulator, voice_file  # noqa: F401

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    """A moment on the company's clock (TIME_ZONE is Asia/Shanghai)."""
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def clock(monkeypatch):
    """`clock.set(moment)` freezes django.utils.timezone.now (and so localdate) at that moment."""
    from django.utils import timezone

    class Clock:
        moment = None

        def set(self, moment: datetime) -> None:
            self.moment = moment

    frozen = Clock()
    real = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: frozen.moment if frozen.moment is not None else real())
    return frozen


def csv_bytes(rows, *, encoding="utf-8", bom=False, delimiter=",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" if bom else "").encode(encoding) + buffer.getvalue().encode(encoding)


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "禁呼名单.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)
