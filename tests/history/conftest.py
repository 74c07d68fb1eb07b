"""Call records built directly (the dialing and receipt paths have their own tests)."""
import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import CallerNumber, CallRecord, Mode, Qualification, ReviewStatus, TtsTemplate, VoiceFile
from notifications.rules.call_state import outcome_for

_serial = itertools.count(1)


@pytest.fixture
def register(db):
    qualification = Qualification.objects.create(
        company_name="Example", credit_code="91330100MA0000001X", legal_representative="A", contact_name="B",
        contact_phone="057100000000", status=ReviewStatus.APPROVED,
    )
    return {
        "template": TtsTemplate.objects.create(
            name="Code", content="code ${code}", qualification=qualification, status=ReviewStatus.APPROVED
        ),
        "voice": VoiceFile.objects.create(name="Tone", audio="voice/tone.wav", qualification=qualification, status=ReviewStatus.APPROVED),
        "number": CallerNumber.objects.create(number="057188880001", qualification=qualification, status=CallerNumber.Status.ACTIVE),
    }


@pytest.fixture
def make_call(register):
    def make(*, code="200000", api="tts", callee="15900000000", created_at=None, user=None, dedicated=False, **fields):
        serial = next(_serial)
        answered = code in ("200000", "200001")
        values = {
            "api": api,
            "mode": Mode.DEDICATED if dedicated else Mode.PUBLIC,
            "tts_template": register["template"] if api == "tts" else None,
            "voice_file": register["voice"] if api == "voice" else None,
            "caller_number": register["number"] if dedicated else None,
            "called_number": callee,
            "out_id": f"T{serial:010d}",
            "call_id": f"{serial}^100",
            "status": (CallRecord.Status.COMPLETED if answered else CallRecord.Status.FAILED) if code else CallRecord.Status.ACCEPTED,
            "outcome": outcome_for(code) if code else "",
            "status_code": code,
            "duration": 30 if answered else None,
            "requested_by": user,
            # Microseconds: the serial counts across the whole run (thousands of calls), and even that many
            # seconds back is yesterday in Asia/Shanghai for the first hours after midnight.
            "created_at": created_at or timezone.now() - timedelta(microseconds=serial),
        }
        values.update(fields)
        return CallRecord.objects.create(**values)

    return make


def make_many(make_call, n, **fields):
    now = timezone.now()
    return [make_call(created_at=now - timedelta(minutes=i), **fields) for i in range(n)]
