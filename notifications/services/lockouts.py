"""Brute-force protection of sign-in: the client address, the current lockouts, unlocking, and the audit trail
of every sign-in attempt. django-axes counts the failures; this module only reads and resets its records."""
import ipaddress
from dataclasses import dataclass
from datetime import datetime

from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from axes.utils import reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models import Max, Min, Sum
from django.dispatch import receiver
from django.utils import timezone

from notifications.models import AuditEntry
from notifications.services.audit import audit_record

Action = AuditEntry.Action


def client_ip(request) -> str:
    """REMOTE_ADDR, unless a proxy header is configured: then its last address, the one our proxy appended (the ones
    before it are whatever the client sent, so it could forge them). An unconfigured header is ignored, so a client
    cannot pick its own address with X-Forwarded-For; a missing or malformed one falls back to REMOTE_ADDR."""
    header = settings.SIGNIN_CLIENT_IP_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        last = value.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(last))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR", "")


@dataclass
class Lockout:
    kind: str  # "username" or "ip_address"
    value: str
    failures: int
    since: datetime
    until: datetime | None  # None: no cool-off, locked until unlocked


def current_lockouts() -> list[Lockout]:
    """Usernames and addresses whose failures within the cool-off reach the limit, oldest lock first."""
    cool_off = get_cool_off()
    attempts = AccessAttempt.objects.all()
    if cool_off:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    found = []
    for kind in ("username", "ip_address"):
        rows = (attempts.exclude(**{f"{kind}__isnull": True}).order_by().values(kind)
                .annotate(failures=Sum("failures_since_start"), first=Min("attempt_time"), last=Max("attempt_time"))
                .filter(failures__gte=settings.AXES_FAILURE_LIMIT))
        for row in rows:
            if not row[kind]:
                continue
            found.append(Lockout(kind, row[kind], row["failures"], row["first"],
                                 row["last"] + cool_off if cool_off else None))
    return sorted(found, key=lambda lock: lock.since)


def unlock(*, by, kind: str, value: str) -> int:
    """Clear the failures of one username or one address, and audit who did it."""
    count = reset(username=value) if kind == "username" else reset(ip=value)
    audit_record(user=by, action=Action.UNLOCK, target=value, details={kind: value, "cleared": count})
    return count


def _account(username: str):
    return get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: username}).first()


def _address(request) -> str:
    return client_ip(request) if request is not None else ""


@receiver(user_logged_in, dispatch_uid="lockouts_audit_sign_in")
def _audit_sign_in(sender, request, user, **kwargs):
    audit_record(user=user, action=Action.SIGN_IN, details={"address": _address(request)})


@receiver(user_login_failed, dispatch_uid="lockouts_audit_sign_in_failed")
def _audit_sign_in_failed(sender, credentials, request=None, **kwargs):
    # Django already replaced the password in `credentials`; only the username is kept.
    username = str(credentials.get("username") or "")[:150]
    audit_record(user=_account(username), action=Action.SIGN_IN_FAILED, target=username,
                 details={"username": username, "address": _address(request)})


@receiver(user_locked_out, dispatch_uid="lockouts_audit_lockout")
def _audit_lockout(sender, request, username, ip_address, **kwargs):
    # Axes signals every attempt a lock refuses, each one failure more than the last. The lock is written once, by the
    # failure that reached the limit; the attempts it refuses afterwards are in the log as refused sign-ins.
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is not None and failures > get_failure_limit(request, getattr(request, "axes_credentials", None)):
        return
    username = str(username or "")[:150]
    audit_record(user=_account(username), action=Action.LOCKOUT, target=username or ip_address,
                 details={"username": username, "address": ip_address or ""})
