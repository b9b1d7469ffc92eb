"""Delighted's permalink is a staff page of the answer: login, team rules; no token that can answer."""

import base64

import pytest
from django.test import Client
from rest_framework.test import APIClient

from surveys.services.api_keys import api_key_create
from surveys.tokens import invitation_token
from tests.factories import FollowUpFactory, ManagerFactory, ResponseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(team):
    return FollowUpFactory(team=team, response=ResponseFactory(score=2, comment="Parcel late"))


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_permalink_is_the_staff_page_and_carries_no_answer_token(case):
    response = case.response
    raw = api_key_create(name="r", survey=response.survey)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(raw.encode()).decode())

    body = client.get(f"/v1/survey_responses/{response.pk}.json").json()

    assert body["permalink"] == f"http://testserver/follow-ups/responses/{response.pk}/"
    assert invitation_token(response.invitation.public_id) not in str(body)
    assert "/s/" not in str(body) and "/u/" not in str(body)


def test_response_page_permission_cast(case, agent, other_agent):
    url = f"/follow-ups/responses/{case.response.pk}/"

    anonymous = Client().get(url)
    own_team = signed_in(agent).get(url)
    other_team = signed_in(other_agent).get(url)
    manager = signed_in(ManagerFactory()).get(url)

    assert (anonymous.status_code, anonymous["Location"]) == (302, f"/accounts/login/?next={url}")
    assert own_team.status_code == manager.status_code == 200
    assert "Parcel late" in own_team.content.decode()
    assert other_team.status_code == 404


def test_an_answer_without_a_case_is_a_managers_to_read(agent):
    response = ResponseFactory(score=9)
    url = f"/follow-ups/responses/{response.pk}/"

    assert signed_in(agent).get(url).status_code == 404
    assert signed_in(ManagerFactory()).get(url).status_code == 200


def test_customer_history_shows_an_agent_only_their_teams_answers(case, agent, other_team):
    contact = case.response.contact
    own = FollowUpFactory(team=case.team, response=ResponseFactory(invitation__contact=contact, comment="Own team"))
    FollowUpFactory(team=other_team, response=ResponseFactory(invitation__contact=contact, comment="Billing secret"))
    ResponseFactory(invitation__contact=contact, comment="No case at all", score=10)

    agent_page = signed_in(agent).get(f"/follow-ups/{case.pk}/").content.decode()
    manager_page = signed_in(ManagerFactory()).get(f"/follow-ups/{case.pk}/").content.decode()

    assert "Own team" in agent_page and f"#{own.pk}" in agent_page
    assert "Billing secret" not in agent_page and "No case at all" not in agent_page
    assert "Billing secret" in manager_page and "No case at all" in manager_page


def test_a_comment_purged_under_retention_says_so_on_the_answer_and_the_case(case):
    from datetime import UTC, datetime

    from surveys.models import Response

    Response.objects.filter(pk=case.response_id).update(
        comment="", comment_purged_at=datetime(2026, 3, 4, 12, tzinfo=UTC)
    )
    client = signed_in(ManagerFactory())

    answer_page = client.get(f"/follow-ups/responses/{case.response_id}/").content.decode()
    case_page = client.get(f"/follow-ups/{case.pk}/").content.decode()

    assert "Comment removed on 2026-03-04 under the retention policy." in answer_page
    assert "No comment." not in answer_page
    assert "Removed on 4 Mar 2026 under the retention policy." in case_page
    assert "No reason given." not in case_page
