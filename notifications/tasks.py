"""Celery entry points for sending: thin wrappers that call `notifications.services` by id.

Retries wait with capped exponential backoff and jitter, or at least the provider's own reset
time (a retry before it would only meet another 429), never long enough for the broker to
redeliver an unacknowledged task.
"""

import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from config.observability.metrics import message_send_observe
from notifications.models import Message
from notifications.services.erasure import provider_copies_delete_now
from notifications.services.queue import messages_sweep
from notifications.services.sending import TransientDeliveryError, message_fail, message_retry_at, message_send

logger = logging.getLogger(__name__)


def _send_counted(message_id: int) -> None:
    """`message_send`, counted in `closeloop_message_sends_total` by its outcome (the message's new status)."""
    try:
        message = message_send(message_id=message_id)
    except TransientDeliveryError:
        channel = Message.objects.filter(id=message_id).values_list("channel", flat=True).first() or "unknown"
        message_send_observe(channel, "retry")
        raise
    if message is not None:
        message_send_observe(message.channel, message.status)


def retry_countdown(
    retries: int, retry_after: float | None, *, cap: float, longest: float | None = None, rng: random.Random = random
) -> float:
    """Full-jitter backoff from 2 s doubling per retry, capped at `cap`; a provider's wait is honoured in full.

    `cap` bounds our own backoff only: retrying before a provider's `Retry-After` or rate-limit
    reset only meets another 429. `longest` (default: `SEND_RETRY_AFTER_MAX_SECONDS`, below the
    broker's visibility timeout) bounds any countdown, since Redis would redeliver a task held longer.
    """
    longest = settings.SEND_RETRY_AFTER_MAX_SECONDS if longest is None else longest
    backoff = min(cap, rng.uniform(1.0, 2.0 ** (retries + 1)))
    if retry_after is not None:
        return min(longest, max(1.0, retry_after))
    return min(longest, backoff)


def _retry_countdown_or_fail(
    message_id: int, exc: TransientDeliveryError, *, retries: int, eager: bool = False
) -> float | None:
    """When to retry a transiently failed send after `retries` retries; None once it has failed for good.

    The message keeps the time (`not_before`): an early duplicate of the retry finds it not yet due, and
    the sweeper leaves it alone until a lease after. Eager tasks (no broker) retry at once, so they set none.
    """
    if retries >= settings.SEND_MAX_RETRIES:
        message_fail(message_id=message_id, reason=f"gave up after {settings.SEND_MAX_RETRIES} retries: {exc}")
        return None
    countdown = retry_countdown(retries, exc.retry_after, cap=settings.SEND_RETRY_CAP_SECONDS)
    if not eager:
        message_retry_at(message_id=message_id, countdown=countdown)
    return countdown


@shared_task(bind=True, max_retries=None)
def send_message(self, message_id: int) -> None:
    try:
        _send_counted(message_id)
    except TransientDeliveryError as exc:
        countdown = _retry_countdown_or_fail(
            message_id, exc, retries=self.request.retries, eager=bool(self.request.is_eager)
        )
        if countdown is not None:
            raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(bind=True, soft_time_limit=settings.SEND_BATCH_SOFT_TIME_LIMIT, time_limit=settings.SEND_BATCH_TIME_LIMIT)
def send_messages(self, message_ids: list[int]) -> None:
    """Send a batch of messages one by one; what happens to one never stops the others.

    Each send claims its message, so a redelivered batch skips those already claimed. A
    transiently failed message is retried alone, as `send_message` counting this try as its
    first, so it gets the same backoff and number of retries as a message sent on its own.
    """
    for message_id in message_ids:
        try:
            _send_counted(message_id)
        except TransientDeliveryError as exc:
            countdown = _retry_countdown_or_fail(message_id, exc, retries=0, eager=bool(self.request.is_eager))
            if countdown is not None:
                send_message.apply_async(args=[message_id], countdown=countdown, retries=1)
        except SoftTimeLimitExceeded:
            # The rest of the batch was never claimed: it stays `queued` and the sweeper enqueues it again.
            raise
        except Exception:
            # Left as it is for the sweeper: `sending` becomes `unknown`, `queued` is enqueued again.
            logger.exception("message %s of a batch: unexpected error, the batch goes on", message_id)


@shared_task
def sweep_messages() -> dict[str, int]:
    return messages_sweep()


@shared_task(bind=True, max_retries=None)
def delete_provider_copies(self, sids: list[str]) -> None:
    """Delete an erased person's SMS at Twilio; those Twilio is still processing are tried again later."""
    again = provider_copies_delete_now(sids=sids)
    if not again:
        return
    if self.request.retries >= settings.ERASURE_PROVIDER_RETRIES or self.request.is_eager:
        # The ids name no person: an operator can delete them in Twilio's console.
        logger.error("%d SMS of an erased person are still at Twilio: %s", len(again), ", ".join(again))
        return
    raise self.retry(args=[again], countdown=settings.ERASURE_PROVIDER_RETRY_SECONDS)
