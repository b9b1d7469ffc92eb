"""Who gets a new case: the team's strategy, a rule's override; who is left out."""

from datetime import UTC, datetime

import pytest
import time_machine

from feedback.models import RoutingRule, Team, User
from feedback.services.answers import follow_up_open_for_response
from tests.factories import (
    FollowUpFactory,
    ManagerFactory,
    ResponseFactory,
    RoutingRuleFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _open_case():
    return follow_up_open_for_response(response_id=ResponseFactory(score=0).pk)


def test_a_rule_following_its_team_uses_the_teams_round_robin():
    team = TeamFactory(assignment=Team.Assignment.ROUND_ROBIN)
    RoutingRuleFactory(team=team)
    first, second = UserFactory(team=team), UserFactory(team=team)

    assert [_open_case().assignee for _ in range(4)] == [first, second, first, second]


def test_the_teams_unassigned_strategy_leaves_new_cases_in_the_queue():
    team = TeamFactory(assignment=Team.Assignment.QUEUE)
    RoutingRuleFactory(team=team)
    UserFactory(team=team)

    assert _open_case().assignee is None


def test_least_open_picks_the_agent_with_fewest_open_cases():
    team = TeamFactory(assignment=Team.Assignment.LEAST_OPEN)
    RoutingRuleFactory(team=team)
    busy, free = UserFactory(team=team), UserFactory(team=team)
    FollowUpFactory(team=team, assignee=busy)
    FollowUpFactory(team=team, assignee=free, status="resolved")

    assert _open_case().assignee == free


@time_machine.travel(datetime(2026, 3, 4, 10, 0, tzinfo=UTC), tick=False)
def test_least_open_ties_go_to_the_agent_longest_since_their_last_case():
    team = TeamFactory(assignment=Team.Assignment.LEAST_OPEN)
    RoutingRuleFactory(team=team)
    recent = UserFactory(team=team, last_assigned_at=datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
    earlier = UserFactory(team=team, last_assigned_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    never = UserFactory(team=team)
    for agent in (recent, earlier, never):
        FollowUpFactory(team=team, assignee=agent)

    assert [_open_case().assignee for _ in range(3)] == [never, earlier, recent]
    never.refresh_from_db()
    assert never.last_assigned_at == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_agents_away_deactivated_or_managers_get_no_case_by_strategy():
    team = TeamFactory(assignment=Team.Assignment.ROUND_ROBIN)
    RoutingRuleFactory(team=team)
    UserFactory(team=team, is_away=True)
    UserFactory(team=team, is_active=False)
    ManagerFactory(team=team)
    present = UserFactory(team=team)

    assert [_open_case().assignee for _ in range(2)] == [present, present]


def test_with_every_agent_away_the_case_waits_in_the_queue():
    team = TeamFactory(assignment=Team.Assignment.LEAST_OPEN)
    RoutingRuleFactory(team=team)
    UserFactory(team=team, is_away=True)

    assert _open_case().assignee is None


def test_a_rules_own_strategy_overrides_the_teams():
    team = TeamFactory(assignment=Team.Assignment.ROUND_ROBIN)
    RoutingRuleFactory(team=team, assignment=RoutingRule.Assignment.QUEUE)
    UserFactory(team=team)

    assert _open_case().assignee is None
    assert User.objects.get(team=team).last_assigned_at is None
