"""Sentiment of a comment from its words: `positive`, `neutral` or `negative`, with a confidence.

A lexicon scorer (see `lexicon.py`) that reads the way customers write: idioms first
("rien à redire", "pas terrible", "couldn't ask for more"), then words, turned by a negation
within three words before them ("not helpful", "n'a rien résolu"), strengthened or softened by
"very", "a bit", weighed up after "but"/"mais" and down after "though"/"même si", and praise
counted against a comment that otherwise complains (sarcasm borrows praise: "Great, lost again").
Pure: no model, no Django. An embedding head (`heads.py`) may refine the result.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from .lexicon import LEXICONS
from .normalize import sentences, tokens

NEUTRAL_BAND = 0.5
_SCARE_QUOTES = re.compile(r"[\"“«]\s?[^\"”»]{2,25}?\s?[\"”»]")


@dataclass(frozen=True)
class Hit:
    position: int
    weight: float
    text: str
    sarcasm_prone: bool


@dataclass(frozen=True)
class SentimentScore:
    label: str
    confidence: float
    score: float
    hits: tuple[Hit, ...] = ()


def _entry_tokens(entry: str) -> tuple[tuple[str, ...], bool]:
    star = entry.endswith("*")
    return tuple(tokens(entry.rstrip("*"))), star


@lru_cache(maxsize=4)
def _compiled(lang: str):
    lex = LEXICONS[lang]
    phrases: dict[tuple[str, ...], tuple[float, bool]] = {}
    words: dict[str, float] = {}
    prefixes: list[tuple[str, float]] = []
    sarcasm = {_entry_tokens(e)[0] for e in lex["sarcasm"]}
    sarcasm_prefixes = {_entry_tokens(e)[0][0] for e in lex["sarcasm"] if e.endswith("*")}
    for table in (lex["words"], lex["phrases"]):
        for entry, weight in table.items():
            toks, star = _entry_tokens(entry)
            if not toks:
                continue
            if len(toks) > 1:
                phrases[toks] = (weight, star)
            elif star:
                prefixes.append((toks[0], weight))
            else:
                words[toks[0]] = weight
    prefixes.sort(key=lambda item: -len(item[0]))
    max_len = max((len(p) for p in phrases), default=1)

    def multi(table):
        if isinstance(table, dict):
            return {_entry_tokens(e)[0]: v for e, v in table.items()}
        return {_entry_tokens(e)[0] for e in table}

    return {
        "phrases": phrases,
        "words": words,
        "prefixes": prefixes,
        "max_len": max_len,
        "negators": set(lex["negators"]),
        "contrast": multi(lex["contrast"]),
        "concessive": multi(lex["concessive"]),
        "intensifiers": multi(lex["intensifiers"]),
        "sarcasm": sarcasm,
        "sarcasm_prefixes": sarcasm_prefixes,
    }


def _word_weight(word: str, lex) -> float | None:
    if word in lex["words"]:
        return lex["words"][word]
    for prefix, weight in lex["prefixes"]:
        if word.startswith(prefix):
            return weight
    return None


def _is_sarcasm_prone(toks: tuple[str, ...], lex) -> bool:
    return toks in lex["sarcasm"] or (len(toks) == 1 and any(toks[0].startswith(p) for p in lex["sarcasm_prefixes"]))


def _match_at(toks: list[str], i: int, table) -> int:
    """Length of the longest entry of `table` (tuples of tokens) starting at toks[i], 0 if none."""
    for size in (3, 2, 1):
        if tuple(toks[i : i + size]) in table:
            return size
    return 0


def _sentence_hits(toks: list[str], lex, offset: int) -> list[Hit]:
    hits: list[Hit] = []
    i = 0
    n = len(toks)
    factor_from = []  # (position, factor applying to hits at or after it)
    while i < n:
        matched = False
        for size in range(min(lex["max_len"], n - i), 1, -1):
            key = tuple(toks[i : i + size])
            if key in lex["phrases"]:
                weight, _star = lex["phrases"][key]
                hits.append(Hit(offset + i, weight, " ".join(key), _is_sarcasm_prone(key, lex)))
                i += size
                matched = True
                break
        if matched:
            continue
        size = _match_at(toks, i, lex["contrast"])
        if size:
            factor_from.append((i, "contrast"))
            i += size
            continue
        size = _match_at(toks, i, lex["concessive"])
        if size:
            factor_from.append((i, "concessive"))
            i += size
            continue
        weight = _word_weight(toks[i], lex)
        if weight:
            window = toks[max(0, i - 3) : i]
            negated = any(w in lex["negators"] and (w != "plus" or "ne" in window or "n" in window) for w in window)
            scale = 1.0
            for j in (i - 1, i - 2):
                if j >= 0:
                    size = _match_at(toks, j, lex["intensifiers"])
                    if size and j + size == i:
                        scale = lex["intensifiers"][tuple(toks[j : j + size])]
                        break
            weight *= scale
            if negated:
                weight = -0.8 * weight if weight > 0 else -0.5 * weight
            hits.append(Hit(offset + i, weight, toks[i], not negated and _is_sarcasm_prone((toks[i],), lex)))
        i += 1
    for position, kind in factor_from:
        reweighted = []
        for hit in hits:
            after = hit.position - offset >= position
            if kind == "contrast":
                factor = 1.5 if after else 0.6
            else:
                factor = 0.5 if after else 1.0
            reweighted.append(Hit(hit.position, hit.weight * factor, hit.text, hit.sarcasm_prone))
        hits = reweighted
    return hits


def score_sentiment(text: str, language: str) -> SentimentScore:
    """The comment's sentiment in `language` ("en" or "fr")."""
    lex = _compiled(language if language in LEXICONS else "en")
    hits: list[Hit] = []
    offset = 0
    for sentence in sentences(text) or [text]:
        toks = tokens(sentence)
        hits.extend(_sentence_hits(toks, lex, offset))
        offset += len(toks) + 1
    scare_quotes = len(_SCARE_QUOTES.findall(text))
    complaint = sum(h.weight for h in hits if h.weight < 0 and not h.sarcasm_prone) - scare_quotes
    total = -float(scare_quotes)
    for hit in hits:
        if hit.sarcasm_prone and hit.weight > 0 and complaint <= -1.0:
            total -= 0.5 * hit.weight
        else:
            total += hit.weight
    if total >= NEUTRAL_BAND:
        label = "positive"
    elif total <= -NEUTRAL_BAND:
        label = "negative"
    else:
        label = "neutral"
    if label == "neutral":
        confidence = 0.6 if not hits else 1.0 - 0.5 * abs(total) / NEUTRAL_BAND
    else:
        confidence = 0.5 + 0.5 * math.tanh((abs(total) - NEUTRAL_BAND + 0.3) / 1.5)
    return SentimentScore(label, round(min(confidence, 0.99), 3), round(total, 3), tuple(hits))
