"""The do-not-call list: numbers no test call may reach (checked by services/calls_create.py)."""
import logging

from django.db import transaction

from notifications.models import BlockedNumber
from notifications.rules.identifiers import normalize_mainland_number

logger = logging.getLogger(__name__)


@transaction.atomic
def blocked_number_create(*, number: str, reason: str, user) -> BlockedNumber:
    """Put a number on the do-not-call list: no test call can reach it afterwards."""
    normalized, _kind = normalize_mainland_number(number)
    blocked = BlockedNumber(number=normalized, reason=reason.strip(), created_by=user)
    blocked.full_clean()
    blocked.save()
    logger.info("number blocked by %s", user)
    return blocked


@transaction.atomic
def blocked_number_delete(*, blocked: BlockedNumber, user) -> None:
    """Take a number off the do-not-call list."""
    blocked.delete()
    logger.info("number unblocked by %s", user)
