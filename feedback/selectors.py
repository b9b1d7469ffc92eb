"""Reads of the loop: who may see which follow-ups, and the inbox's views, filters and sorts."""

import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.history_lines import entry_text
from feedback.models import OPEN_STATUSES, CannedReply, FixCheck, FollowUp, FollowUpEntry, Priority, RoutingRule, User
from surveys.models import Answer, Event, Response, ResponseNote
from surveys.scales import pick_locale
from surveys.services.fatigue import contact_timezone
from surveys.wording import WORDING

# "work" is the agent's day: their open cases and their teams' unassigned ones, snoozed ones aside.
INBOX_VIEWS = ("work", "mine", "unassigned", "team", "overdue", "snoozed", "resolved", "all")
INBOX_VIEW_LABELS = {
    "work": _("My work"),
    "mine": _("Mine"),
    "unassigned": _("Unassigned"),
    "team": _("Team"),
    "overdue": _("Overdue"),
    "snoozed": _("Snoozed"),
    "resolved": _("Resolved"),
    "all": _("All"),
}
INBOX_SORTS = {
    "due": ("due_at", "pk"),
    "-due": ("-due_at", "-pk"),
    "created": ("created_at", "pk"),
    "-created": ("-created_at", "-pk"),
    "score": ("response__score", "pk"),
    "-score": ("-response__score", "-pk"),
    "priority": ("priority_rank", "due_at", "pk"),
}
INBOX_DUE = ("overdue", "today")
# Filters of the inbox and the API; each one's absence (or "") means "any".
INBOX_FILTERS = ("status", "priority", "due", "channel", "survey", "score", "q")


def follow_up_team_ids(user) -> list[int]:
    """The teams whose cases a person works (one today; a list so that several teams need no other change)."""
    return [user.team_id] if getattr(user, "team_id", None) else []


def follow_up_visible_to(user: User) -> QuerySet[FollowUp]:
    """Managers see every follow-up; an agent sees their team's; anyone else none."""
    follow_ups = FollowUp.objects.all()
    if user.is_manager:
        return follow_ups
    team_ids = follow_up_team_ids(user)
    if not team_ids:
        return follow_ups.none()
    return follow_ups.filter(team_id__in=team_ids)


def _view_condition(view: str, user, now: datetime) -> Q:
    """Which visible cases a view holds, as one condition (so counts of every view are one query)."""
    is_open = Q(status__in=OPEN_STATUSES)
    awake = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now)
    person_id = user.pk if isinstance(user, User) else None
    team_ids = follow_up_team_ids(user)
    if view == "work":
        unassigned_here = Q(assignee__isnull=True) & (Q(team_id__in=team_ids) if team_ids else Q())
        return is_open & awake & (Q(assignee_id=person_id) | unassigned_here)
    if view == "mine":
        return is_open & Q(assignee_id=person_id)
    if view == "unassigned":
        return is_open & Q(assignee__isnull=True)
    if view == "team":
        return is_open & (Q(team_id__in=team_ids) if team_ids else Q())
    if view == "overdue":
        return is_open & Q(due_at__lt=now)
    if view == "snoozed":
        return is_open & Q(snoozed_until__gt=now)
    if view == "resolved":
        return Q(status=FollowUp.Status.RESOLVED)
    return Q()


def follow_up_default_view(user) -> str:
    """A person starts on their work; an integration (an API key) has none, so it starts on everything."""
    return "work" if isinstance(user, User) else "all"


def follow_up_view_counts(*, user, now: datetime | None = None) -> dict[str, int]:
    """How many cases each inbox view holds right now, in one query."""
    now = now or timezone.now()
    views = INBOX_VIEWS if isinstance(user, User) else tuple(v for v in INBOX_VIEWS if v not in ("work", "mine"))
    counts = follow_up_visible_to(user).aggregate(
        **{view: Count("pk", filter=_view_condition(view, user, now)) for view in views}
    )
    return counts


def _local_day_bounds(now: datetime, tz_name: str) -> tuple[datetime, datetime]:
    local = now.astimezone(zoneinfo.ZoneInfo(tz_name))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def follow_up_time_zone(user) -> str:
    """The zone a person reads due times in: their own, else their team's, else the site's."""
    if getattr(user, "time_zone", ""):
        return user.time_zone
    team = getattr(user, "team", None) if getattr(user, "team_id", None) else None
    return team.time_zone if team is not None else settings.TIME_ZONE


def _search(follow_ups: QuerySet[FollowUp], q: str) -> QuerySet[FollowUp]:
    """Customer name, email, phone (typed any way), external ids, and the case's event properties
    (an order or ticket number) contain the words typed."""
    condition = (
        Q(response__contact__name__icontains=q)
        | Q(response__contact__email__icontains=q)
        | Q(response__contact__external_id__icontains=q)
        | Q(response__invitation__event__external_id__icontains=q)
        | Q(response__invitation__event__properties__icontains=q)
    )
    digits = re.sub(r"\D", "", q)
    if len(digits) >= 6 and re.fullmatch(r"[\d\s().+-]+", q):
        # "06 12 34 56 78" finds +33612345678: the national number without its leading zeros.
        condition |= Q(response__contact__phone__contains=digits.lstrip("0"))
    return follow_ups.filter(condition)


def follow_up_list(
    *, user, view: str = "", filters: dict | None = None, sort: str = "due", now: datetime | None = None
) -> QuerySet[FollowUp]:
    """The inbox: a view (see INBOX_VIEWS; default the person's work), then filters, then a sort.

    Filters (already validated by the caller's form or serializer), each empty for "any": status,
    priority, due ("overdue", "today" in the viewer's time zone), channel, survey id, score, q (search).
    """
    filters = filters or {}
    now = now or timezone.now()
    view = view or follow_up_default_view(user)
    follow_ups = follow_up_visible_to(user).filter(_view_condition(view, user, now))
    if filters.get("status"):
        follow_ups = follow_ups.filter(status=filters["status"])
    if filters.get("priority"):
        follow_ups = follow_ups.filter(priority=filters["priority"])
    if filters.get("due") == "overdue":
        follow_ups = follow_ups.filter(due_at__lt=now, status__in=OPEN_STATUSES)
    elif filters.get("due") == "today":
        start, end = _local_day_bounds(now, follow_up_time_zone(user))
        follow_ups = follow_ups.filter(due_at__gte=start, due_at__lt=end, status__in=OPEN_STATUSES)
    if filters.get("channel"):
        follow_ups = follow_ups.filter(response__invitation__channel=filters["channel"])
    if filters.get("survey"):
        follow_ups = follow_ups.filter(response__survey_id=filters["survey"])
    if filters.get("score") is not None:
        follow_ups = follow_ups.filter(response__score=filters["score"])
    if (filters.get("q") or "").strip():
        follow_ups = _search(follow_ups, filters["q"].strip())
    follow_ups = follow_ups.annotate(
        priority_rank=Case(
            When(priority=Priority.HIGH, then=Value(0)),
            When(priority=Priority.NORMAL, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )
    return follow_ups.select_related(
        "team", "assignee", "response__survey", "response__contact", "response__invitation"
    ).order_by(*INBOX_SORTS.get(sort, INBOX_SORTS["due"]))


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


def responses_visible_to(user: User) -> QuerySet[Response]:
    """Answers a person of the company may read: a manager every one; an agent those whose case is their
    team's, or without a case on a survey routed to their team (another team's answers and comments are
    not theirs to read); nobody held answers (a machine's, awaiting confirmation)."""
    responses = Response.objects.filter(held_reason="")
    if user.is_manager:
        return responses
    if user.team_id is None:
        return responses.none()
    # An answer without a case is the team's when its survey is one the team's routing rules send it
    # (any survey, when a rule of the team names none), as on the dashboard.
    routed = list(RoutingRule.objects.filter(team_id=user.team_id, is_active=True).values_list("survey_id", flat=True))
    without_case = Q(follow_up__isnull=True)
    if None not in routed:
        without_case &= Q(survey_id__in=routed)
    return responses.filter(Q(follow_up__team_id=user.team_id) | (without_case if routed else Q(pk__in=[])))


def response_get_visible(*, user: User, response_id: int) -> Response | None:
    return (
        responses_visible_to(user)
        .select_related("survey", "contact", "invitation__event", "follow_up")
        .prefetch_related("answers__question", "notes")
        .filter(pk=response_id)
        .first()
    )


@dataclass(frozen=True)
class PastAnswer:
    response: Response
    case_id: int | None  # None when it has no case


def follow_up_customer_history(*, follow_up: FollowUp, user: User) -> tuple[list[PastAnswer], list[Event]]:
    """The customer's other answers and their events, latest first, CUSTOMER_HISTORY_LIMIT of each."""
    contact_id = follow_up.response.contact_id
    responses = (
        responses_visible_to(user)
        .filter(contact_id=contact_id)
        .exclude(pk=follow_up.response_id)
        .select_related("survey", "follow_up")
        .order_by("-confirmed_at", "-pk")[:CUSTOMER_HISTORY_LIMIT]
    )
    answers = []
    team_ids = follow_up_team_ids(user)
    for response in responses:
        case = getattr(response, "follow_up", None)
        visible = case is not None and (user.is_manager or case.team_id in team_ids)
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


@dataclass(frozen=True)
class ThreadItem:
    """One thing in a case's conversation, in time order.

    kind: "answer" (the survey answer: question, score, reason, extra answers), "outgoing" (a reply
    to the customer), "incoming" (the customer's email or SMS), "note" (internal, never sent), or
    "activity" (assignments, status changes and other audit lines).
    """

    kind: str
    at: datetime
    text: str = ""
    author: str = ""
    channel: str = ""
    label: str = ""
    question: str = ""
    score: int | None = None
    reason_question: str = ""
    extra_answers: tuple[tuple[str, str], ...] = ()
    delivery: str = ""
    entry_id: int | None = None


ENTRY_THREAD_KIND = {
    FollowUpEntry.Kind.REPLY: "outgoing",
    FollowUpEntry.Kind.CUSTOMER_REPLY: "incoming",
    FollowUpEntry.Kind.NOTE: "note",
}


def _person(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.email


def _answer_value(answer: Answer, locale: str) -> str:
    labels = dict(answer.question.choice_labels(locale))
    values = answer.value if isinstance(answer.value, list) else [answer.value]
    return ", ".join(labels.get(str(value), str(value)) for value in values if value not in ("", None))


def follow_up_thread(*, follow_up: FollowUp, reader_zone: str | None) -> list[ThreadItem]:
    """Everything that passed between the customer and the team on a case, oldest first (three queries).

    With `reader_zone` (the case page), the lines Closeloop wrote are drawn in the active language, their
    moments in that zone; without it (the API), every entry reads as stored, its lines in English.

    The survey answer comes first as an answer (with its question, reason and extra answers), not
    as something the customer "replied"; notes written about the answer through the Delighted API
    are notes.
    """
    response = follow_up.response
    invitation = response.invitation
    locale = pick_locale(invitation.locale if invitation else response.contact.locale)
    product = (invitation.properties or {}).get("question_product_name", "") if invitation else ""
    extra = tuple(
        (answer.question.text_in(locale), _answer_value(answer, locale))
        for answer in response.answers.select_related("question").order_by("question__position", "question__pk")
    )
    items = [
        ThreadItem(
            kind="answer",
            at=response.confirmed_at,
            text=response.comment,
            channel=invitation.channel if invitation else "",
            label=_("Survey answer"),
            question=response.survey.question(locale, product),
            score=response.score,
            reason_question=WORDING[locale]["comment_prompt"],
            extra_answers=tuple(pair for pair in extra if pair[1]),
        )
    ]
    entries = follow_up.entries.select_related("author", "message")
    for entry in entries:
        kind = ENTRY_THREAD_KIND.get(entry.kind, "activity")
        channel = entry.channel or (entry.message.channel if entry.message_id and entry.message else "")
        items.append(
            ThreadItem(
                kind=kind,
                at=entry.created_at,
                text=entry.body if reader_zone is None else entry_text(entry, time_zone=reader_zone),
                author=_person(entry.author),
                channel=channel,
                label=entry.get_kind_display(),
                delivery=entry.message.get_status_display() if entry.message_id and entry.message else "",
                entry_id=entry.pk,
            )
        )
    for note in response.notes.all():
        items.append(
            ThreadItem(kind="note", at=note.created_at, text=note.text, author=note.user_email, label=_("Note"))
        )
    items.sort(key=lambda item: (item.at, item.kind != "answer", item.entry_id or 0))
    return items


def follow_up_canned_replies(*, follow_up: FollowUp) -> list[CannedReply]:
    """The case's team's active canned replies, in the customer's language first."""
    locale = pick_locale(follow_up.response.contact.locale)
    replies = list(CannedReply.objects.filter(team_id=follow_up.team_id, is_active=True))
    return sorted(replies, key=lambda reply: (reply.locale != locale, reply.title.lower(), reply.pk))


def follow_up_bulk_agents(*, user) -> QuerySet[User]:
    """Whom the inbox's bulk "Assign to" offers: the active agents of the person's teams (every agent for a manager)."""
    agents = User.objects.filter(role=User.Role.AGENT, is_active=True).order_by("email")
    if user.is_manager:
        return agents
    return agents.filter(team_id__in=follow_up_team_ids(user))


def contact_time_zone(contact) -> str:
    """The customer's zone (theirs, else their phone number's region's, else the site's), by name."""
    return str(contact_timezone(contact))
