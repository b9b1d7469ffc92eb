"""insights/retention.py and the theme rollups' rule for purged comments."""

from datetime import timedelta

import pytest
from django.utils import timezone

from insights.models import ThemeCandidate, ThemeRollup
from insights.theme_rollups import full_theme_rollup_rows, rollup_count_themes
from surveys.models import Response
from tests.factories import ResponseFactory
from workspace.services.retention import purge_expired

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def test_theme_candidates_lose_their_quotes_at_the_comments_age(settings):
    settings.RETENTION_COMMENTS_DAYS = "730"
    common = {"key_phrases": ["late"], "size": 3, "typical_response_ids": [1, 2, 3]}
    older = ThemeCandidate.objects.create(
        **common, typical_comments=["Jeanne: late"], discovered_at=NOW - timedelta(days=730, seconds=1)
    )
    boundary = ThemeCandidate.objects.create(**common, typical_comments=["Late"], discovered_at=NOW - timedelta(730))

    [report] = purge_expired(kinds=["theme_quotes"], now=NOW)

    assert report.removed == 1
    older.refresh_from_db()
    assert (older.typical_comments, older.key_phrases, older.typical_response_ids) == ([], ["late"], [1, 2, 3])
    assert ThemeCandidate.objects.get(pk=boundary.pk).typical_comments == ["Late"]


def _stored():
    return {
        (r.day, r.survey_id, r.channel, r.event_type, r.theme, r.score): r.count
        for r in ThemeRollup.objects.exclude(count=0)
    }


def test_a_purged_comment_is_still_counted_under_its_themes(settings):
    settings.RETENTION_COMMENTS_DAYS = "730"
    response = ResponseFactory(
        comment="Late", themes=["delivery"], score=2, analysed_at=NOW, confirmed_at=NOW - timedelta(days=800)
    )
    rollup_count_themes(response_id=response.pk)
    before = _stored()

    purge_expired(kinds=["comments"], now=NOW)
    rollup_count_themes(response_id=response.pk)  # a later recount of the answer (a changed score would do it)

    assert Response.objects.get(pk=response.pk).comment == ""
    assert _stored() == before == full_theme_rollup_rows()
    assert sum(before.values()) == 2  # all comments, and "delivery"
