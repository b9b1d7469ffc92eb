import json
from pathlib import Path

import pytest

from insights.text import DEFAULT_TAXONOMY, Analyser, mismatch

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "comments.jsonl"


def _rows():
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_fixture_is_a_labelled_bilingual_set_of_at_least_400_comments():
    rows = _rows()
    assert len(rows) >= 400
    assert {r["language"] for r in rows} == {"en", "fr"}
    assert min(sum(r["language"] == lang for r in rows) for lang in ("en", "fr")) >= 200
    assert {r["sentiment"] for r in rows} == {"positive", "neutral", "negative"}
    slugs = {t.slug for t in DEFAULT_TAXONOMY}
    assert all(set(r["themes"]) <= slugs for r in rows)
    assert sum(not r["themes"] for r in rows) >= 40  # theme-less comments
    assert len({r["id"] for r in rows}) == len(rows)


def test_analyse_returns_plain_values():
    result = Analyser(DEFAULT_TAXONOMY).analyse("Colis perdu, service client injoignable.", "en")
    assert result.language == "fr"
    assert result.sentiment == "negative"
    assert result.themes == ("delivery", "customer_service")
    assert 0.5 < result.sentiment_confidence <= 0.99


def test_analyse_of_an_empty_comment_has_no_theme():
    result = Analyser(DEFAULT_TAXONOMY).analyse("   ", "fr")
    assert (result.language, result.sentiment, result.themes) == ("fr", "neutral", ())


@pytest.mark.parametrize(
    ("band", "sentiment", "confidence", "expected"),
    [
        ("promoter", "negative", 0.8, True),
        ("detractor", "positive", 0.8, True),
        ("satisfied", "negative", 0.8, True),
        ("dissatisfied", "positive", 0.7, True),
        ("promoter", "negative", 0.55, False),
        ("passive", "negative", 0.9, False),
        ("promoter", "positive", 0.9, False),
        ("detractor", "neutral", 0.9, False),
        (None, "negative", 0.9, False),
    ],
)
def test_mismatch_flags_a_score_its_comment_contradicts(band, sentiment, confidence, expected):
    assert mismatch(band, sentiment, confidence) is expected


def test_lexicon_alone_holds_the_floors_on_the_fixture():
    """Looser than the bench's targets (0.90 / 0.75 / 0.80): this catches a collapse, not noise."""
    rows = _rows()
    results = Analyser(DEFAULT_TAXONOMY).analyse_many([(r["text"], r["language"]) for r in rows])
    for language in ("en", "fr"):
        pairs = [(r, a) for r, a in zip(rows, results, strict=True) if r["language"] == language]
        three = sum(r["sentiment"] == a.sentiment for r, a in pairs) / len(pairs)
        polar = [(r, a) for r, a in pairs if r["sentiment"] != "neutral"]
        posneg = sum((a.sentiment_score > 0) == (r["sentiment"] == "positive") for r, a in polar) / len(polar)
        tp = sum(len(set(r["themes"]) & set(a.themes)) for r, a in pairs)
        fp = sum(len(set(a.themes) - set(r["themes"])) for r, a in pairs)
        fn = sum(len(set(r["themes"]) - set(a.themes)) for r, a in pairs)
        micro = 2 * tp / (2 * tp + fp + fn)
        assert posneg >= 0.85, language
        assert three >= 0.70, language
        assert micro >= 0.75, language
