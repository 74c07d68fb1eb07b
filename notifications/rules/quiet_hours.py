"""Quiet hours: the part of the day no campaign call is placed ("21:00-08:00" in the company's time zone).

Pure functions on plain values (no models, no settings read at import): the sender passes the campaign's own
override or the company setting and a local (TIME_ZONE) datetime. A window may cross midnight; start == end, or an
empty setting, means no quiet hours. The start is quiet, the end is not: with 21:00-08:00, 20:59:59 may call, 21:00:00
may not, 08:00:00 may again.
"""
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def parse_quiet_hours(text: str | None) -> tuple[time, time] | None:
    """"21:00-08:00" → (21:00, 08:00); empty → None (no quiet hours). Raises ValidationError on anything else."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        start_text, end_text = (part.strip() for part in text.split("-"))
        start, end = (datetime.strptime(part, "%H:%M").time() for part in (start_text, end_text))
    except ValueError:
        raise ValidationError(_("Write quiet hours as HH:MM-HH:MM, for example 21:00-08:00."), code="invalid") from None
    return None if start == end else (start, end)


def window_for(*, quiet_start: time | None, quiet_end: time | None, setting: str | None) -> tuple[time, time] | None:
    """The quiet hours that apply: the campaign's own override when both ends are set, else the company setting."""
    if quiet_start is not None and quiet_end is not None:
        return None if quiet_start == quiet_end else (quiet_start, quiet_end)
    return parse_quiet_hours(setting)


def is_quiet(local_dt: datetime, window: tuple[time, time] | None) -> bool:
    """Whether `local_dt` (wall-clock time in the company's zone) falls in the quiet window [start, end)."""
    if window is None:
        return False
    start, end = window
    moment = local_dt.time().replace(tzinfo=None)
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # across midnight


def next_allowed(local_dt: datetime, window: tuple[time, time] | None) -> datetime:
    """`local_dt` itself when calls are allowed then, otherwise the end of the quiet window it is in (same tzinfo)."""
    if not is_quiet(local_dt, window):
        return local_dt
    _start, end = window
    candidate = local_dt.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local_dt:
        candidate += timedelta(days=1)
    return candidate  # zoneinfo offsets follow the wall time, so a day later is the same hour even across DST


def quiet_until(local_dt: datetime, window: tuple[time, time] | None) -> datetime | None:
    """When the current quiet period ends, or None when `local_dt` is not quiet."""
    return next_allowed(local_dt, window) if is_quiet(local_dt, window) else None

