"""surveys/retention.py: events that led to no survey, comments and free-text answers, web visitors never surveyed,
each at its age boundary."""

from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.models import VISITOR_PREFIX, Answer, Contact, Event, Question, Response
from tests.factories import ContactFactory, EventFactory, InvitationFactory, ResponseFactory
from workspace.services.retention import purge_expired

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _age(row, field: str, days: int, seconds: int = 0):
    type(row).objects.filter(pk=row.pk).update(**{field: NOW - timedelta(days=days, seconds=-seconds)})
    return row


def test_events_that_led_to_no_survey_go_at_their_age(settings):
    settings.RETENTION_EVENTS_DAYS = "365"
    older = _age(EventFactory(), "received_at", 365, -1)
    boundary = _age(EventFactory(), "received_at", 365)
    surveyed = _age(EventFactory(properties={"store": "Lyon"}), "received_at", 900)
    invitation = InvitationFactory(event=surveyed, contact=surveyed.contact)

    [report] = purge_expired(kinds=["events"], now=NOW)

    assert report.removed == 1
    assert set(Event.objects.values_list("pk", flat=True)) == {boundary.pk, surveyed.pk}
    assert not Event.objects.filter(pk=older.pk).exists()
    # The answer's context stays: the dashboard counts it under the event's type and properties.
    invitation.refresh_from_db()
    assert (invitation.event_id, invitation.event.properties) == (surveyed.pk, {"store": "Lyon"})


def _question(survey, kind, **fields):
    return Question.objects.create(survey=survey, kind=kind, text={"en": "Why?"}, **fields)


def test_comments_and_their_free_text_answers_are_blanked_and_the_answer_kept(settings):
    settings.RETENTION_COMMENTS_DAYS = "730"
    older = _age(
        ResponseFactory(score=2, comment="Jeanne here: late again", themes=["delivery"], sentiment="negative"),
        "confirmed_at",
        730,
        -1,
    )
    text = _question(older.survey, Question.Kind.FREE_TEXT)
    choice = _question(older.survey, Question.Kind.SELECT_ONE, choices=[{"value": "price", "en": "Price"}])
    written = Answer.objects.create(response=older, question=text, value="Call me on 06 12 34 56 78")
    chosen = Answer.objects.create(response=older, question=choice, value="price")
    boundary = _age(ResponseFactory(comment="Fine"), "confirmed_at", 730)

    reports = purge_expired(kinds=["comments"], now=NOW)

    assert [report.removed for report in reports] == [1]
    older.refresh_from_db()
    assert (older.comment, older.comment_purged_at) == ("", NOW)
    assert (older.score, older.themes, older.sentiment) == (2, ["delivery"], "negative")
    assert Answer.objects.get(pk=written.pk).value == ""
    assert Answer.objects.get(pk=chosen.pk).value == "price"
    assert Response.objects.get(pk=boundary.pk).comment == "Fine"


def test_free_text_answers_of_an_answer_without_comment_go_at_their_age(settings):
    settings.RETENTION_COMMENTS_DAYS = "730"
    response = ResponseFactory(comment="")
    text = _question(response.survey, Question.Kind.FREE_TEXT)
    other = _question(response.survey, Question.Kind.FREE_TEXT, position=1)
    older = _age(Answer.objects.create(response=response, question=text, value="Ask Paul"), "updated_at", 730, -1)
    boundary = _age(Answer.objects.create(response=response, question=other, value="Fine"), "updated_at", 730)

    [report] = purge_expired(kinds=["free_text_answers"], now=NOW)

    assert report.removed == 1
    assert Answer.objects.get(pk=older.pk).value == ""
    assert Answer.objects.get(pk=boundary.pk).value == "Fine"


def test_web_visitors_never_surveyed_go_at_their_age_and_every_other_contact_stays(settings):
    settings.RETENTION_EVENTS_DAYS = "365"

    def visitor(n: int, days: int, seconds: int = 0, **fields) -> Contact:
        contact = ContactFactory(email="", phone="", external_id=f"{VISITOR_PREFIX}{n:08d}", **fields)
        return _age(contact, "created_at", days, seconds)

    gone = visitor(1, 365, -1, name="Jeanne")  # a name the page gave, and never shown a survey (sampled out)
    boundary = visitor(2, 365)
    surveyed = visitor(3, 900)
    InvitationFactory(contact=surveyed, event=None)
    with_event = visitor(4, 900)
    EventFactory(contact=with_event)
    customer = _age(ContactFactory(), "created_at", 900)  # known by an email: a customer, not a visitor
    by_id = _age(ContactFactory(email="", external_id="shopify:42"), "created_at", 900)

    [report] = purge_expired(kinds=["web_visitors"], now=NOW)

    assert report.removed == 1
    assert not Contact.objects.filter(pk=gone.pk).exists()
    assert set(Contact.objects.values_list("pk", flat=True)) >= {
        boundary.pk, surveyed.pk, with_event.pk, customer.pk, by_id.pk
    }  # fmt: skip
