import pytest

from insights.text.language import detect_language


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("The parcel never arrived and nobody answers the phone.", "fr", "en"),
        ("Le colis n'est jamais arrivé et personne ne répond.", "en", "fr"),
        ("Livraison rapide, rien à redire.", "en", "fr"),
        ("Thanks, all good", "fr", "en"),
    ],
)
def test_detect_language_corrects_the_invitation_locale_when_the_words_disagree(text, hint, expected):
    assert detect_language(text, hint)[0] == expected


def test_detect_language_keeps_the_locale_when_the_words_say_nothing():
    assert detect_language("OK", "fr") == ("fr", 0.5)
    assert detect_language("", "en-GB") == ("en", 0.5)


def test_detect_language_falls_back_to_english_for_an_unsupported_locale_without_evidence():
    assert detect_language("👍", "de") == ("en", 0.5)


def test_detect_language_is_surer_of_a_long_comment_than_a_short_one():
    _lang, short = detect_language("Merci !", "fr")
    _lang, long = detect_language("Le conseiller a été très aimable et le problème est réglé, merci.", "fr")
    assert long > short
