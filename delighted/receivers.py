"""What the Delighted layer does when surveys speaks: a person erased leaves Autopilot and the uploads of Delighted
exports still waiting to be imported; their export lists their memberships."""

from collections import Counter

from django.dispatch import receiver

from delighted.imports import delighted_uploads_forget
from delighted.models import AutopilotMembership
from surveys.services.privacy import ErasureSubject
from surveys.signals import contact_erasing, contact_exporting


@receiver(contact_erasing)
def leave_autopilot(sender, subject: ErasureSubject, rows: Counter, **kwargs) -> None:
    """An erased person is surveyed by no Autopilot again (their membership held their properties too)."""
    rows["autopilot memberships"] += AutopilotMembership.objects.filter(contact_id=subject.contact_id).delete()[0]


@receiver(contact_erasing)
def forget_waiting_uploads(sender, subject: ErasureSubject, rows: Counter, **kwargs) -> None:
    """An upload not yet imported (columns never mapped, a failed import) may hold the person's answers: it goes
    whole, as one person cannot be cut out of a file; an import already read it and kept no copy."""
    rows["uploaded Delighted exports"] += delighted_uploads_forget(emails=subject.emails, phones=subject.phones)


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
