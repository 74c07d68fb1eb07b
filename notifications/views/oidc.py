"""Single sign-on (OIDC): the redirect to the provider, the callback, both open without a login, and the failure page."""
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.urls import path, reverse
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from notifications.auth_oidc import BACKEND_PATH, FAILURE_SESSION_KEY, VoiceAdminOIDCBackend


def _configured() -> bool:
    return bool(settings.OIDC_ENABLED and settings.OIDC_OP_AUTHORIZATION_ENDPOINT and settings.OIDC_OP_TOKEN_ENDPOINT)


def _failure(request, reason: str = "provider_error"):
    request.session[FAILURE_SESSION_KEY] = reason
    return oidc_failure(request)


class _RequestView(OIDCAuthenticationRequestView):
    def get(self, request):
        # SSO off, or no endpoints (the discovery at start-up failed): an empty endpoint would redirect here again.
        if not _configured():
            return _failure(request)
        return super().get(request)


class _CallbackView(OIDCAuthenticationCallbackView):
    """Authenticates with the OIDC backend alone. Django's authenticate() would also send user_login_failed on a
    refusal, which the password sign-in's audit and lockout count: a blank username, and strikes against the
    office's address. The backend audits its refusals itself."""

    @property
    def failure_url(self):
        return reverse("oidc_failure")

    def get(self, request):
        state = request.GET.get("state")
        states = request.session.get("oidc_states") or {}
        if not _configured():
            return _failure(request)
        if request.GET.get("error") or not request.GET.get("code") or state not in states:
            return super().get(request)  # mozilla-django-oidc's handling of refusals at the provider and replays
        entry = states.pop(state)
        request.session.modified = True
        self.user = VoiceAdminOIDCBackend().authenticate(request, nonce=entry.get("nonce"),
                                                         code_verifier=entry.get("code_verifier"))
        if self.user is None:
            return self.login_failure()
        self.user.backend = BACKEND_PATH
        return self.login_success()


@login_not_required
def oidc_failure(request):
    reason = request.session.pop(FAILURE_SESSION_KEY, "provider_error")
    status = 403 if reason in ("no_role", "inactive") else 502
    return render(request, "accounts/oidc_failure.html", {"reason": reason}, status=status)


urlpatterns = [
    path("oidc/authenticate/", login_not_required(_RequestView.as_view()), name="oidc_authentication_init"),
    path("oidc/callback/", login_not_required(_CallbackView.as_view()), name="oidc_authentication_callback"),
    path("oidc/failed/", oidc_failure, name="oidc_failure"),
]
