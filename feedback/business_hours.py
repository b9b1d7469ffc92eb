"""Business-hours arithmetic for SLAs: working days, opening hours, a time zone and holidays.

Pure: plain values in, plain values out; no database. Used for follow-up due dates and for
the dashboard's median times.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class BusinessCalendar:
    tz: str = "UTC"
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday is 0, as date.weekday()
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    holidays: frozenset[date] = field(default_factory=frozenset)


# Ten years of consecutive holidays would be absurd; the bound keeps a misconfigured calendar from looping forever.
_MAX_DAYS = 3660


def _day_window(day: date, calendar: BusinessCalendar) -> tuple[datetime, datetime] | None:
    if day.weekday() not in calendar.working_days or day in calendar.holidays:
        return None
    zone = ZoneInfo(calendar.tz)
    return datetime.combine(day, calendar.opens, zone), datetime.combine(day, calendar.closes, zone)


def _check(calendar: BusinessCalendar) -> None:
    if not calendar.working_days or calendar.opens >= calendar.closes:
        raise ValueError("A business calendar needs at least one working day and opening before closing.")


def business_seconds_between(start: datetime, end: datetime, calendar: BusinessCalendar) -> int:
    """Seconds of open business time from `start` to `end` (0 when `end` is not after `start`)."""
    _check(calendar)
    if end <= start:
        return 0
    zone = ZoneInfo(calendar.tz)
    day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    total = 0.0
    while day <= last:
        window = _day_window(day, calendar)
        if window:
            overlap = (min(end, window[1]) - max(start, window[0])).total_seconds()
            total += max(overlap, 0)
        day += timedelta(days=1)
    return int(total)


def add_business_hours(start: datetime, hours: float, calendar: BusinessCalendar) -> datetime:
    """The moment `hours` of open business time after `start`; work begins at the next opening if closed."""
    _check(calendar)
    remaining = timedelta(hours=hours)
    zone = ZoneInfo(calendar.tz)
    day = start.astimezone(zone).date()
    for _ in range(_MAX_DAYS):
        window = _day_window(day, calendar)
        if window and start < window[1]:
            begin = max(start, window[0])
            available = window[1] - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        day += timedelta(days=1)
    raise ValueError("The business calendar has no open time in the next ten years.")
