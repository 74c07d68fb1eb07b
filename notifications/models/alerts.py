"""Alerts: the rules managers set, the alerts they open, and each alert's history and deliveries."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AlertRule(models.Model):
    """A condition worth a manager's attention, and who to tell when it holds.

    `kind` names an entry of the kinds registry (services/alert_kinds.py) and `params` holds that kind's thresholds;
    `kind` has no choices here so that adding a kind needs no migration.
    """

    class Webhook(models.TextChoices):
        NONE = "", _("No chat robot")
        DINGTALK = "dingtalk", _("DingTalk")
        WECOM = "wecom", _("WeCom")
        FEISHU = "feishu", _("Feishu")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=32)
    params = models.JSONField(_("thresholds"), default=dict, blank=True)
    active = models.BooleanField(_("active"), default=True)
    email_recipients = models.TextField(_("email recipients"), blank=True)
    webhook_kind = models.CharField(_("chat robot"), max_length=16, choices=Webhook.choices, blank=True, default="")
    # Secrets: shown back masked only, never logged.
    webhook_url = models.CharField(_("chat robot webhook address"), max_length=500, blank=True)
    webhook_secret = models.CharField(_("chat robot signing secret"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    check_error = models.CharField(_("last check error"), max_length=300, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")

    def __str__(self) -> str:
        return self.name

    @property
    def recipients(self) -> list[str]:
        return [address.strip() for address in self.email_recipients.split(",") if address.strip()]


class Alert(models.Model):
    """One condition of one rule about one subject (an expiring number, a stalled campaign, or the rule as a whole),
    open from the check that found it until the check that no longer does (or a manager) resolves it."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("rule"))
    subject_key = models.CharField(max_length=100, blank=True)  # "" when the rule's condition has one subject
    subject_label = models.CharField(_("subject"), max_length=200, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)  # the figures the summary is written from
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField(_("fired at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            # Two checks at once cannot open two alerts for one condition.
            models.UniqueConstraint(fields=["rule", "subject_key"], condition=Q(resolved_at__isnull=True),
                                    name="alert_one_open_per_subject"),
        ]
        indexes = [models.Index(fields=["state", "opened_at"], name="alert_state_idx")]

    def __str__(self) -> str:
        return f"{self.rule} {self.subject_label}".strip()

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


class AlertEvent(models.Model):
    """The alert's history, in order: fired, notified on a channel (or not, with the reason), acknowledged, resolved."""

    class Kind(models.TextChoices):
        FIRED = "fired", _("Fired")
        DELIVERED = "delivered", _("Notified")
        NOT_DELIVERED = "not_delivered", _("Not delivered")
        RETRYING = "retrying", _("Delivery failed, will retry")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")
        RESOLVED_AUTOMATICALLY = "resolved_auto", _("Resolved automatically")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    channel = models.CharField(max_length=16, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    error = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel}".strip()

    @property
    def channel_label(self) -> str:
        return str(AlertDelivery.Channel(self.channel).label) if self.channel in AlertDelivery.Channel.values else self.channel


class AlertDelivery(models.Model):
    """Telling people about one alert on one channel: tried by the periodic check, a few times, then given up."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        DINGTALK = "dingtalk", _("DingTalk")
        WECOM = "wecom", _("WeCom")
        FEISHU = "feishu", _("Feishu")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Not delivered")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["alert", "channel"], name="alertdelivery_one_per_channel")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="alertdelivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.channel} {self.state}"
