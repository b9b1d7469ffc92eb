from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.selectors import follow_up_get, follow_up_list
from tests.factories import FollowUpFactory, ResponseFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_follow_up_list_all_for_an_agent_is_their_team_only(agent, team):
    mine = FollowUpFactory(team=team)
    FollowUpFactory()

    assert list(follow_up_list(user=agent, view="all")) == [mine]


def test_follow_up_list_defaults_to_the_persons_work(agent, manager, team, other_team):
    """Work: their open cases and their teams' unassigned ones; not a colleague's, not a snoozed or resolved one."""
    now = timezone.now()
    assigned = FollowUpFactory(team=team, assignee=agent)
    queued = FollowUpFactory(team=team)
    FollowUpFactory(team=team, assignee=UserFactory(team=team))
    FollowUpFactory(team=team, snoozed_until=now + timedelta(days=1))
    FollowUpFactory(team=team, assignee=agent, status="resolved")
    queued_elsewhere = FollowUpFactory(team=other_team)
    for_manager = FollowUpFactory(team=other_team, assignee=manager)

    assert set(follow_up_list(user=agent)) == {assigned, queued}
    # A manager of no team works their own cases and every team's queue.
    assert set(follow_up_list(user=manager)) == {queued, queued_elsewhere, for_manager}


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
