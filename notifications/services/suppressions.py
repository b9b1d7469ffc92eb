"""Consent: suppress a recipient (unsubscribe, STOP, bounce...) and cancel what was waiting for them, or lift it."""

import logging

from django.db import transaction
from django.utils import timezone

from notifications.models import Message, Suppression, recipient_hashed
from notifications.selectors import recipient_normalize
from notifications.services.emails import unsubscribe_token_hash
from notifications.signals import suppression_created

logger = logging.getLogger(__name__)


def messages_cancel_pending(*, channel: str, recipient: str) -> int:
    """Cancel what is still waiting to go to a recipient; a claimed send re-checks consent itself."""
    return Message.objects.filter(channel=channel, recipient__iexact=recipient, status=Message.Status.QUEUED).update(
        status=Message.Status.CANCELLED, last_error="recipient is suppressed", updated_at=timezone.now()
    )


def suppression_add(*, channel: str, recipient: str, reason: str, source: str) -> Suppression:
    """Stop contacting a recipient on a channel, and cancel their queued messages.

    An existing suppression keeps its first reason: the earliest cause is the one to explain.
    """
    recipient = recipient_normalize(channel=channel, recipient=recipient)
    with transaction.atomic():
        suppression, created = Suppression.objects.get_or_create(
            channel=channel, recipient=recipient, defaults={"reason": reason, "source": source[:50]}
        )
        cancelled = messages_cancel_pending(channel=channel, recipient=recipient)
        if created:
            transaction.on_commit(
                lambda: suppression_created.send(sender=Suppression, suppression_id=suppression.pk), robust=True
            )
    if created:
        logger.info("suppressed a %s recipient (%s, %s); %d queued cancelled", channel, reason, source, cancelled)
    return suppression


def suppressions_add_many(*, channel: str, recipients: list[str], reason: str, source: str) -> list[str]:
    """Suppress many recipients at once (an imported unsubscribe or bounce list) and cancel their queued messages,
    in a few statements; returns the recipients newly suppressed, normalised. An existing suppression keeps its
    first reason. No `suppression_created` is sent: these opt-outs are history another system already acted on,
    so no `unsubscribe.created` webhook announces them as new."""
    keys = list(dict.fromkeys(recipient_normalize(channel=channel, recipient=r) for r in recipients if r.strip()))
    with transaction.atomic():
        known = set(Suppression.objects.filter(channel=channel, recipient__in=keys).values_list("recipient", flat=True))
        new = [key for key in keys if key not in known]
        Suppression.objects.bulk_create(
            [Suppression(channel=channel, recipient=key, reason=reason, source=source[:50]) for key in new],
            ignore_conflicts=True,
        )
        cancelled = Message.objects.filter(
            channel=channel, recipient_key__in=keys, status=Message.Status.QUEUED
        ).update(status=Message.Status.CANCELLED, last_error="recipient is suppressed", updated_at=timezone.now())
    if new:
        logger.info(
            "suppressed %d %s recipients (%s, %s); %d queued cancelled", len(new), channel, reason, source, cancelled
        )
    return new


def suppression_remove(*, channel: str, recipient: str) -> bool:
    """Let a recipient be contacted again (START, or an operator); returns whether one was removed.

    Lifts the keyed hash an erasure left too: the person asking again is their new consent."""
    recipient = recipient_normalize(channel=channel, recipient=recipient)
    forms = [recipient, recipient_hashed(channel=channel, recipient=recipient)]
    deleted, _ = Suppression.objects.filter(channel=channel, recipient__in=forms).delete()
    return bool(deleted)


def unsubscribe_by_token(*, token: str) -> Message | None:
    """Suppress the recipient of the message carrying this unsubscribe token; None for an unknown token."""
    message = Message.objects.filter(unsubscribe_hash=unsubscribe_token_hash(token)).first() if token else None
    if message is None:
        return None
    suppression_add(
        channel=message.channel, recipient=message.recipient, reason=Suppression.Reason.UNSUBSCRIBE, source="link"
    )
    return message
