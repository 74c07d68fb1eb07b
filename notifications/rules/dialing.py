"""Dialing rules (DESIGN §3 step 1, reference §3.1, §5.1): what the provider would refuse, checked before any call.

Every function is pure: it takes plain values and returns a list of ValidationErrors (empty when the value is
acceptable), so the service can put each error next to the field it is about. The provider's own rules come from
`notifications.aliyun.spec` (which the simulator applies too); this module words them and adds the console's own
policies (a blank value, a value for a variable the template does not have).
"""
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from notifications.aliyun import spec
from notifications.models.choices import Mode, ReviewStatus
from notifications.rules.company_clock import company_today  # noqa: F401  (the services read "today" from here)

PLAY_TIMES_RANGE = spec.PLAY_TIMES_RANGE
VOLUME_RANGE = spec.VOLUME_RANGE
SPEED_RANGE = spec.SPEED_RANGE
MAX_PARAM_TOTAL = spec.MAX_PARAM_TOTAL  # all values together must stay *under* this many characters
# Provider flow control per qualification + purpose + callee (reference §5.1): (window, calls allowed in it).
FLOW_CONTROL_WINDOWS = tuple((window.length, window.permits) for window in spec.FLOW_CONTROL_WINDOWS)


def _range_error(value: int | None, bounds: tuple[int, int], message) -> list[ValidationError]:
    problem = spec.range_problem(value, bounds)
    return [ValidationError(message, code=problem.key, params=dict(problem.params))] if problem else []


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
    number: str = "",
    expires_on: date | None = None,
    today: date | None = None,
) -> list[ValidationError]:
    """Public pool calls carry no caller number; dedicated calls need an active number of the same, approved qualification,
    not past its expiry date (`today` in the company's time zone)."""
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
    if today is not None:
        errors += check_caller_expiry(number=number, expires_on=expires_on, today=today)
    return errors


def check_caller_expiry(*, number: str, expires_on: date | None, today: date) -> list[ValidationError]:
    """A number is usable up to and including its expiry date; from the next day (company time zone) it is refused."""
    if expires_on is None or expires_on >= today:
        return []
    return [ValidationError(_("The caller number %(number)s expired on %(date)s."), code="expired",
                            params={"number": number, "date": expires_on.isoformat()})]



def check_qualification_approved(status: str) -> list[ValidationError]:
    if status == ReviewStatus.APPROVED:
        return []
    return [ValidationError(_("The content's qualification has not been approved."), code="qualification")]


def param_errors(*, variables: list[str], values: dict[str, str], kind: str) -> dict[str, list[ValidationError]]:
    """Errors per variable name; the key "" holds errors about the values as a whole (extra names, total length)."""
    errors: dict[str, list[ValidationError]] = {}

    def add(name: str, error: ValidationError) -> None:
        errors.setdefault(name, []).append(error)

    # Console policy on top of the provider's "missing": a blank value would be read out as silence.
    blank = {name for name in variables if values.get(name) is None or not str(values[name]).strip()}
    for name in variables:
        if name in blank:
            add(name, ValidationError(_("Enter a value for this variable."), code="required"))
    for name, problems in spec.param_problems(variables=variables, values=values, kind=kind).items():
        if name in blank or (name and name not in variables):
            continue  # one message is enough; an extra name is refused as a whole below
        for problem in problems:
            add(name, _param_error(problem))
    # Console policy: a value for a variable the template lacks is a typo or the wrong template.
    extra = sorted(set(values) - set(variables))
    if extra:
        add("", ValidationError(_("The template has no variable named %(names)s."), code="extra", params={"names": ", ".join(extra)}))
    return errors


def _param_error(problem: spec.Problem) -> ValidationError:
    if problem.key == "link":
        return ValidationError(_("Links and web addresses cannot be read out; remove them."), code="link")
    if problem.key == "ip_address":
        return ValidationError(_("IP addresses cannot be read out; remove %(ip)s."), code="ip_address",
                               params={"ip": problem.params["ip"]})
    if problem.key == "code_value":
        return ValidationError(_("A verification code may contain only letters and digits."), code="code_value")
    if problem.key == "too_long":
        return ValidationError(
            _("All values together have %(total)d characters; they must stay under %(max)d."),
            code="too_long", params=dict(problem.params),
        )
    raise ValueError(f"no message for parameter problem {problem.key!r}")


def flow_control_error(*, previous_calls: list[datetime], now: datetime) -> ValidationError | None:
    """The provider allows 1 call a minute, 5 an hour and 20 a day to one callee (failed calls count too)."""
    limit = spec.flow_control_limit(previous_calls, now)
    if limit is None:
        return None
    wait = limit.free_at - now
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return ValidationError(
        _flow_control_message(limit.window.length), code="flow_control",
        params={"count": limit.count, "allowed": limit.window.permits, "minutes": minutes},
    )


def flow_control_day_error(*, previous_calls: list[datetime], now: datetime) -> ValidationError | None:
    """The day window alone (20 calls in 24 hours): a callee it refuses cannot be called for hours, not a minute.

    A campaign row whose first attempt this refuses at the campaign's start is refused by the check; the minute and
    hour windows only delay an attempt, which the sender does.
    """
    length, permits = FLOW_CONTROL_WINDOWS[-1]
    in_window = sorted(moment for moment in previous_calls if moment > now - length)
    if len(in_window) < permits:
        return None
    minutes = max(1, -(-int((in_window[-permits] + length - now).total_seconds()) // 60))
    return ValidationError(
        _flow_control_message(length), code="flow_control",
        params={"count": len(in_window), "allowed": permits, "minutes": minutes},
    )


def _flow_control_message(window: timedelta):
    # Lazy, its plural chosen by params["minutes"]: a campaign keeps the message in every language.
    if window <= timedelta(minutes=1):
        return ngettext_lazy(
            "This number was called less than a minute ago; the provider allows one call a minute. Try again in %(minutes)d minute.",
            "This number was called less than a minute ago; the provider allows one call a minute. Try again in %(minutes)d minutes.",
            "minutes",
        )
    if window <= timedelta(hours=1):
        return ngettext_lazy(
            "This number was called %(count)d times in the last hour; the provider allows %(allowed)d. Try again in %(minutes)d minute.",
            "This number was called %(count)d times in the last hour; the provider allows %(allowed)d. Try again in %(minutes)d minutes.",
            "minutes",
        )
    return ngettext_lazy(
        "This number was called %(count)d times in the last 24 hours; the provider allows %(allowed)d. Try again in %(minutes)d minute.",
        "This number was called %(count)d times in the last 24 hours; the provider allows %(allowed)d. Try again in %(minutes)d minutes.",
        "minutes",
    )


def rate_limit_error(*, calls_last_minute: int, limit: int) -> ValidationError | None:
    if calls_last_minute < limit:
        return None
    return ValidationError(
        _("You placed %(count)d test calls in the last minute; the limit is %(limit)d. Wait a moment and try again."),
        code="rate_limit",
        params={"count": calls_last_minute, "limit": limit},
    )
