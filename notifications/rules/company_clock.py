"""The company's calendar: dates that decide rules (a caller number's expiry) are read in TIME_ZONE."""
from datetime import date, datetime

from django.utils import timezone


def company_today(now: datetime | None = None) -> date:
    """Today's date in the company's time zone (TIME_ZONE), whichever zone is active for the request."""
    return timezone.localdate(now or timezone.now(), timezone.get_default_timezone())
