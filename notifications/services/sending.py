"""Sending a queued message exactly once: claim it, hand it to its channel's transport, record the outcome.

A request that may have reached the provider is never resent blindly: it is `unknown` until the provider says.
Statuses only move forward (STATUS_RANK).
"""

import logging

from django.db import connection
from django.utils import timezone

from notifications.models import Message, Suppression
from notifications.ratelimit import rate_limit_wait
from notifications.services.suppressions import suppression_add
from notifications.transports import DeliveryError, transport_for

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


def _status_set(message: Message, status: str, **fields) -> None:
    for name, value in fields.items():
        setattr(message, name, value)
    message.status = status
    message.save(update_fields=["status", "updated_at", *fields])


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
    Message.objects.filter(id=message_id, status=Message.Status.QUEUED).update(
        status=Message.Status.FAILED, last_error=reason, updated_at=timezone.now()
    )


def message_status_advance(*, message: Message, status: str, error: str = "") -> bool:
    """Move a message to a provider-reported status, only forward; returns whether it moved."""
    if STATUS_RANK[status] <= STATUS_RANK[message.status] or message.status in FINAL_STATUSES:
        return False
    fields = {"last_error": error} if error else {}
    _status_set(message, status, **fields)
    return True
