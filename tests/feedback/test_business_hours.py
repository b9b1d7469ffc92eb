from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from feedback.business_hours import BusinessCalendar, add_business_hours, business_seconds_between

PARIS = BusinessCalendar(tz="Europe/Paris", opens=time(9), closes=time(17))


def _paris(*args):
    return datetime(*args, tzinfo=ZoneInfo("Europe/Paris"))


def test_add_business_hours_within_one_day():
    assert add_business_hours(_paris(2026, 3, 4, 10), 3, PARIS) == _paris(2026, 3, 4, 13)


def test_add_business_hours_carries_over_a_weekend():
    # Friday 15:00 + 4 h: 2 h on Friday, 2 h on Monday.
    assert add_business_hours(_paris(2026, 3, 6, 15), 4, PARIS) == _paris(2026, 3, 9, 11)


def test_add_business_hours_skips_a_holiday():
    calendar = BusinessCalendar(tz="Europe/Paris", holidays=frozenset({date(2026, 3, 9)}))

    assert add_business_hours(_paris(2026, 3, 6, 15), 4, calendar) == _paris(2026, 3, 10, 11)


def test_add_business_hours_starts_at_next_opening_when_closed():
    assert add_business_hours(_paris(2026, 3, 7, 12), 1, PARIS) == _paris(2026, 3, 9, 10)


def test_add_business_hours_converts_to_the_calendar_zone():
    # 08:30 UTC is 09:30 in Paris in March (UTC+1).
    assert add_business_hours(datetime(2026, 3, 4, 8, 30, tzinfo=UTC), 1, PARIS) == _paris(2026, 3, 4, 10, 30)


def test_business_seconds_between_across_a_weekend_and_holiday():
    calendar = BusinessCalendar(tz="Europe/Paris", holidays=frozenset({date(2026, 3, 9)}))

    seconds = business_seconds_between(_paris(2026, 3, 6, 15), _paris(2026, 3, 10, 11), calendar)

    assert seconds == 4 * 3600


def test_business_seconds_between_is_zero_when_end_is_before_start():
    assert business_seconds_between(_paris(2026, 3, 5, 10), _paris(2026, 3, 4, 10), PARIS) == 0


def test_business_seconds_between_inverts_add_business_hours():
    start = _paris(2026, 3, 4, 16, 15)

    assert business_seconds_between(start, add_business_hours(start, 30, PARIS), PARIS) == 30 * 3600


def test_business_calendar_without_working_days_is_refused():
    with pytest.raises(ValueError):
        add_business_hours(_paris(2026, 3, 4, 10), 1, BusinessCalendar(working_days=frozenset()))
