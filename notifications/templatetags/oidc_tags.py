"""The login page's single sign-on button, and its message when password sign-in is off."""
from django import template
from django.conf import settings
from django.utils.translation import gettext as _

from notifications.local_login import REFUSED_ATTR

register = template.Library()


@register.inclusion_tag("accounts/oidc_login_button.html", takes_context=True)
def oidc_login_button(context):
    return {
        "oidc_enabled": getattr(settings, "OIDC_ENABLED", False),
        "oidc_provider_name": getattr(settings, "OIDC_PROVIDER_NAME", "") or _("company account"),
        "local_login_enabled": getattr(settings, "LOCAL_LOGIN_ENABLED", True),
        "next": context.get("next", ""),
    }


@register.simple_tag(takes_context=True)
def local_login_refusal(context):
    """When the password was right but password sign-in is off for this account, say so instead of the form's
    "incorrect username or password" (the model backends never saw it)."""
    form, request = context.get("form"), context.get("request")
    if form is not None and getattr(request, REFUSED_ATTR, False):
        if getattr(settings, "OIDC_ENABLED", False):
            message = _("Password sign-in is off for your account. Use single sign-on instead.")
        else:
            message = _("Password sign-in is off for your account. Ask your administrator how to sign in.")
        form.errors["__all__"] = form.error_class([message])
    return ""


@register.simple_tag
def local_login_enabled():
    return getattr(settings, "LOCAL_LOGIN_ENABLED", True)
