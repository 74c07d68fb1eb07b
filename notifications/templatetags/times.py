"""`{% load times %}`: `{{ moment|stamp }}` writes a moment as 2026-03-06 07:30:15 in the current time zone."""
from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def stamp(moment):
    """What `|date:"Y-m-d H:i:s"` writes, for a tenth of its cost: a call log page shows fifty of them."""
    if not moment:
        return ""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")
