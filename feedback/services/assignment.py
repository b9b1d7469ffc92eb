"""Who gets a new case: the agent a routing rule's strategy names (round robin, least open, a property), or nobody.

Reads agents and locks the team row for round robin; must not write cases.
"""

from django.db.models import Count, Q

from feedback.models import OPEN_STATUSES, RoutingRule, Team, User
from feedback.routing import ResponseFacts


def _agents(team: Team):
    return User.objects.filter(team=team, role=User.Role.AGENT, is_active=True).order_by("pk")


def _least_open_agent(team: Team) -> User | None:
    return (
        _agents(team)
        .annotate(open_count=Count("assigned_follow_ups", filter=Q(assigned_follow_ups__status__in=OPEN_STATUSES)))
        .order_by("open_count", "pk")
        .first()
    )


def _round_robin_agent(team: Team) -> User | None:
    # The team row lock serialises concurrent openings so two cases never take the same turn.
    locked = Team.objects.select_for_update().get(pk=team.pk)
    agents = list(_agents(team))
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


def assignee_for(rule: RoutingRule, facts: ResponseFacts) -> User | None:
    """The agent the rule's strategy names, or None for the team queue."""
    strategy = rule.assignment
    if strategy == RoutingRule.Assignment.ROUND_ROBIN:
        return _round_robin_agent(rule.team)
    if strategy == RoutingRule.Assignment.PROPERTY:
        return _property_agent(rule, facts)
    if strategy == RoutingRule.Assignment.LEAST_OPEN:
        return _least_open_agent(rule.team)
    return None
