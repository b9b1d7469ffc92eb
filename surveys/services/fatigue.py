"""Fatigue and consent: may this contact be asked now, on this channel? Checked at schedule and send time.

Owns the contact-pressure windows (one invitation of a survey per its same-survey window, none within its
any-survey window of another invitation; each survey's own, else the settings'), consent (suppressions) and
the SMS send window in the contact's time zone. Sends nothing.
"""

import zoneinfo
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from notifications.models import PHONE_CHANNELS
from notifications.quiet_hours import next_open_everywhere, parse_window, phone_time_zones
from notifications.selectors import recipient_is_contactable
from surveys.models import AnswerChannel, Contact, Invitation, Survey

THROTTLED = "throttled"
OPTED_OUT = "opted_out"
OUTSIDE_SMS_WINDOW = "outside_sms_window"
# Invitations that count against a contact's window: pending or sent, not cancelled nor expired.
LIVE_STATUSES = (Invitation.Status.SCHEDULED, Invitation.Status.QUEUED)
# Set on invitations that follow up the contact's own answer (a case's "did we fix it?" survey): the
# window spaces out unsolicited surveys. Only `invitation_schedule(fatigue_exempt=True)` sets it.
FATIGUE_EXEMPT_PROPERTY = "fatigue_exempt"


class Windows(NamedTuple):
    """How far apart a survey's invitation must be from the person's other invitations: of the same survey, and
    of any survey. The survey being asked decides, whatever the other invitations' surveys would say."""

    same_survey: timedelta
    any_survey: timedelta


def windows(survey: Survey) -> Windows:
    """The survey's own windows, each empty one the workspace's default (FATIGUE_SURVEY_DAYS, FATIGUE_GLOBAL_DAYS)."""
    same = settings.FATIGUE_SURVEY_DAYS if survey.fatigue_survey_days is None else survey.fatigue_survey_days
    any_ = settings.FATIGUE_GLOBAL_DAYS if survey.fatigue_global_days is None else survey.fatigue_global_days
    return Windows(same_survey=timedelta(days=same), any_survey=timedelta(days=any_))


def is_throttled(earlier: Iterable[tuple[int, datetime]], *, survey_id: int, at: datetime, windows: Windows) -> bool:
    """Whether another invitation `(survey_id, scheduled_at)` falls within `windows` of `at`."""
    for other_survey_id, other_at in earlier:
        gap = abs(at - other_at)
        if gap < windows.any_survey or (other_survey_id == survey_id and gap < windows.same_survey):
            return True
    return False


def contact_time_zones(contact: Contact) -> list[str]:
    """The zones the contact may be in: their own, else every zone of their number's area, else the site's.

    A number whose area spans zones (e.g. +1 208: Boise and Los Angeles) gives them all, so that
    quiet hours hold in each: the strictest reading, never the first zone listed.
    """
    if contact.timezone:
        try:
            zoneinfo.ZoneInfo(contact.timezone)
            return [contact.timezone]
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    if contact.phone and (zones := phone_time_zones(contact.phone)):
        return zones
    return [settings.TIME_ZONE]


def contact_timezone(contact: Contact) -> zoneinfo.ZoneInfo:
    """The contact's own time zone, else their phone number's region (its first zone), else the site's."""
    return zoneinfo.ZoneInfo(contact_time_zones(contact)[0])


def sms_window_next_open(contact: Contact, at: datetime) -> datetime | None:
    """None when an SMS may reach the contact at `at` in every zone they may be in, else when it next may (UTC)."""
    return next_open_everywhere(at, contact_time_zones(contact), parse_window(settings.SMS_SEND_WINDOW))


def contact_is_throttled(
    *, contact: Contact, survey: Survey, at: datetime, statuses=LIVE_STATUSES, exclude_pk=None
) -> bool:
    """Whether the contact's stored invitations (of `statuses`) fall within `survey`'s windows of `at`."""
    survey_windows = windows(survey)
    widest = max(survey_windows)
    if not widest:
        return False
    # An invitation that went out still counts once its link expired (`invitations_expire`): a message sent,
    # or a card the web widget showed (it has no message; showing it was asking).
    went_out = (
        Q(status=Invitation.Status.EXPIRED) & (Q(message__isnull=False) | Q(channel=AnswerChannel.WEB))
        if Invitation.Status.QUEUED in statuses
        else Q()
    )
    others = Invitation.objects.filter(
        Q(status__in=statuses) | went_out, contact=contact, scheduled_at__gt=at - widest, scheduled_at__lt=at + widest
    )
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return is_throttled(
        others.values_list("survey_id", "scheduled_at"), survey_id=survey.pk, at=at, windows=survey_windows
    )


def address_for(contact: Contact, channel: str) -> str:
    return contact.phone if channel in PHONE_CHANNELS else contact.email


def invitation_send_block_reason(invitation: Invitation) -> str | None:
    """Why the invitation may not go out now (throttled, opted_out, outside_sms_window), or None."""
    contact = invitation.contact
    if not recipient_is_contactable(channel=invitation.channel, recipient=address_for(contact, invitation.channel)):
        return OPTED_OUT
    # At send time only invitations that actually went out count against the window.
    if not invitation.properties.get(FATIGUE_EXEMPT_PROPERTY) and contact_is_throttled(
        contact=contact,
        survey=invitation.survey,
        at=timezone.now(),
        statuses=(Invitation.Status.QUEUED,),
        exclude_pk=invitation.pk,
    ):
        return THROTTLED
    if invitation.channel in PHONE_CHANNELS and sms_window_next_open(contact, timezone.now()):
        return OUTSIDE_SMS_WINDOW
    return None


def invitation_hold(*, invitation: Invitation, reason: str) -> None:
    """Defer an SMS or WhatsApp message until its window opens; drop a throttled or opted-out invitation, keeping
    the reason."""
    if reason == OUTSIDE_SMS_WINDOW:
        invitation.scheduled_at = sms_window_next_open(invitation.contact, timezone.now())
        invitation.save(update_fields=["scheduled_at"])
        return
    invitation.status = Invitation.Status.CANCELLED
    invitation.cancel_reason = reason
    invitation.save(update_fields=["status", "cancel_reason"])
