"""Delighted's JSON shapes of people, survey responses and unsubscribes: ids as strings, times as Unix seconds.

One builder per shape, shared by the `/v1/` API (`delighted`) and the outgoing webhooks (`feedback`),
so an integration written against Delighted reads both the same way.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.urls import reverse

from notifications.models import Suppression
from surveys.models import Answer, Contact, Response, ResponseNote

DELIGHTED_QUESTION_TYPES = {
    "free_text": "free_response",
    "scale": "scale",
    "select_one": "select_one",
    "yes_no": "select_one",  # Delighted has no yes/no question: its answer reads as one of two options.
}


# 9999-12-31T23:59:59Z: later instants are not dates Python or the database can hold.
MAX_EPOCH = 253402300799


def epoch(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def from_epoch(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value is not None else None


def person_json(contact: Contact, last_sent_at: datetime | None = None) -> dict:
    return {
        "id": str(contact.pk),
        "email": contact.email or None,
        "name": contact.name or None,
        "phone_number": contact.phone or None,
        "created_at": epoch(contact.created_at),
        "last_sent_at": epoch(last_sent_at),
    }


def response_permalink(response: Response) -> str:
    return f"{settings.SITE_URL}{reverse('response-detail', args=[response.pk])}"


def response_json(response: Response, *, expand: list[str]) -> dict:
    invitation = response.invitation
    person = person_json(response.contact) if "person" in expand else str(response.contact_id)
    return {
        "id": str(response.pk),
        "person": person,
        "survey_type": response.survey.kind,
        "score": response.score,
        "comment": response.comment or None,
        # A staff page of the answer (login, team rules): the customer's /s/<token>/ link can answer.
        "permalink": response_permalink(response),
        "created_at": epoch(response.confirmed_at),
        "updated_at": epoch(response.updated_at),
        "person_properties": invitation.properties,
        "notes": [note_json(note) for note in response.notes.all()],
        "tags": response.tags,
        "additional_answers": [answer_json(answer) for answer in response.answers.all()],
    }


def note_json(note: ResponseNote) -> dict:
    return {
        "id": str(note.pk),
        "text": note.text,
        "user_email": note.user_email or None,
        "created_at": epoch(note.created_at),
    }


def answer_json(answer: Answer) -> dict:
    """Delighted's shape: `{"id", "value": {<type>: ...}, "question": {"id", "type", "text"}}`."""
    question = answer.question
    kind = DELIGHTED_QUESTION_TYPES.get(question.kind, "select_many")
    labels = dict(question.choice_labels("en"))
    if kind == "select_many":
        value = [{"id": item, "text": labels.get(item, item)} for item in answer.value]
    elif kind == "select_one":
        value = {"id": answer.value, "text": labels.get(answer.value, answer.value)}
    elif kind == "scale":
        value = int(answer.value) if str(answer.value).isdigit() else answer.value
    else:
        value = answer.value
    return {
        "id": str(answer.pk),
        "value": {kind: value},
        "question": {"id": str(question.pk), "type": kind, "text": question.text_in("en")},
    }


def suppression_json(suppression: Suppression, contact: Contact | None, *, time_key: str) -> dict:
    """An unsubscribe or bounce; `time_key` is `unsubscribed_at` or `bounced_at`."""
    return {
        "person_id": str(contact.pk) if contact else None,
        "email": suppression.recipient,
        "name": (contact.name or None) if contact else None,
        time_key: epoch(suppression.created_at),
    }
