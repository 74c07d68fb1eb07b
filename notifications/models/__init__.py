"""VoiceAdmin models, one module per entity group."""

from .alerts import Alert, AlertDelivery, AlertEvent, AlertRule
from .audit import AuditEntry
from .calls import BlockedNumber, CallEvent, CallRecord
from .campaigns import Campaign, CampaignRow
from .choices import Mode, Purpose, ReviewStatus
from .history import CallExport, DailyCallStat, DailyStatDirtyDay, NumberAccess
from .inbox import ReceiptDelivery
from .operations import PeriodicRun
from .register import CallerNumber, Qualification, TtsTemplate, VoiceFile
from .usage import PriceRule

__all__ = [
    "Alert",
    "AlertDelivery",
    "AlertEvent",
    "AlertRule",
    "AuditEntry",
    "BlockedNumber",
    "CallEvent",
    "CallExport",
    "CallRecord",
    "CallerNumber",
    "Campaign",
    "CampaignRow",
    "DailyCallStat",
    "DailyStatDirtyDay",
    "Mode",
    "NumberAccess",
    "PeriodicRun",
    "PriceRule",
    "Purpose",
    "ReceiptDelivery",
    "Qualification",
    "ReviewStatus",
    "TtsTemplate",
    "VoiceFile",
]
