"""Celery entry points for sending: thin wrappers that call `notifications.services` by id.

Retries wait with capped exponential backoff and jitter (or the provider's own reset time),
never long enough for the broker to redeliver an unacknowledged task.
"""

import random

from celery import shared_task
from django.conf import settings

from notifications.services import TransientDeliveryError, message_fail, message_send, messages_sweep


def retry_countdown(retries: int, retry_after: float | None, *, cap: float, rng: random.Random = random) -> float:
    """Full-jitter backoff from 2 s doubling per retry, or the provider's wait; never above `cap`."""
    if retry_after is not None:
        return min(cap, max(1.0, retry_after))
    return min(cap, rng.uniform(1.0, 2.0 ** (retries + 1)))


@shared_task(bind=True, max_retries=None)
def send_message(self, message_id: int) -> None:
    try:
        message_send(message_id=message_id)
    except TransientDeliveryError as exc:
        if self.request.retries >= settings.SEND_MAX_RETRIES:
            message_fail(message_id=message_id, reason=f"gave up after {settings.SEND_MAX_RETRIES} retries: {exc}")
            return
        countdown = retry_countdown(self.request.retries, exc.retry_after, cap=settings.SEND_RETRY_CAP_SECONDS)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task
def sweep_messages() -> dict[str, int]:
    return messages_sweep()
