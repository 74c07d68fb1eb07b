"""Sends a signed-in user who still owes a second factor to the two-factor pages before any other page."""
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from notifications.services.two_factor import has_confirmed_device, two_factor_enabled, two_factor_required

# Besides views marked @login_not_required (login, language switch, /healthz, the receipt webhook), these URL names
# stay open so the user can sign out or finish the second step.
EXEMPT_URL_NAMES = {"logout", "two_factor_verify", "two_factor_setup"}


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not two_factor_enabled():
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if not getattr(view_func, "login_required", True):
            return None
        match = request.resolver_match
        if match is not None and match.url_name in EXEMPT_URL_NAMES and not match.namespace:
            return None
        if has_confirmed_device(user):
            target = "two_factor_verify"
        elif two_factor_required(user):
            target = "two_factor_setup"
        else:
            return None
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


def two_factor_context(request) -> dict:
    """`two_factor_offer`: the top bar links to enrolment while two-factor sign-in is on."""
    return {"two_factor_offer": two_factor_enabled()}
