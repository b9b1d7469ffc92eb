"""Rows handed to workers once the transaction that stored them commits, whatever the broker does."""

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)


def hand_over_on_commit(task, ids: list[int], *, what: str, refused: Callable[[list[int]], None] | None = None) -> None:
    """Send `task.delay(id)` for each of `ids` once the caller's transaction commits.

    Robust: the rows are stored whatever the broker does, so a refused publish (Redis down) fails neither the
    request that stored them nor the commit's other hooks. It is logged, `refused(ids)` may mark the rows for an
    early retry, and the beat job that sweeps them (`what`, for the log) hands them over later.
    """

    def enqueue() -> None:
        try:
            for pk in ids:
                task.delay(pk)
        except Exception as exc:
            if refused is not None:
                refused(ids)
            logger.warning(
                "%d %s not handed to a worker (%s: %s); the beat job will hand them over",
                len(ids),
                what,
                type(exc).__name__,
                exc,
            )

    if ids:
        transaction.on_commit(enqueue, robust=True)
