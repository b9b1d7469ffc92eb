"""Writes of Delighted's own features: "create person" (a contact and its survey request), Autopilot
(recurring survey requests per person and channel) and the notes and tags a company puts on survey responses.

Schedules through `surveys.services.scheduling`, so fatigue, consent and the SMS window apply;
it never sends anything itself.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from delighted.models import AuditEntry, AutopilotMembership
from surveys.models import ApiKey, Contact, Response, ResponseNote, Survey
from surveys.services import fatigue
from surveys.services.contacts import ContactData, contact_addresses_change, contact_upsert
from surveys.services.privacy import contact_erase
from surveys.services.scheduling import ScheduleOutcome, SkipReason, invitation_schedule


def _frequency() -> timedelta:
    return timedelta(days=settings.AUTOPILOT_FREQUENCY_DAYS)


@transaction.atomic
def autopilot_membership_add(
    *, survey: Survey, channel: str, data: ContactData, properties: dict | None = None
) -> AutopilotMembership:
    """Add (or refresh the properties of) a member; a new member is surveyed right away."""
    contact = contact_upsert(data=data)
    membership, created = AutopilotMembership.objects.get_or_create(
        survey=survey,
        channel=channel,
        contact=contact,
        defaults={"properties": properties or {}, "next_survey_at": timezone.now()},
    )
    if not created and properties is not None:
        membership.properties = properties
        membership.save(update_fields=["properties", "updated_at"])
    if created:
        _invite(membership)
    return membership


def autopilot_membership_remove(*, survey: Survey, channel: str, contact: Contact) -> bool:
    deleted, _ = AutopilotMembership.objects.filter(survey=survey, channel=channel, contact=contact).delete()
    return bool(deleted)


def _invite(membership: AutopilotMembership) -> None:
    invitation_schedule(
        contact=membership.contact,
        survey=membership.survey,
        channel_choice=membership.channel,
        properties=membership.properties,
    )
    membership.next_survey_at = timezone.now() + _frequency()
    membership.save(update_fields=["next_survey_at", "updated_at"])


def autopilot_invite_due(*, batch_size: int = 500) -> int:
    """Schedule the next survey request of members who are due; returns how many were handled."""
    with transaction.atomic():
        due = list(
            AutopilotMembership.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_survey_at__lte=timezone.now())
            .select_related("contact", "survey")
            .order_by("next_survey_at")[:batch_size]
        )
        for membership in due:
            _invite(membership)
    return len(due)


@dataclass(frozen=True)
class NoteData:
    """A note as a client sends it: `id` set for a note already stored (sent back unchanged), else a new one."""

    id: str = ""
    text: str = ""
    user_email: str = ""


@transaction.atomic
def response_annotate(*, response: Response, tags: list[str] | None = None, notes: list[NoteData] = ()) -> Response:
    """Replace the response's tags (when given) and add its new notes.

    Notes are only ever added here: one sent back with its `id` is left as written, so a client
    saving a response it read earlier cannot lose or rewrite a note someone added since.
    """
    stored = {str(pk) for pk in response.notes.values_list("pk", flat=True)} if any(n.id for n in notes) else set()
    unknown = [note.id for note in notes if note.id and note.id not in stored]
    if unknown:
        raise ValidationError({"notes": f"No note with id {unknown[0]} on this response."})
    new = [
        ResponseNote(response=response, text=note.text.strip(), user_email=note.user_email)
        for note in notes
        if not note.id
    ]
    ResponseNote.objects.bulk_create(new)
    changed = []
    if tags is not None:
        # Tags are labels: kept once each, in the order first given.
        tags = list(dict.fromkeys(tag.strip() for tag in tags if tag.strip()))
        if tags != response.tags:
            response.tags = tags
            changed.append("tags")
    if changed or new:
        response.save(update_fields=[*changed, "updated_at"])
    return response


def contact_survey_request(
    *,
    data: ContactData,
    survey: Survey,
    channel: str,
    delay: timedelta = timedelta(0),
    send: bool = True,
    properties: dict | None = None,
    last_sent_at: datetime | None = None,
    email_update: str = "",
    phone_update: str = "",
) -> tuple[Contact, ScheduleOutcome | None]:
    """Delighted's "create person": upsert the contact and, unless `send` is false, schedule a survey request.

    `last_sent_at` is a send made elsewhere (before switching to us); it counts against the window.
    `email_update`/`phone_update` give the person found by `data`'s email or phone a new one,
    to which the survey then goes.
    """
    with transaction.atomic():
        if email_update or phone_update:
            contact_addresses_change(current=data, email=email_update, phone=phone_update)
            data = replace(data, email=email_update or data.email, phone=phone_update or data.phone)
        contact = contact_upsert(data=data)
        if not send:
            return contact, None
        if last_sent_at and fatigue.is_throttled(
            [(survey.pk, last_sent_at)], survey_id=survey.pk, at=timezone.now() + delay, windows=fatigue.windows(survey)
        ):
            return contact, ScheduleOutcome(None, None, SkipReason.THROTTLED)
        Contact.objects.select_for_update().filter(pk=contact.pk).first()
        return contact, invitation_schedule(
            contact=contact, survey=survey, channel_choice=channel, delay=delay, properties=properties
        )


@transaction.atomic
def person_erase(*, contact: Contact, api_key: ApiKey) -> AuditEntry:
    """Erase a person everywhere (a data-deletion request) and record who asked, in one transaction.

    Delighted's "delete person" deletes their responses too: the hard erasure, which also uncounts them
    (surveys.services.privacy; the console's audit trail records it as well)."""
    entry = AuditEntry.objects.create(
        action="person.erase", api_key_id=api_key.pk, api_key_name=api_key.name, subject=f"person {contact.pk}"
    )
    contact_erase(contact=contact, hard=True, actor=api_key)
    return entry
