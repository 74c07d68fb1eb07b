"""Brute-force protection of sign-in: the lockout page and the managers' "Locked sign-ins" page."""
from axes.helpers import get_cool_off
from django.contrib import messages
from django.contrib.auth.decorators import user_passes_test
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from notifications.roles import MANAGERS
from notifications.services.lockouts import current_lockouts, unlock


def locked_out(request, original_response=None, credentials=None):
    """axes' lockout answer. The same page whether the username exists or not: it names no account."""
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else 0
    return render(request, "accounts/lockout_locked.html", {"minutes": minutes}, status=429)


def _may_unlock(user) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.groups.filter(name=MANAGERS).exists():
        return True
    raise PermissionDenied


@require_http_methods(["GET"])
@user_passes_test(_may_unlock)
def lockout_list(request):
    return render(request, "accounts/lockout_list.html", {"lockouts": current_lockouts()})


@require_POST
@user_passes_test(_may_unlock)
def lockout_unlock(request):
    kind, value = request.POST.get("kind"), request.POST.get("value", "")
    if kind not in ("username", "ip_address") or not value:
        messages.error(request, _("Nothing to unlock."))
    else:
        unlock(by=request.user, kind=kind, value=value)
        messages.success(request, _("Sign-in unlocked for %(value)s.") % {"value": value})
    return redirect("lockout_list")


urlpatterns = [
    path("accounts/lockouts/", lockout_list, name="lockout_list"),
    path("accounts/lockouts/unlock/", lockout_unlock, name="lockout_unlock"),
]
