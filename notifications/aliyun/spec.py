"""The provider's published facts, in one place for the console and the simulator alike.

Plain Python only: nothing here imports Django, so the simulator (a separate component) can use it too.
"""
from datetime import datetime, timedelta, timezone

# The provider's wall-clock times (`yyyy-MM-dd HH:mm:ss`) are Beijing time, whatever the console's TIME_ZONE.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def parse_provider_time(text: str) -> datetime:
    """`2024-03-06 16:21:30` (or an ISO variant) as an aware datetime; a time without an offset is Beijing time.

    Raises ValueError for anything else.
    """
    # fromisoformat reads `yyyy-MM-dd HH:mm:ss` several times faster than strptime.
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)
