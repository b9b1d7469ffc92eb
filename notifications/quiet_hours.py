"""Quiet hours of SMS: when a text may reach a recipient, in every time zone they may be in.

Pure functions over times and zone names, no database. A number whose area spans several
zones (phonenumbers gives e.g. New York and Chicago for some US numbers) gets the strictest
reading: a text goes out only while the window is open in all of them, and Twilio may keep
trying only until the earliest of them closes. Used by dispatch (when an invitation falls
due) and again by the send itself, right before the provider call, since retries, the
sweeper and the validity period can all move a send past the window.
"""

import zoneinfo
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta

import phonenumbers
from phonenumbers import timezone as phone_timezone


def parse_window(value: str) -> tuple[time, time]:
    """`"09:00-20:00"` -> (09:00, 20:00); a window may cross midnight (`"20:00-08:00"`)."""
    start, _, end = value.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def window_next_open(local: datetime, window: tuple[time, time]) -> datetime | None:
    """None when `local` (an aware datetime) is inside the window, else when it next opens."""
    start, end = window
    now = local.timetz().replace(tzinfo=None)
    inside = start <= now < end if start <= end else (now >= start or now < end)
    if inside:
        return None
    opens = datetime.combine(local.date(), start, tzinfo=local.tzinfo)
    if opens <= local:
        opens = datetime.combine(local.date() + timedelta(days=1), start, tzinfo=local.tzinfo)
    return opens


def window_close(local: datetime, window: tuple[time, time]) -> datetime:
    """When the window `local` is inside closes (call only when it is open)."""
    _, end = window
    closes = datetime.combine(local.date(), end, tzinfo=local.tzinfo)
    if closes <= local:
        closes = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=local.tzinfo)
    return closes


def phone_time_zones(phone: str) -> list[str]:
    """Every zone the number's region may be in ([] when unknown): several for numbers spanning zones."""
    try:
        zones = phone_timezone.time_zones_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return []
    return [zone for zone in zones if zone != phone_timezone.UNKNOWN_TIMEZONE and _known(zone)]


def _known(zone: str) -> bool:
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _zones(names: Iterable[str]) -> list[zoneinfo.ZoneInfo]:
    return [zoneinfo.ZoneInfo(name) for name in names if name and _known(name)]


def next_open_everywhere(at: datetime, zones: Sequence[str], window: tuple[time, time]) -> datetime | None:
    """None when the window is open at `at` in every zone, else the first moment it is open in all (UTC).

    Zones whose windows never overlap (over 13 hours apart with a short window) have no such
    moment; the latest next opening among them is given then, so the text still goes out.
    """
    infos = _zones(zones)
    if not infos:
        return None
    candidate = at
    for _ in range(2 * len(infos) + 2):
        later = [opens for info in infos if (opens := window_next_open(candidate.astimezone(info), window))]
        if not later:
            return None if candidate == at else candidate.astimezone(UTC)
        candidate = max(later)
    return candidate.astimezone(UTC)


def seconds_until_close(at: datetime, zones: Sequence[str], window: tuple[time, time]) -> float | None:
    """Seconds from `at` until the window closes in the first of the zones (all open at `at`); None without zones."""
    infos = _zones(zones)
    if not infos:
        return None
    return min((window_close(at.astimezone(info), window) - at).total_seconds() for info in infos)
