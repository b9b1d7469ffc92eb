"""Reads of Delighted's Autopilot."""

from delighted.models import AutopilotMembership
from surveys.models import Contact, Survey


def autopilot_memberships_page(
    *, survey: Survey | None, channel: str, contact: Contact | None = None, after_id: int = 0, limit: int = 20
) -> list[AutopilotMembership]:
    memberships = AutopilotMembership.objects.filter(survey=survey, channel=channel, pk__gt=after_id)
    if contact is not None:
        memberships = memberships.filter(contact=contact)
    return list(memberships.select_related("contact").order_by("pk")[:limit])
