"""Writing the audit log: one function, called where each audited action happens, in that action's transaction."""
from django.contrib.contenttypes.models import ContentType
from django.db import models

from notifications.models import AuditEntry, BlockedNumber, CallRecord
from notifications.selectors import number_typed
from notifications.services.numbers import number_mask, payload_mask, text_mask

Action = AuditEntry.Action


def _label(target) -> str:
    if isinstance(target, CallRecord):
        return target.out_id  # its str() names the callee
    if isinstance(target, BlockedNumber):
        return number_mask(target.number)
    return str(target)


def audit_record(*, user, action: str, target=None, details: dict | None = None) -> AuditEntry:
    """Write one entry. `user` None (or anonymous) is the system; `target` a model instance or a label.

    Written inside the caller's transaction: an action that rolls back leaves no entry. Numbers in the label and the
    details are masked here, whoever calls.
    """
    entry = _entry(user=user, action=action, target=target, details=details)
    entry.save()
    return entry


def audit_record_many(*, user, action: str, targets: list[tuple[models.Model, dict]]) -> None:
    """One entry per (target, details), written in one statement: an action done to many objects at once (an import)."""
    AuditEntry.objects.bulk_create(
        [_entry(user=user, action=action, target=target, details=details) for target, details in targets], batch_size=500)


def _entry(*, user, action: str, target, details: dict | None) -> AuditEntry:
    if user is not None and not user.is_authenticated:
        user = None
    entry = AuditEntry(user=user, username=user.get_username() if user else "", action=action,
                       details=payload_mask(details or {}))
    if isinstance(target, models.Model):
        entry.target_type = ContentType.objects.get_for_model(target)
        entry.target_id = str(target.pk) if target.pk is not None else ""
        entry.target_label = text_mask(_label(target))[:200]
    elif target:
        entry.target_label = text_mask(str(target))[:200]
    return entry


def full_number_search_record(*, user, filterset) -> AuditEntry | None:
    """Record a call log search by a whole phone number (search box or callee filter) by a role that sees numbers
    masked: they learn which calls that number received. The number is kept masked in the entry.

    Not recorded: the last four digits (a masked number shows them), text that is no number (a CallId, an OutId, a
    typo), and the caller filter, since caller numbers are the account's own and every role sees them whole.
    """
    data = filterset.data
    for field in ("q", "callee"):
        kind, number = number_typed(data.get(field) or "")
        if kind != "number":
            continue
        return audit_record(user=user, action=Action.FULL_NUMBER_SEARCH, target=number_mask(number),
                            details={"field": field, "number": number})
    return None
