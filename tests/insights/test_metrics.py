from datetime import UTC, date, datetime

import pytest

from feedback.business_hours import BusinessCalendar
from insights.metrics import (
    NpsSplit,
    average,
    business_hours,
    csat_percent,
    is_significant,
    mean_difference_z,
    median,
    median_hours,
    merge,
    nps_difference_z,
    nps_split,
    percent,
    split,
    thumbs_up_percent,
    two_proportion_z,
)


def test_nps_split_counts_promoters_passives_detractors():
    # 10,10,10 promote; 7 is passive; 3 detracts.
    result = nps_split({10: 3, 7: 1, 3: 1})
    assert (result.promoters, result.passives, result.detractors, result.total) == (3, 1, 1, 5)
    assert result.nps == 40.0


def test_nps_margin_of_error_of_five_answers():
    # p+ = .6, p- = .2: variance = .6 + .2 - .4² = .64; 1.96 * sqrt(.64 / 5) * 100 = 70.1.
    assert nps_split({10: 3, 7: 1, 3: 1}).margin_of_error == 70.1


def test_nps_margin_of_error_of_a_hundred_answers():
    # 50/30/20: NPS 30, variance = .5 + .2 - .3² = .61; 1.96 * sqrt(.0061) * 100 = 15.3.
    result = NpsSplit(promoters=50, passives=30, detractors=20)
    assert (result.nps, result.margin_of_error) == (30.0, 15.3)


def test_nps_of_unanimous_answers_has_no_margin():
    assert NpsSplit(promoters=4, passives=0, detractors=0).margin_of_error == 0.0


def test_nps_of_no_answers_is_none():
    result = nps_split({})
    assert (result.nps, result.margin_of_error, result.total) == (None, None, 0)


def test_split_uses_each_kinds_thresholds():
    # CSAT: 1-2 detract, 3 passive, 4-5 promote.
    assert split("csat", {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}) == NpsSplit(promoters=9, passives=3, detractors=3)


def test_csat_percent_is_share_of_four_and_five():
    # 4 + 5 of 15 answers are 4-5 → 9/15 = 60%.
    assert csat_percent({1: 1, 2: 2, 3: 3, 4: 4, 5: 5}) == 60.0


def test_csat_percent_of_no_answers_is_none():
    assert csat_percent({}) is None


def test_ces_average_is_mean_score():
    # (7*2 + 5 + 1) / 4 = 5.0
    assert average({7: 2, 5: 1, 1: 1}) == 5.0


def test_five_star_average_rounds_to_two_decimals():
    # (5 + 4 + 4) / 3 = 4.333…
    assert average({5: 1, 4: 2}) == 4.33


def test_average_of_no_answers_is_none():
    assert average({}) is None


def test_thumbs_up_percent_is_share_of_ones():
    # 3 up, 1 down → 75%.
    assert thumbs_up_percent({1: 3, 0: 1}) == 75.0


def test_percent_rounds_and_guards_zero():
    assert (percent(1, 3), percent(0, 0)) == (33.3, None)


def test_merge_adds_histograms():
    assert merge([{1: 2, 3: 1}, {3: 4}, {}]) == {1: 2, 3: 5}


def test_nps_difference_z_marks_a_large_change_significant():
    # 30 (var .61, n 100) vs -10 (var .69, n 100): z = .4 / sqrt(.0061 + .0069) = 3.508.
    z = nps_difference_z(NpsSplit(50, 30, 20), NpsSplit(30, 30, 40))
    assert round(z, 3) == 3.508
    assert is_significant(z)


def test_nps_difference_z_leaves_a_small_change_insignificant():
    # 30 (var .61) vs 20 (var .45 + .25 - .04 = .66): z = .1 / sqrt(.0061 + .0066) = 0.887.
    z = nps_difference_z(NpsSplit(50, 30, 20), NpsSplit(45, 30, 25))
    assert round(z, 3) == 0.887
    assert not is_significant(z)


def test_nps_difference_z_needs_two_answers_each_side():
    assert nps_difference_z(NpsSplit(1, 0, 0), NpsSplit(50, 30, 20)) is None


def test_two_proportion_z_significant():
    # 60/100 vs 45/100: pooled .525, se = sqrt(.525 * .475 * .02) = .070622, z = .15 / .070622 = 2.124.
    z = two_proportion_z(60, 100, 45, 100)
    assert round(z, 3) == 2.124
    assert is_significant(z)


def test_two_proportion_z_insignificant():
    # 55/100 vs 50/100: z = .05 / .070622 = 0.708.
    z = two_proportion_z(55, 100, 50, 100)
    assert round(z, 3) == 0.708
    assert not is_significant(z)


def test_two_proportion_z_is_none_without_variance_or_data():
    assert (two_proportion_z(5, 5, 3, 3), two_proportion_z(0, 0, 3, 4)) == (None, None)


def test_mean_difference_z_welch():
    # 4.5 vs 3.5, both sample variances 25/99: z = 1 / sqrt(2 * .252525 / 100) = 14.071.
    z = mean_difference_z({4: 50, 5: 50}, {3: 50, 4: 50})
    assert round(z, 3) == 14.071
    assert is_significant(z)


def test_mean_difference_z_of_tiny_samples_is_none():
    assert mean_difference_z({4: 1}, {3: 5}) is None


@pytest.mark.parametrize(("values", "expected"), [([], None), ([3, 1, 2], 2), ([4, 1, 2, 3], 2.5)])
def test_median_of_odd_even_and_empty(values, expected):
    assert median(values) == expected


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_business_hours_count_only_open_hours():
    calendar = BusinessCalendar()  # Monday-Friday 09:00-17:00 UTC
    assert business_hours(_at(9, 16), _at(10, 10), calendar) == 2.0  # Mon 16:00 -> Tue 10:00: 1 h + 1 h
    assert business_hours(_at(13, 16, 30), _at(16, 9, 30), calendar) == 1.0  # over a weekend: 0.5 + 0.5
    assert business_hours(_at(14, 10), _at(14, 15), calendar) == 0.0  # all on a Saturday


def test_business_hours_skip_holidays_and_follow_the_calendars_zone():
    calendar = BusinessCalendar(holidays=frozenset({date(2026, 11, 11)}))
    # Tue 16:00 -> Thu 10:00 with Wednesday off: 1 h + 1 h = 2.
    assert business_hours(_at(10, 16), _at(12, 10), calendar) == 2.0
    # 09:00-17:00 in Paris is 08:00-16:00 UTC in November: Tue 15:00 -> 17:00 UTC holds 1 open hour.
    assert business_hours(_at(10, 15), _at(10, 17), BusinessCalendar(tz="Europe/Paris")) == 1.0


def test_median_hours_rounds_to_one_decimal_and_handles_none():
    assert median_hours([2.0, 1.0, 0.0]) == 1.0
    assert median_hours([1.25, 1.3]) == 1.3
    assert median_hours([]) is None
