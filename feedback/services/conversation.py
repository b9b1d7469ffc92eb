"""A case as a conversation: agents' replies by email, SMS or WhatsApp, the customer's answers coming back, snoozing,
bulk changes from the inbox, and canned replies.

Sends only through `notifications.services.message_queue`; every reply carries its case's `thread`
("follow_up:<id>") so that the customer's email (to the per-case Reply-To) and SMS (to the number an
agent wrote to last) come back to this case and never change the survey's score.
"""

import re
import zoneinfo
from datetime import date, datetime, time
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback.models import OPEN_STATUSES, CannedReply, FollowUp, FollowUpEntry, Team, User
from feedback.services.cases import follow_up_assign, follow_up_set_status
from feedback.services.notices import agents_notify, follow_up_announce
from feedback.services.resolution import follow_up_reopen_due
from feedback.services.timeline import entry_add, entry_add_line
from notifications.models import PHONE_CHANNELS, Channel
from notifications.selectors import recipient_is_contactable, whatsapp_session_closes_at
from notifications.services.inbound_email import reply_address_for_thread
from notifications.services.queue import message_queue
from surveys.scales import pick_locale
from surveys.selectors import latest_open_sms_invitation_exists

THREAD_PREFIX = "follow_up:"
SMS_MAX_LENGTH = 1600
REPLY_SUBJECT = {"en": "About your feedback on {product}", "fr": "À propos de votre avis sur {product}"}


def follow_up_thread_key(follow_up_id: int) -> str:
    return f"{THREAD_PREFIX}{follow_up_id}"


def follow_up_id_of_thread(thread: str) -> int | None:
    if not thread.startswith(THREAD_PREFIX):
        return None
    try:
        return int(thread.removeprefix(THREAD_PREFIX))
    except ValueError:
        return None


def follow_up_answered_channel(follow_up: FollowUp) -> str:
    """The channel to answer the customer on by default: the message channel they answered on; email for an
    answer given in a page (the web widget, a public link or kiosk: their "may we contact you?" address)."""
    channel = follow_up.response.invitation.channel if follow_up.response.invitation_id else Channel.EMAIL
    return channel if channel in Channel.values else Channel.EMAIL


CHANNEL_LABELS = {
    Channel.EMAIL: gettext_lazy("Email"),
    Channel.SMS: gettext_lazy("SMS"),
    Channel.WHATSAPP: gettext_lazy("WhatsApp"),
}
HOW = {
    Channel.EMAIL: gettext_lazy("by email"),
    Channel.SMS: gettext_lazy("by SMS"),
    Channel.WHATSAPP: gettext_lazy("on WhatsApp"),
}
# The history's line of a case reopened by the customer's message (feedback/history_lines.py), by channel.
REOPENED_BY = {
    Channel.EMAIL: "wrote_by_email_reopened",
    Channel.SMS: "wrote_by_sms_reopened",
    Channel.WHATSAPP: "wrote_on_whatsapp_reopened",
}


def _whatsapp_problem(phone: str) -> str:
    """Why a free-form WhatsApp reply cannot go now ("" when it can): WhatsApp takes one only within 24 hours
    of the customer's last WhatsApp message."""
    if whatsapp_session_closes_at(phone=phone) is not None:
        return ""
    return _(
        "no open WhatsApp session: WhatsApp accepts a reply only within %(hours)s hours"
        " of the customer's last WhatsApp message"
    ) % {"hours": settings.WHATSAPP_SESSION_HOURS}


def follow_up_reply_channels(follow_up: FollowUp) -> list[dict]:
    """Each channel the agent may reply on: its address, and why not when it cannot be used.

    The channel the customer answered on comes first: it is the default. WhatsApp is listed for a customer who
    answered on it or has an open WhatsApp session.
    """
    contact = follow_up.response.contact
    answered = follow_up_answered_channel(follow_up)
    candidates = [(Channel.EMAIL, contact.email), (Channel.SMS, contact.phone)]
    whatsapp_problem = _whatsapp_problem(contact.phone) if contact.phone else _("no phone number")
    if answered == Channel.WHATSAPP or not whatsapp_problem:
        candidates.append((Channel.WHATSAPP, contact.phone))
    channels = []
    for channel, address in candidates:
        problem = ""
        if not address:
            problem = _("no email address") if channel == Channel.EMAIL else _("no phone number")
        elif not recipient_is_contactable(channel=channel, recipient=address):
            problem = _("opted out")
        elif channel == Channel.WHATSAPP:
            problem = whatsapp_problem
        channels.append({"channel": channel, "label": CHANNEL_LABELS[channel], "address": address, "problem": problem})
    channels.sort(key=lambda item: item["channel"] != answered)
    return channels


def _agent_from(author: User | None, team: Team) -> str:
    """The agent's name on the team's address: "Marie Dupont (Care) <care@shop.example>"."""
    _, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    address = team.reply_from_email or default_address
    who = (author.get_full_name() or author.email.split("@")[0]) if author else team.name
    return formataddr((f"{who} ({team.name})" if author else who, address))


@transaction.atomic
def follow_up_reply(*, follow_up: FollowUp, author: User | None, body: str, channel: str = "") -> FollowUpEntry:
    """Reply to the customer by email, SMS or WhatsApp (default: the channel they answered on), unless they opted
    out or, on WhatsApp, their 24-hour session is closed.

    Email goes out with the agent's name on the team's address and the case's Reply-To; both carry
    the case's thread, so the customer's answer comes back to this case.
    """
    body = body.strip()
    channel = channel or follow_up_answered_channel(follow_up)
    if channel not in (Channel.EMAIL, *PHONE_CHANNELS):
        raise ValidationError({"channel": _("Choose email, sms or whatsapp.")})
    if not body:
        raise ValidationError({"body": _("Write the reply before sending it.")})
    if channel in PHONE_CHANNELS and len(body) > SMS_MAX_LENGTH:
        label = CHANNEL_LABELS[channel]
        raise ValidationError(
            {
                "body": _("An %(channel)s reply holds at most %(count)s characters.")
                % {"channel": label, "count": SMS_MAX_LENGTH}
            }
        )
    contact = follow_up.response.contact
    usable = {item["channel"]: item for item in follow_up_reply_channels(follow_up)}.get(channel) or {
        "channel": channel,
        "address": contact.phone,
        "problem": _whatsapp_problem(contact.phone) if contact.phone else _("no phone number"),
    }
    if usable["problem"]:
        raise ValidationError(
            {
                "channel": _("The customer cannot be contacted by %(channel)s: %(problem)s.")
                % {"channel": channel, "problem": usable["problem"]}
            }
        )
    thread = follow_up_thread_key(follow_up.pk)
    if channel == Channel.EMAIL:
        locale = pick_locale(follow_up.response.invitation.locale if follow_up.response.invitation_id else "")
        product = follow_up.response.survey.product_name or follow_up.team.name
        message = message_queue(
            channel=channel,
            recipient=usable["address"],
            subject=REPLY_SUBJECT[locale].format(product=product),
            body_text=body,
            thread=thread,
            from_email=_agent_from(author, follow_up.team),
            reply_to=reply_address_for_thread(thread=thread),
        )
    else:
        message = message_queue(channel=channel, recipient=usable["address"], body_text=body, thread=thread)
    entry = entry_add(follow_up, FollowUpEntry.Kind.REPLY, author=author, body=body, message=message, channel=channel)
    if follow_up.status in (FollowUp.Status.NEW, FollowUp.Status.IN_PROGRESS):
        follow_up.status = FollowUp.Status.WAITING
        follow_up.save(update_fields=["status", "updated_at"])
    follow_up_announce(follow_up, "follow_up.updated")
    return entry


@transaction.atomic
def follow_up_customer_message(
    *, follow_up_id: int, channel: str, body: str, received_at: datetime | None = None
) -> FollowUpEntry | None:
    """Put the customer's email or SMS on its case's thread and bring the case back to whoever works it.

    A resolved case reopens when the message is newer than the resolution; a waiting one moves to in
    progress; a snoozed one wakes up. The assignee is emailed (a queued case: the team's channel).
    None when the case no longer exists.
    """
    follow_up = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("team", "assignee", "rule", "response__survey", "response__contact")
        .filter(pk=follow_up_id)
        .first()
    )
    if follow_up is None:
        return None
    received_at = received_at or timezone.now()
    body = body.strip() or "(empty message)"
    entry = entry_add(follow_up, FollowUpEntry.Kind.CUSTOMER_REPLY, body=body, channel=channel)
    how = HOW.get(channel, HOW[Channel.SMS])
    if follow_up.status == FollowUp.Status.RESOLVED:
        if follow_up.resolved_at is None or received_at > follow_up.resolved_at:
            follow_up_reopen_due(follow_up, author=None, wording=REOPENED_BY.get(channel, REOPENED_BY[Channel.SMS]))
            headline = format_lazy(gettext_lazy("The customer wrote {how}: follow-up reopened"), how=how)
        else:
            headline = ""
    else:
        fields = []
        if follow_up.status == FollowUp.Status.WAITING:
            follow_up.status = FollowUp.Status.IN_PROGRESS
            fields.append("status")
        if follow_up.snoozed_until is not None:
            follow_up.snoozed_until = None
            fields.append("snoozed_until")
        if fields:
            follow_up.save(update_fields=[*fields, "updated_at"])
        headline = format_lazy(gettext_lazy("The customer replied {how}"), how=how)
    if headline:
        agents_notify(follow_up, [follow_up.assignee] if follow_up.assignee else [], headline)
    follow_up_announce(follow_up, "follow_up.updated")
    return entry


def follow_up_record_inbound_email(*, thread: str, body: str, received_at: datetime | None = None):
    follow_up_id = follow_up_id_of_thread(thread)
    if follow_up_id is None:
        return None
    return follow_up_customer_message(
        follow_up_id=follow_up_id, channel=Channel.EMAIL, body=body, received_at=received_at
    )


def follow_up_record_inbound_sms(
    *, phone: str, body: str, thread: str = "", channel: str = Channel.SMS
) -> FollowUpEntry | None:
    """A customer's SMS or WhatsApp message: in a case's conversation it goes to that case. Outside one, the
    survey reply flow owns it while the number has an open survey message on that channel; otherwise (nobody
    asked anything) it lands on the number's latest open case answered on that channel, so that it is not lost."""
    follow_up_id = follow_up_id_of_thread(thread)
    if follow_up_id is not None:
        return follow_up_customer_message(follow_up_id=follow_up_id, channel=channel, body=body)
    if thread or latest_open_sms_invitation_exists(phone=phone, channel=channel):
        return None
    latest = (
        FollowUp.objects.filter(
            status__in=OPEN_STATUSES, response__contact__phone=phone, response__invitation__channel=channel
        )
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if latest is None:
        return None
    return follow_up_customer_message(follow_up_id=latest, channel=channel, body=body)


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


@transaction.atomic
def follow_up_snooze(*, follow_up: FollowUp, actor: User | None, until: date | None) -> FollowUp:
    """Put an open case out of the work view until the team opens on `until` (None: wake it now).

    It stays due when it was due; the customer writing wakes it up.
    """
    if follow_up.status == FollowUp.Status.RESOLVED:
        raise ValidationError({"until": _("A resolved case cannot be snoozed.")})
    if until is None:
        if follow_up.snoozed_until is None:
            return follow_up
        follow_up.snoozed_until = None
        line = {"wording": "woken"}
    else:
        tz = _zone(follow_up.team.time_zone)
        today = timezone.now().astimezone(tz).date()
        if until <= today:
            raise ValidationError({"until": _("Choose a day after today.")})
        if (until - today).days > 366:
            raise ValidationError({"until": _("Choose a day within a year.")})
        follow_up.snoozed_until = datetime.combine(until, follow_up.team.opens_at or time(9), tzinfo=tz)
        line = {"wording": "snoozed", "day": until.isoformat()}
    follow_up.save(update_fields=["snoozed_until", "updated_at"])
    entry_add_line(follow_up, FollowUpEntry.Kind.SNOOZED, author=actor, **line)
    follow_up_announce(follow_up, "follow_up.updated")
    return follow_up


def follow_ups_bulk_change(
    *, actor: User, follow_ups: list[FollowUp], action: str, assignee: User | None = None, status: str = ""
) -> tuple[int, list[str]]:
    """Claim, assign or set the status of several cases, each on its own (one refusal stops no other).

    Returns how many changed and, for each refused case, "#id: why".
    """
    changed, refused = 0, []
    for follow_up in follow_ups:
        try:
            with transaction.atomic():
                if action == "claim":
                    follow_up_assign(follow_up=follow_up, actor=actor, assignee=actor)
                elif action == "assign":
                    follow_up_assign(follow_up=follow_up, actor=actor, assignee=assignee)
                elif action == "status":
                    follow_up_set_status(follow_up=follow_up, actor=actor, status=status)
                else:
                    raise ValidationError({"action": _("Choose claim, assign or status.")})
        except ValidationError as exc:
            refused.append(f"#{follow_up.pk}: {' '.join(exc.messages)}")
        else:
            changed += 1
    return changed, refused


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def fill_placeholders(template: str, values: dict[str, object]) -> str:
    """Replace each `{name}` with its value; a placeholder without one stays as written, for the agent to see."""

    def replace(match: re.Match) -> str:
        value = values.get(match.group(1))
        return match.group(0) if value in (None, "") else str(value)

    return _PLACEHOLDER.sub(replace, template)


def canned_reply_values(follow_up: FollowUp) -> dict[str, object]:
    """What a canned reply's placeholders read: the customer's names, then the case's event and its properties."""
    contact = follow_up.response.contact
    invitation = follow_up.response.invitation if follow_up.response.invitation_id else None
    event = invitation.event if invitation and invitation.event_id else None
    values: dict[str, object] = {}
    for key, value in (contact.properties or {}).items():
        if isinstance(value, str | int | float):
            values[key] = value
    if event is not None:
        values["event_id"] = event.external_id
        for key, value in (event.properties or {}).items():
            if isinstance(value, str | int | float):
                values[key] = value
    values.setdefault("order_id", values.get("order_number") or (event.external_id if event else ""))
    values.update(
        first_name=contact.name.split()[0] if contact.name.strip() else "",
        name=contact.name,
        email=contact.email,
        team=follow_up.team.name,
        case_id=follow_up.pk,
    )
    return values


def canned_reply_render(*, canned: CannedReply, follow_up: FollowUp) -> str:
    return fill_placeholders(canned.body, canned_reply_values(follow_up))


@transaction.atomic
def canned_reply_save(
    *,
    canned: CannedReply | None = None,
    team: Team,
    locale: str,
    title: str,
    body: str,
    is_active: bool = True,
) -> CannedReply:
    """Create or change a team's canned reply (the manager's console and the admin call this)."""
    title, body = title.strip(), body.strip()
    errors = {}
    if locale not in ("en", "fr"):
        errors["locale"] = _("Choose en or fr.")
    if not title:
        errors["title"] = _("Give the reply a title.")
    if not body:
        errors["body"] = _("Write the reply.")
    elif len(body) > SMS_MAX_LENGTH:
        errors["body"] = _("A canned reply holds at most %(count)s characters.") % {"count": SMS_MAX_LENGTH}
    clash = CannedReply.objects.filter(team=team, locale=locale, title__iexact=title)
    if canned is not None and canned.pk:
        clash = clash.exclude(pk=canned.pk)
    if title and clash.exists():
        errors["title"] = _("Team %(team)s already has a %(locale)s reply titled %(title)s.") % {
            "team": team,
            "locale": locale,
            "title": title,
        }
    if errors:
        raise ValidationError(errors)
    canned = canned or CannedReply()
    canned.team, canned.locale, canned.title, canned.body, canned.is_active = team, locale, title, body, is_active
    canned.save()
    return canned
