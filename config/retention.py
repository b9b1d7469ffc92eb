"""Retention: what an app lets the purge remove from its tables, and after how long (docs/retention.md).

Each app lists its purgeable kinds in its own `retention.py`, as `PURGEABLES` (found the way Celery finds
`tasks.py`); `workspace.services.retention` runs them all in bounded batches and records what went. An app
joins by adding that module: nothing here or in `workspace` names it. Config imports no app; apps import this.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

# A setting's value that keeps its kind of data for as long as the rows exist.
FOREVER = "forever"


@dataclass(frozen=True)
class Purgeable:
    """One kind of data the purge removes once it is older than its setting's days.

    `rows()` are the rows still to purge whatever their age; the purge adds `clock < cutoff` and walks them in
    (clock, id) order, so `clock` must be indexed (a partial index matching `rows()` keeps the walk off the rows
    already purged). `purge(ids, now)` removes or blanks those rows inside the batch's transaction and returns how
    many it changed. It must leave every rollup as a recomputation would find it.
    """

    kind: str  # names it in logs, the audit trail and `purge_expired --kind`
    label: str  # "message bodies": what a person reads in the log and the audit trail
    setting: str  # the setting holding its days, e.g. RETENTION_MESSAGE_BODIES_DAYS
    clock: str  # the time column its age is measured on
    rows: Callable[[], QuerySet]
    purge: Callable[[list[int], datetime], int]
    minimum_days: int = 1
    why_minimum: str = ""  # what a shorter retention would break
    # True when the purge only blanks columns no foreign key points at: the batch's rows are then locked
    # FOR NO KEY UPDATE, which lets rows referencing them (a provider event of a message) be inserted meanwhile.
    blanks: bool = False


def retention_days(value: object) -> int | None:
    """A retention setting's days, None for "forever"; ValueError for anything else."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text == FOREVER:
            return None
        if not text.isdigit():
            raise ValueError(f"{value!r} is neither a whole number of days nor {FOREVER!r}")
        return int(text)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"{value!r} is neither a whole number of days nor {FOREVER!r}")
