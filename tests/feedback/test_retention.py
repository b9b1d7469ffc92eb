"""feedback/retention.py: the thread of a case resolved long enough ago loses its words and keeps its facts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import FollowUp, FollowUpEntry
from tests.factories import FollowUpFactory, UserFactory
from workspace.services.retention import purge_expired

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _case(status: str, resolved_days_ago: int | None, seconds: int = 0) -> FollowUp:
    case = FollowUpFactory(status=status, resolution_note="Refunded Jeanne's order 1234")
    resolved_at = None if resolved_days_ago is None else NOW - timedelta(days=resolved_days_ago, seconds=-seconds)
    FollowUp.objects.filter(pk=case.pk).update(resolved_at=resolved_at)
    FollowUpEntry.objects.create(follow_up=case, kind="note", author=UserFactory(), body="Jeanne called back")
    FollowUpEntry.objects.create(follow_up=case, kind="customer", channel="sms", body="Still broken, 06 12 34 56 78")
    return case


def _words(case: FollowUp) -> tuple:
    case.refresh_from_db()
    return case.resolution_note, sorted(case.entries.values_list("body", flat=True))


def test_a_closed_case_s_thread_is_blanked_at_its_age_and_the_case_kept(settings):
    settings.RETENTION_CLOSED_CASES_DAYS = "365"
    older = _case(FollowUp.Status.RESOLVED, 365, -1)
    boundary = _case(FollowUp.Status.RESOLVED, 365)
    # Resolved long ago, reopened since: still worked, nothing goes.
    reopened = _case(FollowUp.Status.IN_PROGRESS, 900)

    [report] = purge_expired(kinds=["closed_cases"], now=NOW)

    assert report.removed == 1
    assert _words(older) == ("", ["", ""])
    # Who did what and when stays: the loop's figures count the first contact and the resolution.
    assert list(older.entries.values_list("kind", "channel")) == [("note", ""), ("customer", "sms")]
    assert older.status == FollowUp.Status.RESOLVED
    kept = ("Refunded Jeanne's order 1234", ["Jeanne called back", "Still broken, 06 12 34 56 78"])
    assert _words(boundary) == kept
    assert _words(reopened) == kept


def test_a_purged_case_is_not_counted_again(settings):
    settings.RETENTION_CLOSED_CASES_DAYS = "365"
    _case(FollowUp.Status.RESOLVED, 400)

    assert [report.removed for report in purge_expired(kinds=["closed_cases"], now=NOW)] == [1]
    assert [report.removed for report in purge_expired(kinds=["closed_cases"], now=NOW)] == [0]
