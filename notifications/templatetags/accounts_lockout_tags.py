"""Whether the menu shows "Locked sign-ins" (managers and superusers)."""
from django import template

from notifications.roles import MANAGERS

register = template.Library()


@register.filter
def may_unlock_signins(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.groups.filter(name=MANAGERS).exists()))
