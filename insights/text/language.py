"""Which language a comment is written in: English or French, the two the engine reads.

The invitation's locale is the prior; the words confirm or correct it. The detector counts
function words (articles, pronouns, auxiliaries) of each language, which settles even a
three-word comment; a comment with no such word keeps its locale. `lingua-language-detector`
is used instead when installed (restricted to English and French), for operators who want it:
it weighs 96 MB, so it is not in the default install.
"""

from __future__ import annotations

from functools import lru_cache

from .normalize import fold, tokens

SUPPORTED = ("en", "fr")

_FUNCTION_WORDS = {
    "en": set(
        "the a an and or but of to in on at for with from by is are was were be been being it its this that "
        "these those i my me we our you your he she they them their have has had do does did not no very "
        "will would could should can just so again still never ever what when why how who which there here "
        "all any some more most much too only about after before than then also thanks thank please yes "
        "arrived got get came item order ordered".split()
    ),
    "fr": set(
        "le la les un une des du de d l et ou mais est sont etait etaient ete etre c ce cet cette ces je j "
        "me m mon ma mes nous notre nos vous votre vos il elle ils elles leur leurs ai a avons avez ont "
        "ne n pas plus jamais rien tres trop au aux en dans sur pour avec par sans qui que qu quoi quand "
        "comment pourquoi tout tous toute toutes encore toujours deja merci oui non bien ca y se s "
        "arrive recu commande colis".split()
    ),
}
# Words both languages write the same way tell nothing.
_SHARED = _FUNCTION_WORDS["en"] & _FUNCTION_WORDS["fr"]


def detect_language(text: str, hint: str | None = None) -> tuple[str, float]:
    """`(language, confidence)` of the text, `language` in SUPPORTED.

    `hint` is the invitation's locale (its first two letters are used); it wins ties and
    comments without evidence, with the confidence saying how little the words said.
    """
    prior = (hint or "en")[:2].lower()
    if prior not in SUPPORTED:
        prior = "en"
    detector = _lingua_detector()
    if detector is not None and text.strip():
        return _detect_with_lingua(detector, text, prior)
    counts = {lang: 0.0 for lang in SUPPORTED}
    for word in tokens(text):
        if word in _SHARED:
            continue
        for lang in SUPPORTED:
            if word in _FUNCTION_WORDS[lang]:
                counts[lang] += 1
    # French-only letters are strong evidence (English comments rarely carry é, è, à, ç, ê).
    accents = sum(1 for ch in text.lower() if ch in "éèàçêâîôûùëïœ")
    counts["fr"] += min(accents, 3) * 0.75
    total = counts["en"] + counts["fr"]
    if total == 0:
        return prior, 0.5
    best = max(SUPPORTED, key=lambda lang: (counts[lang], lang == prior))
    if counts["en"] == counts["fr"]:
        best = prior
    margin = abs(counts["en"] - counts["fr"]) / total
    return best, round(0.5 + 0.5 * margin * min(1.0, total / 4), 3)


@lru_cache(maxsize=1)
def _lingua_detector():
    try:
        from lingua import Language, LanguageDetectorBuilder
    except ImportError:
        return None
    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.FRENCH).build()


def _detect_with_lingua(detector, text: str, prior: str) -> tuple[str, float]:
    values = detector.compute_language_confidence_values(text)
    best = values[0]
    lang = best.language.iso_code_639_1.name.lower()
    if best.value < 0.6:
        return prior, round(best.value if lang == prior else 1 - best.value, 3)
    return lang, round(best.value, 3)


__all__ = ["SUPPORTED", "detect_language", "fold"]
