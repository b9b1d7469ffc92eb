"""Celery entry points of the dashboard: keep the rollups current and send the weekly digest.

Each task calls one function of `insights.rollups` or `insights.digest` and holds no rule itself.
"""

from celery import shared_task

from insights.digest import digest_send_weekly
from insights.rollups import rollup_count_response, rollup_refresh_recent_funnel


@shared_task
def count_response(response_id: int) -> None:
    rollup_count_response(response_id=response_id)


@shared_task
def refresh_funnel_rollups() -> None:
    rollup_refresh_recent_funnel()


@shared_task
def send_weekly_digests() -> None:
    digest_send_weekly()
