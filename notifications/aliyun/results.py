"""What the provider answers, as plain typed values (provider spellings stay in this package)."""
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CallPlaced:
    call_id: str
    request_id: str


@dataclass(frozen=True)
class CallDetail:
    """A parsed QueryCallDetailByCallId record."""

    call_id: str
    state: str  # the carrier result code, same table as receipts' status_code
    state_desc: str
    caller: str
    callee: str
    caller_show_number: str
    created_at: datetime | None
    ring_time: datetime | None
    start_time: datetime | None
    end_time: datetime | None
    duration: int | None
    hangup_direction: str
    request_id: str
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class VoiceFileAudit:
    voice_code: str
    state: str  # spec.AUDIT_STATES' words: "pending", "approved", "rejected", "cancelled"; or "unknown"
    provider_state: str
    reject_info: str
