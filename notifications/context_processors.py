"""Template context for every console page: the health banner (computed only when a page shows it, and shared a few
seconds between pages so a busy console pays for one report every HEALTH_BANNER_CACHE_SECONDS)."""
from django.conf import settings
from django.core.cache import cache
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from notifications.services.health import health_report

BANNER_CACHE_KEY = "voiceadmin:health-banner:{language}"
HEALTH_PERMISSION = "notifications.view_periodicrun"
# Who sees the simpler "calls are delayed" notice: the people who place and follow calls.
CALL_PERMISSIONS = ("notifications.view_callrecord", "notifications.dial_callrecord")


def scheduler_running() -> bool:
    """Whether this process runs the in-process scheduler thread (the embedded default's `runconsole`)."""
    from notifications import jobs  # the job layer imports services; reading one flag of it here is the one way back

    scheduler = getattr(jobs, "scheduler", None)
    running = getattr(scheduler, "running", False)
    return bool(running() if callable(running) else running)


def banner_summary() -> dict:
    """The little the banner needs (overall state, the late or critical checks), in the active language."""
    seconds = settings.HEALTH_BANNER_CACHE_SECONDS
    key = BANNER_CACHE_KEY.format(language=get_language() or settings.LANGUAGE_CODE)
    if seconds > 0:
        cached = cache.get(key)
        if cached is not None:
            return cached
    report = health_report(scheduler_running=scheduler_running())
    summary = {
        "state": report.state,
        "state_label": report.state_label,
        "problems": [{"label": str(check.label), "state": check.state, "state_label": check.state_label} for check in report.problems],
        "calls_delayed": report.calls_delayed,
    }
    if seconds > 0:
        cache.set(key, summary, seconds)
    return summary


def _banner_for(request) -> dict | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name.startswith("notifications:system_health"):
        return None  # the health page says it all itself
    full = user.has_perm(HEALTH_PERMISSION)
    if not full and not any(user.has_perm(permission) for permission in CALL_PERMISSIONS):
        return None
    summary = banner_summary()
    if full and summary["problems"]:
        return {"full": True, **summary}
    if not full and summary["calls_delayed"]:
        return {"full": False}
    return None


def health_banner(request) -> dict:
    # Lazy: pages that never show the banner (the admin, JSON fragments) cost nothing.
    return {"health_banner": SimpleLazyObject(lambda: _banner_for(request) or {})}
