"""Dialing rules (DESIGN §3 step 1, reference §3.1, §5.1): what the provider would refuse, checked before any call.

Every function is pure: it takes plain values and returns a list of ValidationErrors (empty when the value is
acceptable), so the service can put each error next to the field it is about.
"""
import re
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.models.choices import Mode, Purpose, ReviewStatus

PLAY_TIMES_RANGE = (1, 3)
VOLUME_RANGE = (0, 100)
SPEED_RANGE = (-500, 500)
MAX_PARAM_TOTAL = 250  # all values together must stay *under* this many characters
# Provider flow control per qualification + purpose + callee (reference §5.1): (window, calls allowed in it).
FLOW_CONTROL_WINDOWS = ((timedelta(minutes=1), 1), (timedelta(hours=1), 5), (timedelta(hours=24), 20))

_LINK = re.compile(r"https?|www\.|://|\b[a-z0-9-]+\.(?:com|cn|net|org|top|xyz|io|cc|me|info|vip|link|ly)\b", re.IGNORECASE)
_CODE_VALUE = re.compile(r"[A-Za-z0-9]+")


def _range_error(value: int | None, bounds: tuple[int, int], message) -> list[ValidationError]:
    low, high = bounds
    if value is None or low <= value <= high:
        return []
    return [ValidationError(message, code="range", params={"min": low, "max": high})]


def check_play_times(value: int | None) -> list[ValidationError]:
    return _range_error(value, PLAY_TIMES_RANGE, _("The message can be played %(min)d to %(max)d times."))


def check_volume(value: int | None) -> list[ValidationError]:
    return _range_error(value, VOLUME_RANGE, _("Volume goes from %(min)d to %(max)d."))


def check_speed(value: int | None) -> list[ValidationError]:
    return _range_error(value, SPEED_RANGE, _("Speed goes from %(min)d to %(max)d; leave it empty for the normal speed."))


def check_resource_approved(status: str) -> list[ValidationError]:
    if status == ReviewStatus.APPROVED:
        return []
    return [ValidationError(_("Only content the provider has approved can be dialled."), code="not_approved")]


def check_caller_number(
    *,
    mode: str,
    has_caller_number: bool,
    number_active: bool = False,
    same_qualification: bool = False,
    qualification_approved: bool = False,
) -> list[ValidationError]:
    """Public pool calls carry no caller number; dedicated calls need an active number of the same, approved qualification."""
    if mode == Mode.PUBLIC:
        if has_caller_number:
            return [ValidationError(_("Public-pool content is called from the provider's numbers: leave the caller number empty."),
                                    code="public_with_number")]
        return []
    if not has_caller_number:
        return [ValidationError(_("Dedicated content needs one of your caller numbers."), code="required")]
    errors = []
    if not number_active:
        errors.append(ValidationError(_("This caller number is not active."), code="inactive"))
    if not same_qualification:
        errors.append(ValidationError(_("This caller number belongs to another qualification than the content."), code="qualification"))
    if not qualification_approved:
        errors.append(ValidationError(_("The caller number's qualification has not been approved."), code="qualification"))
    return errors


def check_qualification_approved(status: str) -> list[ValidationError]:
    if status == ReviewStatus.APPROVED:
        return []
    return [ValidationError(_("The content's qualification has not been approved."), code="qualification")]


def param_errors(*, variables: list[str], values: dict[str, str], kind: str) -> dict[str, list[ValidationError]]:
    """Errors per variable name; the key "" holds errors about the values as a whole (extra names, total length)."""
    errors: dict[str, list[ValidationError]] = {}

    def add(name: str, error: ValidationError) -> None:
        errors.setdefault(name, []).append(error)

    for name in variables:
        value = values.get(name)
        if value is None or not str(value).strip():
            add(name, ValidationError(_("Enter a value for this variable."), code="required"))
            continue
        if _LINK.search(value):
            add(name, ValidationError(_("Links and web addresses cannot be read out; remove them."), code="link"))
        if kind == Purpose.VERIFICATION and not _CODE_VALUE.fullmatch(value):
            add(name, ValidationError(_("A verification code may contain only letters and digits."), code="code_value"))
    extra = sorted(set(values) - set(variables))
    if extra:
        add("", ValidationError(_("The template has no variable named %(names)s."), code="extra", params={"names": ", ".join(extra)}))
    total = sum(len(str(value)) for value in values.values())
    if total >= MAX_PARAM_TOTAL:
        add("", ValidationError(
            _("All values together have %(total)d characters; they must stay under %(max)d."),
            code="too_long", params={"total": total, "max": MAX_PARAM_TOTAL},
        ))
    return errors


def flow_control_error(*, previous_calls: list[datetime], now: datetime) -> ValidationError | None:
    """The provider allows 1 call a minute, 5 an hour and 20 a day to one callee (failed calls count too)."""
    for window, allowed in FLOW_CONTROL_WINDOWS:
        in_window = sorted(t for t in previous_calls if t > now - window)
        if len(in_window) >= allowed:
            # The oldest call in the window must leave it before another one is allowed.
            wait = in_window[-allowed] + window - now
            minutes = max(1, -(-int(wait.total_seconds()) // 60))
            return ValidationError(
                _flow_control_message(window, minutes), code="flow_control",
                params={"count": len(in_window), "allowed": allowed, "minutes": minutes},
            )
    return None


def _flow_control_message(window: timedelta, minutes: int) -> str:
    if window <= timedelta(minutes=1):
        return ngettext(
            "This number was called less than a minute ago; the provider allows one call a minute. Try again in %(minutes)d minute.",
            "This number was called less than a minute ago; the provider allows one call a minute. Try again in %(minutes)d minutes.",
            minutes,
        )
    if window <= timedelta(hours=1):
        return ngettext(
            "This number was called %(count)d times in the last hour; the provider allows %(allowed)d. Try again in %(minutes)d minute.",
            "This number was called %(count)d times in the last hour; the provider allows %(allowed)d. Try again in %(minutes)d minutes.",
            minutes,
        )
    return ngettext(
        "This number was called %(count)d times in the last 24 hours; the provider allows %(allowed)d. Try again in %(minutes)d minute.",
        "This number was called %(count)d times in the last 24 hours; the provider allows %(allowed)d. Try again in %(minutes)d minutes.",
        minutes,
    )


def rate_limit_error(*, calls_last_minute: int, limit: int) -> ValidationError | None:
    if calls_last_minute < limit:
        return None
    return ValidationError(
        _("You placed %(count)d test calls in the last minute; the limit is %(limit)d. Wait a moment and try again."),
        code="rate_limit",
        params={"count": calls_last_minute, "limit": limit},
    )
