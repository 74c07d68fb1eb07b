"""The receipt inbox: every push the provider made, kept as received, and what applying it found."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReceiptDelivery(models.Model):
    """One HTTP push of the provider's, stored before it is acknowledged and applied afterwards by a job."""

    class MessageType(models.TextChoices):
        VOICE_REPORT = "VoiceReport", _("Final receipt (VoiceReport)")
        VOICE_CALL_REPORT = "VoiceCallReport", _("In-call receipt (VoiceCallReport)")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be applied")
        APPLIED = "applied", _("Applied")
        PARTLY_APPLIED = "partly_applied", _("Partly applied")
        UNMATCHED = "unmatched", _("Unmatched")
        INVALID = "invalid", _("Invalid")

    message_type = models.CharField(_("message type"), max_length=16, choices=MessageType.choices)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    size = models.PositiveIntegerField(_("size (bytes)"))
    # The bytes exactly as they arrived (a body over the size limit is not kept; see RECEIPT_BODY_MAX_BYTES).
    body = models.BinaryField(_("body"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    item_count = models.PositiveIntegerField(_("items"), default=0)
    applied_count = models.PositiveIntegerField(_("applied"), default=0)
    unmatched_count = models.PositiveIntegerField(_("unmatched"), default=0)
    invalid_count = models.PositiveIntegerField(_("invalid"), default=0)
    # One entry per item not applied: {"index": n, "reason": "invalid" | "unmatched", "detail": "..."}; or the body's own fault.
    problems = models.JSONField(_("problems"), default=list, blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    apply_runs = models.PositiveSmallIntegerField(_("times applied"), default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("receipt delivery")
        verbose_name_plural = _("receipt deliveries")
        permissions = [("replay_receiptdelivery", _("Can replay receipt deliveries"))]
        indexes = [
            models.Index(fields=["received_at", "id"], name="receiptdelivery_received_idx"),
            # The apply job takes pending pushes oldest first; the unmatched ones are revisited until the grace period ends.
            models.Index(fields=["state", "received_at", "id"], name="receiptdelivery_state_idx"),
            models.Index(fields=["message_type", "received_at"], name="receiptdelivery_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.message_type} #{self.pk} ({self.get_state_display()})"

    @property
    def body_text(self) -> str:
        """The body for people to read: UTF-8 as the provider sends it, undecodable bytes shown as U+FFFD."""
        return bytes(self.body).decode("utf-8", errors="replace")
