"""Periodic jobs of the product as a whole; each calls one service and holds no rule of its own."""

from celery import shared_task
from django.conf import settings

from workspace.services.retention import purge_expired as retention_purge


@shared_task
def purge_expired() -> dict[str, int]:
    reports = retention_purge(max_seconds=settings.RETENTION_PURGE_MAX_SECONDS)
    return {report.kind: report.removed for report in reports}
