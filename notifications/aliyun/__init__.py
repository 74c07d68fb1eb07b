"""The Alibaba Cloud Voice Messaging Service client: the only place that knows the provider's wire format.

    client = get_vms_client()
    placed = client.single_call_by_tts(called_number=..., tts_code=..., tts_params={...}, out_id=...)

Every failure is one of three kinds, sorted by one question: could sending again ring the person twice?
  VmsRejected        refused before anything was placed and sending again will not help
  VmsThrottled       not placed (throttling, connection refused, 503 before dialing): try again later
  VmsOutcomeUnknown  no clear answer after the request left (read timeout, 5xx): the call may exist
"""
from .errors import VmsError, VmsFlowControlled, VmsOutcomeUnknown, VmsRejected, VmsThrottled
from .results import CallDetail, CallPlaced, VoiceFileAudit

__all__ = [
    "CallDetail", "CallPlaced", "VmsError", "VmsFlowControlled", "VmsOutcomeUnknown", "VmsRejected",
    "VmsThrottled", "VoiceFileAudit", "get_vms_client",
]


def get_vms_client():
    """Build a client from settings read now (never at import), so the endpoint is one setting away."""
    from .client import get_vms_client as build

    return build()
