"""Sending a queued message exactly once: claim it, hand it to its channel's transport, record the outcome.

A request that may have reached the provider is never resent blindly: it is `unknown` until the provider
says (a webhook, or the sweeper's status lookup where the provider offers one). Only what provably did not
leave is retried: an error before the provider call (the rate limiter's Redis down, a transport that fails
to build, quiet hours) or a connection that failed before the request was written. Every status change is a
compare-and-set on the status it moves from, so neither a late timeout nor two concurrent callbacks can move
a message backwards (STATUS_RANK).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from notifications.models import PHONE_CHANNELS, Message, Suppression
from notifications.quiet_hours import next_open_everywhere, parse_window, seconds_until_close
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
# A text held for quiet hours needs at least this long inside the window, or it waits for the next one.
SMS_MIN_VALIDITY_SECONDS = 60
# A claim tolerates this much clock difference between the worker that set `not_before` and the one claiming.
CLOCK_SKEW = timedelta(seconds=1)


class TransientDeliveryError(Exception):
    """Raised to the task so that it retries; the message is back in (or still in) `queued`."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _status_move(message: Message, status: str, *, since: tuple[str, ...], **fields) -> bool:
    """Compare-and-set: move the message to `status` only from one of `since`; False when it had moved on."""
    now = timezone.now()
    moved = Message.objects.filter(id=message.id, status__in=since).update(status=status, updated_at=now, **fields)
    if moved:
        for name, value in fields.items():
            setattr(message, name, value)
        message.status, message.updated_at = status, now
    return bool(moved)


def statuses_before(status: str) -> tuple[str, ...]:
    """The statuses a provider's report of `status` may move a message from: lower in rank and not final."""
    rank = STATUS_RANK[status]
    return tuple(other for other, r in STATUS_RANK.items() if r < rank and other not in FINAL_STATUSES)


def _message_claim(message_id: int) -> Message | None:
    """Claim a queued message that is due and read it back, consent checked, in one statement; None otherwise.

    The conditional UPDATE is the claim (a redelivered task finds the row no longer `queued`; an early
    duplicate of a retry finds it not yet due): it moves the row to `sending`, or to `cancelled` when its
    recipient is suppressed. RETURNING saves the read-back a separate SELECT would cost on every send, and
    a plain cursor the ORM's per-query setup (a third of a send's CPU with `Manager.raw`).
    """
    fields = Message._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    message_table, suppression_table = Message._meta.db_table, Suppression._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {message_table} SET attempts = attempts + 1, updated_at = %s, status = CASE"  # noqa: S608
            f" WHEN recipient_key = '' OR EXISTS (SELECT 1 FROM {suppression_table} s"
            f" WHERE s.channel = {message_table}.channel AND s.recipient = {message_table}.recipient_key)"
            f" THEN %s ELSE %s END WHERE id = %s AND status = %s AND (not_before IS NULL OR not_before <= %s)"
            f" RETURNING {columns}",
            [
                connection.ops.adapt_datetimefield_value(now),
                Message.Status.CANCELLED,
                Message.Status.SENDING,
                message_id,
                Message.Status.QUEUED,
                connection.ops.adapt_datetimefield_value(now + CLOCK_SKEW),
            ],
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


def _unclaim(message: Message, reason: str, *, not_before=None) -> None:
    """Put a claimed message back in `queued`: nothing was handed to the provider."""
    now = timezone.now()
    lease = timedelta(seconds=settings.SEND_LEASE_SECONDS)
    _status_move(
        message,
        Message.Status.QUEUED,
        since=(Message.Status.SENDING,),
        last_error=reason[:1000],
        not_before=not_before,
        sweep_at=(not_before or now) + (timedelta(0) if not_before else lease),
    )


def _sms_window(message: Message) -> tuple[object, int | None]:
    """(when the window next opens or None when open, seconds Twilio may keep trying) for a text with quiet hours
    (an SMS or a WhatsApp message)."""
    zones = [zone for zone in message.time_zones.split(",") if zone]
    if message.channel not in PHONE_CHANNELS or not zones:
        return None, None
    window, now = parse_window(settings.SMS_SEND_WINDOW), timezone.now()
    opens = next_open_everywhere(now, zones, window)
    if opens is not None:
        return opens, None
    remaining = seconds_until_close(now, zones, window) or 0
    if remaining < SMS_MIN_VALIDITY_SECONDS:
        return next_open_everywhere(now + timedelta(seconds=remaining + 1), zones, window), None
    return None, int(min(settings.SMS_VALIDITY_PERIOD_SECONDS, remaining))


def _rate_limit_wait_for(message_id: int) -> None:
    """Wait for the provider's rate limit before claiming: a worker cut during the wait strands no claim."""
    limits = settings.NOTIFICATIONS_RATE_LIMITS
    if not any(float(rate or 0) > 0 for rate in limits.values()):
        return
    channel = Message.objects.filter(id=message_id, status=Message.Status.QUEUED).values_list("channel", flat=True)
    channel = channel.first()
    if channel is None:
        return
    try:
        rate_limit_wait(channel)
    except Exception as exc:  # the Redis holding the bucket is down: nothing was claimed, try again later
        raise TransientDeliveryError(f"rate limiter unavailable: {type(exc).__name__}") from exc


def message_send(*, message_id: int) -> Message | None:
    """Claim a queued message and hand it to its channel's transport: two statements when it goes out.

    A redelivered or duplicated task finds the row no longer `queued` (or not yet due) and returns
    without calling the provider. Quiet hours and consent are checked again right before the call.
    A request that may have reached the provider leaves the message `unknown`: resending could double it.
    """
    _rate_limit_wait_for(message_id)
    message = _message_claim(message_id)
    if message is None:
        return None
    if message.status == Message.Status.CANCELLED:
        message.last_error = "recipient is suppressed"
        message.save(update_fields=["last_error"])
        return message
    try:
        opens, validity = _sms_window(message)
        if opens is not None:
            # Retries, the sweeper and a late worker must not text anyone at night: wait for the window.
            _unclaim(message, "held for quiet hours", not_before=opens)
            return message
        message.validity_seconds = validity
        transport = transport_for(message.channel)
    except Exception as exc:
        _unclaim(message, f"not sent: {type(exc).__name__} before the provider call")
        raise TransientDeliveryError(f"{type(exc).__name__} before the provider call") from exc
    try:
        result = transport.send(message)
    except DeliveryError as exc:
        return _failure_record(message, exc)
    except BaseException as exc:
        # An error the transport did not classify (or a time limit) while the request may have been written.
        _status_move(
            message,
            Message.Status.UNKNOWN,
            since=(Message.Status.SENDING,),
            last_error=f"{type(exc).__name__} during the provider call"[:1000],
            sweep_at=timezone.now(),
        )
        raise
    _message_sent_record(message, result.provider_message_id)
    return message


def _failure_record(message: Message, exc: DeliveryError) -> Message:
    reason = str(exc)
    if exc.opted_out:
        suppression_add(
            channel=message.channel, recipient=message.recipient, reason=Suppression.Reason.STOP, source="provider"
        )
    if exc.unreachable:
        suppression_add(
            channel=message.channel, recipient=message.recipient, reason=Suppression.Reason.BOUNCE, source="provider"
        )
    if exc.unknown:
        # The sweeper asks the provider later, where it can (`sweep_at`); a webhook may settle it first.
        if _status_move(message, Message.Status.UNKNOWN, since=(Message.Status.SENDING,), last_error=reason,
                        sweep_at=timezone.now()):  # fmt: skip
            logger.warning("message %s outcome unknown: %s", message.public_id, reason)
        return message
    if exc.permanent or exc.opted_out or exc.unreachable:
        _status_move(message, Message.Status.FAILED, since=(Message.Status.SENDING,), last_error=reason)
        logger.warning("message %s failed permanently: %s", message.public_id, reason)
        return message
    _unclaim(message, reason)
    raise TransientDeliveryError(reason, retry_after=exc.retry_after) from exc


def message_retry_at(*, message_id: int, countdown: float) -> None:
    """A transiently failed message's retry is due in `countdown` s: no send before, no sweep until a lease after."""
    now = timezone.now()
    due = now + timedelta(seconds=countdown)
    Message.objects.filter(id=message_id, status=Message.Status.QUEUED).update(
        not_before=due, sweep_at=due + timedelta(seconds=settings.SEND_LEASE_SECONDS)
    )


def message_fail(*, message_id: int, reason: str) -> None:
    """Give up on a message whose transient failures outlasted its retries."""
    Message.objects.filter(id=message_id, status=Message.Status.QUEUED).update(
        status=Message.Status.FAILED, last_error=reason, updated_at=timezone.now()
    )


def message_status_advance(*, message: Message, status: str, error: str = "") -> bool:
    """Move a message to a provider-reported status, only forward, as a compare-and-set; whether it moved.

    Concurrent reports of one message (Twilio's callbacks may arrive together and out of order) each
    move it only from a status below theirs, so `sent` arriving after `delivered` changes nothing.
    """
    if status not in STATUS_RANK:
        return False
    fields = {"last_error": error} if error else {}
    return _status_move(message, status, since=statuses_before(status), **fields)
