"""What the Delighted layer does when surveys speaks: a person erased leaves Autopilot; their export lists it."""

from collections import Counter

from django.dispatch import receiver

from delighted.models import AutopilotMembership
from surveys.services.privacy import ErasureSubject
from surveys.signals import contact_erasing, contact_exporting


@receiver(contact_erasing)
def leave_autopilot(sender, subject: ErasureSubject, rows: Counter, **kwargs) -> None:
    """An erased person is surveyed by no Autopilot again (their membership held their properties too)."""
    rows["autopilot memberships"] += AutopilotMembership.objects.filter(contact_id=subject.contact_id).delete()[0]


@receiver(contact_exporting)
def export_autopilot(sender, contact, **kwargs) -> dict:
    memberships = AutopilotMembership.objects.filter(contact=contact).select_related("survey").order_by("pk")
    return {
        "autopilot_memberships": [
            {
                "survey": membership.survey.name,
                "channel": membership.channel,
                "properties": membership.properties,
                "next_survey_at": membership.next_survey_at.isoformat(),
            }
            for membership in memberships
        ]
    }
