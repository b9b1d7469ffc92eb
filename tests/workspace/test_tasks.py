"""workspace/tasks.py: the beat job runs the purge within its time budget."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import ProviderEvent
from workspace import tasks

pytestmark = pytest.mark.django_db


def test_the_beat_job_is_scheduled(settings):
    assert settings.CELERY_BEAT_SCHEDULE["purge-expired-data"] == {
        "task": "workspace.tasks.purge_expired",
        "schedule": settings.RETENTION_PURGE_INTERVAL_SECONDS,
    }


def test_purge_expired_runs_with_the_budget_and_returns_what_each_kind_lost(monkeypatch, settings):
    settings.RETENTION_PURGE_MAX_SECONDS = 7.0
    ProviderEvent.objects.create(provider="twilio", event_id="SM1", kind="delivered")
    ProviderEvent.objects.update(received_at=timezone.now() - timedelta(days=31))
    budgets = []
    real = tasks.retention_purge
    monkeypatch.setattr(tasks, "retention_purge", lambda **kwargs: budgets.append(kwargs) or real(**kwargs))

    result = tasks.purge_expired.apply().get()

    assert budgets == [{"max_seconds": 7.0}]
    assert result["provider_events"] == 1
    assert set(result.values()) == {0, 1}
