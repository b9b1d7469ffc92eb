"""What the retention purge removes from insights' tables (config/retention.py, docs/retention.md)."""

from datetime import datetime

from config.retention import Purgeable
from insights.models import ThemeCandidate


def _theme_quotes_rows():
    return ThemeCandidate.objects.exclude(typical_comments=[])


def _theme_quotes_purge(ids: list[int], now: datetime) -> int:
    # The candidate stays (its key phrases, size and typical answers' ids); the comments it quotes go.
    return ThemeCandidate.objects.filter(pk__in=ids).update(typical_comments=[])


PURGEABLES = [
    Purgeable(
        kind="theme_quotes",
        label="comments quoted by theme candidates",
        setting="RETENTION_COMMENTS_DAYS",
        # A small table (a few candidates a night): no index of its own.
        clock="discovered_at",
        rows=_theme_quotes_rows,
        purge=_theme_quotes_purge,
        blanks=True,
    ),
]
