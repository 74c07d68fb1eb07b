"""Phone number masking and the audit of who saw a full number."""
from django.conf import settings
from django.db import transaction

from notifications.models import CallRecord, NumberAccess


def number_mask(number: str) -> str:
    """159****0000: keep the first three and last four digits of a mobile, hide the middle of anything else."""
    if not number:
        return number
    if len(number) > 7:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    return number[:1] + "*" * max(len(number) - 2, 1) + number[-1:]


def user_sees_full_numbers(user) -> bool:
    return not settings.PHONE_MASKING or user.has_perm("notifications.view_full_number")


def number_access_record(*, user, call: CallRecord) -> NumberAccess:
    """Write the audit row for a full-number view of one call."""
    with transaction.atomic():
        return NumberAccess.objects.create(user=user, call=call)
