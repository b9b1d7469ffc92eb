"""Queuing outbound messages: store a `Message` and hand its send to a worker after commit, alone or in batches;
re-enqueue lost ones and resend an `unknown` one on an operator's decision.

Knows nothing of surveys or follow-ups: callers hand over rendered content and keep the `Message` they get back.
The tasks it enqueues call back into `notifications.services.sending`. A hand-off to the broker that fails (Redis
down at commit) loses nothing: the message is committed `queued` with its `sweep_at`, and the sweeper enqueues it
again once that passes.
"""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, Value
from django.utils import timezone

from notifications.models import Channel, Message, recipient_normalize
from notifications.selectors import messages_unsettled, recipients_suppressed, whatsapp_session_closes_at
from notifications.services.provider_events import messages_reconcile

logger = logging.getLogger(__name__)

SESSION_CLOSED = "outside the customer's 24-hour WhatsApp session: only an approved template may be sent"


def message_queue(
    *,
    channel: str,
    recipient: str,
    body_text: str,
    subject: str = "",
    body_html: str = "",
    headers: dict | None = None,
    unsubscribe_hash: str = "",
    thread: str = "",
    from_email: str = "",
    reply_to: str = "",
    time_zones: Sequence[str] = (),
    template: dict | None = None,
) -> Message:
    """Store a message and enqueue its send once the surrounding transaction commits.

    A suppressed recipient gets a `cancelled` row and no send, so callers need not check. `thread`
    names the conversation of the app above that the customer's answer belongs to (see
    `inbound_sms_receive`); `from_email` ("Name <address>") and `reply_to` apply to email.
    `time_zones` (an SMS's recipient's zones) put it under quiet hours (`SMS_SEND_WINDOW`), checked
    again right before the provider call. A WhatsApp message is free-form `body_text` unless it carries an
    approved `template` ({"content_sid", "variables"}); a free-form one outside the customer's 24-hour session
    would be refused by WhatsApp, so it gets a `cancelled` row saying so and no send.
    """
    [message] = messages_queue(
        [
            {
                "channel": channel,
                "recipient": recipient,
                "body_text": body_text,
                "subject": subject,
                "body_html": body_html,
                "headers": headers,
                "unsubscribe_hash": unsubscribe_hash,
                "thread": thread,
                "from_email": from_email,
                "reply_to": reply_to,
                "time_zones": time_zones,
                "template": template,
            }
        ]
    )
    return message


def messages_queue(contents: Sequence[dict]) -> list[Message]:
    """`message_queue` for many messages at once, each dict its arguments: one consent query and one INSERT for
    them all (a caller queuing a batch, the dispatcher), the messages returned in the order given."""
    suppressed = recipients_suppressed(recipients={(c["channel"], c["recipient"]) for c in contents})
    now = timezone.now()
    lease = timedelta(seconds=settings.SEND_LEASE_SECONDS)
    messages = []
    for content in contents:
        channel, recipient, template = content["channel"], content["recipient"], content.get("template")
        problem = "recipient is suppressed" if (channel, recipient) in suppressed else ""
        free_form_whatsapp = channel == Channel.WHATSAPP and not template
        if not problem and free_form_whatsapp and not whatsapp_session_closes_at(phone=recipient):
            problem = SESSION_CLOSED
        messages.append(
            Message(
                time_zones=",".join(content.get("time_zones", ()))[:300],
                # As an expression: Django then inserts the rows as VALUES instead of UNNEST arrays, whose strings
                # psycopg escapes in Python (a regular expression per quote of an email's HTML), which cost more
                # than the insert itself.
                sweep_at=Value(None if problem else now + lease, output_field=DateTimeField()),
                channel=channel,
                recipient=recipient,
                # What `Message.save` would set: `bulk_create` does not call it.
                recipient_key=recipient_normalize(channel=channel, recipient=recipient),
                subject=content.get("subject", ""),
                body_text=content["body_text"],
                body_html=content.get("body_html", ""),
                headers=content.get("headers") or {},
                unsubscribe_hash=content.get("unsubscribe_hash", ""),
                thread=content.get("thread", ""),
                from_email=content.get("from_email", ""),
                reply_to=content.get("reply_to", ""),
                status=Message.Status.CANCELLED if problem else Message.Status.QUEUED,
                last_error=problem,
                template=template or {},
            )
        )
    Message.objects.bulk_create(messages)
    for message in messages:
        message.sweep_at = message.sweep_at.value
        if message.status == Message.Status.QUEUED:
            message_enqueue_on_commit(message.id)
    return messages


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

        transaction.on_commit(enqueue, robust=True)


def message_enqueue_on_commit(message_id: int) -> None:
    batch = _batch_ids.get()
    if batch is not None:
        batch.append(message_id)
        return
    from notifications.tasks import send_message

    # Robust: a broker down at commit must not fail the request that queued it; the sweeper sends it later.
    transaction.on_commit(lambda: send_message.delay(message_id), robust=True)


def messages_sweep(*, now=None) -> dict[str, int]:
    """Recover what a lost task or a killed worker left behind, each message once per lease; count the unsettled.

    A worker killed mid-send leaves `sending` behind: the provider may have got it, so it becomes
    `unknown`, never resent. A `queued` message whose `sweep_at` has passed lost its task (or waited
    out its retry or quiet hours): it is enqueued again, and its `sweep_at` moves a lease ahead, so a
    long backlog still waiting in the broker gets one more task per lease, not one per sweep. An
    `unknown` SMS whose provider id is known is looked up at Twilio (`messages(sid).fetch()`), with a
    growing wait between lookups. `unknown` ones still unsettled after the grace period are logged for
    an operator, who may resend them from the admin: only a person can judge that a double is better
    than nothing.
    """
    now = now or timezone.now()
    lease = timedelta(seconds=settings.SEND_LEASE_SECONDS)
    unknown = Message.objects.filter(status=Message.Status.SENDING, updated_at__lt=now - lease).update(
        status=Message.Status.UNKNOWN, last_error="send outlived its lease", updated_at=now, sweep_at=now
    )
    unsettled = messages_unsettled(now=now).count()
    if unsettled:
        logger.warning(
            "%d message(s) in `unknown` past the grace period: review them in the admin (Messages, outcome)",
            unsettled,
        )
    with transaction.atomic():
        lost_ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=Message.Status.QUEUED, sweep_at__lte=now)
            .order_by("sweep_at")
            .values_list("id", flat=True)[: settings.SEND_SWEEP_BATCH]
        )
        Message.objects.filter(id__in=lost_ids).update(sweep_at=now + lease)
    from notifications.tasks import send_message

    for message_id in lost_ids:
        send_message.delay(message_id)
    reconciled = messages_reconcile(now=now)
    return {"unknown": unknown, "requeued": len(lost_ids), "unsettled": unsettled, **reconciled}


def message_resend(*, message_id: int, by: str) -> Message | None:
    """Queue a copy of an `unknown` message on an operator's explicit decision; None if not `unknown`, resent,
    or its body was purged under the retention policy (an empty copy would go out).

    The customer may get it twice: this is why nothing calls it automatically. The original
    keeps its status (a late webhook may still settle it) and points at its copy, so it is
    resent at most once; the copy goes through consent again.
    """
    with transaction.atomic():
        original = (
            Message.objects.select_for_update()
            .filter(id=message_id, status=Message.Status.UNKNOWN, resent_as__isnull=True)
            .exclude(body_text="")
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
            from_email=original.from_email,
            reply_to=original.reply_to,
            time_zones=[zone for zone in original.time_zones.split(",") if zone],
            template=original.template,
        )
        original.resent_as = copy
        original.last_error = f"resent by {by}; was: {original.last_error}"[:1000]
        original.save(update_fields=["resent_as", "last_error", "updated_at"])
    logger.info("message %s resent as %s by an operator", original.public_id, copy.public_id)
    return copy
