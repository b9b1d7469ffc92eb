import pytest

from surveys.scales import SCALES, SUPPORTED_LOCALES, pick_locale, score_buttons
from surveys.scoring import DETRACTOR_MAX, PROMOTER_MIN


@pytest.mark.parametrize(
    "kind,low,high", [("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7), ("five_star", 1, 5), ("thumbs", 0, 1)]
)
def test_scales_range_per_kind(kind, low, high):
    assert list(SCALES[kind].scores) == list(range(low, high + 1))


@pytest.mark.parametrize("kind", sorted(SCALES))
def test_scales_every_kind_is_worded_in_every_locale(kind):
    scale = SCALES[kind]

    for locale in SUPPORTED_LOCALES:
        assert "{product}" in scale.question[locale]
        assert scale.low_label[locale] and scale.high_label[locale]


@pytest.mark.parametrize("kind", sorted(SCALES))
def test_scales_scoring_thresholds_fall_inside_the_scale(kind):
    scores = SCALES[kind].scores

    assert DETRACTOR_MAX[kind] in scores
    assert PROMOTER_MIN[kind] in scores
    assert DETRACTOR_MAX[kind] < PROMOTER_MIN[kind]


def test_scales_score_buttons_name_the_ends():
    buttons = score_buttons(SCALES["csat"], "fr")

    assert buttons == [
        {"score": 1, "shows": "1", "name": "1: Très insatisfait"},
        {"score": 2, "shows": "2", "name": "2"},
        {"score": 3, "shows": "3", "name": "3"},
        {"score": 4, "shows": "4", "name": "4"},
        {"score": 5, "shows": "5", "name": "5: Très satisfait"},
    ]


def test_scales_thumbs_buttons_show_thumbs_and_are_named_in_words():
    assert score_buttons(SCALES["thumbs"], "en") == [
        {"score": 0, "shows": "\N{THUMBS DOWN SIGN} No", "name": "No"},
        {"score": 1, "shows": "\N{THUMBS UP SIGN} Yes", "name": "Yes"},
    ]
    assert [button["name"] for button in score_buttons(SCALES["thumbs"], "fr")] == ["Non", "Oui"]


@pytest.mark.parametrize(
    "requested,expected", [("fr", "fr"), ("fr-CA", "fr"), ("FR_be", "fr"), ("en-GB", "en"), ("de", "en"), ("", "en")]
)
def test_scales_pick_locale_falls_back_to_english(requested, expected):
    assert pick_locale(requested) == expected
