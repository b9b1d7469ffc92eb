from datetime import UTC, datetime, time

import pytest

from notifications.quiet_hours import next_open_everywhere, phone_time_zones, seconds_until_close

WINDOW = (time(9), time(20))
BOISE_AND_LA = ["America/Boise", "America/Los_Angeles"]


def test_phone_time_zones_lists_every_zone_of_the_numbers_area():
    assert phone_time_zones("+12085550123") == BOISE_AND_LA
    assert phone_time_zones("+33612345678") == ["Europe/Paris"]
    assert phone_time_zones("not a number") == []


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 3, 10, 16, 0, tzinfo=UTC), None),  # 10:00 Boise, 09:00 Los Angeles
        (datetime(2026, 3, 10, 15, 59, tzinfo=UTC), datetime(2026, 3, 10, 16, 0, tzinfo=UTC)),
        (datetime(2026, 3, 11, 2, 0, tzinfo=UTC), datetime(2026, 3, 11, 16, 0, tzinfo=UTC)),  # 20:00 Boise
        (datetime(2026, 3, 11, 1, 59, tzinfo=UTC), None),  # 19:59 Boise, 18:59 Los Angeles
    ],
)
def test_next_open_everywhere_waits_for_the_window_to_be_open_in_every_zone(at, expected):
    assert next_open_everywhere(at, BOISE_AND_LA, WINDOW) == expected


def test_next_open_everywhere_without_zones_sets_no_quiet_hours():
    assert next_open_everywhere(datetime(2026, 3, 10, 3, 0, tzinfo=UTC), [], WINDOW) is None


def test_seconds_until_close_is_the_earliest_close_among_the_zones():
    # 18:00 Boise = 17:00 Los Angeles: Boise closes first, in two hours.
    assert seconds_until_close(datetime(2026, 3, 11, 0, 0, tzinfo=UTC), BOISE_AND_LA, WINDOW) == 7200
    assert seconds_until_close(datetime(2026, 3, 11, 0, 0, tzinfo=UTC), [], WINDOW) is None


def test_next_open_everywhere_of_zones_that_never_share_the_window_still_gives_a_time():
    # Honolulu and Paris (11 or 12 hours apart) share at most an hour of a 09:00-20:00 window; a 4-hour
    # window they never share: the text must still go out some day, not never.
    opens = next_open_everywhere(datetime(2026, 3, 10, 12, 0, tzinfo=UTC), ["Pacific/Honolulu", "Europe/Paris"],
                                 (time(9), time(13)))  # fmt: skip
    assert opens is not None
