import pytest

from insights.text.sentiment import score_sentiment


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Rien à redire, parfait.", "fr", "positive"),
        ("Pas terrible.", "fr", "negative"),
        ("Pas mal du tout !", "fr", "positive"),
        ("Not helpful at all.", "en", "negative"),
        ("Not bad at all, really solid.", "en", "positive"),
        ("No complaints.", "en", "positive"),
        ("Still waiting for my refund.", "en", "negative"),
        ("J'attends toujours mon remboursement.", "fr", "negative"),
        ("Le conseiller n'a rien résolu.", "fr", "negative"),
        ("I ordered through the app.", "en", "neutral"),
        ("Commandé lundi, reçu jeudi.", "fr", "neutral"),
    ],
)
def test_score_sentiment_reads_idioms_and_negation(text, language, expected):
    assert score_sentiment(text, language).label == expected


def test_score_sentiment_counts_borrowed_praise_against_a_complaint():
    sarcastic = score_sentiment("Oh great, the parcel went to the wrong town again. Brilliant.", "en")
    assert sarcastic.label == "negative"
    assert score_sentiment("Bravo, vous avez réussi à perdre ma réclamation.", "fr").label == "negative"


def test_score_sentiment_weighs_the_clause_after_but_more_and_after_though_less():
    assert score_sentiment("Nice people on the phone, but you are far too expensive now.", "en").label == "negative"
    assert score_sentiment("Quick delivery and great product, though the box was a bit damaged.", "en").label == (
        "positive"
    )


def test_score_sentiment_french_plus_negates_only_after_ne():
    assert score_sentiment("Expédition plus rapide que prévu.", "fr").label == "positive"
    assert score_sentiment("Il ne fonctionne plus, très déçu.", "fr").label == "negative"


def test_score_sentiment_confidence_grows_with_evidence():
    faint = score_sentiment("Good.", "en")
    strong = score_sentiment("Excellent, amazing service, thank you so much!", "en")
    assert faint.label == strong.label == "positive"
    assert 0.5 <= faint.confidence < strong.confidence <= 0.99


def test_score_sentiment_of_an_empty_comment_is_neutral():
    result = score_sentiment("", "en")
    assert (result.label, result.score, result.hits) == ("neutral", 0.0, ())
