"""The System health page, the fragment it refreshes itself from, and `/healthz` for load balancers."""
from django.conf import settings
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from notifications.context_processors import HEALTH_PERMISSION, scheduler_running
from notifications.services.health import health_report, liveness_problems


def _context() -> dict:
    return {"report": health_report(scheduler_running=scheduler_running()), "refresh_seconds": settings.HEALTH_PAGE_REFRESH_SECONDS}


@require_GET
@permission_required(HEALTH_PERMISSION, raise_exception=True)
def system_health(request):
    return render(request, "notifications/system_health.html", _context())


@never_cache
@require_GET
@permission_required(HEALTH_PERMISSION, raise_exception=True)
def system_health_status(request):
    """The page's checks as an HTML fragment, with the report itself for scripts (the same JSON as `health --json`)."""
    context = _context()
    return JsonResponse({
        **context["report"].as_dict(),
        "html": render_to_string("notifications/system_health_checks.html", context, request=request),
    }, json_dumps_params={"ensure_ascii": False})


@never_cache
@login_not_required
@require_safe
def healthz(request):
    """Up or not, nothing more: no login, no figures, no names of what failed (those go to the log)."""
    if liveness_problems():
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("system/health/", system_health, name="system_health"),
    path("system/health/status/", system_health_status, name="system_health_status"),
]
