"""The console's own running: when each periodic task last ran and what it reported."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.texts import in_language


class PeriodicRun(models.Model):
    """The latest run of one periodic task (follow-up, dispatcher wake-up, inbox, pruning), for the health page."""

    name = models.CharField(_("task"), max_length=64, unique=True)
    started_at = models.DateTimeField(_("last started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("last finished at"), null=True, blank=True)
    succeeded = models.BooleanField(_("last run succeeded"), default=False)
    # What the last run reported, in every language the console speaks ({language code: text}, notifications/texts.py):
    # the scheduler writes it in its own language, each reader of the health page reads their own.
    summaries = models.JSONField(_("last summary"), default=dict, blank=True)
    error = models.TextField(_("last error"), blank=True)
    run_count = models.PositiveIntegerField(_("runs"), default=0)

    class Meta:
        ordering = ["name"]
        verbose_name = _("periodic task run")
        verbose_name_plural = _("periodic task runs")

    def __str__(self) -> str:
        return self.name

    @property
    def summary(self) -> str:
        """The last run's summary in the active language."""
        return in_language(self.summaries)
