"""A campaign's states (models/campaigns.py): sent for approval, approved by a second person, paused, resumed, cancelled.

Every change locks the campaign row first (select_for_update), so two people pressing buttons at once, or a button
and the sender's tick, never both act on the state they read. Each refused change raises a ValidationError in the
user's language; each done change is in the audit log, in the same transaction.
"""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import AuditEntry, Campaign, CampaignRow
from notifications.rules import dialing as rules
from notifications.services.audit import audit_record

State = Campaign.State
Action = AuditEntry.Action
WRONG_STATE = "wrong_state"

# States in which the schedule may still change; after approval a change sends the campaign back for approval.
_SCHEDULE_EDITABLE = (State.DRAFT, State.CHECKED, State.AWAITING_APPROVAL, State.SCHEDULED, State.PAUSED)
SCHEDULE_FIELDS = ("start_at", "quiet_start", "quiet_end", "rate_cap", "max_retries", "retry_interval_minutes")


def _locked(campaign: Campaign) -> Campaign:
    """The campaign as stored now, locked until the transaction ends; the caller's instance is refreshed too."""
    stored = Campaign.objects.select_for_update().get(pk=campaign.pk)
    for field in Campaign._meta.concrete_fields:
        setattr(campaign, field.attname, getattr(stored, field.attname))
    return stored


def _require_state(campaign: Campaign, allowed, message: str) -> None:
    if campaign.state not in allowed:
        raise ValidationError(message, code=WRONG_STATE, params={"state": campaign.state_label})


def _require_perm(user, perm: str, message: str) -> None:
    if user is None or not user.has_perm(f"notifications.{perm}"):
        raise PermissionDenied(message)


def _save(stored: Campaign, campaign: Campaign, **fields) -> None:
    for name, value in fields.items():
        setattr(stored, name, value)
        setattr(campaign, name, value)
    stored.updated_at = campaign.updated_at = timezone.now()
    Campaign.objects.filter(pk=stored.pk).update(**fields, updated_at=stored.updated_at)


@transaction.atomic
def campaign_submit(campaign: Campaign, user) -> Campaign:
    """Checked → waiting for approval; at least one row must have passed the check."""
    _require_perm(user, "change_campaign", _("You may not send campaigns for approval."))
    stored = _locked(campaign)
    _require_state(stored, (State.CHECKED,), _("Only a checked campaign can be sent for approval (this one is %(state)s)."))
    if not CampaignRow.objects.filter(campaign=stored, state=CampaignRow.State.WAITING).exists():
        raise ValidationError(_("No row of the list passed the check: there is nobody to call."), code="no_valid_rows")
    _save(stored, campaign, state=State.AWAITING_APPROVAL, approved_by=None, approved_at=None)
    audit_record(user=user, action=Action.CAMPAIGN_SUBMITTED, target=stored,
                 details={"valid": (stored.check_summary or {}).get("valid")})
    return campaign


@transaction.atomic
def campaign_approve(campaign: Campaign, user) -> Campaign:
    """Waiting for approval → scheduled, by a manager who did not create the campaign (the two-person rule)."""
    _require_perm(user, "approve_campaign", _("Only a manager may approve a campaign."))
    stored = _locked(campaign)
    if stored.created_by_id == user.pk:
        raise PermissionDenied(_("You created this campaign: another manager must approve it."))
    _require_state(stored, (State.AWAITING_APPROVAL,),
                   _("Only a campaign waiting for approval can be approved (this one is %(state)s)."))
    resource = stored.resource
    if resource is None or rules.check_resource_approved(resource.status):
        raise ValidationError(_("The campaign's template or voice file is not approved any more."), code="not_approved")
    now = timezone.now()
    _save(stored, campaign, state=State.SCHEDULED, approved_by=user, approved_at=now)
    audit_record(user=user, action=Action.CAMPAIGN_APPROVED, target=stored,
                 details={"start_at": stored.start_at.isoformat() if stored.start_at else None})
    return campaign


@transaction.atomic
def campaign_send_back(campaign: Campaign, user, reason: str = "") -> Campaign:
    """Waiting for approval (or approved, not yet started) → checked, with the manager's reason in the audit log."""
    _require_perm(user, "approve_campaign", _("Only a manager may send a campaign back."))
    stored = _locked(campaign)
    _require_state(stored, (State.AWAITING_APPROVAL, State.SCHEDULED),
                   _("Only a campaign waiting for approval or not yet started can be sent back (this one is %(state)s)."))
    if stored.state == State.SCHEDULED and stored.started_at is not None:
        raise ValidationError(_("This campaign has started sending: pause or cancel it instead."), code=WRONG_STATE)
    _save(stored, campaign, state=State.CHECKED, approved_by=None, approved_at=None)
    audit_record(user=user, action=Action.CAMPAIGN_REJECTED, target=stored, details={"reason": (reason or "")[:500]})
    return campaign


@transaction.atomic
def campaign_pause(campaign: Campaign, user) -> Campaign:
    """Scheduled or sending → paused: no new call is placed; calls under way finish and are followed as usual."""
    _require_perm(user, "change_campaign", _("You may not pause campaigns."))
    stored = _locked(campaign)
    _require_state(stored, (State.SCHEDULED, State.SENDING),
                   _("Only a scheduled or sending campaign can be paused (this one is %(state)s)."))
    _save(stored, campaign, state=State.PAUSED)
    audit_record(user=user, action=Action.CAMPAIGN_PAUSED, target=stored)
    return campaign


@transaction.atomic
def campaign_resume(campaign: Campaign, user) -> Campaign:
    """Paused → sending (or scheduled, when it never started): the sender picks the waiting rows up at its next tick."""
    _require_perm(user, "change_campaign", _("You may not resume campaigns."))
    stored = _locked(campaign)
    _require_state(stored, (State.PAUSED,), _("Only a paused campaign can be resumed (this one is %(state)s)."))
    _save(stored, campaign, state=State.SENDING if stored.started_at else State.SCHEDULED)
    audit_record(user=user, action=Action.CAMPAIGN_RESUMED, target=stored)
    return campaign


@transaction.atomic
def campaign_cancel(campaign: Campaign, user) -> Campaign:
    """Any state before the end → cancelled: rows not sent yet are never sent; calls under way finish."""
    _require_perm(user, "change_campaign", _("You may not cancel campaigns."))
    stored = _locked(campaign)
    _require_state(stored, [state for state in State if state not in (State.FINISHED, State.CANCELLED)],
                   _("This campaign has ended (%(state)s): there is nothing to cancel."))
    now = timezone.now()
    not_sent = CampaignRow.objects.filter(
        campaign=stored, state__in=[CampaignRow.State.WAITING, CampaignRow.State.RETRY_WAIT],
    ).update(state=CampaignRow.State.NOT_SENT, next_attempt_at=None, updated_at=now)
    previous = stored.state
    _save(stored, campaign, state=State.CANCELLED, finished_at=now)
    audit_record(user=user, action=Action.CAMPAIGN_CANCELLED, target=stored,
                 details={"state_before": previous, "rows_not_sent": not_sent})
    return campaign


@transaction.atomic
def campaign_update_schedule(campaign: Campaign, user, **changes) -> Campaign:
    """Change when and how fast the campaign sends (SCHEDULE_FIELDS). After approval this sends it back for approval.

    Raises ValidationError keyed by field for values out of range, and when the state no longer allows a change.
    """
    _require_perm(user, "change_campaign", _("You may not change campaigns."))
    unknown = set(changes) - set(SCHEDULE_FIELDS)
    if unknown:
        raise ValueError(f"not schedule fields: {sorted(unknown)}")
    stored = _locked(campaign)
    _require_state(stored, _SCHEDULE_EDITABLE,
                   _("The schedule of a campaign that is %(state)s cannot be changed; pause it first."))
    for name, value in changes.items():
        setattr(stored, name, value)
    errors = {}
    if (stored.quiet_start is None) != (stored.quiet_end is None):
        field = "quiet_end" if stored.quiet_end is None else "quiet_start"
        errors[field] = [_("Give both ends of the quiet hours, or neither to use the company's.")]
    try:
        stored.full_clean(exclude=[f.name for f in Campaign._meta.fields if f.name not in SCHEDULE_FIELDS],
                          validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    fields = {name: getattr(stored, name) for name in SCHEDULE_FIELDS}
    previous = stored.state
    if previous in (State.AWAITING_APPROVAL, State.SCHEDULED, State.PAUSED):
        # A schedule approved (or up for approval) is not the one approved any more: a second look is needed.
        fields.update(state=State.CHECKED, approved_by=None, approved_at=None)
    _save(stored, campaign, **fields)
    if fields.get("state") == State.CHECKED and previous != State.CHECKED:
        audit_record(user=user, action=Action.CAMPAIGN_REJECTED, target=stored,
                     details={"reason": "schedule changed", "state_before": previous})
    return campaign
