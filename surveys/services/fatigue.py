"""Fatigue and consent: may this contact be asked now, on this channel? Checked at schedule and send time.

Owns the contact-pressure windows (one invitation of a survey per its same-survey window, none within its
any-survey window of another invitation; each survey's own, else the settings'), consent (suppressions) and
the SMS send window in the contact's time zone. Sends nothing.
"""

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Q

from notifications.models import PHONE_CHANNELS
from notifications.quiet_hours import next_open_everywhere, parse_window, phone_time_zones
from notifications.selectors import recipients_suppressed
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


def _counted(statuses) -> Q:
    """The invitations of `statuses` that count against a contact's window. An invitation that went out still
    counts once its link expired (`invitations_expire`): a message sent, or a card the web widget showed (it has no
    message; showing it was asking)."""
    went_out = (
        Q(status=Invitation.Status.EXPIRED) & (Q(message__isnull=False) | Q(channel=AnswerChannel.WEB))
        if Invitation.Status.QUEUED in statuses
        else Q()
    )
    return Q(status__in=statuses) | went_out


def contact_is_throttled(
    *, contact: Contact, survey: Survey, at: datetime, statuses=LIVE_STATUSES, exclude_pk=None
) -> bool:
    """Whether the contact's stored invitations (of `statuses`) fall within `survey`'s windows of `at`.

    The invitations `_counted` describes, read in SQL written out: intake asks this for every event of a known
    contact, and building the queryset took twice the CPU the rest of the event's check did."""
    survey_windows = windows(survey)
    widest = max(survey_windows)
    if not widest:
        return False
    quote, meta = connection.ops.quote_name, Invitation._meta
    column = {name: quote(meta.get_field(name).column) for name in ("contact", "survey", "scheduled_at", "status")}
    counted = f"{column['status']} IN ({', '.join(['%s'] * len(statuses))})"
    params: list = [*statuses]
    if Invitation.Status.QUEUED in statuses:
        counted += (
            f" OR ({column['status']} = %s AND ({quote(meta.get_field('message').column)} IS NOT NULL"
            f" OR {quote(meta.get_field('channel').column)} = %s))"
        )
        params += [Invitation.Status.EXPIRED, AnswerChannel.WEB]
    sql = (
        f"SELECT {column['survey']}, {column['scheduled_at']} FROM {quote(meta.db_table)}"
        f" WHERE {column['contact']} = %s AND {column['scheduled_at']} > %s AND {column['scheduled_at']} < %s"
        f" AND ({counted})"
    )
    adapt = connection.ops.adapt_datetimefield_value  # as the ORM would (SQLite keeps naive UTC text)
    params = [contact.pk, adapt(at - widest), adapt(at + widest), *params]
    if exclude_pk is not None:
        sql += f" AND {quote(meta.pk.column)} <> %s"
        params.append(exclude_pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # SQLite gives back the naive UTC it stores; PostgreSQL an aware time.
        earlier = [(survey_id, when if when.tzinfo else when.replace(tzinfo=UTC)) for survey_id, when in cursor]
    return is_throttled(earlier, survey_id=survey.pk, at=at, windows=survey_windows)


def address_for(contact: Contact, channel: str) -> str:
    return contact.phone if channel in PHONE_CHANNELS else contact.email


class Block(NamedTuple):
    """Why an invitation may not go out now, and for one outside its SMS window, when that window opens (UTC)."""

    reason: str
    until: datetime | None = None


def invitations_send_blocks(invitations: Sequence[Invitation], *, at: datetime) -> dict[int, Block]:
    """Which of a claimed batch may not go out at `at`, by invitation pk: opted out, throttled (each by its own
    survey's windows) or outside the SMS window, checked in that order.

    One consent query and one fatigue query for the whole batch, however large. At send time only invitations that
    actually went out count against a window, and an invitation the batch lets through counts against the ones
    after it (two due invitations of one contact: the first goes, the second is throttled), as if each had been
    sent before the next was checked.
    """
    suppressed = recipients_suppressed(recipients={(i.channel, address_for(i.contact, i.channel)) for i in invitations})
    windows_of = {i.survey_id: windows(i.survey) for i in invitations}
    widest = max((max(w) for w in windows_of.values()), default=timedelta(0))
    earlier: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    if widest:
        for contact_id, survey_id, scheduled_at in Invitation.objects.filter(
            _counted((Invitation.Status.QUEUED,)),
            contact_id__in={i.contact_id for i in invitations},
            scheduled_at__gt=at - widest,
            scheduled_at__lt=at + widest,
        ).values_list("contact_id", "survey_id", "scheduled_at"):
            earlier[contact_id].append((survey_id, scheduled_at))
    sms_window = parse_window(settings.SMS_SEND_WINDOW)
    opens: dict[tuple[str, ...], datetime | None] = {}  # most contacts of a batch share a few zones
    blocks = {}
    for invitation in invitations:
        contact = invitation.contact
        if (invitation.channel, address_for(contact, invitation.channel)) in suppressed:
            blocks[invitation.pk] = Block(OPTED_OUT)
            continue
        if not invitation.properties.get(FATIGUE_EXEMPT_PROPERTY) and is_throttled(
            earlier[contact.pk], survey_id=invitation.survey_id, at=at, windows=windows_of[invitation.survey_id]
        ):
            blocks[invitation.pk] = Block(THROTTLED)
            continue
        if invitation.channel in PHONE_CHANNELS:
            zones = tuple(contact_time_zones(contact))
            if zones not in opens:
                opens[zones] = next_open_everywhere(at, zones, sms_window)
            if opens[zones]:
                blocks[invitation.pk] = Block(OUTSIDE_SMS_WINDOW, until=opens[zones])
                continue
        earlier[contact.pk].append((invitation.survey_id, invitation.scheduled_at))
    return blocks
