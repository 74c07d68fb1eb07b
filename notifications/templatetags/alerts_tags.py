"""`{% load alerts_tags %}`: the open-alert count of the top bar, an alert's sentence, and the states' colours."""
from django import template

from notifications.services.alert_kinds import describe
from notifications.services.alerts import open_alert_count

register = template.Library()

STATE_CLASSES = {"open": "text-bg-danger", "acknowledged": "text-bg-warning", "resolved": "text-bg-success"}
DELIVERY_CLASSES = {"pending": "text-bg-secondary", "delivered": "text-bg-success", "failed": "text-bg-danger"}


@register.simple_tag(takes_context=True)
def alerts_open_count(context) -> int:
    user = context.get("user")
    if user is None or not user.has_perm("notifications.view_alert"):
        return 0
    return open_alert_count()


@register.filter
def alert_summary(alert) -> str:
    return describe(alert.rule.kind, alert.details)


@register.filter
def alert_state_class(state: str) -> str:
    return STATE_CLASSES.get(state, "text-bg-secondary")


@register.filter
def delivery_state_class(state: str) -> str:
    return DELIVERY_CLASSES.get(state, "text-bg-secondary")
