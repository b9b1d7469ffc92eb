import pytest
from django.utils import timezone

from insights import analysis
from insights.models import ThemeRollup, ThemeTally
from insights.theme_rollups import full_theme_rollup_rows, rollup_count_themes, rollup_uncount_themes
from surveys.models import Response
from tests.factories import ResponseFactory

pytestmark = pytest.mark.django_db


def _stored():
    return {
        (r.day, r.survey_id, r.channel, r.event_type, r.theme, r.score): r.count
        for r in ThemeRollup.objects.exclude(count=0)
    }


def _analysed(comment, themes, score=3):
    return ResponseFactory(comment=comment, themes=themes, score=score, analysed_at=timezone.now(), language="en")


def test_count_themes_counts_each_theme_and_the_total_once():
    response = _analysed("Late and pricey", ["delivery", "price"], score=2)

    rollup_count_themes(response_id=response.pk)
    rollup_count_themes(response_id=response.pk)  # idempotent

    day = timezone.localdate(response.confirmed_at)
    base = (day, response.survey_id, "email", "")
    assert _stored() == {(*base, "", 2): 1, (*base, "delivery", 2): 1, (*base, "price", 2): 1}
    assert _stored() == full_theme_rollup_rows()


def test_changed_themes_or_score_move_the_counts():
    response = _analysed("Late", ["delivery"], score=2)
    rollup_count_themes(response_id=response.pk)

    Response.objects.filter(pk=response.pk).update(themes=["price"], score=9)
    rollup_count_themes(response_id=response.pk)

    assert ThemeTally.objects.get(response_id=response.pk).themes == ["price"]
    assert {k[4:]: v for k, v in _stored().items()} == {("", 9): 1, ("price", 9): 1}
    assert _stored() == full_theme_rollup_rows()


def test_a_removed_comment_leaves_the_rollups():
    response = _analysed("Late", ["delivery"])
    rollup_count_themes(response_id=response.pk)

    Response.objects.filter(pk=response.pk).update(comment="", themes=[])
    rollup_count_themes(response_id=response.pk)

    assert _stored() == {}
    assert not ThemeTally.objects.exists()


def test_an_unread_comment_is_not_counted():
    response = ResponseFactory(comment="Late")
    rollup_count_themes(response_id=response.pk)
    assert _stored() == {}


def test_uncount_takes_a_withdrawn_response_out():
    response = _analysed("Late", ["delivery"])
    rollup_count_themes(response_id=response.pk)

    rollup_uncount_themes(response_id=response.pk)

    assert _stored() == {}


def test_a_score_change_moves_the_theme_counts_through_the_signal(django_capture_on_commit_callbacks, settings):
    from surveys.services.responses import response_submit

    settings.INSIGHTS_EMBEDDER = "none"
    analysis.reset()
    response = ResponseFactory(comment="Delivery was late", analysis_pending=True, score=2)
    analysis.comments_analyse_pending()

    with django_capture_on_commit_callbacks(execute=True):
        response_submit(invitation=response.invitation, score=9)

    assert {k[4:]: v for k, v in _stored().items()} == {("", 9): 1, ("delivery", 9): 1}
