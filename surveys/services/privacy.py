"""A person's rights over their data: erase them (GDPR art. 17) or export everything stored about them (art. 15).

Surveys owns the orchestration because it owns the person (the contact). An erasure is one transaction: the apps
above hear `contact_erasing` and erase what they keep (cases, rollups, webhook payloads, Autopilot), then this
module erases the contact's own rows and calls `notifications` for the messages, inbound SMS and emails,
suppressions and idempotency of intake. By default the answers stay as anonymous scores, so the dashboard's
figures stay true and every rollup still equals a recomputation; `hard` deletes them and uncounts them.
Twilio's copies are deleted after commit. Every erasure and export is recorded by `contact_privacy_recorded`
(the console's audit trail): who, when, what kind and how many rows, never the data.

docs/privacy.md is the reader's version of this module.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from notifications.models import PHONE_CHANNELS, Channel
from notifications.selectors import person_inbound, person_messages, person_suppressions
from notifications.services.erasure import (
    inbound_erase,
    messages_erase,
    provider_copies_delete,
    suppressions_erase,
)
from surveys.models import (
    Answer,
    Contact,
    Event,
    IdempotencyKey,
    Invitation,
    Question,
    Response,
    ResponseAnnouncement,
    ResponseNote,
)
from surveys.signals import contact_erasing, contact_exporting, contact_privacy_recorded

ERASED_REASON = "erased"
EXPORT_FORMAT = "closeloop.contact-export/1"


@dataclass(frozen=True)
class ErasureSubject:
    """Whom an erasure is about, as the receivers of `contact_erasing` need it (read before anything changed)."""

    contact_id: int
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    event_ids: tuple[int, ...]
    invitation_ids: tuple[int, ...]
    response_ids: tuple[int, ...]
    message_ids: tuple[int, ...]
    hard: bool

    @property
    def recipients(self) -> list[tuple[str, str]]:
        """`(channel, address)` of every channel that reaches them: their email, their phone by SMS and WhatsApp."""
        phones = [(channel, phone) for phone in self.phones for channel in PHONE_CHANNELS]
        return [(Channel.EMAIL, email) for email in self.emails] + phones


@dataclass(frozen=True)
class ErasureResult:
    contact_id: int
    mode: str  # "anonymised" (answers kept as anonymous scores) or "hard"
    rows: dict[str, int]


def contact_find(*, email: str = "", phone: str = "", contact_id: int | None = None) -> Contact | None:
    """The contact with this email (any case), phone or id; an erased one is found by id only."""
    if contact_id is not None:
        return Contact.objects.filter(pk=contact_id).first()
    if email:
        return Contact.objects.filter(email__iexact=email.strip()).order_by("pk").first()
    if phone:
        return Contact.objects.filter(phone="".join(phone.split())).order_by("pk").first()
    return None


def _subject(contact: Contact, *, hard: bool) -> ErasureSubject:
    invitations = Invitation.objects.filter(contact=contact)
    return ErasureSubject(
        contact_id=contact.pk,
        emails=(contact.email,) if contact.email else (),
        phones=(contact.phone,) if contact.phone else (),
        event_ids=tuple(Event.objects.filter(contact=contact).values_list("pk", flat=True)),
        invitation_ids=tuple(invitations.values_list("pk", flat=True)),
        response_ids=tuple(Response.objects.filter(contact=contact).values_list("pk", flat=True)),
        message_ids=tuple(invitations.exclude(message=None).values_list("message_id", flat=True)),
        hard=hard,
    )


def contact_erase(
    *, contact: Contact, hard: bool = False, keep_out: bool = False, actor=None, actor_label: str = ""
) -> ErasureResult:
    """Erase every trace of the person, in one transaction; returns how many rows of each kind it touched.

    `hard`: delete their answers (and their cases) and uncount them from the rollups; otherwise the answers stay
    as anonymous scores. `keep_out`: they asked never to be surveyed again; a keyed hash of each address (not
    reversible) keeps them out of intake. Their opt-outs and bounces are kept that way in any case.
    `actor` (a User or ApiKey) and `actor_label` go to the audit trail."""
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        subject = _subject(contact, hard=hard)
        rows: Counter[str] = Counter()
        # The apps above first, while the answers, cases and messages they derive from still exist.
        contact_erasing.send(sender=Contact, subject=subject, rows=rows)
        sent, sent_sids = messages_erase(recipients=subject.recipients, message_ids=subject.message_ids)
        rows["messages"] += sent
        received, received_sids = inbound_erase(phones=subject.phones, emails=subject.emails)
        rows["inbound messages"] += received
        rows["suppressions kept as hashes"] += suppressions_erase(recipients=subject.recipients, keep_out=keep_out)
        rows["idempotency records"] += _idempotency_erase(set(subject.event_ids))
        rows["admin history"] += LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Contact), object_id=str(contact.pk)
        ).delete()[0]
        if hard:
            rows.update(_delete(contact))
        else:
            rows.update(_anonymise(contact, subject))
        provider_copies_delete(sids=sent_sids + received_sids)
        result = ErasureResult(
            subject.contact_id, "hard" if hard else "anonymised", {k: n for k, n in sorted(rows.items()) if n}
        )
        contact_privacy_recorded.send(
            sender=Contact,
            action="erased",
            contact_id=result.contact_id,
            rows=result.rows,
            mode=result.mode,
            actor=actor,
            actor_label=actor_label,
        )
    return result


# The person's rows the cascade deletes, as the audit trail and the API name them; the apps above count theirs
# (cases, Autopilot) in their `contact_erasing` receivers, and bookkeeping rows (tallies, outbox) are not counted.
DELETED_KINDS = {
    "surveys.Contact": "contacts",
    "surveys.Event": "events",
    "surveys.Invitation": "invitations",
    "surveys.Response": "responses",
    "surveys.Answer": "answers to additional questions",
    "surveys.ResponseNote": "response notes",
}


def _delete(contact: Contact) -> dict[str, int]:
    """The contact and everything hanging from it (events, invitations, answers, cases), by the cascade."""
    _, deleted = contact.delete()
    return {DELETED_KINDS[label]: n for label, n in deleted.items() if label in DELETED_KINDS}


def _anonymise(contact: Contact, subject: ErasureSubject) -> dict[str, int]:
    """Everything of the person goes but each answer's score, survey, channel, event type and times."""
    now = timezone.now()
    rows = {}
    rows["events"] = Event.objects.filter(contact=contact).update(properties={}, external_id="")
    invitations = Invitation.objects.filter(contact=contact)
    # Their survey links stop accepting answers: nothing new may be written about an erased person.
    invitations.filter(status=Invitation.Status.SCHEDULED).update(
        status=Invitation.Status.CANCELLED, cancel_reason=ERASED_REASON
    )
    invitations.filter(expires_at__gt=now).update(expires_at=now)
    rows["invitations"] = invitations.update(properties={})
    responses = Response.objects.filter(contact=contact)
    rows["comments"] = responses.exclude(comment="").count()
    rows["answers kept as anonymous scores"] = responses.update(
        comment="",
        tags=[],
        language="",
        sentiment="",
        sentiment_confidence=None,
        themes=[],
        analysis_pending=False,
        analysed_at=None,
        browser_hash="",
    )
    answers = Answer.objects.filter(response__contact=contact)
    rows["free-text answers"] = answers.filter(question__kind=Question.Kind.FREE_TEXT).delete()[0]
    answers.update(
        language="", sentiment="", sentiment_confidence=None, themes=[], analysis_pending=False, analysed_at=None
    )
    rows["response notes"] = ResponseNote.objects.filter(response__contact=contact).delete()[0]
    ResponseAnnouncement.objects.filter(response__contact=contact).exclude(last_error="").update(last_error="")
    if contact.erased_at is None:
        for name in ("email", "phone", "name", "timezone", "external_id"):
            setattr(contact, name, "")
        contact.properties = {}
        contact.erased_at = now
        contact.save()
        rows["contacts"] = 1
    return rows


def _idempotency_erase(event_ids: set[int]) -> int:
    """Forget the intake answers (kept 24 hours for retries) that name one of the person's events."""
    if not event_ids:
        return 0
    doomed = [
        pk
        for pk, body in IdempotencyKey.objects.filter(response_body__isnull=False)
        .values_list("pk", "response_body")
        .iterator(chunk_size=2000)
        if _names_event(body, event_ids)
    ]
    return IdempotencyKey.objects.filter(pk__in=doomed).delete()[0]


def _names_event(body, event_ids: set[int]) -> bool:
    if not isinstance(body, dict):
        return False
    if body.get("event_id") in event_ids:
        return True
    results = body.get("results")
    return isinstance(results, list) and any(
        isinstance(item, dict) and isinstance(item.get("result"), dict) and item["result"].get("event_id") in event_ids
        for item in results
    )


# --- access: everything stored about a person -----------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def contact_export(*, contact: Contact, actor=None, actor_label: str = "") -> dict:
    """Everything stored about the person, as JSON-ready data: the contact, their events, invitations, answers,
    the messages sent to them and theirs to us, their suppressions, and what the apps above keep (cases,
    webhook deliveries, Autopilot). Read in one transaction, so the parts agree; the export is audited."""
    with transaction.atomic():
        invitations = list(Invitation.objects.filter(contact=contact).select_related("survey", "event").order_by("pk"))
        responses = list(
            Response.objects.filter(contact=contact)
            .select_related("survey", "invitation")
            .prefetch_related("answers__question", "notes")
            .order_by("pk")
        )
        recipients = [(Channel.EMAIL, contact.email)] if contact.email else []
        recipients += [(channel, contact.phone) for channel in PHONE_CHANNELS] if contact.phone else []
        message_ids = [invitation.message_id for invitation in invitations if invitation.message_id]
        data = {
            "format": EXPORT_FORMAT,
            "exported_at": timezone.now().isoformat(),
            "contact": _contact_json(contact),
            "events": [_event_json(event) for event in Event.objects.filter(contact=contact).order_by("pk")],
            "invitations": [_invitation_json(invitation) for invitation in invitations],
            "responses": [_response_json(response) for response in responses],
            "messages": person_messages(recipients=recipients, message_ids=message_ids),
            **person_inbound(
                phones=[contact.phone] if contact.phone else [], emails=[contact.email] if contact.email else []
            ),
            "suppressions": person_suppressions(recipients=recipients),
        }
        for _, sections in contact_exporting.send(
            sender=Contact, contact=contact, response_ids=[response.pk for response in responses]
        ):
            data.update(sections or {})
        rows = {kind: len(items) for kind, items in data.items() if isinstance(items, list) and items}
        contact_privacy_recorded.send(
            sender=Contact,
            action="exported",
            contact_id=contact.pk,
            rows=rows,
            mode="",
            actor=actor,
            actor_label=actor_label,
        )
    return data


def _contact_json(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "email": contact.email,
        "phone": contact.phone,
        "name": contact.name,
        "locale": contact.locale,
        "timezone": contact.timezone,
        "external_id": contact.external_id,
        "properties": contact.properties,
        "created_at": _iso(contact.created_at),
        "updated_at": _iso(contact.updated_at),
        "erased_at": _iso(contact.erased_at),
    }


def _event_json(event: Event) -> dict:
    return {
        "id": event.pk,
        "source": event.source,
        "type": event.type,
        "external_id": event.external_id,
        "occurred_at": _iso(event.occurred_at),
        "received_at": _iso(event.received_at),
        "properties": event.properties,
    }


def _invitation_json(invitation: Invitation) -> dict:
    return {
        "id": str(invitation.public_id),
        "survey": invitation.survey.name,
        "event": invitation.event_id,
        "channel": invitation.channel,
        "locale": invitation.locale,
        "properties": invitation.properties,
        "status": invitation.status,
        "cancel_reason": invitation.cancel_reason,
        "scheduled_at": _iso(invitation.scheduled_at),
        "expires_at": _iso(invitation.expires_at),
        "reminded_at": _iso(invitation.reminded_at),
        "created_at": _iso(invitation.created_at),
    }


def _response_json(response: Response) -> dict:
    return {
        "id": response.pk,
        "survey": response.survey.name,
        "survey_kind": response.survey.kind,
        "invitation": str(response.invitation.public_id),
        "channel": response.invitation.channel,
        "score": response.score,
        "comment": response.comment,
        "tags": response.tags,
        "language": response.language or None,
        "sentiment": response.sentiment or None,
        "themes": response.themes,
        "confirmed_at": _iso(response.confirmed_at),
        "updated_at": _iso(response.updated_at),
        "answers": [
            {"question": answer.question.text_in(response.invitation.locale), "value": answer.value}
            for answer in response.answers.all()
        ],
        "notes": [
            {"text": note.text, "written_by": note.user_email, "created_at": _iso(note.created_at)}
            for note in response.notes.all()
        ],
    }
