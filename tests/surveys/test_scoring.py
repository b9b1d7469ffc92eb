import pytest

from surveys.scoring import is_detractor, is_promoter, nps


@pytest.mark.parametrize(
    ("kind", "detractors", "promoters"),
    [
        ("nps", [0, 6], [9, 10]),
        ("csat", [1, 2], [4, 5]),
        ("ces", [1, 3], [5, 7]),
        ("five_star", [1, 2], [4, 5]),
        ("thumbs", [0], [1]),
    ],
)
def test_scoring_thresholds_per_kind(kind, detractors, promoters):
    assert all(is_detractor(kind, score) for score in detractors)
    assert not any(is_detractor(kind, score) for score in promoters)
    assert all(is_promoter(kind, score) for score in promoters)
    assert not any(is_promoter(kind, score) for score in detractors)


def test_scoring_passives_are_neither():
    assert not is_detractor("nps", 7) and not is_promoter("nps", 8)
    assert not is_detractor("csat", 3) and not is_promoter("csat", 3)
    assert not is_detractor("ces", 4) and not is_promoter("ces", 4)


def test_nps_is_promoters_minus_detractors_percent():
    # 3 promoters, 1 passive, 1 detractor of 5 answers: 60% - 20% = 40.
    assert nps([10, 9, 9, 7, 3]) == 40.0


def test_nps_of_no_answers_is_none():
    assert nps([]) is None
