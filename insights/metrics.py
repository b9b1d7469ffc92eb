"""The dashboard's formulas over plain values: score histograms in, figures out.

A histogram maps a score to how many answers gave it; every figure (NPS and its margin,
CSAT, CES, averages, thumbs-up share) and every significance test is computed from
histograms, which is what the rollups store. No database here.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from feedback.business_hours import BusinessCalendar, business_seconds_between
from surveys.scoring import is_detractor, is_promoter

Histogram = Mapping[int, int]

# Two-sided 95%: a change is called significant when |z| reaches this.
Z_95 = 1.96


@dataclass(frozen=True)
class NpsSplit:
    promoters: int
    passives: int
    detractors: int

    @property
    def total(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> float | None:
        if not self.total:
            return None
        return round(100 * (self.promoters - self.detractors) / self.total, 1)

    @property
    def variance(self) -> float | None:
        """Per-answer variance of the NPS, scoring promoters +1, passives 0, detractors -1."""
        if not self.total:
            return None
        share_promoters = self.promoters / self.total
        share_detractors = self.detractors / self.total
        return share_promoters + share_detractors - (share_promoters - share_detractors) ** 2

    @property
    def margin_of_error(self) -> float | None:
        """Half-width of the 95% confidence interval, in NPS points."""
        if not self.total:
            return None
        return round(100 * Z_95 * math.sqrt(self.variance / self.total), 1)


def count(histogram: Histogram) -> int:
    return sum(histogram.values())


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def split(kind: str, histogram: Histogram) -> NpsSplit:
    """Promoters / passives / detractors of any kind, by `surveys.scoring`'s thresholds."""
    promoters = sum(n for score, n in histogram.items() if is_promoter(kind, score))
    detractors = sum(n for score, n in histogram.items() if is_detractor(kind, score))
    return NpsSplit(promoters=promoters, passives=count(histogram) - promoters - detractors, detractors=detractors)


def nps_split(histogram: Histogram) -> NpsSplit:
    return split("nps", histogram)


def csat_percent(histogram: Histogram) -> float | None:
    """Share of CSAT answers that are 4 or 5."""
    return percent(sum(n for score, n in histogram.items() if score >= 4), count(histogram))


def average(histogram: Histogram) -> float | None:
    """Mean score (CES average, five-star average), to two decimals."""
    total = count(histogram)
    if not total:
        return None
    return round(sum(score * n for score, n in histogram.items()) / total, 2)


def thumbs_up_percent(histogram: Histogram) -> float | None:
    return percent(histogram.get(1, 0), count(histogram))


def merge(histograms: Iterable[Histogram]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for histogram in histograms:
        for score, n in histogram.items():
            merged[score] = merged.get(score, 0) + n
    return merged


def nps_difference_z(current: NpsSplit, previous: NpsSplit) -> float | None:
    """z statistic of the change in NPS between two independent samples."""
    if current.total < 2 or previous.total < 2:
        return None
    standard_error = math.sqrt(current.variance / current.total + previous.variance / previous.total)
    if standard_error == 0:
        return None
    difference = (current.promoters - current.detractors) / current.total - (
        previous.promoters - previous.detractors
    ) / previous.total
    return difference / standard_error


def two_proportion_z(hits_a: int, total_a: int, hits_b: int, total_b: int) -> float | None:
    """Pooled two-proportion z statistic of hits_a/total_a versus hits_b/total_b."""
    if total_a < 2 or total_b < 2:
        return None
    pooled = (hits_a + hits_b) / (total_a + total_b)
    standard_error = math.sqrt(pooled * (1 - pooled) * (1 / total_a + 1 / total_b))
    if standard_error == 0:
        return None
    return (hits_a / total_a - hits_b / total_b) / standard_error


def _sample_variance(histogram: Histogram) -> float:
    total = count(histogram)
    mean = sum(score * n for score, n in histogram.items()) / total
    return sum(n * (score - mean) ** 2 for score, n in histogram.items()) / (total - 1)


def mean_difference_z(current: Histogram, previous: Histogram) -> float | None:
    """Welch z statistic of the change in mean score (large-sample, unequal variances)."""
    total_a, total_b = count(current), count(previous)
    if total_a < 2 or total_b < 2:
        return None
    standard_error = math.sqrt(_sample_variance(current) / total_a + _sample_variance(previous) / total_b)
    if standard_error == 0:
        return None
    mean_a = sum(score * n for score, n in current.items()) / total_a
    mean_b = sum(score * n for score, n in previous.items()) / total_b
    return (mean_a - mean_b) / standard_error


def is_significant(z: float | None) -> bool:
    return z is not None and abs(z) >= Z_95


def median(values: Iterable[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def business_hours(start: datetime, end: datetime, calendar: BusinessCalendar) -> float:
    """Open business time from `start` to `end`, in hours: how long a case waited while someone could
    have worked on it."""
    return business_seconds_between(start, end, calendar) / 3600


def median_hours(hours: Iterable[float]) -> float | None:
    """The median of durations in hours, to one decimal."""
    value = median(hours)
    return None if value is None else round(value, 1)
