"""Campaigns: one template or voice file sent to a list of people from a spreadsheet, row by row.

A campaign is checked before anything is sent (every row passes the rules of a test call), approved by a manager
who did not create it, then sent through the same pipeline as a test call: each attempt is a CallRecord that points
back to its row.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.texts import in_language

from .register import CallerNumber, TtsTemplate, VoiceFile


class Campaign(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CHECKED = "checked", _("Checked")
        AWAITING_APPROVAL = "awaiting_approval", _("Waiting for approval")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        FINISHED = "finished", _("Finished")
        CANCELLED = "cancelled", _("Cancelled")

    # Outcomes a row may be retried after (CallRecord.Outcome values).
    RETRYABLE_OUTCOMES = ("busy", "no_answer", "powered_off", "unreachable")

    name = models.CharField(_("name"), max_length=100)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    tts_template = models.ForeignKey(
        TtsTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns",
        verbose_name=_("TTS template"),
    )
    voice_file = models.ForeignKey(
        VoiceFile, on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns", verbose_name=_("voice file"),
    )
    # Dedicated mode: the caller numbers shown, used in turn. Public pool: none.
    caller_numbers = models.ManyToManyField(
        CallerNumber, blank=True, related_name="campaigns", verbose_name=_("caller numbers"),
    )
    play_times = models.PositiveSmallIntegerField(_("play times"), default=1)
    volume = models.PositiveSmallIntegerField(_("volume"), default=100)
    speed = models.SmallIntegerField(_("speed"), null=True, blank=True)

    # The uploaded list, as it was read.
    source_file = models.FileField(_("list file"), upload_to="campaigns/%Y/%m/", blank=True)
    source_name = models.CharField(_("file name"), max_length=255, blank=True)
    source_encoding = models.CharField(_("file encoding"), max_length=20, blank=True)
    headers = models.JSONField(_("column headers"), default=list, blank=True)
    # {"callee": "<header>", "params": {"<variable>": "<header>"}}
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # Counts written by the check: {"total", "valid", "refused", "by_reason": {code: n}, "first_errors": [...]}
    check_summary = models.JSONField(_("check summary"), default=dict, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)

    # Schedule and pace
    start_at = models.DateTimeField(_("start at"), null=True, blank=True, help_text=_("Empty: as soon as approved."))
    # Empty: the company's quiet hours (settings.CAMPAIGN_QUIET_HOURS).
    quiet_start = models.TimeField(_("quiet hours start"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours end"), null=True, blank=True)
    rate_cap = models.PositiveIntegerField(
        _("calls per second"), default=10, validators=[MinValueValidator(1), MaxValueValidator(1000)],
    )
    max_retries = models.PositiveSmallIntegerField(
        _("retries"), default=0, validators=[MaxValueValidator(3)],
        help_text=_("Busy, no answer, powered off or unreachable: ring again up to this many times."),
    )
    retry_interval_minutes = models.PositiveIntegerField(
        _("minutes between attempts"), default=10, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="campaigns_created", verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns_approved",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        permissions = [("approve_campaign", _("Can approve campaigns"))]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(tts_template__isnull=False) & Q(voice_file__isnull=False)),
                name="campaign_one_resource",
            ),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="campaign_state_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def resource(self):
        return self.tts_template or self.voice_file

    @property
    def state_label(self):
        return self.State(self.state).label


class CampaignRow(models.Model):
    """One person of the list: what the file said, what the check found, and where sending stands."""

    class State(models.TextChoices):
        REFUSED = "refused", _("Refused by the check")
        WAITING = "waiting", _("Waiting")
        CALLING = "calling", _("In progress")
        RETRY_WAIT = "retry_wait", _("Waiting to retry")
        DONE = "done", _("Done")
        NOT_SENT = "not_sent", _("Not sent (cancelled)")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rows", verbose_name=_("campaign"),
                                 db_index=False)  # campaignrow_state_idx and the unique constraint lead with it
    row_number = models.PositiveIntegerField(_("row"))  # as in the file, header row included, so staff find it
    raw_number = models.CharField(_("number as in the file"), max_length=64, blank=True)
    called_number = models.CharField(_("callee"), max_length=20, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.WAITING)
    refusal_code = models.CharField(_("refusal reason"), max_length=32, blank=True)
    # {language code: why the row is refused}, written in every language of the console (notifications.texts)
    refusal_messages = models.JSONField(_("refusal"), default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt not before"), null=True, blank=True)
    last_call = models.ForeignKey(
        "notifications.CallRecord", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("last call"), db_index=False,
    )
    outcome = models.CharField(_("outcome"), max_length=16, blank=True)  # CallRecord.Outcome of the last call
    final_status = models.CharField(_("final state"), max_length=16, blank=True)  # CallRecord.Status of the last call
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["campaign", "row_number"]
        verbose_name = _("campaign row")
        verbose_name_plural = _("campaign rows")
        default_permissions = ("view",)
        constraints = [models.UniqueConstraint(fields=["campaign", "row_number"], name="campaignrow_unique_row")]
        indexes = [
            models.Index(fields=["campaign", "state", "next_attempt_at", "row_number"], name="campaignrow_state_idx"),
            models.Index(fields=["last_call"], name="campaignrow_last_call_idx"),
            # Progress and report count rows by these alone: the index answers the grouped count without the table.
            models.Index(fields=["campaign", "state", "outcome", "final_status", "attempts"], name="campaignrow_count_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}#{self.row_number}"

    @property
    def refusal_message(self) -> str:
        """Why the row is refused, in the reader's language."""
        return in_language(self.refusal_messages)
