"""Tokens of a comment as the analysers see them: lower case, accents folded, apostrophes split.

Pure functions over strings; no Django, no model. "L'appli n'a pas marché" becomes
["l", "appli", "n", "a", "pas", "marche"]: French elisions become their own token so that
negation (`n` ... `pas`) and phrases (`l appli`) are matched the same way as English.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def fold(text: str) -> str:
    """Lower case with accents removed and typographic apostrophes made plain."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("œ", "oe").replace("Œ", "oe")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """Words of the text, folded; "n't" is kept as the token `not` so negation reads the same."""
    folded = fold(text).replace("n't", " not").replace("cannot", "can not")
    return _WORD.findall(folded)


def sentences(text: str) -> list[str]:
    """The text cut into sentences (naive: on . ! ? ; and new lines), empty ones dropped."""
    return [part.strip() for part in _SENTENCE.split(text) if part and part.strip()]
