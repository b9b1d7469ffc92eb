import pytest

from insights.text.discovery import discover

np = pytest.importorskip("numpy")


def _vectors(groups):
    """Unit vectors around one direction per group, so the grouping is known in advance."""
    rng = np.random.default_rng(7)
    rows = []
    for group, size in enumerate(groups):
        centre = np.zeros(16)
        centre[group] = 1.0
        for _ in range(size):
            v = centre + rng.normal(0, 0.05, 16)
            rows.append(v / np.linalg.norm(v))
    return np.array(rows, dtype="float32")


COMMENTS = [
    "The loyalty points vanished from my account",
    "My loyalty points were never credited",
    "Where are my loyalty points?",
    "Loyalty points expired without warning",
    "Gift wrapping was torn",
    "The gift wrapping looked cheap",
    "Gift wrapping option missing",
    "Store opening hours are wrong online",
]


def test_discover_groups_similar_comments_and_quotes_them():
    candidates = discover(COMMENTS, _vectors([4, 3, 1]), min_size=3)
    assert [c.size for c in candidates] == [4, 3]
    loyalty, wrapping = candidates
    assert loyalty.key_phrases[0] == "loyalty points"
    assert set(loyalty.typical) <= {0, 1, 2, 3} and len(loyalty.typical) == 3
    assert wrapping.key_phrases[0] == "gift wrapping"
    assert set(wrapping.typical) == {4, 5, 6}


def test_discover_phrases_are_words_of_the_comments():
    for candidate in discover(COMMENTS, _vectors([4, 3, 1])):
        for phrase in candidate.key_phrases:
            assert any(phrase in c.lower() for c in COMMENTS)


def test_discover_needs_enough_comments():
    assert discover(COMMENTS[:2], _vectors([2])) == []


def test_discover_is_deterministic():
    assert discover(COMMENTS, _vectors([4, 3, 1])) == discover(COMMENTS, _vectors([4, 3, 1]))
