"""Two-factor sign-in: who must give a code, enrolment, verification and reset (django-otp devices)."""
from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from notifications.models.audit import AuditEntry
from notifications.roles import MANAGERS
from notifications.services.audit import audit_record

RECOVERY_CODE_COUNT = 10


def two_factor_enabled() -> bool:
    return settings.VOICEADMIN_REQUIRE_2FA


def two_factor_required(user) -> bool:
    """Superusers and managers may not work without a second factor (when the setting is on)."""
    return two_factor_enabled() and user.is_authenticated and (
        user.is_superuser or user.groups.filter(name=MANAGERS).exists())


def has_confirmed_device(user) -> bool:
    return user_has_device(user, confirmed=True)


def pending_totp_device(user) -> TOTPDevice:
    """The unconfirmed authenticator device being enrolled: the same secret until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def confirm_enrolment(*, user, device: TOTPDevice) -> list[str]:
    """Mark the authenticator confirmed and issue fresh recovery codes; the caller shows them once."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    audit_record(user=user, action=AuditEntry.Action.TWO_FACTOR_ENROLLED, target=user,
                 details={"recovery_codes": RECOVERY_CODE_COUNT})
    return codes


def normalise_code(raw: str) -> str:
    return "".join(raw.split()).replace("-", "").lower()


def device_for_code(user, code: str):
    """Six digits are an authenticator code, anything else a recovery code: only that device is tried (and throttled)."""
    model = TOTPDevice if code.isdigit() and len(code) in (6, 8) else StaticDevice
    return model.objects.filter(user=user, confirmed=True).order_by("pk").first()


@transaction.atomic
def two_factor_reset(*, user, by) -> None:
    """Remove every device of `user` (e.g. a lost phone): they enrol again at their next sign-in."""
    devices = list(devices_for_user(user, confirmed=None))
    for device in devices:
        device.delete()
    audit_record(user=by, action=AuditEntry.Action.TWO_FACTOR_RESET, target=user,
                 details={"devices_removed": len(devices)})
