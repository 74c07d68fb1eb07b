"""`{% load numbers %}`: `{{ number|phone:request.user }}` shows a number masked unless the user may see it in full."""
from django import template
from django.template.defaultfilters import floatformat

from notifications.services.numbers import number_mask, user_sees_full_numbers

register = template.Library()


@register.filter
def phone(number, user):
    """The number as this user may see it."""
    if not number or user_sees_full_numbers(user):
        return number
    return number_mask(str(number))


@register.filter
def masked(number):
    """The number masked, whoever looks."""
    return number_mask(str(number)) if number else number


@register.filter
def percent(rate):
    """0.4567 → 45.7% (localized decimal separator)."""
    if rate is None:
        return ""
    return floatformat(rate * 100, 1) + "%"
