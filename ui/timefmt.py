"""One way to write dates and times in the whole window: 01-12-2026 and 01-12-2026 18:04.

Timestamps are stored with their offset (the device's own as local time, the server's in UTC);
the window always shows them in this computer's time zone (WIB on the city's laptops), never
as raw ISO text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.vocabulary import TIME_FORMAT, show_date

# A date as 17-08-1985 (or the date part of an ISO text; "" for nothing): the vocabulary's.
format_date = show_date


def local_time(value: Any) -> datetime | None:
    """An ISO timestamp (or a datetime) in this computer's zone. One without an offset is
    taken as already local."""
    if not value:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if value.tzinfo is None:
        return value
    return value.astimezone()


def format_time(value: Any) -> str:
    """An ISO timestamp as 01-12-2026 18:04 in local time; "" for nothing."""
    moment = local_time(value)
    if moment is None:
        return str(value or "")
    return moment.strftime(TIME_FORMAT)


def zone_name() -> str:
    """The local zone's short name (WIB where the clock is set to Asia/Jakarta)."""
    name = datetime.now().astimezone().tzname() or ""
    return {"+07": "WIB", "+08": "WITA", "+09": "WIT"}.get(name, name)
