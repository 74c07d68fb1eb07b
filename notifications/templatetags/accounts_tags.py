"""Template helpers of the users page and the idle warning."""
from django import template

from notifications.idle import idle_seconds
from notifications.services.accounts import can_manage_users

register = template.Library()


@register.filter
def manages_users(user) -> bool:
    return can_manage_users(user)


@register.simple_tag
def idle_timeout_seconds() -> int:
    return int(idle_seconds())
