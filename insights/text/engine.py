"""The analysis of one comment, or of many at once: language, sentiment, themes.

`Analyser(taxonomy, embedder)` is built once per process (per taxonomy); `analyse(text, locale)`
returns an `Analysis` of plain values. With an embedder, comments whose words leave their
sentiment uncertain (a lexicon score under `CASCADE_BELOW`: factual complaints such as "Paid
for next day, got it in a week") are also read by a classifier on their embedding; comments the
lexicon settles are not embedded at all, which keeps a worker above 20 comments a second.
Nothing here touches a database, a network or Django.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .language import detect_language
from .sentiment import NEUTRAL_BAND, score_sentiment
from .taxonomy import DEFAULT_TAXONOMY, ThemeSpec
from .themes import ThemeMatcher

CASCADE_BELOW = 1.5
HEAD_WEIGHT = 1.0
SENTIMENTS = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class Analysis:
    language: str
    language_confidence: float
    sentiment: str
    sentiment_confidence: float
    themes: tuple[str, ...]
    sentiment_score: float = 0.0


def mismatch(band: str | None, sentiment: str | None, confidence: float = 1.0, floor: float = 0.6) -> bool:
    """A promoter's (or satisfied customer's) negative comment, or a detractor's positive one.

    `band` is the score's band (`promoter`, `passive`, `detractor`, or CSAT's `satisfied`,
    `neutral`, `dissatisfied`); a sentiment below `floor` confidence never flags.
    """
    if not band or not sentiment or confidence < floor:
        return False
    happy = band in ("promoter", "satisfied", "positive")
    unhappy = band in ("detractor", "dissatisfied", "negative")
    return (happy and sentiment == "negative") or (unhappy and sentiment == "positive")


class Analyser:
    def __init__(self, taxonomy: Iterable[ThemeSpec] = DEFAULT_TAXONOMY, embedder=None):
        self.embedder = embedder
        self.matcher = ThemeMatcher(taxonomy)
        self._head = None
        if embedder is not None:
            from .heads import head_for

            self._head = head_for(embedder)

    def analyse(self, text: str, locale: str | None = None) -> Analysis:
        return self.analyse_many([(text, locale)])[0]

    def analyse_many(self, items: Sequence[tuple[str, str | None]]) -> list[Analysis]:
        """Analyses of `(text, locale)` pairs; uncertain ones share one embedding batch."""
        first = []
        for text, locale in items:
            language, language_confidence = detect_language(text, locale)
            lexical = score_sentiment(text, language)
            first.append((text, language, language_confidence, lexical))
        uncertain = [
            i for i, (text, _l, _c, lex) in enumerate(first) if abs(lex.score) < CASCADE_BELOW and text.strip()
        ]
        probabilities = {}
        if self._head is not None and uncertain:
            vectors = self.embedder.embed([first[i][0] for i in uncertain])
            for i, row in zip(uncertain, self._head.probabilities(vectors), strict=True):
                probabilities[i] = row
        results = []
        for i, (text, language, language_confidence, lexical) in enumerate(first):
            label, confidence, score = lexical.label, lexical.confidence, lexical.score
            if i in probabilities:
                p_negative, p_neutral, p_positive = (float(v) for v in probabilities[i])
                score = lexical.score + HEAD_WEIGHT * (p_positive - p_negative)
                label = "positive" if score >= NEUTRAL_BAND else "negative" if score <= -NEUTRAL_BAND else "neutral"
                head_p = {"negative": p_negative, "neutral": p_neutral, "positive": p_positive}[label]
                confidence = round(min(0.99, 0.5 * lexical.confidence + 0.5 * head_p), 3)
            results.append(
                Analysis(
                    language=language,
                    language_confidence=language_confidence,
                    sentiment=label,
                    sentiment_confidence=confidence,
                    themes=tuple(self.matcher.match(text)) if text.strip() else (),
                    sentiment_score=round(score, 3),
                )
            )
        return results
