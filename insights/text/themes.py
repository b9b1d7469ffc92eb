"""Which themes of a taxonomy a comment mentions: seed phrases first, an embedding model second.

`ThemeMatcher(taxonomy)` compiles the seeds once; `match(text)` returns the slugs of the themes
whose seeds occur in the comment (on folded tokens; `*` matches a word's start, a lone `*` inside
a phrase matches one or two words). With an embedder, a comment that no seed of a theme names is
still given it when one of its sentences is close enough to the theme's seeds (cosine similarity
above `semantic_threshold`), which catches paraphrases no list foresees. Zero themes means `other`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .normalize import sentences, tokens
from .taxonomy import ThemeSpec

OTHER = "other"


@dataclass(frozen=True)
class _Seed:
    parts: tuple[str, ...]  # tokens; "*" alone is a gap of one or two words
    star: bool  # the last token is a prefix

    def occurs_in(self, toks: Sequence[str]) -> bool:
        return any(self._at(toks, i, 0) for i in range(len(toks)))

    def _at(self, toks: Sequence[str], i: int, k: int) -> bool:
        if k == len(self.parts):
            return True
        if i >= len(toks):
            return False
        part = self.parts[k]
        if part == "*":
            return self._at(toks, i + 1, k + 1) or self._at(toks, i + 2, k + 1)
        last = k == len(self.parts) - 1
        if toks[i] == part or (last and self.star and toks[i].startswith(part)):
            return self._at(toks, i + 1, k + 1)
        return False


def compile_seed(seed: str) -> _Seed | None:
    raw = seed.strip()
    star = raw.endswith("*") and not raw.endswith(" *")
    words = [("*" if word == "*" else None) or word for word in raw.rstrip("*").split()]
    parts: list[str] = []
    for word in words:
        parts.extend(["*"] if word == "*" else tokens(word))
    if not parts or all(p == "*" for p in parts):
        return None
    return _Seed(tuple(parts), star)


class ThemeMatcher:
    """Matches comments against one taxonomy; build once per taxonomy, reuse for every comment."""

    def __init__(self, taxonomy: Iterable[ThemeSpec], embedder=None, semantic_threshold: float = 0.86):
        self.taxonomy = tuple(taxonomy)
        self.seeds = {
            theme.slug: [seed for seed in (compile_seed(s) for s in theme.seeds) if seed] for theme in self.taxonomy
        }
        self.embedder = embedder
        self.semantic_threshold = semantic_threshold
        self._seed_vectors = None

    def lexical(self, text: str) -> list[str]:
        toks = tokens(text)
        return [slug for slug, seeds in self.seeds.items() if any(seed.occurs_in(toks) for seed in seeds)]

    def _vectors(self):
        if self._seed_vectors is None:
            self._seed_vectors = {}
            for theme in self.taxonomy:
                phrases = [seed.rstrip("*").replace(" * ", " ") for seed in theme.seeds if len(seed) > 3]
                phrases = [p for p in phrases if " " in p] or phrases  # phrases carry meaning; lone words less so
                if phrases:
                    self._seed_vectors[theme.slug] = self.embedder.embed(phrases)
        return self._seed_vectors

    def similarities(self, text: str, vectors=None) -> dict[str, float]:
        """Highest cosine similarity of any sentence of the comment to each theme's seeds."""
        if self.embedder is None:
            return {}
        parts = sentences(text) or [text]
        if vectors is None:
            vectors = self.embedder.embed(parts)
        return {slug: float((vectors @ seeds.T).max()) for slug, seeds in self._vectors().items()}

    def match(self, text: str, vectors=None) -> list[str]:
        """Slugs of the themes the comment mentions, in taxonomy order; [] is `other`."""
        found = set(self.lexical(text))
        if self.embedder is not None and text.strip():
            for slug, similarity in self.similarities(text, vectors).items():
                if similarity >= self.semantic_threshold:
                    found.add(slug)
        return [theme.slug for theme in self.taxonomy if theme.slug in found]
