import pytest
import time_machine
from django.urls import reverse

from feedback.rollups import rollup_rebuild
from tests.factories import FollowUpFactory, ResponseFactory, RoutingRuleFactory, SurveyFactory, UserFactory

QUERIES = 18


@pytest.mark.django_db
def test_dashboard_anonymous_redirects_to_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/"


@pytest.mark.django_db
def test_dashboard_manager_sees_it(client, manager):
    client.force_login(manager)
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["agent", "other_agent"])
def test_dashboard_agent_of_a_team_sees_their_slice(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.django_db
def test_dashboard_agent_without_team_is_forbidden(client):
    client.force_login(UserFactory(team=None))
    assert client.get(reverse("dashboard")).status_code == 403


NOW = "2026-11-10 12:00:00+00:00"


def _answers(n, survey, score=3, comment="Too slow"):
    responses = [ResponseFactory(invitation__survey=survey, score=score, comment=comment) for _ in range(n)]
    for response in responses:
        FollowUpFactory(response=response)
    return responses


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_dashboard_shows_scores_loop_charts_and_comments(client, manager):
    survey = SurveyFactory(kind="nps", name="Delivery")
    _answers(3, survey, score=3)
    _answers(1, survey, score=10, comment="Lovely")
    rollup_rebuild()
    client.force_login(manager)
    response = client.get(reverse("dashboard"), {"period": "7", "band": "detractor"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>-50.0 <small>±" in html
    assert "1 promoters · 0 passives · 3 detractors (n=4, 95% margin)" in html
    # The loop reads its rollups, kept current as the cases were saved (no rebuild needed for them).
    assert "With a follow-up<strong>100%</strong>3 of 3; 4 cases opened" in html
    assert "SendGrid reported opened (its tracking pixel) or that were answered" in html
    assert 'aria-label="NPS per week: 02 Nov –; 09 Nov -50"' in html
    assert "Too slow" in html and "Lovely" not in html
    assert "Delivery</td>" in html and "<em>(small)</em>" in html
    assert 'href="/dashboard/export/responses.csv?period=7&amp;band=detractor"' in html


@pytest.mark.django_db
def test_dashboard_custom_period_needs_both_days(client, manager):
    client.force_login(manager)
    response = client.get(reverse("dashboard"), {"period": "custom", "start": "2026-11-10", "end": "2026-11-01"})
    assert response.status_code == 400
    assert "The last day must be on or after the first day." in response.content.decode()
    response = client.get(reverse("dashboard"), {"period": "custom", "start": "not a date"})
    assert response.status_code == 400
    assert "Pick the last day of a custom period." in response.content.decode()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_dashboard_agent_sees_only_their_teams_surveys(client, agent):
    mine, theirs = SurveyFactory(kind="nps"), SurveyFactory(kind="nps")
    RoutingRuleFactory(team=agent.team, survey=mine)
    _answers(2, mine, score=10)
    _answers(5, theirs, score=0)
    rollup_rebuild()
    client.force_login(agent)
    html = client.get(reverse("dashboard")).content.decode()
    assert "Responses<strong>2</strong>" in html
    html = client.get(reverse("dashboard"), {"survey": theirs.pk}).content.decode()
    assert "Responses<strong>0</strong>" in html


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("n", [1, 20])
def test_dashboard_query_count_does_not_grow_with_data(client, manager, django_assert_num_queries, n):
    survey = SurveyFactory(kind="nps")
    _answers(n, survey)
    rollup_rebuild()
    client.force_login(manager)
    # Session + user; scores now and before; funnel; 2 for trends; 4 breakdowns + survey names;
    # 5 for the loop; latest comments.
    with django_assert_num_queries(QUERIES):
        assert client.get(reverse("dashboard"), {"by": "event:store"}).status_code == 200


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_dashboard_keeps_did_we_fix_it_answers_out_until_their_survey_is_picked(client, manager):
    fix_check = SurveyFactory(kind="thumbs", name="Did we fix it?", is_fix_check=True)
    ResponseFactory(invitation__survey=SurveyFactory(kind="nps"), score=9)
    for score in (0, 1):
        ResponseFactory(invitation__survey=fix_check, score=score)
    rollup_rebuild()
    client.force_login(manager)

    everything = client.get(reverse("dashboard"), {"period": "7"})
    picked = client.get(reverse("dashboard"), {"period": "7", "survey": fix_check.pk})

    assert everything.context["scores"].counts == {"nps": 1, "csat": 0, "ces": 0, "five_star": 0, "thumbs": 0}
    assert 'id="fix-check-note"' in everything.content.decode()
    assert picked.context["scores"].counts == {"nps": 0, "csat": 0, "ces": 0, "five_star": 0, "thumbs": 2}
    assert "Thumbs up<strong>50.0%</strong>n=2" in picked.content.decode()
    assert 'id="fix-check-note"' not in picked.content.decode()
