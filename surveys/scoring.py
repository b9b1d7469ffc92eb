"""What a score means, per survey kind: the one place detractor thresholds are defined.

Pure functions over plain values; no database.

| kind      | scale | detractor | passive | promoter |
|-----------|-------|-----------|---------|----------|
| nps       | 0-10  | 0-6       | 7-8     | 9-10     |
| csat      | 1-5   | 1-2       | 3       | 4-5      |
| ces       | 1-7   | 1-3       | 4       | 5-7      |
| five_star | 1-5   | 1-2       | 3       | 4-5      |
| thumbs    | 0-1   | 0         | -       | 1        |
"""

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from surveys.scales import SCALES

DETRACTOR_MAX = {kind: scale.detractor_max for kind, scale in SCALES.items()}
PROMOTER_MIN = {"nps": 9, "csat": 4, "ces": 5, "five_star": 4, "thumbs": 1}


# What a case closed because the customer changed their answer to a happy one is called, per kind:
# a CSAT customer was never a "detractor" (an NPS word).
NO_LONGER_UNHAPPY = {
    "nps": _("No longer a detractor"),
    "csat": _("No longer dissatisfied"),
    "ces": _("No longer reports an effort"),
    "five_star": _("No longer a low rating"),
    "thumbs": _("Now a thumbs up"),
}


def is_detractor(kind: str, score: int) -> bool:
    return score <= DETRACTOR_MAX[kind]


def is_promoter(kind: str, score: int) -> bool:
    return score >= PROMOTER_MIN[kind]


def nps(scores: Iterable[int]) -> float | None:
    """Net Promoter Score from 0-10 answers: % promoters minus % detractors, or None with no answers."""
    scores = list(scores)
    if not scores:
        return None
    promoters = sum(1 for score in scores if is_promoter("nps", score))
    detractors = sum(1 for score in scores if is_detractor("nps", score))
    return round(100 * (promoters - detractors) / len(scores), 1)
