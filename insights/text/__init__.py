"""Reading customers' comments offline: language, sentiment, themes and discovery of new themes.

Plain functions and classes over plain values, importable without Django or a database:

- `detect_language(text, hint)` (language.py), `score_sentiment(text, language)` (sentiment.py);
- `ThemeMatcher(taxonomy)` (themes.py) with `DEFAULT_TAXONOMY` (taxonomy.py);
- `Analyser(taxonomy, embedder).analyse(text, locale)` (engine.py) and `mismatch(band, sentiment)`;
- `discover(comments, vectors)` (discovery.py): candidate themes among `other` comments;
- `load_embedder(spec)` (embeddings.py): the sentence-embedding model behind a small interface.
"""

from .discovery import Candidate, discover
from .embeddings import INSTALL_HINT, EmbedderUnavailable, load_embedder
from .engine import Analyser, Analysis, mismatch
from .language import detect_language
from .sentiment import score_sentiment
from .taxonomy import DEFAULT_TAXONOMY, ThemeSpec
from .themes import OTHER, ThemeMatcher

__all__ = [
    "DEFAULT_TAXONOMY",
    "INSTALL_HINT",
    "OTHER",
    "Analyser",
    "Analysis",
    "Candidate",
    "EmbedderUnavailable",
    "ThemeMatcher",
    "ThemeSpec",
    "detect_language",
    "discover",
    "load_embedder",
    "mismatch",
    "score_sentiment",
]
