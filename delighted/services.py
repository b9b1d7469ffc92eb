"""Writes of Delighted's Autopilot: recurring survey requests per person and channel.

Schedules through `surveys.services.intake`, so fatigue, consent and the SMS window apply;
it never sends anything itself.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from delighted.models import AutopilotMembership
from surveys.models import Contact, Survey
from surveys.services.intake import ContactData, contact_upsert, invitation_schedule


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
