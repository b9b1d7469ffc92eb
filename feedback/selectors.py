"""Reads of the loop: who may see which follow-ups, and the inbox's views, filters and sorts."""

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from feedback.models import OPEN_STATUSES, FixCheck, FollowUp, Priority, User
from surveys.models import Event, Response, ResponseNote

INBOX_VIEWS = ("mine", "team", "unassigned", "overdue", "all")
INBOX_SORTS = {
    "due": ("due_at", "pk"),
    "-due": ("-due_at", "-pk"),
    "created": ("created_at", "pk"),
    "-created": ("-created_at", "-pk"),
    "score": ("response__score", "pk"),
    "-score": ("-response__score", "-pk"),
    "priority": ("priority_rank", "due_at", "pk"),
}


def follow_up_visible_to(user: User) -> QuerySet[FollowUp]:
    """Managers see every follow-up; an agent sees their team's; anyone else none."""
    follow_ups = FollowUp.objects.all()
    if user.is_manager:
        return follow_ups
    if user.team_id is None:
        return follow_ups.none()
    return follow_ups.filter(team_id=user.team_id)


def follow_up_list(*, user: User, view: str = "", filters: dict | None = None, sort: str = "due") -> QuerySet[FollowUp]:
    """The inbox: a view (mine, team, unassigned, overdue, all), then filters, then a sort.

    The default view is "mine" for agents and "all" for managers; an agent asking for "all" gets their team's.
    Filters (already validated by the caller's form): status, survey id, score, priority, due ("overdue", "today").
    """
    filters = filters or {}
    follow_ups = follow_up_visible_to(user)
    view = view or ("all" if user.is_manager else "mine")
    now = timezone.now()
    if view == "mine":
        follow_ups = follow_ups.filter(assignee=user)
    elif view == "team":
        follow_ups = follow_ups.filter(team_id=user.team_id)
    elif view == "unassigned":
        follow_ups = follow_ups.filter(assignee__isnull=True, status__in=OPEN_STATUSES)
    elif view == "overdue":
        follow_ups = follow_ups.filter(due_at__lt=now, status__in=OPEN_STATUSES)
    if filters.get("status"):
        follow_ups = follow_ups.filter(status=filters["status"])
    if filters.get("survey"):
        follow_ups = follow_ups.filter(response__survey_id=filters["survey"])
    if filters.get("score") is not None:
        follow_ups = follow_ups.filter(response__score=filters["score"])
    if filters.get("priority"):
        follow_ups = follow_ups.filter(priority=filters["priority"])
    if filters.get("due") == "overdue":
        follow_ups = follow_ups.filter(Q(due_at__lt=now) & Q(status__in=OPEN_STATUSES))
    elif filters.get("due") == "today":
        follow_ups = follow_ups.filter(due_at__date=timezone.localdate(now), status__in=OPEN_STATUSES)
    follow_ups = follow_ups.annotate(
        priority_rank=Case(
            When(priority=Priority.HIGH, then=Value(0)),
            When(priority=Priority.NORMAL, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )
    return follow_ups.select_related("team", "assignee", "response__survey", "response__contact").order_by(
        *INBOX_SORTS.get(sort, INBOX_SORTS["due"])
    )


def follow_up_get(*, user: User, follow_up_id: int) -> FollowUp | None:
    return (
        follow_up_visible_to(user)
        .select_related(
            "team", "assignee", "root_cause", "response__survey", "response__contact", "response__invitation__event"
        )
        .filter(pk=follow_up_id)
        .first()
    )


CUSTOMER_HISTORY_LIMIT = 20


@dataclass(frozen=True)
class PastAnswer:
    response: Response
    case_id: int | None  # None when it has no case, or one the viewer may not see


def follow_up_customer_history(*, follow_up: FollowUp, user: User) -> tuple[list[PastAnswer], list[Event]]:
    """The customer's other answers and their events, latest first, CUSTOMER_HISTORY_LIMIT of each."""
    contact_id = follow_up.response.contact_id
    responses = (
        Response.objects.filter(contact_id=contact_id)
        .exclude(pk=follow_up.response_id)
        .select_related("survey", "follow_up")
        .order_by("-confirmed_at", "-pk")[:CUSTOMER_HISTORY_LIMIT]
    )
    answers = []
    for response in responses:
        case = getattr(response, "follow_up", None)
        visible = case is not None and (user.is_manager or case.team_id == user.team_id)
        answers.append(PastAnswer(response, case.pk if visible else None))
    events = list(Event.objects.filter(contact_id=contact_id).order_by("-occurred_at", "-pk")[:CUSTOMER_HISTORY_LIMIT])
    return answers, events


def follow_up_fix_checks(*, follow_up: FollowUp) -> list[FixCheck]:
    """The case's "did we fix it?" surveys, oldest first, with their invitation, survey and answer."""
    return list(follow_up.fix_checks.select_related("invitation__survey", "invitation__response"))


def follow_up_response_notes(*, follow_up: FollowUp) -> list[ResponseNote]:
    """The notes written about the case's answer (through the Delighted-compatible API), oldest first."""
    return list(follow_up.response.notes.all())


def follow_up_assignable_agents(*, follow_up: FollowUp) -> QuerySet[User]:
    """Who a case can be handed to: the active agents of its team."""
    return User.objects.filter(team_id=follow_up.team_id, role=User.Role.AGENT, is_active=True).order_by("email")
