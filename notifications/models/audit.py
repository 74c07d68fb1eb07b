"""The audit log: who did what to which object, and when."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One action worth answering for later. Written by `services.audit.audit_record`, never edited.

    Phone numbers are stored masked (the log is read by roles that see numbers masked, and must not become a second
    copy of callees' numbers); the object link leads to the object itself while it exists.
    """

    class Action(models.TextChoices):
        REVIEW_DECISION = "review_decision", _("Review decision")
        NUMBER_TRANSITION = "number_transition", _("Number state change")
        DIAL = "dial", _("Test call placed")
        EXPORT = "export", _("Call export")
        FULL_NUMBER_VIEW = "full_number_view", _("Full number viewed")
        FULL_NUMBER_SEARCH = "full_number_search", _("Search by a full number")
        BLOCKED_NUMBER_ADDED = "blocked_number_added", _("Number blocked")
        BLOCKED_NUMBER_REMOVED = "blocked_number_removed", _("Number unblocked")
        BLOCKED_NUMBER_CHANGED = "blocked_number_changed", _("Block changed")
        BLOCKED_NUMBERS_IMPORTED = "blocked_numbers_imported", _("Do-not-call list imported")
        BLOCKED_NUMBERS_EXPORTED = "blocked_numbers_exported", _("Do-not-call list downloaded")
        SETTINGS_CHANGE = "settings_change", _("Settings changed")
        RECEIPT_REPLAY = "receipt_replay", _("Receipt replayed")
        # Accounts and sign-in
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in refused")
        LOCKOUT = "lockout", _("Sign-in locked")
        UNLOCK = "unlock", _("Sign-in unlocked")
        TWO_FACTOR_ENROLLED = "two_factor_enrolled", _("Two-factor sign-in set up")
        TWO_FACTOR_RESET = "two_factor_reset", _("Two-factor sign-in reset")
        USER_INVITED = "user_invited", _("User invited")
        USER_ACTIVATED = "user_activated", _("User activated")
        USER_DEACTIVATED = "user_deactivated", _("User deactivated")
        USER_ROLE_CHANGED = "user_role_changed", _("Role changed")
        PASSWORD_CHANGED = "password_changed", _("Password set")
        PASSWORD_RESET_REQUESTED = "password_reset_requested", _("Password reset asked for")
        # Campaigns
        CAMPAIGN_CREATED = "campaign_created", _("Campaign created")
        CAMPAIGN_SUBMITTED = "campaign_submitted", _("Campaign sent for approval")
        CAMPAIGN_APPROVED = "campaign_approved", _("Campaign approved")
        CAMPAIGN_REJECTED = "campaign_rejected", _("Campaign sent back")
        CAMPAIGN_PAUSED = "campaign_paused", _("Campaign paused")
        CAMPAIGN_RESUMED = "campaign_resumed", _("Campaign resumed")
        CAMPAIGN_CANCELLED = "campaign_cancelled", _("Campaign cancelled")
        # Usage and cost
        PRICE_ADDED = "price_added", _("Price entered")
        # Alerts
        ALERT_RULE_CREATED = "alert_rule_created", _("Alert rule added")
        ALERT_RULE_CHANGED = "alert_rule_changed", _("Alert rule changed")
        ALERT_ACKNOWLEDGED = "alert_acknowledged", _("Alert acknowledged")
        ALERT_RESOLVED = "alert_resolved", _("Alert resolved")

    # SET_NULL and a copy of the name: deleting a user must neither be blocked by nor erase their trail.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("user"),
        db_index=False,  # auditentry_user_idx leads with it
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    target_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("object type"),
        db_index=False,  # auditentry_target_idx leads with it
    )
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_label = models.CharField(_("object"), max_length=200, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        default_permissions = ("view",)  # written by the services only
        # The page's filters (person, action, dates) each with the keyset order, so every page is an index range.
        indexes = [
            models.Index(fields=["created_at", "id"], name="auditentry_created_idx"),
            models.Index(fields=["user", "created_at", "id"], name="auditentry_user_idx"),
            models.Index(fields=["action", "created_at", "id"], name="auditentry_action_idx"),
            models.Index(fields=["target_type", "target_id"], name="auditentry_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.username or '—'} {self.action} {self.target_label}".strip()
