"""Dialing (DESIGN §3), by concern: the names other code used before the split, from their own modules.

- services/calls_create.py: validate and record a call `queued`;
- services/calls_dispatch.py: claim, send, store the provider's answers;
- services/calls_follow_up.py: detail queries, interrupted sends, "outcome unknown";
- services/blocked_numbers.py: the do-not-call list.

New code imports from those modules; patch constants (DISPATCH_BATCH, RETRY_BASE_SECONDS...) there too.
"""
from notifications.services.blocked_numbers import blocked_number_create, blocked_number_delete
from notifications.services.calls_create import call_record_create, new_out_id
from notifications.services.calls_dispatch import (
    DISPATCH_BATCH,
    MAX_SEND_ATTEMPTS,
    call_record_dispatch,
    calls_dispatch_due,
    calls_dispatch_waiting,
)
from notifications.services.calls_follow_up import FollowUpSummary, calls_follow_up

_new_out_id = new_out_id

__all__ = [
    "DISPATCH_BATCH", "MAX_SEND_ATTEMPTS", "FollowUpSummary", "blocked_number_create", "blocked_number_delete",
    "call_record_create", "call_record_dispatch", "calls_dispatch_due", "calls_dispatch_waiting", "calls_follow_up",
    "new_out_id",
]
