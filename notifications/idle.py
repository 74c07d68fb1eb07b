"""Idle session timeout: a signed-in user who sends no request of their own for SESSION_IDLE_MINUTES is signed out."""
import re
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils.translation import ngettext

LAST_ACTIVITY_KEY = "_va_last_activity"


def idle_seconds() -> float:
    return float(getattr(settings, "SESSION_IDLE_MINUTES", 30)) * 60


class IdleTimeoutMiddleware:
    """Records the time of each request in the session; signs out at the first request after too long a pause.

    Polling from an open page (call status, health status) is not activity: otherwise a call page left open would
    never time out. Those requests are still signed out once the pause is too long.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._ignored = [re.compile(pattern) for pattern in getattr(settings, "SESSION_IDLE_IGNORED_PATHS", [])]

    def __call__(self, request):
        user = getattr(request, "user", None)
        limit = idle_seconds()
        if user is not None and user.is_authenticated and limit > 0:
            now = time.time()
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is not None and now - float(last) > limit:
                minutes = max(1, round(limit / 60))
                logout(request)  # a new, empty session; request.user becomes anonymous
                messages.info(request, ngettext(
                    "You were signed out after %(minutes)d minute without activity.",
                    "You were signed out after %(minutes)d minutes without activity.", minutes) % {"minutes": minutes})
            elif last is None or not any(pattern.match(request.path_info) for pattern in self._ignored):
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)
