"""VoiceAdmin models, one module per entity group."""

from .calls import BlockedNumber, CallEvent, CallRecord
from .choices import Mode, Purpose, ReviewStatus
from .register import CallerNumber, Qualification, TtsTemplate, VoiceFile

__all__ = [
    "BlockedNumber",
    "CallEvent",
    "CallRecord",
    "CallerNumber",
    "Mode",
    "Purpose",
    "Qualification",
    "ReviewStatus",
    "TtsTemplate",
    "VoiceFile",
]
