import pytest

from feedback.selectors import follow_up_get, follow_up_list
from tests.factories import FollowUpFactory, ResponseFactory

pytestmark = pytest.mark.django_db


def test_follow_up_list_all_for_an_agent_is_their_team_only(agent, team):
    mine = FollowUpFactory(team=team)
    FollowUpFactory()

    assert list(follow_up_list(user=agent, view="all")) == [mine]


def test_follow_up_list_defaults_to_mine_for_agents_and_all_for_managers(agent, manager, team):
    assigned = FollowUpFactory(team=team, assignee=agent)
    queued = FollowUpFactory(team=team)

    assert list(follow_up_list(user=agent)) == [assigned]
    assert set(follow_up_list(user=manager)) == {assigned, queued}


def test_follow_up_list_sorts_by_priority_then_due(manager):
    low = FollowUpFactory(priority="low")
    high = FollowUpFactory(priority="high")
    normal = FollowUpFactory(priority="normal")

    assert list(follow_up_list(user=manager, sort="priority")) == [high, normal, low]


def test_follow_up_list_sorts_by_score_descending(manager):
    two = FollowUpFactory(response=ResponseFactory(score=2))
    five = FollowUpFactory(response=ResponseFactory(score=5))

    assert list(follow_up_list(user=manager, sort="-score")) == [five, two]


def test_follow_up_get_hides_another_teams_case(other_agent, team):
    follow_up = FollowUpFactory(team=team)

    assert follow_up_get(user=other_agent, follow_up_id=follow_up.pk) is None
