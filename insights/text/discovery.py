"""Candidate themes from comments no theme covers: groups of similar comments, in their own words.

`discover(comments, vectors)` groups the embeddings of `other` comments (k-means with cosine
similarity, seeded deterministically), keeps groups of at least `min_size`, and describes each
one extractively: its key phrases (the words and two-word phrases that are frequent in the group
and rare outside it, as written in the comments) and its three most typical comments (closest to
the group's centre). Nothing is generated; a manager reads real comments and decides.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .normalize import tokens

STOPWORDS = set(
    """a an the and or but of to in on at for with from by is are was were be been it its this that i my me we
    our you your they them their have has had do does did not no very so just too also all any some more
    there here what when how who which will would could should can than then as if up out get got one
    le la les un une des du de d l et ou mais est sont etait c ce cette ces je j me m mon ma mes nous notre
    vous votre vos il elle ils elles leur a au aux en dans sur pour avec par sans qui que qu ne n pas plus
    tres trop tout bien ca y se s on ai avez ont fait""".split()
)


@dataclass(frozen=True)
class Candidate:
    size: int
    key_phrases: tuple[str, ...]
    typical: tuple[int, ...]  # indexes into the comments given, most typical first


def _kmeans(vectors, k: int, iterations: int = 25):
    import numpy as np

    # Deterministic farthest-point seeding: the same comments give the same candidates.
    centres = [vectors[0]]
    for _ in range(1, k):
        similarity = np.max(vectors @ np.array(centres).T, axis=1)
        centres.append(vectors[int(np.argmin(similarity))])
    centres = np.array(centres)
    assign = np.zeros(len(vectors), dtype=int)
    for _ in range(iterations):
        assign = np.argmax(vectors @ centres.T, axis=1)
        for c in range(k):
            members = vectors[assign == c]
            if len(members):
                centre = members.mean(axis=0)
                centres[c] = centre / (np.linalg.norm(centre) or 1.0)
    return assign, centres


def _grams(text: str) -> set[str]:
    words = tokens(text)
    grams = {w for w in words if w not in STOPWORDS and len(w) > 2 and not w.isdigit()}
    for a, b in zip(words, words[1:], strict=False):
        if a not in STOPWORDS and b not in STOPWORDS and len(a) > 2 and len(b) > 2:
            grams.add(f"{a} {b}")
    return grams


def discover(comments: Sequence[str], vectors, min_size: int = 3, max_candidates: int = 8, phrases: int = 4):
    """Candidate themes among `comments` (their embeddings in `vectors`), largest first."""
    import numpy as np

    n = len(comments)
    if n < min_size:
        return []
    vectors = np.asarray(vectors, dtype="float32")
    k = max(1, min(max_candidates * 2, round(math.sqrt(n))))
    assign, centres = _kmeans(vectors, k)
    grams = [_grams(c) for c in comments]
    document_frequency = Counter(g for gs in grams for g in gs)
    candidates = []
    for c in range(k):
        members = np.flatnonzero(assign == c)
        if len(members) < min_size:
            continue
        inside = Counter(g for i in members for g in grams[i])
        scored = []
        for gram, count in inside.items():
            if count < 2:
                continue
            outside = document_frequency[gram] - count
            # frequent inside, rare outside; two-word phrases read better than lone words
            score = (count / len(members)) * math.log((n + 1) / (outside + 1)) * (1.3 if " " in gram else 1.0)
            scored.append((score, gram))
        scored.sort(key=lambda item: (-item[0], item[1]))
        chosen: list[str] = []
        for _score, gram in scored:
            if any(gram in other or other in gram for other in chosen):
                continue
            chosen.append(gram)
            if len(chosen) == phrases:
                break
        closeness = vectors[members] @ centres[c]
        typical = tuple(int(members[j]) for j in np.argsort(-closeness)[:3])
        candidates.append(Candidate(size=int(len(members)), key_phrases=tuple(chosen), typical=typical))
    candidates.sort(key=lambda cand: (-cand.size, cand.typical))
    return candidates[:max_candidates]
