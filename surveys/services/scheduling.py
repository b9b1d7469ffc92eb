"""Invitations: schedule one unless consent or fatigue forbid it, on which channel and when; cancel pending ones.

Decides who is invited, when and on which channel. It never sends anything: due invitations are
the dispatcher's (`surveys.services.dispatch`).
"""

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.utils import timezone

from notifications.models import PHONE_CHANNELS, Channel
from notifications.selectors import recipient_is_contactable
from surveys.models import Contact, Event, Invitation, Survey, TriggerRule
from surveys.scales import pick_locale
from surveys.services import fatigue
from surveys.services.contacts import ContactData
from surveys.tokens import invitation_token, token_hash


class SkipReason:
    NO_CHANNEL = "no_channel"
    NO_RULE = "no_rule"
    DUPLICATE = "duplicate"
    SAMPLED_OUT = "sampled_out"
    THROTTLED = fatigue.THROTTLED
    OPTED_OUT = fatigue.OPTED_OUT


class InvitationWritten(NamedTuple):
    """An invitation a batch wrote as a row, without a model instance: what its caller reads of it."""

    public_id: uuid.UUID
    token_hash: str
    survey: Survey
    channel: str
    scheduled_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ScheduleOutcome:
    trigger_rule_id: int | None
    invitation: Invitation | InvitationWritten | None
    skipped: str = ""


Contactable = Callable[[str, str], bool]


def _contactable(channel: str, address: str) -> bool:
    return recipient_is_contactable(channel=channel, recipient=address)


def contactable_unless(suppressed: set[tuple[str, str]]) -> Contactable:
    """Consent already read: every `(channel, address)` may be contacted but those in `suppressed`."""

    def contactable(channel: str, address: str) -> bool:
        return (channel, address) not in suppressed

    return contactable


def _channel_for(contact: Contact, choice: str, contactable: Contactable = _contactable) -> tuple[str | None, str]:
    """The channel to use and, when there is none, why: no address at all, or every address opted out."""
    if choice == TriggerRule.ChannelChoice.EMAIL_THEN_SMS:
        candidates = [Channel.EMAIL, Channel.SMS]
    else:
        candidates = [choice]
    reachable = [channel for channel in candidates if fatigue.address_for(contact, channel)]
    if not reachable:
        return None, SkipReason.NO_CHANNEL
    for channel in reachable:
        if contactable(channel, fatigue.address_for(contact, channel)):
            return channel, ""
    return None, SkipReason.OPTED_OUT


def link_lifetime(survey: Survey) -> timedelta:
    """How long the survey's links accept answers: its own `link_expiry_days`, else INVITATION_EXPIRY_DAYS."""
    return timedelta(days=survey.link_expiry_days or settings.INVITATION_EXPIRY_DAYS)


def sampled_in(key: str, rate: float) -> bool:
    """A stable coin toss per key, so a retried event gets the same answer."""
    if rate >= 1:
        return True
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def invitation_schedule(
    *,
    contact: Contact,
    survey: Survey,
    channel_choice: str,
    delay: timedelta = timedelta(0),
    event: Event | None = None,
    trigger_rule: TriggerRule | None = None,
    properties: dict | None = None,
    expiry: timedelta | None = None,
    fatigue_exempt: bool = False,
) -> ScheduleOutcome:
    """Store an invitation due after `delay`, unless consent or fatigue forbid it.

    An SMS due outside the contact's send window is moved to when the window opens.
    `fatigue_exempt` is for a survey that follows up the contact's own answer: consent and the
    SMS window still apply, the contact-pressure window does not (now nor at send time).
    """
    outcome = invitation_build(
        contact=contact,
        survey=survey,
        channel_choice=channel_choice,
        now=timezone.now(),
        delay=delay,
        event=event,
        trigger_rule=trigger_rule,
        properties=properties,
        expiry=expiry,
        throttled=lambda at: fatigue.contact_is_throttled(contact=contact, survey=survey, at=at),
        fatigue_exempt=fatigue_exempt,
    )
    if outcome.invitation is not None:
        outcome.invitation.save()
    return outcome


class InvitationPlan(NamedTuple):
    """An invitation decided on and not yet built: on which channel, in which language, with what, and when."""

    channel: str
    locale: str
    properties: dict
    scheduled_at: datetime
    expires_at: datetime


def invitation_plan(
    *,
    contact: Contact | ContactData,
    survey: Survey,
    channel_choice: str,
    now: datetime,
    delay: timedelta,
    properties: dict | None,
    expiry: timedelta | None,
    throttled: Callable[[datetime], bool],
    fatigue_exempt: bool = False,
    contactable: Contactable = _contactable,
) -> InvitationPlan | str:
    """The invitation to make, due `delay` after `now`, or why there is none (a `SkipReason`); `throttled(at)`
    answers the fatigue question. `contact` may be the `ContactData` of a contact being created: only its
    addresses, time zone and language are read."""
    channel, reason = _channel_for(contact, channel_choice, contactable)
    if channel is None:
        return reason
    # The exemption is granted by our caller, never carried in by an event's or API request's properties.
    properties = {key: value for key, value in (properties or {}).items() if key != fatigue.FATIGUE_EXEMPT_PROPERTY}
    if fatigue_exempt:
        properties[fatigue.FATIGUE_EXEMPT_PROPERTY] = True
    scheduled_at = now + delay
    if not fatigue_exempt and throttled(scheduled_at):
        return SkipReason.THROTTLED
    if channel in PHONE_CHANNELS:
        scheduled_at = fatigue.sms_window_next_open(contact, scheduled_at) or scheduled_at
    return InvitationPlan(
        channel=channel,
        locale=pick_locale(properties.get("locale") or contact.locale),
        properties=properties,
        scheduled_at=scheduled_at,
        expires_at=scheduled_at + (expiry or link_lifetime(survey)),
    )


def invitation_new(
    plan: InvitationPlan, *, contact: Contact, survey: Survey, event: Event | None, trigger_rule: TriggerRule | None
) -> Invitation:
    """The unsaved invitation `plan` describes, with its token's hash."""
    invitation = Invitation(
        contact=contact,
        survey=survey,
        event=event,
        trigger_rule=trigger_rule,
        channel=plan.channel,
        locale=plan.locale,
        properties=plan.properties,
        scheduled_at=plan.scheduled_at,
        expires_at=plan.expires_at,
    )
    invitation.token_hash = token_hash(invitation_token(invitation.public_id))
    return invitation


def invitation_build(
    *,
    contact: Contact,
    survey: Survey,
    channel_choice: str,
    now: datetime,
    delay: timedelta,
    event: Event | None,
    trigger_rule: TriggerRule | None,
    properties: dict | None,
    expiry: timedelta | None,
    throttled: Callable[[datetime], bool],
    fatigue_exempt: bool = False,
) -> ScheduleOutcome:
    """The invitation to store (unsaved), due `delay` after `now`, or why there is none; `throttled(at)` answers
    the fatigue question."""
    rule_id = trigger_rule.pk if trigger_rule else None
    plan = invitation_plan(
        contact=contact,
        survey=survey,
        channel_choice=channel_choice,
        now=now,
        delay=delay,
        properties=properties,
        expiry=expiry,
        throttled=throttled,
        fatigue_exempt=fatigue_exempt,
    )
    if isinstance(plan, str):
        return ScheduleOutcome(rule_id, None, plan)
    invitation = invitation_new(plan, contact=contact, survey=survey, event=event, trigger_rule=trigger_rule)
    return ScheduleOutcome(rule_id, invitation)


def invitations_cancel_for_event(*, event: Event, rules: list[TriggerRule]) -> list[Invitation]:
    """Cancel pending invitations whose rule names this event's type as cancelling, for the same subject.

    The subject is the rule's `match_property` (e.g. `ticket_id`): a reopened ticket cancels
    the survey about that ticket only.
    """
    cancelled = []
    for rule in rules:
        value = event.properties.get(rule.match_property) if rule.match_property else None
        if event.type not in rule.cancel_on_event_types or value in (None, ""):
            continue
        pending = Invitation.objects.select_for_update().filter(
            trigger_rule=rule,
            status=Invitation.Status.SCHEDULED,
            **{f"event__properties__{rule.match_property}": value},
        )
        for invitation in pending:
            invitation.status = Invitation.Status.CANCELLED
            invitation.cancel_reason = f"event:{event.type}"
            invitation.save(update_fields=["status", "cancel_reason"])
            cancelled.append(invitation)
    return cancelled


def invitations_cancel_pending(*, contact: Contact, survey: Survey | None = None, reason: str = "api") -> int:
    """Cancel the contact's invitations that have not gone out yet (of one survey, when given)."""
    pending = Invitation.objects.filter(contact=contact, status=Invitation.Status.SCHEDULED)
    if survey is not None:
        pending = pending.filter(survey=survey)
    return pending.update(status=Invitation.Status.CANCELLED, cancel_reason=reason)


def invitation_record(*, contact: Contact, survey: Survey, properties: dict | None = None) -> Invitation:
    """An invitation that is never sent, to hold a response given elsewhere (Delighted's response create)."""
    now = timezone.now()
    invitation = Invitation(
        contact=contact,
        survey=survey,
        channel=Channel.EMAIL if contact.email else Channel.SMS,
        locale=contact.locale,
        properties=properties or {},
        scheduled_at=now,
        expires_at=now + link_lifetime(survey),
        status=Invitation.Status.QUEUED,
    )
    invitation.token_hash = token_hash(invitation_token(invitation.public_id))
    invitation.save()
    return invitation


def invitation_cancel_unsent(*, invitation_id: int, reason: str) -> bool:
    """Cancel the invitation if it has not gone out yet, keeping `reason`; True when it was cancelled.

    A conditional update, so it loses cleanly to a dispatcher that claimed the row first (the message is
    then on its way and the link stays open), and a dispatcher never claims a row cancelled here.
    """
    pending = Invitation.objects.filter(pk=invitation_id, status=Invitation.Status.SCHEDULED)
    return bool(pending.update(status=Invitation.Status.CANCELLED, cancel_reason=reason))
