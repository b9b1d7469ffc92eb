from datetime import timedelta

import pytest
from django.utils import timezone

from insights import why
from insights.models import ThemeRollup
from insights.selectors import Filters
from insights.theme_rollups import rollup_count_themes
from tests.factories import InvitationFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def _answer(survey, score, themes, days_ago=0, sentiment="negative", language="en", comment="c"):
    confirmed = timezone.now() - timedelta(days=days_ago)
    response = ResponseFactory(
        invitation=InvitationFactory(survey=survey), score=score, themes=themes, comment=comment,
        analysed_at=confirmed, confirmed_at=confirmed, sentiment=sentiment, language=language,
    )  # fmt: skip
    rollup_count_themes(response_id=response.pk)
    return response


def _filters(days=30):
    today = timezone.localdate()
    return Filters(start=today - timedelta(days=days - 1), end=today)


def test_nps_impact_compares_those_who_mention_with_those_who_do_not():
    impact = why.nps_impact({0: 3, 10: 1}, {0: 4, 10: 6})
    # mentioning: 1 promoter, 3 detractors of 4 -> -50; the others: 5 promoters, 1 detractor of 6 -> 66.7
    assert (impact.with_theme, impact.without_theme, impact.difference) == (-50.0, 66.7, -116.7)
    # 1.96 * sqrt(0.75 / 4 + (1 - (4/6)**2) / 6) * 100
    assert impact.margin == 103.7
    assert impact.is_significant


def test_csat_impact_uses_the_share_of_satisfied_answers():
    impact = why.csat_impact({1: 2, 5: 2}, {1: 2, 5: 8})
    assert (impact.metric, impact.with_theme, impact.without_theme, impact.difference) == ("CSAT %", 50.0, 100.0, -50.0)


def test_impact_without_anyone_outside_has_no_margin():
    impact = why.nps_impact({10: 2}, {10: 2})
    assert (impact.with_theme, impact.without_theme, impact.margin, impact.difference) == (100.0, None, None, None)


def test_why_ranks_themes_by_detractor_mentions_with_their_impact():
    survey = SurveyFactory(kind="nps")
    for _ in range(3):
        _answer(survey, 1, ["delivery"])
    _answer(survey, 2, ["price", "delivery"])
    _answer(survey, 10, ["price"])
    _answer(survey, 9, [])

    result = why.why(_filters())

    assert result.analysed == 6
    assert result.other == 1
    assert [(r.slug, r.name, r.mentions, r.detractors, r.promoters) for r in result.themes] == [
        ("delivery", "Delivery", 4, 4, 0),
        ("price", "Price", 2, 1, 1),
    ]
    delivery = result.themes[0].impact
    assert (delivery.metric, delivery.with_theme, delivery.without_theme) == ("NPS", -100.0, 100.0)


def test_why_keeps_to_the_period_and_survey():
    survey, other_survey = SurveyFactory(kind="nps"), SurveyFactory(kind="nps")
    _answer(survey, 1, ["delivery"], days_ago=40)
    _answer(other_survey, 1, ["price"])

    assert why.why(Filters(start=_filters().start, end=_filters().end, survey_ids=(survey.pk,))).analysed == 0


def test_weekly_theme_trend_gives_each_weeks_share():
    survey = SurveyFactory(kind="nps")
    _answer(survey, 1, ["delivery"])
    _answer(survey, 9, [])

    weeks = why.weekly_theme_trend(_filters(7))

    assert weeks[-1].shares == {"delivery": 50.0}


def test_comments_filter_by_theme_sentiment_language_and_band():
    survey = SurveyFactory(kind="nps")
    late = _answer(survey, 1, ["delivery"], comment="late", sentiment="negative", language="en")
    _answer(survey, 1, ["delivery"], comment="en retard", sentiment="negative", language="fr")
    happy = _answer(survey, 10, [], comment="love it", sentiment="positive")

    assert list(why.comments(_filters(), theme="delivery", language="en")) == [late]
    assert list(why.comments(_filters(), theme="other")) == [happy]
    assert list(why.comments(_filters(), sentiment="positive")) == [happy]
    from dataclasses import replace

    assert [r.comment for r in why.comments(replace(_filters(), band="detractor"))] == ["en retard", "late"]


def test_top_movers_name_the_themes_whose_share_moved_most():
    survey = SurveyFactory(kind="nps")
    _answer(survey, 1, ["delivery"], days_ago=8)
    _answer(survey, 1, ["price"], days_ago=8)
    _answer(survey, 1, ["delivery"], days_ago=1)
    _answer(survey, 1, ["delivery"], days_ago=1)

    movers = why.top_movers(_filters(7))

    assert [(m.slug, m.share, m.previous_share, m.change) for m in movers] == [
        ("delivery", 100.0, 50.0, 50.0),
        ("price", 0.0, 50.0, -50.0),
    ]


def test_why_reads_rollups_only(django_assert_num_queries):
    survey = SurveyFactory(kind="nps")
    for _ in range(25):
        _answer(survey, 1, ["delivery", "price"])
    assert ThemeRollup.objects.exists()
    # rollup histograms, theme names, weekly rows, the count of "other" (fix-check surveys: a subquery)
    with django_assert_num_queries(4):
        why.why(_filters())
