"""Every lifecycle transition of the register, one function each: who may do it, from which state, in one transaction."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import CallerNumber, Qualification, ReviewStatus, TtsTemplate, VoiceFile
from notifications.rules.templates import template_errors
from notifications.services import provider_sync
from notifications.services.audit import Action, audit_record
from notifications.services.qualification_gate import APPROVE, qualification_problem

# `source` of a decision the console learned by asking the provider (QueryVoiceFileAuditInfo), not from a person.
DECISION_FROM_PROVIDER = "provider_query"

# Code a view uses to tell a stale or forged state change (403) from a form mistake (shown next to the field).
WRONG_STATE = "wrong_state"

NUMBER_TRANSITIONS: dict[str, set[str]] = {
    CallerNumber.Status.PENDING: {CallerNumber.Status.ACTIVE, CallerNumber.Status.RELEASED},
    CallerNumber.Status.ACTIVE: {CallerNumber.Status.SUSPENDED, CallerNumber.Status.RELEASED},
    CallerNumber.Status.SUSPENDED: {CallerNumber.Status.ACTIVE, CallerNumber.Status.RELEASED},
    CallerNumber.Status.RELEASED: set(),
}


def _perm(resource, action: str) -> str:
    return f"notifications.{action}_{resource._meta.model_name}"


def _lock_status(resource) -> str:
    """Lock the row for the rest of the transaction and return its status as stored (the instance may be stale)."""
    return type(resource).objects.select_for_update().values_list("status", flat=True).get(pk=resource.pk)


def _needs_provider_code(resource) -> bool:
    return isinstance(resource, (VoiceFile, TtsTemplate))


@transaction.atomic
def resource_submit(*, resource: Qualification | VoiceFile | TtsTemplate, user) -> Qualification | VoiceFile | TtsTemplate:
    """Send a draft (or a corrected rejected resource) to the provider's review."""
    if not user.has_perm(_perm(resource, "change")):
        raise PermissionDenied(_("You may not submit this for review."))
    status = _lock_status(resource)
    if status not in (ReviewStatus.DRAFT, ReviewStatus.REJECTED):
        raise ValidationError(_("Only drafts and rejected items can be submitted for review."), code=WRONG_STATE)
    if _needs_provider_code(resource):
        # Refused here, not first when dialled: the provider reviews content only under an approved qualification.
        problem = qualification_problem(resource.qualification_id)
        if problem:
            raise ValidationError(problem, code="qualification")
    if isinstance(resource, TtsTemplate):
        errors = template_errors(content=resource.content, kind=resource.kind, mode=resource.mode)
        if errors:
            raise ValidationError(errors)
    if isinstance(resource, Qualification) and not resource.licence:
        raise ValidationError(_("Upload the business licence scan before submitting the qualification."), code="licence")
    if isinstance(resource, VoiceFile) and not resource.sha256:
        raise ValidationError(_("The recording has not been verified; upload it again."), code="unverified")
    fields = ["status", "submitted_by", "submitted_at", "reject_reason", "updated_at"]
    if isinstance(resource, VoiceFile) and resource.voice_code:
        # A corrected recording is a new upload with a new code: the old one still answers "rejected" at the provider.
        resource.voice_code = ""
        fields.append("voice_code")
    resource.status = ReviewStatus.SUBMITTED
    resource.submitted_by = user
    resource.submitted_at = timezone.now()
    resource.reject_reason = ""
    resource.save(update_fields=fields)
    if _needs_provider_code(resource):
        transaction.on_commit(lambda: provider_sync.request_review(resource))
    return resource


@transaction.atomic
def resource_record_decision(
    *,
    resource: Qualification | VoiceFile | TtsTemplate,
    approved: bool,
    code: str = "",
    reason: str = "",
    decided_by=None,
    source: str = "",
) -> Qualification | VoiceFile | TtsTemplate:
    """Record the provider's review decision; `decided_by=None` means no person: the simulator's callback, or
    `source=DECISION_FROM_PROVIDER` for an answer of the provider's review query (kept in the audit entry)."""
    if decided_by is not None and not decided_by.has_perm(_perm(resource, "review")):
        raise PermissionDenied(_("You may not record review decisions."))
    status = _lock_status(resource)
    if status != ReviewStatus.SUBMITTED:
        raise ValidationError(_("A decision can only be recorded for an item that is waiting for review."), code=WRONG_STATE)
    code, reason = (code or "").strip(), (reason or "").strip()
    fields = ["status", "reviewed_by", "reviewed_at", "reject_reason", "updated_at"]
    if approved:
        if _needs_provider_code(resource):
            problem = qualification_problem(resource.qualification_id, action=APPROVE)
            if problem:
                raise ValidationError(problem, code="qualification")
            code_field = "voice_code" if isinstance(resource, VoiceFile) else "tts_code"
            code = code or getattr(resource, code_field)  # a voice file has its code from the upload already
            if not code:
                raise ValidationError({"code": _("Enter the code the provider gave this item.")})
            if type(resource).objects.filter(**{code_field: code}).exclude(pk=resource.pk).exists():
                raise ValidationError({"code": _("This code already belongs to another item.")})
            setattr(resource, code_field, code)
            fields.append(code_field)
        resource.status = ReviewStatus.APPROVED
        resource.reject_reason = ""
    else:
        if not reason:
            raise ValidationError({"reason": _("Enter the reason the provider gave for the rejection.")})
        resource.status = ReviewStatus.REJECTED
        resource.reject_reason = reason
    resource.reviewed_by = decided_by
    resource.reviewed_at = timezone.now()
    try:
        with transaction.atomic():
            resource.save(update_fields=fields)
    except IntegrityError:
        # Another item took the same code between our check and our write.
        raise ValidationError({"code": _("This code already belongs to another item.")}) from None
    audit_record(user=decided_by, action=Action.REVIEW_DECISION, target=resource,
                 details={"status": resource.status, "code": code if approved else "", "reason": resource.reject_reason,
                          **({"source": source} if source else {})})
    if approved:
        transaction.on_commit(lambda: provider_sync.publish_approved(resource))
    return resource


@transaction.atomic
def caller_number_set_status(*, number: CallerNumber, status: str, user) -> CallerNumber:
    """Activate, suspend or release a number; only an approved qualification's numbers can become active."""
    if not user.has_perm("notifications.manage_callernumber_status"):
        raise PermissionDenied(_("You may not change the state of numbers."))
    current = _lock_status(number)
    if status not in NUMBER_TRANSITIONS.get(current, set()):
        labels = dict(CallerNumber.Status.choices)
        raise ValidationError(
            _("A number cannot go from “%(current)s” to “%(target)s”."),
            code=WRONG_STATE,
            params={"current": labels[current], "target": labels.get(status, status)},
        )
    if status == CallerNumber.Status.ACTIVE:
        qualification_status = Qualification.objects.values_list("status", flat=True).get(pk=number.qualification_id)
        if qualification_status != ReviewStatus.APPROVED:
            raise ValidationError(_("The number's qualification must be approved before the number can be active."), code="qualification")
    number.status = status
    number.save(update_fields=["status", "updated_at"])
    audit_record(user=user, action=Action.NUMBER_TRANSITION, target=number, details={"from": current, "to": status})
    if status == CallerNumber.Status.ACTIVE:
        transaction.on_commit(lambda: provider_sync.publish_approved(number))
    return number
