"""Call history: pre-aggregated daily figures, the export log and the audit of full-number views."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .calls import CallRecord
from .register import CallerNumber, TtsTemplate, VoiceFile


class DailyCallStat(models.Model):
    """Calls of one local day for one combination of API, resource, caller number and outcome.

    The dashboard sums these rows instead of scanning call records; `daily_stats_refresh` rebuilds whole days.
    """

    day = models.DateField(_("day"))
    api = models.CharField(_("API"), max_length=8, choices=CallRecord.Api.choices)
    tts_template = models.ForeignKey(TtsTemplate, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    voice_file = models.ForeignKey(VoiceFile, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    caller_number = models.ForeignKey(CallerNumber, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=16, choices=CallRecord.Outcome.choices, blank=True)
    # The usage page's breakdowns: by campaign and by the person who placed the calls.
    campaign = models.ForeignKey("notifications.Campaign", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="+")
    count = models.PositiveIntegerField(_("calls"), default=0)
    answered_count = models.PositiveIntegerField(_("answered"), default=0)
    listened_count = models.PositiveIntegerField(_("listened to the end"), default=0)
    duration_sum = models.PositiveBigIntegerField(_("answered duration total (s)"), default=0)
    billed_count = models.PositiveIntegerField(_("billed calls"), default=0)
    billed_minutes = models.PositiveIntegerField(_("billed minutes"), default=0)
    cost_sum = models.DecimalField(_("estimated cost (CNY)"), max_digits=14, decimal_places=4, default=0)
    unpriced_count = models.PositiveIntegerField(_("answered calls without a price"), default=0)

    class Meta:
        verbose_name = _("daily call figure")
        verbose_name_plural = _("daily call figures")
        indexes = [models.Index(fields=["day"], name="dailycallstat_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.api} {self.outcome}: {self.count}"


class DailyStatDirtyDay(models.Model):
    """A day whose figures changed after its last refresh; the periodic job recomputes it."""

    day = models.DateField(_("day"), unique=True)
    marked_at = models.DateTimeField(_("marked at"), default=timezone.now)

    class Meta:
        verbose_name = _("day to recount")
        verbose_name_plural = _("days to recount")

    def __str__(self) -> str:
        return str(self.day)


class CallExport(models.Model):
    """One CSV export: who asked for which filters, and how many rows were streamed."""

    class Status(models.TextChoices):
        STARTED = "started", _("Started")
        FINISHED = "finished", _("Finished")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("exported by"))
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    masked = models.BooleanField(_("numbers masked"), default=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.STARTED)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("call export")
        verbose_name_plural = _("call exports")

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"


class NumberAccess(models.Model):
    """Audit: a user saw the full (unmasked) callee number of a call.

    No longer written: migration 0007 copied these rows into `AuditEntry` (the audit log), which records the views from
    then on. Kept for one release so rolling 0007 back loses nothing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user"))
    call = models.ForeignKey(CallRecord, on_delete=models.CASCADE, related_name="+", verbose_name=_("call"))
    created_at = models.DateTimeField(_("seen at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("full number access")
        verbose_name_plural = _("full number accesses")
        indexes = [models.Index(fields=["call", "created_at"], name="numberaccess_call_idx")]

    def __str__(self) -> str:
        return f"{self.user} → {self.call_id}"
