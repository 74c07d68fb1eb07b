"""Alerts: keeping rules, opening and resolving alerts as their conditions come and go, and telling people.

`alerts_check` is the periodic task: it evaluates every active rule, opens one alert per rule and subject (the
database's partial unique constraint keeps a second check running at the same moment from opening a twin), resolves
the alerts whose condition no longer holds, and then sends the notifications that are due. Sending happens here, in
the periodic job, never in a request: a mail server or webhook that is down costs the job a few seconds, not a page.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications.models import Alert, AlertDelivery, AlertEvent, AlertRule, AuditEntry
from notifications.services.alert_delivery import DeliveryFailed, email_send, webhook_send
from notifications.services.alert_kinds import KINDS, describe, kind_label
from notifications.services.audit import audit_record

logger = logging.getLogger(__name__)

OPEN_COUNT_CACHE_KEY = "voiceadmin:alerts:open-count"
OPEN_COUNT_CACHE_SECONDS = 5
DELIVERY_BATCH = 50
_OPEN_STATES = (Alert.State.OPEN, Alert.State.ACKNOWLEDGED)


@dataclass
class AlertsCheckSummary:
    rules: int = 0
    opened: int = 0
    resolved: int = 0
    delivered: int = 0
    failed: int = 0
    errors: int = 0

    def __str__(self) -> str:
        return _("%(rules)d rules checked, %(opened)d alerts opened, %(resolved)d resolved, %(delivered)d notifications "
                 "delivered, %(failed)d failed, %(errors)d rule errors") % vars(self)


# ----- rules -----

_AUDITED_FIELDS = ("name", "kind", "params", "active", "email_recipients", "webhook_kind")


def _rule_snapshot(rule: AlertRule) -> dict:
    snapshot = {name: getattr(rule, name) for name in _AUDITED_FIELDS}
    # Whether a webhook is set, never the address or secret.
    snapshot["webhook_set"] = bool(rule.webhook_url)
    snapshot["secret_set"] = bool(rule.webhook_secret)
    return snapshot


@transaction.atomic
def alert_rule_save(*, rule: AlertRule, user, before: dict | None = None) -> AlertRule:
    """Create or change a rule (audited). A rule switched off resolves its open alerts: nobody is watching them."""
    creating = rule.pk is None
    rule.full_clean()
    if creating:
        rule.created_by = user
    rule.save()
    after = _rule_snapshot(rule)
    if creating:
        audit_record(user=user, action=AuditEntry.Action.ALERT_RULE_CREATED, target=rule, details=after)
    else:
        changed = {key: [before.get(key), value] for key, value in after.items() if before is None or before.get(key) != value}
        audit_record(user=user, action=AuditEntry.Action.ALERT_RULE_CHANGED, target=rule, details={"changed": changed})
    if not rule.active:
        for alert in Alert.objects.filter(rule=rule, resolved_at__isnull=True):
            _resolve(alert, user=user, now=timezone.now())
    _forget_count()
    return rule


def alert_rule_snapshot(rule: AlertRule) -> dict:
    return _rule_snapshot(rule)


# ----- people acting on alerts -----

@transaction.atomic
def alert_acknowledge(*, alert_id: int, user) -> Alert | None:
    """Someone is on it: the alert stays open (its condition still holds) but is marked as seen."""
    now = timezone.now()
    if not Alert.objects.filter(pk=alert_id, state=Alert.State.OPEN).update(
            state=Alert.State.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=user):
        return None
    alert = Alert.objects.select_related("rule").get(pk=alert_id)
    AlertEvent.objects.create(alert=alert, kind=AlertEvent.Kind.ACKNOWLEDGED, user=user, at=now)
    audit_record(user=user, action=AuditEntry.Action.ALERT_ACKNOWLEDGED, target=alert.rule,
                 details={"alert": alert.pk, "subject": alert.subject_label})
    _forget_count()
    return alert


@transaction.atomic
def alert_resolve(*, alert_id: int, user) -> Alert | None:
    """Resolved by hand. Should the condition still hold, the next check opens a new alert."""
    alert = Alert.objects.select_for_update().select_related("rule").filter(pk=alert_id, resolved_at__isnull=True).first()
    if alert is None:
        return None
    _resolve(alert, user=user, now=timezone.now())
    audit_record(user=user, action=AuditEntry.Action.ALERT_RESOLVED, target=alert.rule,
                 details={"alert": alert.pk, "subject": alert.subject_label})
    _forget_count()
    return alert


def _resolve(alert: Alert, *, user, now: datetime) -> None:
    # Conditional: a manager and the check resolving it at the same moment write one resolution, not two.
    if not Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(state=Alert.State.RESOLVED, resolved_at=now,
                                                                             resolved_by=user):
        return
    alert.state, alert.resolved_at, alert.resolved_by = Alert.State.RESOLVED, now, user
    kind = AlertEvent.Kind.RESOLVED if user is not None else AlertEvent.Kind.RESOLVED_AUTOMATICALLY
    AlertEvent.objects.create(alert=alert, kind=kind, user=user, at=now)
    # Nobody needs to hear about an alert that is over.
    AlertDelivery.objects.filter(alert=alert, state=AlertDelivery.State.PENDING).update(
        state=AlertDelivery.State.FAILED, last_error=_("resolved before it could be sent"))


# ----- the periodic check -----

def alerts_check(*, now: datetime | None = None) -> AlertsCheckSummary:
    """Evaluate every active rule, open and resolve alerts, then send the notifications that are due."""
    now = now or timezone.now()
    summary = AlertsCheckSummary()
    for rule in AlertRule.objects.filter(active=True):
        summary.rules += 1
        kind = KINDS.get(rule.kind)
        try:
            if kind is None:
                raise ValueError(f"unknown kind {rule.kind!r}")
            findings = kind.evaluate(kind.values(rule.params), rule, now)
        except Exception as error:  # one broken rule must not stop the others
            logger.exception("alert rule %s could not be checked", rule.pk)
            summary.errors += 1
            AlertRule.objects.filter(pk=rule.pk).update(checked_at=now, check_error=f"{type(error).__name__}: {error}"[:300])
            continue
        opened, resolved = _apply_findings(rule, findings, now)
        summary.opened += opened
        summary.resolved += resolved
        AlertRule.objects.filter(pk=rule.pk).update(checked_at=now, check_error="")
    delivered, failed = alert_deliveries_send(now=now)
    summary.delivered, summary.failed = delivered, failed
    if summary.opened or summary.resolved:
        _forget_count()
    return summary


def _apply_findings(rule: AlertRule, findings, now: datetime) -> tuple[int, int]:
    found = {finding.subject_key: finding for finding in findings}
    current = _open_alerts(rule)
    opened = resolved = 0
    for key, finding in found.items():
        alert = current.get(key)
        if alert is not None:
            Alert.objects.filter(pk=alert.pk).update(last_seen_at=now, details=finding.details)
            continue
        try:
            with transaction.atomic():
                alert = Alert.objects.create(rule=rule, subject_key=key, subject_label=finding.subject_label[:200],
                                             details=finding.details, opened_at=now, last_seen_at=now)
                AlertEvent.objects.create(alert=alert, kind=AlertEvent.Kind.FIRED, at=now)
                AlertDelivery.objects.bulk_create(
                    [AlertDelivery(alert=alert, channel=channel, next_attempt_at=now) for channel in _channels(rule)])
        except IntegrityError:
            continue  # a check running at the same moment opened it
        opened += 1
    for key, alert in current.items():
        if key not in found:
            with transaction.atomic():
                _resolve(alert, user=None, now=now)
            resolved += 1
    return opened, resolved


def _open_alerts(rule: AlertRule) -> dict[str, Alert]:
    return {alert.subject_key: alert for alert in Alert.objects.filter(rule=rule, resolved_at__isnull=True)}


def _channels(rule: AlertRule) -> list[str]:
    channels = [AlertDelivery.Channel.EMAIL] if rule.recipients else []
    if rule.webhook_kind and rule.webhook_url:
        channels.append(rule.webhook_kind)
    return channels


# ----- notifications -----

def alert_text(alert: Alert) -> tuple[str, str]:
    """Subject and body of the notification, in the console's language."""
    with translation.override(settings.LANGUAGE_CODE):
        summary = describe(alert.rule.kind, alert.details)
        subject = _("[VoiceAdmin alert] %(rule)s") % {"rule": alert.rule.name}
        lines = [
            subject, summary,
            _("Rule: %(rule)s (%(kind)s)") % {"rule": alert.rule.name, "kind": kind_label(alert.rule.kind)},
            _("Fired at: %(at)s") % {"at": timezone.localtime(alert.opened_at).strftime("%Y-%m-%d %H:%M")},
        ]
        if alert.subject_label:
            lines.insert(2, _("Subject: %(subject)s") % {"subject": alert.subject_label})
        return subject, "\n".join(lines)


def alert_deliveries_send(*, now: datetime | None = None) -> tuple[int, int]:
    """Try each notification that is due once; returns (delivered, given up)."""
    now = now or timezone.now()
    due = list(AlertDelivery.objects.filter(state=AlertDelivery.State.PENDING, next_attempt_at__lte=now)
               .select_related("alert__rule").order_by("next_attempt_at", "id")[:DELIVERY_BATCH])
    delivered = failed = 0
    for delivery in due:
        # Claim it: a second check running now skips what this one is sending.
        claimed = AlertDelivery.objects.filter(pk=delivery.pk, state=AlertDelivery.State.PENDING, attempts=delivery.attempts).update(
            attempts=delivery.attempts + 1, next_attempt_at=now + timedelta(seconds=settings.ALERTS_DELIVERY_RETRY_SECONDS))
        if not claimed:
            continue
        delivery.attempts += 1
        alert, rule = delivery.alert, delivery.alert.rule
        subject, body = alert_text(alert)
        try:
            if delivery.channel == AlertDelivery.Channel.EMAIL:
                email_send(recipients=rule.recipients, subject=subject, body=body)
            else:
                webhook_send(kind=delivery.channel, url=rule.webhook_url, secret=rule.webhook_secret, text=body)
        except DeliveryFailed as error:
            reason = str(error)
            logger.warning("alert %s: %s notification failed (try %d): %s", alert.pk, delivery.channel, delivery.attempts, reason)
            final = delivery.attempts >= settings.ALERTS_DELIVERY_ATTEMPTS
            AlertDelivery.objects.filter(pk=delivery.pk).update(
                last_error=reason, state=AlertDelivery.State.FAILED if final else AlertDelivery.State.PENDING)
            AlertEvent.objects.create(alert=alert, channel=delivery.channel, error=reason, at=timezone.now(),
                                      kind=AlertEvent.Kind.NOT_DELIVERED if final else AlertEvent.Kind.RETRYING)
            failed += final
            continue
        AlertDelivery.objects.filter(pk=delivery.pk).update(state=AlertDelivery.State.DELIVERED, delivered_at=timezone.now(),
                                                            last_error="")
        AlertEvent.objects.create(alert=alert, kind=AlertEvent.Kind.DELIVERED, channel=delivery.channel, at=timezone.now())
        delivered += 1
    return delivered, failed


# ----- reads -----

def open_alert_count() -> int:
    """Open and acknowledged alerts, shared a few seconds between pages (the top bar shows it on every page)."""
    count = cache.get(OPEN_COUNT_CACHE_KEY)
    if count is None:
        count = Alert.objects.filter(resolved_at__isnull=True).count()
        cache.set(OPEN_COUNT_CACHE_KEY, count, OPEN_COUNT_CACHE_SECONDS)
    return count


def alert_state_counts() -> dict[str, int]:
    recent = timezone.now() - timedelta(days=settings.ALERTS_RECENT_DAYS)
    counts = {state: 0 for state in Alert.State.values}
    rows = Alert.objects.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=recent)).values_list("state", flat=True)
    for state in rows:
        counts[state] += 1
    return counts


def alert_list(*, state: str = ""):
    """Open alerts and those resolved in the last ALERTS_RECENT_DAYS, newest first, with their history."""
    recent = timezone.now() - timedelta(days=settings.ALERTS_RECENT_DAYS)
    alerts = Alert.objects.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=recent))
    if state in Alert.State.values:
        alerts = alerts.filter(state=state)
    return alerts.select_related("rule", "acknowledged_by", "resolved_by").prefetch_related("events__user", "deliveries")


def _forget_count() -> None:
    transaction.on_commit(lambda: cache.delete(OPEN_COUNT_CACHE_KEY))
