"""What providers tell us about sent messages (SendGrid events, Twilio status callbacks, Twilio's status lookup):
each recorded once, statuses moved forward only (compare-and-set), bounces, spam reports and unreachable numbers
suppressed. Callbacks may arrive twice, together, or out of order (Twilio sends each as its own request)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.models import PHONE_CHANNELS, Channel, Message, ProviderEvent, Suppression
from notifications.services.sending import message_status_advance
from notifications.services.suppressions import suppression_add
from notifications.transports import DeliveryError, transport_for
from notifications.transports.sendgrid import MESSAGE_ID_ARG
from notifications.transports.twilio import OPTED_OUT_CODES, UNREACHABLE_CODES
from notifications.transports.whatsapp import NOT_ON_WHATSAPP_CODES

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
            message = Message.objects.filter(channel__in=PHONE_CHANNELS, provider_message_id=sid).first()
        if not provider_event_record(provider="twilio", event_id=f"{sid}:{status}", kind=status, message=message):
            return False
        if message is None:
            return True
        if sid and not message.provider_message_id:
            # A send that timed out (`unknown`) learns its id from the callback, for the sweeper's lookups too.
            Message.objects.filter(id=message.id, provider_message_id="").update(provider_message_id=sid[:100])
            message.provider_message_id = sid[:100]
        _twilio_status_apply(message, status, error_code, source="twilio")
    return True


def _twilio_status_apply(message: Message, status: str, error_code: str, *, source: str) -> bool:
    """Move the message to what Twilio says (forward only), and keep off a number that refused or cannot get texts
    (on the message's channel: a number off WhatsApp may still take SMS)."""
    moved = False
    if status in TWILIO_STATUS:
        error = f"Twilio error {error_code}" if error_code else ""
        moved = message_status_advance(message=message, status=TWILIO_STATUS[status], error=error)
    code = int(error_code) if error_code.isdigit() else 0
    channel = message.channel
    if code in OPTED_OUT_CODES:
        suppression_add(channel=channel, recipient=message.recipient, reason=Suppression.Reason.STOP, source=source)
    elif code in UNREACHABLE_CODES or (channel == Channel.WHATSAPP and code in NOT_ON_WHATSAPP_CODES):
        suppression_add(channel=channel, recipient=message.recipient, reason=Suppression.Reason.BOUNCE,
                        source=source)  # fmt: skip
    return moved


# An `unknown` SMS is looked up a minute after, then ever less often, up to every this long.
RECONCILE_FIRST_WAIT = timedelta(minutes=1)
RECONCILE_LONGEST_WAIT = timedelta(hours=6)


def messages_reconcile(*, now=None, limit: int = 100) -> dict[str, int]:
    """Ask the provider what became of `unknown` messages whose id it gave us (Twilio's `messages(sid).fetch()`).

    SendGrid offers no lookup by our id, and a send whose answer was lost has no provider id: those stay
    `unknown` for a webhook to settle (their `sweep_at` is cleared, so the scan no longer reads them). The
    wait between lookups of one message doubles, from a minute to six hours, and stops with the grace period.
    """
    now = now or timezone.now()
    due = list(Message.objects.filter(status=Message.Status.UNKNOWN, sweep_at__lte=now).order_by("sweep_at")[:limit])
    asked = settled = 0
    for message in due:
        transport = None
        if message.channel in PHONE_CHANNELS and message.provider_message_id:
            try:
                transport = transport_for(message.channel)
            except Exception:  # misconfigured: nothing to ask today, the webhook may still come
                logger.exception("no %s transport to look message %s up", message.channel, message.public_id)
        grace_over = message.updated_at < now - timedelta(seconds=settings.SEND_UNKNOWN_GRACE_SECONDS)
        if transport is None or not hasattr(transport, "status") or grace_over:
            Message.objects.filter(id=message.id, status=Message.Status.UNKNOWN).update(sweep_at=None)
            continue
        try:
            status, error_code = transport.status(message.provider_message_id)
        except DeliveryError as exc:
            status, error_code = "", ""
            logger.warning("status lookup of message %s failed: %s", message.public_id, exc)
        asked += 1
        with transaction.atomic():
            if _twilio_status_apply(message, status, error_code, source="twilio lookup"):
                settled += 1
                continue
        waited = max(RECONCILE_FIRST_WAIT, now - message.updated_at)
        Message.objects.filter(id=message.id, status=Message.Status.UNKNOWN).update(
            sweep_at=now + min(RECONCILE_LONGEST_WAIT, waited)
        )
    return {"looked_up": asked, "settled": settled}
