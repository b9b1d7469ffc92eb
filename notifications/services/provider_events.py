"""What providers tell us about sent messages (SendGrid events, Twilio status callbacks): each recorded once,
statuses moved forward only, bounces and spam reports suppressed."""

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from notifications.models import Channel, Message, ProviderEvent, Suppression
from notifications.services.sending import message_status_advance
from notifications.services.suppressions import suppression_add
from notifications.transports.sendgrid import MESSAGE_ID_ARG

logger = logging.getLogger(__name__)


def provider_event_record(*, provider: str, event_id: str, kind: str, message: Message | None) -> bool:
    """Store a webhook event once; False when it was seen before (a provider retry or replay)."""
    try:
        with transaction.atomic():
            ProviderEvent.objects.create(provider=provider, event_id=event_id[:200], kind=kind[:40], message=message)
    except IntegrityError:
        return False
    return True


# SendGrid event -> the status it proves; events not listed (open, click, deferred...) move nothing.
SENDGRID_STATUS = {
    "processed": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "bounce": Message.Status.BOUNCED,
    "dropped": Message.Status.FAILED,
}


SENDGRID_SUPPRESS = {
    "dropped": Suppression.Reason.DROPPED,
    "spamreport": Suppression.Reason.SPAMREPORT,
    "unsubscribe": Suppression.Reason.UNSUBSCRIBE,
    "group_unsubscribe": Suppression.Reason.UNSUBSCRIBE,
}


def _message_by_public_id(public_id: str | None) -> Message | None:
    if not public_id:
        return None
    try:
        return Message.objects.filter(public_id=public_id).first()
    except (ValueError, ValidationError):
        return None


def sendgrid_events_record(*, events: list[dict]) -> int:
    """Apply a batch of SendGrid events; each `sg_event_id` counts once. Returns how many were new."""
    new = 0
    for event in events:
        if not isinstance(event, dict) or not event.get("sg_event_id") or not event.get("event"):
            continue
        kind = str(event["event"])
        with transaction.atomic():
            message = _message_by_public_id(event.get(MESSAGE_ID_ARG))
            if not provider_event_record(provider="sendgrid", event_id=str(event["sg_event_id"]), kind=kind,
                                         message=message):  # fmt: skip
                continue
            new += 1
            if message is not None and kind in SENDGRID_STATUS:
                message_status_advance(
                    message=message, status=SENDGRID_STATUS[kind], error=str(event.get("reason", ""))
                )
            reason = SENDGRID_SUPPRESS.get(kind)
            # A "blocked" bounce is the receiving server's mood today, not a dead address.
            if kind == "bounce" and event.get("type", "bounce") == "bounce":
                reason = Suppression.Reason.BOUNCE
            recipient = message.recipient if message is not None else str(event.get("email", ""))
            if reason and recipient:
                suppression_add(channel=Channel.EMAIL, recipient=recipient, reason=reason, source="sendgrid")
    return new


TWILIO_STATUS = {
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.DELIVERED,
    "undelivered": Message.Status.UNDELIVERED,
    "failed": Message.Status.FAILED,
}


def twilio_status_record(*, message_public_id: str | None, sid: str, status: str, error_code: str = "") -> bool:
    """Apply one Twilio status callback; a repeated (MessageSid, status) is a no-op. Returns whether it was new."""
    with transaction.atomic():
        message = _message_by_public_id(message_public_id)
        if message is None and sid:
            message = Message.objects.filter(channel=Channel.SMS, provider_message_id=sid).first()
        if not provider_event_record(provider="twilio", event_id=f"{sid}:{status}", kind=status, message=message):
            return False
        if message is None:
            return True
        if sid and not message.provider_message_id:
            # A send that timed out (`unknown`) learns its id from the callback.
            message.provider_message_id = sid
            message.save(update_fields=["provider_message_id", "updated_at"])
        if status in TWILIO_STATUS:
            error = f"Twilio error {error_code}" if error_code else ""
            message_status_advance(message=message, status=TWILIO_STATUS[status], error=error)
        if error_code == "21610":
            suppression_add(channel=Channel.SMS, recipient=message.recipient, reason=Suppression.Reason.STOP,
                            source="twilio")  # fmt: skip
    return True
