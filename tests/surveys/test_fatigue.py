import zoneinfo
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications.quiet_hours import parse_window, window_next_open
from surveys.models import Contact, Survey
from surveys.services.fatigue import (
    Windows,
    contact_time_zones,
    contact_timezone,
    is_throttled,
    sms_window_next_open,
    windows,
)

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
send_windows = st.tuples(st.times(), st.times()).filter(lambda w: w[0] != w[1])
instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))


def test_parse_window():
    assert parse_window("09:00-20:00") == (time(9), time(20))
    assert parse_window(" 20:30 - 08:00 ") == (time(20, 30), time(8))


def test_window_next_open_inside_is_none():
    assert window_next_open(datetime(2026, 3, 2, 9, 0, tzinfo=PARIS), (time(9), time(20))) is None
    assert window_next_open(datetime(2026, 3, 2, 19, 59, tzinfo=PARIS), (time(9), time(20))) is None


def test_window_next_open_before_and_after():
    window = (time(9), time(20))

    assert window_next_open(datetime(2026, 3, 2, 7, 30, tzinfo=PARIS), window) == datetime(2026, 3, 2, 9, tzinfo=PARIS)
    assert window_next_open(datetime(2026, 3, 2, 20, 0, tzinfo=PARIS), window) == datetime(2026, 3, 3, 9, tzinfo=PARIS)


def test_window_next_open_across_midnight():
    window = (time(20), time(8))

    assert window_next_open(datetime(2026, 3, 2, 23, 0, tzinfo=PARIS), window) is None
    assert window_next_open(datetime(2026, 3, 2, 7, 0, tzinfo=PARIS), window) is None
    assert window_next_open(datetime(2026, 3, 2, 12, 0, tzinfo=PARIS), window) == datetime(2026, 3, 2, 20, tzinfo=PARIS)


@given(
    at=instants, window=send_windows, zone=st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"])
)
def test_window_next_open_is_later_and_opens_the_window(at, window, zone):
    local = at.astimezone(zoneinfo.ZoneInfo(zone))

    opens = window_next_open(local, window)

    if opens is not None:
        assert opens > local
        assert opens - local <= timedelta(days=1, hours=1)  # a DST change may add an hour
        assert window_next_open(opens, window) is None


@given(
    gaps=st.lists(st.tuples(st.integers(1, 3), st.integers(-90, 90)), max_size=6),
    survey_days=st.integers(0, 60),
    global_days=st.integers(0, 60),
)
def test_is_throttled_matches_the_window_definition(gaps, survey_days, global_days):
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    earlier = [(survey_id, at + timedelta(days=days)) for survey_id, days in gaps]

    throttled = is_throttled(
        earlier, survey_id=1, at=at, windows=Windows(timedelta(days=survey_days), timedelta(days=global_days))
    )

    expected = any(abs(days) < global_days or (survey_id == 1 and abs(days) < survey_days) for survey_id, days in gaps)
    assert throttled == expected


@given(days=st.integers(0, 120), window=st.integers(1, 60))
def test_is_throttled_is_symmetric_in_time(days, window):
    at = datetime(2026, 3, 2, tzinfo=UTC)
    w = Windows(timedelta(days=window), timedelta(days=window))

    before = is_throttled([(1, at - timedelta(days=days))], survey_id=1, at=at, windows=w)
    after = is_throttled([(1, at + timedelta(days=days))], survey_id=1, at=at, windows=w)

    assert before == after == (days < window)


def test_windows_are_the_surveys_own_else_the_workspace_defaults(settings):
    settings.FATIGUE_SURVEY_DAYS, settings.FATIGUE_GLOBAL_DAYS = 30, 7

    assert windows(Survey()) == Windows(same_survey=timedelta(days=30), any_survey=timedelta(days=7))
    assert windows(Survey(fatigue_survey_days=0, fatigue_global_days=2)) == Windows(timedelta(0), timedelta(days=2))


@pytest.mark.parametrize(
    ("zone", "phone", "expected"),
    [
        ("America/Chicago", "+33612345678", "America/Chicago"),
        ("", "+33612345678", "Europe/Paris"),
        ("", "+442071838750", "Europe/London"),
        ("", "", "UTC"),
        ("Not/AZone", "", "UTC"),
    ],
)
def test_contact_timezone_prefers_own_then_phone_then_site(zone, phone, expected):
    assert contact_timezone(Contact(timezone=zone, phone=phone)) == zoneinfo.ZoneInfo(expected)


def test_contact_time_zones_of_a_number_spanning_zones_are_all_of_them():
    assert contact_time_zones(Contact(phone="+12085550123")) == ["America/Boise", "America/Los_Angeles"]
    assert contact_time_zones(Contact(phone="+12085550123", timezone="America/Boise")) == ["America/Boise"]


@pytest.mark.parametrize(
    ("at", "opens"),
    [
        # 09:30 in Boise is 08:30 in Los Angeles: closed there until 09:00 Pacific (16:00 UTC in March).
        (datetime(2026, 3, 10, 15, 30, tzinfo=UTC), datetime(2026, 3, 10, 16, 0, tzinfo=UTC)),
        # 19:30 in Los Angeles is 20:30 in Boise: closed in Boise until tomorrow 09:00 Mountain... then
        # Los Angeles still sleeps (08:00): the first moment open in both is 09:00 Pacific.
        (datetime(2026, 3, 11, 2, 30, tzinfo=UTC), datetime(2026, 3, 11, 16, 0, tzinfo=UTC)),
        (datetime(2026, 3, 10, 18, 0, tzinfo=UTC), None),
    ],
)
def test_sms_window_of_a_number_spanning_zones_is_the_strictest(at, opens, settings):
    settings.SMS_SEND_WINDOW = "09:00-20:00"
    assert sms_window_next_open(Contact(phone="+12085550123"), at) == opens
