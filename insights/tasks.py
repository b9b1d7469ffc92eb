"""Celery entry points of the dashboard: keep the rollups current and send the weekly digest.

Each task calls one function of `insights.rollups` or `insights.digest` and holds no rule itself.
"""

import logging

from celery import shared_task

from insights.analysis import comments_analyse_pending, embedder, status
from insights.digest import digest_send_weekly
from insights.rollups import rollup_count_response, rollup_refresh_recent_funnel


@shared_task
def count_response(response_id: int) -> None:
    # Answers are counted in their announcement now (surveys.services.announcements); kept so that the tasks an
    # older release left in the queue at an upgrade are still consumed.
    rollup_count_response(response_id=response_id)


@shared_task
def refresh_funnel_rollups() -> None:
    rollup_refresh_recent_funnel()


@shared_task
def send_weekly_digests() -> None:
    digest_send_weekly()


@shared_task
def analyse_pending_comments() -> dict[str, int]:
    """Beat job: read the comments and free-text answers changed since they were last read (one batch)."""
    return comments_analyse_pending()


# Embedding a thousand comments takes a minute or two on one core: more than the default limits, still far
# below Redis' one-hour visibility timeout.
@shared_task(time_limit=1800, soft_time_limit=1700)
def discover_themes() -> int:
    """Nightly beat job: group the comments no theme covers into candidate themes."""
    from insights.taxonomy import themes_discover

    model = embedder()
    if model is None:
        logging.getLogger(__name__).info("%s", status()["message"])
        return 0
    return len(themes_discover(embedder=model))
