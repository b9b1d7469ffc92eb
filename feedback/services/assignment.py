"""Who gets a new case: the agent the routing rule's strategy names — the team's own strategy (least open,
round robin, unassigned) unless the rule overrides it, or a property naming the agent — or nobody.

Only the team's agents who can sign in and are not away take part. Locks the team row while choosing, so
two cases opened at once never take the same turn nor both count the same "fewest open"; records when the
chosen agent was last given a case (the tie-break of least open). Must not write cases.
"""

from django.db.models import Count, F, Q
from django.utils import timezone

from feedback.models import OPEN_STATUSES, RoutingRule, Team, User
from feedback.routing import ResponseFacts


def _available_agents(team: Team):
    return User.objects.filter(team=team, role=User.Role.AGENT, is_active=True, is_away=False)


def _least_open_agent(team: Team) -> User | None:
    # The lock makes a concurrent opening wait until this case is committed, then count it.
    Team.objects.select_for_update().get(pk=team.pk)
    return (
        _available_agents(team)
        .annotate(open_count=Count("assigned_follow_ups", filter=Q(assigned_follow_ups__status__in=OPEN_STATUSES)))
        .order_by("open_count", F("last_assigned_at").asc(nulls_first=True), "pk")
        .first()
    )


def _round_robin_agent(team: Team) -> User | None:
    # The team row lock serialises concurrent openings so two cases never take the same turn.
    locked = Team.objects.select_for_update().get(pk=team.pk)
    agents = list(_available_agents(team).order_by("pk"))
    if not agents:
        return None
    agent = agents[locked.round_robin_cursor % len(agents)]
    Team.objects.filter(pk=team.pk).update(round_robin_cursor=locked.round_robin_cursor + 1)
    return agent


def _property_agent(rule: RoutingRule, facts: ResponseFacts) -> User | None:
    email = facts.contact_properties.get(rule.assignee_property) or facts.event_properties.get(rule.assignee_property)
    if not email:
        return None
    return User.objects.filter(email__iexact=str(email).strip(), is_active=True).first()


def _agent_by(strategy: str, team: Team) -> User | None:
    if strategy == Team.Assignment.ROUND_ROBIN:
        return _round_robin_agent(team)
    if strategy == Team.Assignment.LEAST_OPEN:
        return _least_open_agent(team)
    return None


def _given_a_case(agent: User | None) -> User | None:
    if agent is not None:
        User.objects.filter(pk=agent.pk).update(last_assigned_at=timezone.now())
    return agent


def team_assignee(team: Team) -> User | None:
    """The agent the team's own strategy names, or None for the team queue. Call in a transaction."""
    return _given_a_case(_agent_by(team.assignment, team))


def assignee_for(rule: RoutingRule, facts: ResponseFacts) -> User | None:
    """The agent the rule's strategy (or its team's) names, or None for the team queue. Call in a transaction."""
    if rule.assignment == RoutingRule.Assignment.TEAM:
        return team_assignee(rule.team)
    if rule.assignment == RoutingRule.Assignment.PROPERTY:
        return _given_a_case(_property_agent(rule, facts))
    return _given_a_case(_agent_by(rule.assignment, rule.team))
