"""Calls: one record per SingleCall request, its append-only events, and the do-not-call list."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Right
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import Mode
from .register import CallerNumber, TtsTemplate, VoiceFile


class CallRecord(models.Model):
    """One SingleCallByTts / SingleCallByVoice request and everything learned about it."""

    class Api(models.TextChoices):
        TTS = "tts", _("TTS")
        VOICE = "voice", _("Voice file")
        # A call another system of the account placed: its receipts say neither which API nor which template.
        OTHER = "other", _("Not known (placed elsewhere)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        ACCEPTED = "accepted", _("Accepted by provider")
        RINGING = "ringing", _("Ringing")
        ANSWERED = "answered", _("Answered")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        # Not final: no clear answer to the send yet; a receipt or a detail query settles it.
        UNKNOWN = "unknown", _("Unclear, being checked")
        # Final: the call may or may not have been placed and nothing more will be learned (the reason is on the record).
        OUTCOME_UNKNOWN = "outcome_unknown", _("Outcome unknown")

    class Outcome(models.TextChoices):
        LISTENED = "listened", _("Answered, listened to the end")
        HUNG_UP_EARLY = "hung_up_early", _("Answered, hung up early")
        BUSY = "busy", _("Busy")
        NO_ANSWER = "no_answer", _("No answer")
        INVALID_NUMBER = "invalid_number", _("Invalid number")
        UNREACHABLE = "unreachable", _("Unreachable")
        POWERED_OFF = "powered_off", _("Powered off")
        # Contexts: the callee's line is suspended / the callee rejected the call, unlike a suspended number or rejected review.
        SUSPENDED = "suspended", pgettext_lazy("call outcome", "Suspended")
        REJECTED = "rejected", pgettext_lazy("call outcome", "Rejected")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown")

    FINAL_STATUSES = (Status.COMPLETED, Status.FAILED, Status.OUTCOME_UNKNOWN)

    api = models.CharField(_("API"), max_length=8, choices=Api.choices)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    # Foreign keys carry no index of their own: the history indexes below lead with them.
    tts_template = models.ForeignKey(
        TtsTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="calls", verbose_name=_("TTS template"),
        db_index=False,
    )
    voice_file = models.ForeignKey(
        VoiceFile, on_delete=models.PROTECT, null=True, blank=True, related_name="calls", verbose_name=_("voice file"),
        db_index=False,
    )
    called_number = models.CharField(_("callee"), max_length=20)
    # Stored and computed by the database on every write (bulk_create, seed_calls' SQL, .update()), so a search by the
    # last four digits seeks callrecord_suffix_idx instead of scanning with LIKE '%1234'.
    called_suffix = models.GeneratedField(
        expression=Right("called_number", 4), output_field=models.CharField(max_length=4), db_persist=True,
        verbose_name=_("callee's last four digits"),
    )
    caller_number = models.ForeignKey(
        CallerNumber, on_delete=models.PROTECT, null=True, blank=True, related_name="calls", verbose_name=_("caller number"),
        db_index=False,
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    play_times = models.PositiveSmallIntegerField(_("play times"), default=3)
    volume = models.PositiveSmallIntegerField(_("volume"), default=100)
    speed = models.SmallIntegerField(_("speed"), null=True, blank=True)

    out_id = models.CharField(_("OutId"), max_length=15)
    call_id = models.CharField(_("CallId"), max_length=64, null=True, blank=True)
    request_id = models.CharField(_("RequestId"), max_length=64, blank=True)
    api_code = models.CharField(_("API code"), max_length=64, blank=True)
    api_message = models.TextField(_("API message"), blank=True)
    # Our own words in api_message (why a call failed or is unclear), kept in every language ({code: text},
    # notifications/texts.py) so the call page reads in its reader's; None for the provider's words and older calls.
    api_messages = models.JSONField(_("API message in each language"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("send attempts"), default=0)

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    status_code = models.CharField(_("status code"), max_length=16, blank=True)
    smart_status_code = models.CharField(_("smart status code"), max_length=32, blank=True)
    status_msg = models.CharField(_("status message"), max_length=200, blank=True)
    hangup_direction = models.CharField(_("hung up by"), max_length=16, blank=True)
    originate_time = models.DateTimeField(_("originated at"), null=True, blank=True)
    ring_time = models.DateTimeField(_("rang at"), null=True, blank=True)
    start_time = models.DateTimeField(_("answered at"), null=True, blank=True)
    end_time = models.DateTimeField(_("ended at"), null=True, blank=True)
    duration = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    final_report_at = models.DateTimeField(_("final report received at"), null=True, blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="call_records",
        null=True,
        blank=True,
        verbose_name=_("placed by"),
        db_index=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # A throttled call waits in the queue until then (the retry's backoff).
    dispatch_after = models.DateTimeField(_("send not before"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Made from receipts of a call another system of the account placed (no template, number or user of ours).
    placed_elsewhere = models.BooleanField(_("placed elsewhere"), default=False)
    # A campaign's attempt at one of its rows; empty for a test call.
    campaign = models.ForeignKey(
        "notifications.Campaign", on_delete=models.PROTECT, null=True, blank=True, related_name="calls",
        verbose_name=_("campaign"), db_index=False,  # callrecord_campaign_idx leads with it
    )
    campaign_row = models.ForeignKey(
        "notifications.CampaignRow", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls",
        verbose_name=_("campaign row"), db_index=False,  # callrecord_campaign_row_idx
    )
    # Billing, set once when the call has ended (services/usage.py): kept, so a later price changes nothing here.
    # billed_units is in billed_unit (PriceRule.Unit); no price in force leaves the cost empty.
    billed_at = models.DateTimeField(_("billed at"), null=True, blank=True)
    billed_unit = models.CharField(_("billing unit"), max_length=8, blank=True, default="", db_default="")  # raw inserts
    billed_units = models.PositiveIntegerField(_("billed units"), null=True, blank=True)
    billed_cost = models.DecimalField(_("estimated cost (CNY)"), max_digits=12, decimal_places=4, null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("call record")
        verbose_name_plural = _("call records")
        permissions = [
            ("dial_callrecord", _("Can place test calls")),
            ("export_callrecord", _("Can export call records")),
            ("view_full_number", _("Can see unmasked phone numbers")),
            ("requery_callrecord", _("Can re-query the provider for a call")),
        ]
        # Unique constraints rather than unique=True: the ids are matched exactly, so no extra LIKE index on PostgreSQL.
        constraints = [
            models.UniqueConstraint(fields=["out_id"], name="callrecord_out_id_unique"),
            models.UniqueConstraint(fields=["call_id"], condition=Q(call_id__isnull=False), name="callrecord_call_id_unique"),
            models.CheckConstraint(
                condition=(
                    Q(api="tts", tts_template__isnull=False, voice_file__isnull=True)
                    | Q(api="voice", voice_file__isnull=False, tts_template__isnull=True)
                    | Q(placed_elsewhere=True, tts_template__isnull=True, voice_file__isnull=True)
                ),
                name="callrecord_one_resource_per_api",
            ),
        ]
        indexes = [
            models.Index(fields=["created_at", "id"], name="callrecord_created_idx"),
            models.Index(fields=["called_number", "created_at"], name="callrecord_callee_idx"),
            models.Index(fields=["called_suffix", "created_at", "id"], name="callrecord_suffix_idx"),
            # Whole, not partial on the statuses in flight: SQLite cannot match a partial index to a bound IN list.
            models.Index(fields=["status", "created_at"], name="callrecord_status_idx"),
            models.Index(fields=["requested_by", "created_at"], name="callrecord_user_idx"),
            models.Index(fields=["outcome", "created_at", "id"], name="callrecord_outcome_idx"),
            models.Index(fields=["status_code", "created_at", "id"], name="callrecord_code_idx"),
            models.Index(fields=["tts_template", "created_at", "id"], name="callrecord_template_idx"),
            # A template family's figures (calls, final, answered per template) read from this index alone.
            models.Index(fields=["tts_template", "status", "outcome"], name="callrecord_template_state_idx"),
            models.Index(fields=["voice_file", "created_at", "id"], name="callrecord_voice_idx"),
            models.Index(fields=["caller_number", "created_at", "id"], name="callrecord_caller_idx"),
            models.Index(fields=["placed_elsewhere", "created_at", "id"], name="callrecord_elsewhere_idx"),
            models.Index(fields=["campaign", "created_at", "id"], name="callrecord_campaign_idx"),
            models.Index(fields=["campaign_row", "created_at"], name="callrecord_campaign_row_idx"),
            # The calls still to bill (in flight, or ended since the last billing run): few, whatever the table's size.
            models.Index(fields=["created_at", "id"], condition=Q(billed_at__isnull=True), name="callrecord_unbilled_idx"),
        ]

    def __str__(self) -> str:
        # Not the callee: this text reaches the admin's titles, raw-id labels and history, and logs, whoever reads them.
        return self.out_id

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    # Labels by enum lookup, for pages that list many calls: get_FOO_display() hashes, and so translates, every
    # label of the field's choices on each call (11 ms for a page of 50 calls).
    @property
    def api_label(self):
        return _choice_label(self.Api, self.api)

    @property
    def status_label(self):
        return _choice_label(self.Status, self.status)

    @property
    def outcome_label(self):
        return _choice_label(self.Outcome, self.outcome)


def _choice_label(choices, value: str):
    try:
        return choices(value).label
    except ValueError:
        return value  # blank, or a value no choice names any more


class CallEvent(models.Model):
    """One fact about a call in arrival order. Receipts for calls we do not know yet wait here with call=None."""

    class Kind(models.TextChoices):
        API_ANSWER = "api_answer", _("Provider answer")
        CALL_REPORT = "call_report", _("In-call receipt (VoiceCallReport)")
        VOICE_REPORT = "voice_report", _("Final receipt (VoiceReport)")
        DETAIL_QUERY = "detail_query", _("Detail query")
        RETRY = "retry", _("Retry")
        NOTE = "note", _("Note")

    call = models.ForeignKey(
        CallRecord, on_delete=models.CASCADE, null=True, blank=True, related_name="events", verbose_name=_("call"),
        db_index=False,  # callevent_call_idx leads with it
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Receipts are delivered at least once; this key makes a second delivery a no-op.
    dedup_key = models.CharField(_("deduplication key"), max_length=200, null=True, blank=True)
    receipt_call_id = models.CharField(_("receipt CallId"), max_length=64, blank=True)
    receipt_out_id = models.CharField(_("receipt OutId"), max_length=64, blank=True)
    status_code = models.CharField(_("status code"), max_length=16, blank=True)
    message = models.TextField(_("message"), blank=True)
    messages = models.JSONField(_("message in each language"), null=True, blank=True)  # as api_messages above
    payload = models.JSONField(_("raw payload"), default=dict, blank=True)
    created_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        constraints = [models.UniqueConstraint(fields=["dedup_key"], name="callevent_dedup_key_unique")]
        indexes = [
            models.Index(fields=["call", "created_at"], name="callevent_call_idx"),
            models.Index(fields=["receipt_call_id"], name="callevent_receipt_call_idx"),
            models.Index(fields=["receipt_out_id"], name="callevent_receipt_out_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.status_code}".strip()


class BlockedNumberQuerySet(models.QuerySet):
    def in_force(self, day):
        """Blocks that still refuse calls on `day` (a date in the company's time zone): no expiry, or expiring that
        day or later. A block expiring on 12 May refuses calls all of 12 May; from 13 May the number is called again."""
        return self.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=day))

    def expired(self, day):
        return self.filter(expires_on__lt=day)


class BlockedNumber(models.Model):
    """Do-not-call list: numbers a manager blocked, with the reason and, optionally, the last day of the block."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    reason = models.CharField(_("reason"), max_length=200)
    expires_on = models.DateField(
        _("blocked until"), null=True, blank=True,
        help_text=_("Optional: the last day the number is refused (company time zone). Empty: blocked until removed."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True, verbose_name=_("blocked by")
    )
    created_at = models.DateTimeField(_("blocked at"), auto_now_add=True)

    objects = BlockedNumberQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("blocked number")
        verbose_name_plural = _("do-not-call list")

    def __str__(self) -> str:
        return self.number

    def is_expired(self, day) -> bool:
        """Whether the block no longer refuses calls on `day` (a date in the company's time zone)."""
        return self.expires_on is not None and self.expires_on < day
