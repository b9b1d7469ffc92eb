"""Writes for outbound messages and consent: queue, send exactly once, track, suppress.

Knows nothing of surveys or follow-ups: callers hand over rendered content and keep the
`Message` they get back. Sending happens in a task, by id, after the queuing transaction
commits; provider webhooks move statuses forward only, and suppressions stop future sends.
"""

import hashlib
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import Channel, InboundSms, Message, ProviderEvent, Suppression
from notifications.ratelimit import rate_limit_wait
from notifications.selectors import messages_unsettled, recipient_is_contactable, recipient_normalize
from notifications.signals import inbound_sms_received, message_status_changed, suppression_created
from notifications.sms_keywords import HELP, START, STOP, sms_keyword, sms_keyword_locale
from notifications.sms_text import gsm_safe
from notifications.transports import DeliveryError, transport_for
from notifications.wording import wording

logger = logging.getLogger(__name__)

# How far along its way a status is: a webhook may move a message forward, never back.
STATUS_RANK = {
    Message.Status.QUEUED: 0,
    Message.Status.SENDING: 1,
    Message.Status.UNKNOWN: 2,
    Message.Status.SENT: 3,
    Message.Status.DELIVERED: 4,
    Message.Status.UNDELIVERED: 5,
    Message.Status.BOUNCED: 5,
    Message.Status.FAILED: 5,
    Message.Status.CANCELLED: 6,
}
FINAL_STATUSES = (
    Message.Status.UNDELIVERED,
    Message.Status.BOUNCED,
    Message.Status.FAILED,
    Message.Status.CANCELLED,
)


class TransientDeliveryError(Exception):
    """Raised to the task so that it retries; the message is back in `queued`."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def email_render(*, template: str, context: dict) -> tuple[str, str, str]:
    """Render `<template>_subject.txt`, `_body.txt` and `_body.html` into (subject, text, html)."""
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    text = render_to_string(f"{template}_body.txt", context)
    html = render_to_string(f"{template}_body.html", context)
    return subject, text, html


def unsubscribe_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unsubscribe_token_new() -> tuple[str, str]:
    """A fresh opaque unsubscribe token and the hash to store; the token lives only in the message."""
    token = secrets.token_urlsafe(24)
    return token, unsubscribe_token_hash(token)


def unsubscribe_url(token: str, locale: str) -> str:
    """The unsubscribe page in the email's language (`?lang=`): it names no address, so it cannot look one up."""
    return f"{settings.SITE_URL}/u/{token}/?lang={locale}"


def unsubscribe_headers(token: str, locale: str) -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers: one-click POST to /u/<token>/, and a mailto fallback."""
    url = unsubscribe_url(token, locale)
    return {
        "List-Unsubscribe": f"<{url}>, <mailto:{settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe-{token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def message_queue(
    *,
    channel: str,
    recipient: str,
    body_text: str,
    subject: str = "",
    body_html: str = "",
    headers: dict | None = None,
    unsubscribe_hash: str = "",
) -> Message:
    """Store a message and enqueue its send once the surrounding transaction commits.

    A suppressed recipient gets a `cancelled` row and no send, so callers need not check.
    """
    contactable = recipient_is_contactable(channel=channel, recipient=recipient)
    message = Message.objects.create(
        channel=channel,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        headers=headers or {},
        unsubscribe_hash=unsubscribe_hash,
        status=Message.Status.QUEUED if contactable else Message.Status.CANCELLED,
        last_error="" if contactable else "recipient is suppressed",
    )
    if contactable:
        message_enqueue_on_commit(message.id)
    return message


# The ids `message_queue` collects inside `messages_sent_in_batches()`; None outside it.
_batch_ids: ContextVar[list[int] | None] = ContextVar("closeloop_send_batch_ids", default=None)


@contextmanager
def messages_sent_in_batches() -> Iterator[None]:
    """Send the messages queued inside this block in tasks of `SEND_BATCH_SIZE`, once the transaction commits.

    For a caller queuing many messages at once (the dispatcher): one broker hand-off per batch
    instead of one per message. Each send still claims its own message, so a redelivered batch
    sends nothing twice. Enter it inside the transaction that queues them: the batches are
    enqueued when that transaction commits, and dropped with it when it rolls back.
    """
    ids: list[int] = []
    token = _batch_ids.set(ids)
    try:
        yield
    finally:
        _batch_ids.reset(token)
    if ids:
        from notifications.tasks import send_messages

        size = settings.SEND_BATCH_SIZE

        def enqueue() -> None:
            for start in range(0, len(ids), size):
                send_messages.delay(ids[start : start + size])

        transaction.on_commit(enqueue)


def message_enqueue_on_commit(message_id: int) -> None:
    batch = _batch_ids.get()
    if batch is not None:
        batch.append(message_id)
        return
    from notifications.tasks import send_message

    transaction.on_commit(lambda: send_message.delay(message_id))


def _status_set(message: Message, status: str, **fields) -> None:
    for name, value in fields.items():
        setattr(message, name, value)
    message.status = status
    message.save(update_fields=["status", "updated_at", *fields])
    transaction.on_commit(lambda: message_status_changed.send(sender=Message, message_id=message.id, status=status))


def _message_claim(message_id: int) -> Message | None:
    """Claim a queued message and read it back, consent checked, in one statement; None when not queued.

    The conditional UPDATE is the claim (a redelivered task finds the row no longer `queued`):
    it moves the row to `sending`, or to `cancelled` when its recipient is suppressed. RETURNING
    saves the read-back a separate SELECT would cost on every send, and a plain cursor the
    ORM's per-query setup (a third of a send's CPU with `Manager.raw`).
    """
    fields = Message._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    message_table, suppression_table = Message._meta.db_table, Suppression._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {message_table} SET attempts = attempts + 1, updated_at = %s, status = CASE"  # noqa: S608
            f" WHEN recipient_key = '' OR EXISTS (SELECT 1 FROM {suppression_table} s"
            f" WHERE s.channel = {message_table}.channel AND s.recipient = {message_table}.recipient_key)"
            f" THEN %s ELSE %s END WHERE id = %s AND status = %s RETURNING {columns}",
            [now, Message.Status.CANCELLED, Message.Status.SENDING, message_id, Message.Status.QUEUED],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, field in zip(row, fields, strict=True):
        column = field.get_col(Message._meta.db_table)
        for converter in [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]:
            value = converter(value, column, connection)
        values.append(value)
    return Message.from_db(connection.alias, [field.attname for field in fields], values)


def _message_sent_record(message: Message, provider_message_id: str) -> None:
    """Store the provider's id and move `sending` to `sent`, in one autocommitted statement.

    A webhook that already moved the message forward (a fast `delivered`) keeps its status:
    only the id and send time are added. On PostgreSQL this commit does not wait for its
    fsync: if the database lost it, the row stays `sending` and the sweeper marks it
    `unknown` for webhooks to settle; it is never resent.
    """
    table = Message._meta.db_table
    now = timezone.now()
    no_fsync_wait = (
        " AND set_config('synchronous_commit', 'off', true) = 'off'" if connection.vendor == "postgresql" else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET provider_message_id = %s, sent_at = %s, updated_at = %s,"  # noqa: S608 (no user input)
            f" status = CASE WHEN status = %s THEN %s ELSE status END WHERE id = %s{no_fsync_wait} RETURNING status",
            [
                provider_message_id[:100],
                connection.ops.adapt_datetimefield_value(now),
                connection.ops.adapt_datetimefield_value(now),
                Message.Status.SENDING,
                Message.Status.SENT,
                message.id,
            ],
        )
        (status,) = cursor.fetchone()
    message.provider_message_id, message.sent_at, message.updated_at = provider_message_id[:100], now, now
    message.status = status
    if status == Message.Status.SENT:
        transaction.on_commit(lambda: message_status_changed.send(sender=Message, message_id=message.id, status=status))


def message_send(*, message_id: int) -> Message | None:
    """Claim a queued message and hand it to its channel's transport: two statements when it goes out.

    A redelivered or duplicated task finds the row no longer `queued` and returns without
    calling the provider. A timeout after the request left leaves the message `unknown` for
    webhooks to settle: resending could double it.
    """
    message = _message_claim(message_id)
    if message is None:
        return None
    if message.status == Message.Status.CANCELLED:
        _status_set(message, Message.Status.CANCELLED, last_error="recipient is suppressed")
        return message
    rate_limit_wait(message.channel)
    try:
        result = transport_for(message.channel).send(message)
    except DeliveryError as exc:
        reason = str(exc)
        if exc.opted_out:
            suppression_add(
                channel=message.channel, recipient=message.recipient, reason=Suppression.Reason.STOP, source="provider"
            )
        if exc.unknown:
            _status_set(message, Message.Status.UNKNOWN, last_error=reason)
            logger.warning("message %s outcome unknown: %s", message.public_id, reason)
            return message
        if exc.permanent or exc.opted_out:
            _status_set(message, Message.Status.FAILED, last_error=reason)
            logger.warning("message %s failed permanently: %s", message.public_id, reason)
            return message
        message.last_error = reason
        message.status = Message.Status.QUEUED
        message.save(update_fields=["status", "last_error", "updated_at"])
        raise TransientDeliveryError(reason, retry_after=exc.retry_after) from exc
    _message_sent_record(message, result.provider_message_id)
    return message


def message_fail(*, message_id: int, reason: str) -> None:
    """Give up on a message whose transient failures outlasted its retries."""
    updated = Message.objects.filter(id=message_id, status=Message.Status.QUEUED).update(
        status=Message.Status.FAILED, last_error=reason, updated_at=timezone.now()
    )
    if updated:
        transaction.on_commit(
            lambda: message_status_changed.send(sender=Message, message_id=message_id, status=Message.Status.FAILED)
        )


def message_status_advance(*, message: Message, status: str, error: str = "") -> bool:
    """Move a message to a provider-reported status, only forward; returns whether it moved."""
    if STATUS_RANK[status] <= STATUS_RANK[message.status] or message.status in FINAL_STATUSES:
        return False
    fields = {"last_error": error} if error else {}
    _status_set(message, status, **fields)
    return True


def provider_event_record(*, provider: str, event_id: str, kind: str, message: Message | None) -> bool:
    """Store a webhook event once; False when it was seen before (a provider retry or replay)."""
    try:
        with transaction.atomic():
            ProviderEvent.objects.create(provider=provider, event_id=event_id[:200], kind=kind[:40], message=message)
    except IntegrityError:
        return False
    return True


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


def suppression_remove(*, channel: str, recipient: str) -> bool:
    """Let a recipient be contacted again (START, or an operator); returns whether one was removed."""
    recipient = recipient_normalize(channel=channel, recipient=recipient)
    deleted, _ = Suppression.objects.filter(channel=channel, recipient=recipient).delete()
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


def messages_sweep(*, now=None) -> dict[str, int]:
    """Mark sends stuck in `sending` past their lease `unknown`, re-enqueue lost `queued` ones, count the unsettled.

    A worker killed mid-send leaves `sending` behind: the provider may have got it, so it
    becomes `unknown` for webhooks to settle, never resent; a row never claimed past the
    lease just lost its task and is enqueued again. `unknown` ones still unsettled after the
    grace period are logged for an operator, who may resend them from the admin: only a
    person can judge that a double is better than nothing.
    """
    now = now or timezone.now()
    lease = now - timedelta(seconds=settings.SEND_LEASE_SECONDS)
    stuck = Message.objects.filter(status=Message.Status.SENDING, updated_at__lt=lease)
    unknown = stuck.update(status=Message.Status.UNKNOWN, last_error="send outlived its lease", updated_at=now)
    unsettled = messages_unsettled(now=now).count()
    if unsettled:
        logger.warning(
            "%d message(s) in `unknown` past the grace period: review them in the admin (Messages, outcome)",
            unsettled,
        )
    lost_ids = list(
        Message.objects.filter(status=Message.Status.QUEUED, updated_at__lt=lease).values_list("id", flat=True)
    )
    # Touching them starts a new lease, so a long backlog is not enqueued again at every sweep.
    Message.objects.filter(id__in=lost_ids, status=Message.Status.QUEUED).update(updated_at=now)
    from notifications.tasks import send_message

    for message_id in lost_ids:
        send_message.delay(message_id)
    return {"unknown": unknown, "requeued": len(lost_ids), "unsettled": unsettled}


def message_resend(*, message_id: int, by: str) -> Message | None:
    """Queue a copy of an `unknown` message on an operator's explicit decision; None if not `unknown` or resent.

    The customer may get it twice: this is why nothing calls it automatically. The original
    keeps its status (a late webhook may still settle it) and points at its copy, so it is
    resent at most once; the copy goes through consent again.
    """
    with transaction.atomic():
        original = (
            Message.objects.select_for_update()
            .filter(id=message_id, status=Message.Status.UNKNOWN, resent_as__isnull=True)
            .first()
        )
        if original is None:
            return None
        copy = message_queue(
            channel=original.channel,
            recipient=original.recipient,
            subject=original.subject,
            body_text=original.body_text,
            body_html=original.body_html,
            headers=original.headers,
            unsubscribe_hash=original.unsubscribe_hash,
        )
        original.resent_as = copy
        original.last_error = f"resent by {by}; was: {original.last_error}"[:1000]
        original.save(update_fields=["resent_as", "last_error", "updated_at"])
    logger.info("message %s resent as %s by an operator", original.public_id, copy.public_id)
    return copy


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
    from notifications.transports.sendgrid import MESSAGE_ID_ARG

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


def inbound_sms_receive(*, sid: str, phone: str, body: str) -> InboundSms | None:
    """Store an inbound SMS once per `MessageSid` and act on consent keywords.

    STOP-like replies suppress the number (and cancel its queued SMS), START-like ones lift
    that, HELP gets `SMS_HELP_TEXT` (unset: the help of `notifications.wording`, in French
    for AIDE; empty: no answer); anything else is announced with `inbound_sms_received`
    after commit for the apps that asked a question. None for a provider retry.
    """
    keyword = sms_keyword(body) or ""
    try:
        with transaction.atomic():
            inbound = InboundSms.objects.create(provider_message_id=sid, phone=phone, body=body, keyword=keyword)
            if keyword == STOP:
                suppression_add(channel=Channel.SMS, recipient=phone, reason=Suppression.Reason.STOP, source="twilio")
            elif keyword == START:
                suppression_remove(channel=Channel.SMS, recipient=phone)
            elif keyword == HELP and settings.SMS_HELP_TEXT != "":
                help_text = settings.SMS_HELP_TEXT or wording(sms_keyword_locale(body))["sms_help"]
                message_queue(channel=Channel.SMS, recipient=phone, body_text=gsm_safe(help_text))
            else:
                transaction.on_commit(
                    lambda: inbound_sms_received.send(sender=InboundSms, inbound_id=inbound.id, phone=phone, body=body)
                )
    except IntegrityError:
        return None
    return inbound
