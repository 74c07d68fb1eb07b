"""The second sign-in step: enrol an authenticator app (QR code, recovery codes) and verify a code."""
import base64
import io
import math
import time
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from notifications.services.two_factor import (
    RECOVERY_CODE_COUNT,
    confirm_enrolment,
    device_for_code,
    has_confirmed_device,
    normalise_code,
    pending_totp_device,
)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"), max_length=32, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("notifications:home")


def _throttle_error(device) -> str | None:
    """django-otp doubles the wait after each wrong code; say how long, so the user does not think the code is wrong."""
    allowed, info = device.verify_is_allowed()
    if allowed:
        return None
    locked_until = (info or {}).get("locked_until")
    seconds = max(1, math.ceil(locked_until.timestamp() - time.time())) if locked_until else 1
    return ngettext("Too many wrong codes. Wait %(seconds)d second and try again.",
                    "Too many wrong codes. Wait %(seconds)d seconds and try again.", seconds) % {"seconds": seconds}


def _check(device, form, raw_code, refused=None) -> bool:
    """Verify `raw_code` on `device`, adding the field error a user should see when it is refused."""
    if device is None:
        form.add_error("code", _("That code is not right. Enter the current code from your app, or a recovery code."))
        return False
    throttled = _throttle_error(device)
    if throttled:
        form.add_error("code", throttled)
        return False
    if device.verify_token(raw_code):
        return True
    form.add_error("code", refused or _(
        "That code is not right or was already used. Enter the current code from your app, or a recovery code."))
    return False


def _qr_svg(url: str) -> str:
    """The provisioning URI as inline SVG markup: drawn here, no image request (the CSP and privacy both prefer it)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True,
                                     title=_("QR code for your authenticator app"), dark="#000", light="#fff",
                                     svgclass="va-qr", lineclass=None, omitsize=False)
    return buffer.getvalue().decode()


@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    user = request.user
    if has_confirmed_device(user):
        messages.info(request, _("Two-factor sign-in is already set up for your account."))
        if not user.is_verified():
            return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': _next_url(request)})}")
        return redirect(_next_url(request))
    device = pending_totp_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _check(device, form, normalise_code(form.cleaned_data["code"]),
                  refused=_("That code is not right. Enter the code your app shows now.")):
            codes = confirm_enrolment(user=user, device=device)
            otp_login(request, device)
            # Shown on this response only; django-otp keeps them so each works once, the page is never cached.
            return render(request, "accounts/two_factor_recovery_codes.html",
                          {"codes": codes, "next": _next_url(request)})
    secret = base64.b32encode(device.bin_key).decode()
    return render(request, "accounts/two_factor_setup.html", {
        "form": form,
        "qr_svg": _qr_svg(device.config_url),
        "secret_groups": [secret[i:i + 4] for i in range(0, len(secret), 4)],
        "next": _next_url(request),
        "recovery_code_count": RECOVERY_CODE_COUNT,
    })


@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not has_confirmed_device(user):
        return redirect(f"{reverse('two_factor_setup')}?{urlencode({'next': _next_url(request)})}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = normalise_code(form.cleaned_data["code"])
        device = device_for_code(user, code)
        if _check(device, form, code):
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(request, ngettext(
                    "You signed in with a recovery code. %(count)d recovery code is left.",
                    "You signed in with a recovery code. %(count)d recovery codes are left.", left) % {"count": left})
            return redirect(_next_url(request))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)})
