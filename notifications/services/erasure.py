"""A person's erasure, for what notifications stores: the messages sent to or about them, their SMS and emails
to us, their suppressions, and the copies Twilio keeps of their SMS.

Called by the apps above inside their erasure's transaction (`surveys.services.privacy` and the receivers of
`contact_erasing`); each function returns how many rows it touched. Messages are anonymised rather than deleted:
their status and times are what the invitation funnel counts. Provider copies are deleted after commit, by a
task, so a rolled-back erasure deletes nothing anywhere.
"""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from notifications.models import (
    PHONE_CHANNELS,
    Channel,
    InboundEmail,
    InboundSms,
    Message,
    ReplyAddress,
    Suppression,
    recipient_hashed,
    recipient_normalize,
)

logger = logging.getLogger(__name__)

# What an erased message keeps: channel, status, times, attempts, sender and thread (which name nobody).
MESSAGE_BLANKS = {
    "recipient": "",
    "recipient_key": "",
    "subject": "",
    "body_text": "",
    "body_html": "",
    "headers": {},
    "last_error": "",
    "provider_message_id": "",
    "unsubscribe_hash": "",
    "time_zones": "",
}


def _recipient_keys(recipients: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    keys = {(channel, recipient_normalize(channel=channel, recipient=address)) for channel, address in recipients}
    return sorted((channel, key) for channel, key in keys if key)


def messages_erase(
    *, recipients: Iterable[tuple[str, str]] = (), message_ids: Iterable[int] = (), subjects: Iterable[str] = ()
) -> tuple[int, list[str]]:
    """Anonymise every message sent to one of `recipients` (`(channel, address)`), with one of `message_ids`,
    or whose subject contains one of `subjects`; returns how many, and the Twilio ids of those that reached
    Twilio (to delete there after commit: `provider_copies_delete`).

    A message still queued is anonymised too: its send then finds no recipient and is cancelled."""
    matches = Q(pk__in=list(message_ids)) if message_ids else Q(pk__in=[])
    for channel, key in _recipient_keys(recipients):
        matches |= Q(channel=channel, recipient_key=key)
    for subject in subjects:
        matches |= Q(subject__contains=subject)
    # Already anonymised rows (an earlier erasure) match nothing but their id: skip them.
    messages = Message.objects.filter(matches).exclude(recipient="", body_text="", subject="")
    sids = list(
        messages.filter(channel__in=PHONE_CHANNELS)
        .exclude(provider_message_id="")
        .values_list("provider_message_id", flat=True)
    )
    count = messages.update(**MESSAGE_BLANKS)
    return count, sids


def inbound_erase(
    *, phones: Iterable[str] = (), emails: Iterable[str] = (), threads: Iterable[str] = ()
) -> tuple[int, list[str]]:
    """Delete the SMS sent from one of `phones` and the emails sent from one of `emails` or into one of
    `threads` (and those threads' reply addresses); returns how many, and the Twilio ids of the SMS (Twilio
    keeps a copy of every inbound SMS)."""
    numbers = {recipient_normalize(channel=Channel.SMS, recipient=phone) for phone in phones} | set(phones)
    numbers.discard("")
    sms = InboundSms.objects.filter(phone__in=sorted(numbers)) if numbers else InboundSms.objects.none()
    sids = list(sms.values_list("provider_message_id", flat=True))
    deleted = sms.delete()[0]
    senders = Q(pk__in=[])
    for email in {email.strip() for email in emails if email.strip()}:
        senders |= Q(sender__icontains=email)
    threads = [thread for thread in threads if thread]
    if threads:
        senders |= Q(thread__in=threads)
        deleted += ReplyAddress.objects.filter(thread__in=threads).delete()[0]
    deleted += InboundEmail.objects.filter(senders).delete()[0]
    return deleted, sids


def suppressions_erase(*, recipients: Iterable[tuple[str, str]], keep_out: bool) -> int:
    """Replace each suppression of `recipients` by its keyed hash (`recipient_hashed`), so an opt-out or a bounce
    still holds without the address being stored; with `keep_out` (the person asked never to be contacted
    again), every address gets one even if it had none. Returns how many hashed suppressions were written.

    No `suppression_created` signal: nothing new about the person may leave for other systems."""
    written = 0
    for channel, key in _recipient_keys(recipients):
        hashed = recipient_hashed(channel=channel, recipient=key)
        plain = Suppression.objects.filter(channel=channel, recipient=key).first()
        if plain is not None:
            plain.delete()
        if plain is None and not keep_out:
            continue
        _, created = Suppression.objects.get_or_create(
            channel=channel,
            recipient=hashed,
            defaults={"reason": plain.reason if plain else Suppression.Reason.ERASED, "source": "erasure"},
        )
        written += int(created)
    return written


def provider_copies_delete(*, sids: list[str]) -> None:
    """Delete these SMS at Twilio once the surrounding transaction commits (a task, retried while Twilio still
    processes a message). Emails cannot be deleted at SendGrid: docs/privacy.md says what stays there."""
    if not sids:
        return
    from notifications.tasks import delete_provider_copies  # the task module imports this one

    transaction.on_commit(lambda: delete_provider_copies.delay(sorted(set(sids))), robust=True)


def provider_copies_delete_now(*, sids: list[str]) -> list[str]:
    """Ask Twilio to delete each SMS or WhatsApp message (one account, one Messages resource, reached through
    the SMS transport); returns the ids to try again later (Twilio still processing them, or
    unreachable). An id Twilio does not know (deleted already, or never created) counts as done."""
    from notifications.transports import DeliveryError, transport_for

    transport = transport_for(Channel.SMS)
    delete = getattr(transport, "delete", None)
    if delete is None:
        return []  # a transport with no provider behind it (console, tests' outbox) keeps no copy
    again = []
    for sid in sids:
        try:
            delete(sid)
        except DeliveryError as exc:
            if exc.permanent:
                logger.error("could not delete SMS %s at the provider: %s", sid, exc)
            else:
                again.append(sid)
    return again
