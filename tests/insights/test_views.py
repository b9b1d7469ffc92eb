import re

import pytest
import time_machine
from django.urls import reverse

from insights.rollups import rollup_rebuild
from tests.factories import (
    EventFactory,
    FollowUpFactory,
    ResponseFactory,
    RoutingRuleFactory,
    SurveyFactory,
    TriggerRuleFactory,
    UserFactory,
)

QUERIES = 25


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
@time_machine.travel(NOW, tick=False)
def test_a_french_speaking_manager_reads_the_dashboard_in_french(client):
    survey = SurveyFactory(kind="nps", name="Livraison")
    _answers(3, survey, score=3)
    _answers(1, survey, score=10, comment="Parfait")
    rollup_rebuild()
    client.force_login(UserFactory(role="manager", team=None, language="fr"))

    html = client.get(reverse("dashboard"), {"period": "7"}).content.decode()

    assert '<html lang="fr">' in html
    assert "<h1>Tableau de bord</h1>" in html
    assert '<option value="7" selected>7 derniers jours</option>' in html
    # Django writes the abbreviated month capitalised in French too ("Nov"); the words around it are French.
    assert "4 Nov 2026 – 10 Nov 2026 (7 jours), comparé à la période du 28 Oct 2026 au 3 Nov 2026." in html
    assert "<strong>-50,0 <small>±" in html
    assert "1 promoteurs · 0 passifs · 3 détracteurs (n=4, marge à 95 %)" in html
    assert "<h2>Clore la boucle</h2>" in html
    assert "Avec un cas<strong>100%</strong>3 sur 3 ; 4 cas ouverts" in html
    assert 'aria-label="NPS par semaine : 02 Nov –; 09 Nov -50"' in html
    assert "<th>Délai (SLA)</th>" not in html and "<th>Dans le délai (SLA)</th>" in html


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
    # The picker offers their survey only; another team's id is refused, not answered with its figures.
    assert f'<option value="{mine.pk}">{mine.name}</option>' in html
    assert f'value="{theirs.pk}"' not in html
    response = client.get(reverse("dashboard"), {"survey": theirs.pk})
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("n", [1, 20])
def test_dashboard_query_count_does_not_grow_with_data(client, manager, django_assert_num_queries, n):
    survey = SurveyFactory(kind="nps")
    _answers(n, survey)
    rollup_rebuild()
    client.force_login(manager)
    # Session + user; the survey and event type pickers (2); scores now and before; funnel; 2 for trends;
    # 4 breakdowns + survey names; 5 for the loop; latest comments; the theme picker; the Why section (its
    # rollups, theme names, weekly rows, comments with no theme).
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


def _selected(html: str, name: str) -> str:
    """The value a <select> of the rendered form shows (what pressing Show would submit)."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    found = re.search(r'<option value="([^"]*)"[^>]*selected', select)
    return found.group(1) if found else re.search(r'<option value="([^"]*)"', select).group(1)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_dashboard_period_picker_shows_and_keeps_the_period_in_effect(client, manager):
    client.force_login(manager)
    first = client.get(reverse("dashboard"))
    assert first.context["filters"].days == 30
    assert _selected(first.content.decode(), "period") == "30"
    assert "12 Oct 2026 – 10 Nov 2026 (30 days)" in first.content.decode()

    # Changing another filter and pressing Show submits what the picker shows: still 30 days (it was 7).
    shown = _selected(first.content.decode(), "period")
    second = client.get(reverse("dashboard"), {"period": shown, "channel": "sms"})
    assert second.context["filters"].days == 30
    assert _selected(second.content.decode(), "period") == "30"

    picked = client.get(reverse("dashboard"), {"period": "90"})
    assert picked.context["filters"].days == 90
    assert _selected(picked.content.decode(), "period") == "90"


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_dashboard_survey_and_event_type_pickers_list_what_exists_by_name(client, manager):
    delivery = SurveyFactory(kind="nps", name="Delivery NPS")
    fix_check = SurveyFactory(kind="thumbs", name="Fixed?", is_fix_check=True)
    TriggerRuleFactory(event_type="order_delivered", survey=delivery)
    ResponseFactory(invitation__survey=delivery, invitation__event=EventFactory(type="ticket_solved"), score=9)
    rollup_rebuild()
    client.force_login(manager)

    html = client.get(reverse("dashboard")).content.decode()

    survey_select = re.search(r'<select name="survey"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', survey_select) == [
        ("", "All surveys"),
        (str(delivery.pk), "Delivery NPS"),
        (str(fix_check.pk), "Fixed? (did we fix it?)"),
    ]
    event_select = re.search(r'<select name="event_type"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)"', event_select) == ["", "order_delivered", "ticket_solved"]

    response = client.get(reverse("dashboard"), {"event_type": "ticket_solved", "survey": delivery.pk})
    assert response.context["scores"].responses == 1
    assert _selected(response.content.decode(), "survey") == str(delivery.pk)
    assert client.get(reverse("dashboard"), {"event_type": "no_such_type"}).status_code == 400


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_dashboard_why_section_ranks_themes_and_filters_comments(client, manager):
    from insights.theme_rollups import rollup_count_themes

    survey = SurveyFactory(kind="nps")
    late = ResponseFactory(
        invitation__survey=survey, score=1, comment="Late again", themes=["delivery"], sentiment="negative",
        language="en", analysed_at=NOW,
    )  # fmt: skip
    happy = ResponseFactory(
        invitation__survey=survey, score=10, comment="Super", themes=[], sentiment="positive", language="fr",
        analysed_at=NOW,
    )  # fmt: skip
    for response in (late, happy):
        rollup_count_themes(response_id=response.pk)
    client.force_login(manager)

    page = client.get(reverse("dashboard"), {"period": "7"})

    body = page.content.decode()
    assert page.status_code == 200
    assert [(row.slug, row.detractors, row.promoters) for row in page.context["why"].themes] == [("delivery", 1, 0)]
    assert 'id="why"' in body and "theme discovery off" in body
    assert '<span class="chip theme">delivery</span>' in body
    filtered = client.get(reverse("dashboard"), {"period": "7", "theme": "other", "language": "fr"})
    assert [r.pk for r in filtered.context["comments"]] == [happy.pk]
    bad = client.get(reverse("dashboard"), {"sentiment": "furious"})
    assert bad.status_code == 400


@pytest.mark.django_db
def test_dashboard_filters_and_counts_the_web_widget_as_a_channel(client, manager):
    survey = SurveyFactory(kind="nps", name="In-app")
    ResponseFactory(invitation__survey=survey, invitation__channel="web", score=10)
    ResponseFactory(invitation__survey=survey, invitation__channel="email", score=2)
    rollup_rebuild()
    client.force_login(manager)

    html = client.get(reverse("dashboard"), {"period": "7", "channel": "web"}).content.decode()

    assert '<option value="web" selected>Web widget</option>' in html
    assert re.search(r"<tr><td>Web widget</td><td>1</td><td>1</td>\s*<td>1 \(100.0%\)</td>", html)
    assert "1 promoters · 0 passives · 0 detractors" in html
