"""What the retention purge removes from the survey side's tables (config/retention.py, docs/retention.md)."""

from datetime import datetime

from django.db.models import Exists, OuterRef

from config.retention import Purgeable
from surveys.models import VISITOR_PREFIX, Answer, Contact, Event, Invitation, Question, Response


def _events_rows():
    # An event an invitation points at is the answer's context: the dashboard counts the answer under its type
    # and breakdown properties (a recount reads them), and its case shows them. It goes with its contact.
    return Event.objects.filter(~Exists(Invitation.objects.filter(event_id=OuterRef("pk"))))


def _events_purge(ids: list[int], now: datetime) -> int:
    # The batch's rows are locked (FOR UPDATE): no invitation can point at them before they go.
    return Event.objects.filter(pk__in=ids).delete()[0]


def _comments_rows():
    return Response.objects.exclude(comment="")


def _comments_purge(ids: list[int], now: datetime) -> int:
    # The answer stays, with its score and what was read in the comment: every figure keeps counting it
    # (insights.theme_rollups counts a purged comment as the comment it was).
    purged = Response.objects.filter(pk__in=ids).update(comment="", comment_purged_at=now)
    Answer.objects.filter(response_id__in=ids, question__kind=Question.Kind.FREE_TEXT).exclude(value="").update(
        value=""
    )
    return purged


def _free_text_answers_rows():
    return Answer.objects.filter(question__kind=Question.Kind.FREE_TEXT).exclude(value="")


def _free_text_answers_purge(ids: list[int], now: datetime) -> int:
    return Answer.objects.filter(pk__in=ids).update(value="")


def _web_visitors_rows():
    # A visitor the widget never surveyed holds only a random id the page made up (and a name or locale the page
    # gave): nothing counts it. A visitor surveyed stays with their invitation, as any contact does.
    return Contact.objects.filter(external_id__startswith=VISITOR_PREFIX, email="", phone="").filter(
        ~Exists(Invitation.objects.filter(contact_id=OuterRef("pk"))),
        ~Exists(Event.objects.filter(contact_id=OuterRef("pk"))),
        ~Exists(Response.objects.filter(contact_id=OuterRef("pk"))),
    )


def _web_visitors_purge(ids: list[int], now: datetime) -> int:
    # The batch's rows are locked (FOR UPDATE): no invitation or event can point at them before they go. Counted:
    # the visitors themselves, not what other apps' rows went with them.
    return Contact.objects.filter(pk__in=ids).delete()[1].get(Contact._meta.label, 0)


PURGEABLES = [
    Purgeable(
        kind="events",
        label="events that led to no survey",
        setting="RETENTION_EVENTS_DAYS",
        clock="received_at",
        rows=_events_rows,
        purge=_events_purge,
        minimum_days=2,
        why_minimum="an event sent again with its id within a day (a client's retry) must find its first copy",
    ),
    Purgeable(
        kind="comments",
        label="comments",
        setting="RETENTION_COMMENTS_DAYS",
        clock="confirmed_at",
        rows=_comments_rows,
        purge=_comments_purge,
        blanks=True,
    ),
    Purgeable(
        kind="free_text_answers",
        label="free-text answers",
        setting="RETENTION_COMMENTS_DAYS",
        clock="updated_at",
        rows=_free_text_answers_rows,
        purge=_free_text_answers_purge,
        blanks=True,
    ),
    Purgeable(
        kind="web_visitors",
        label="web visitors never surveyed",
        setting="RETENTION_EVENTS_DAYS",
        clock="created_at",
        rows=_web_visitors_rows,
        purge=_web_visitors_purge,
    ),
]
