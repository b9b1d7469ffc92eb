"""Periodic jobs of the survey side; each calls one service and holds no rule of its own."""

import logging

from celery import shared_task

from surveys.api import batch_ingest
from surveys.services.announcements import response_announcement_process, response_announcements_sweep
from surveys.services.batches import event_batch_expand, event_batches_prune, event_batches_sweep
from surveys.services.dispatch import invitations_dispatch_due, invitations_expire, invitations_remind_due
from surveys.services.idempotency import idempotency_keys_prune


@shared_task
def dispatch_due_invitations() -> int:
    return invitations_dispatch_due()


@shared_task
def remind_due_invitations() -> int:
    return invitations_remind_due()


@shared_task
def prune_idempotency_keys() -> int:
    return idempotency_keys_prune()


@shared_task
def expand_event_batch(batch_id: int) -> None:
    event_batch_expand(batch_id=batch_id, ingest=batch_ingest)


@shared_task
def expand_waiting_event_batches() -> dict[str, int]:
    """Beat job: staged batches whose task was lost (the broker was down when they were accepted) or failed."""
    return event_batches_sweep()


@shared_task
def prune_event_batches() -> int:
    return event_batches_prune()


logger = logging.getLogger(__name__)


@shared_task
def announce_responses(announcement_ids: list[int]) -> None:
    for announcement_id in announcement_ids:
        try:
            response_announcement_process(announcement_id=announcement_id)
        except Exception:
            # Rolled back and counted on the announcement: the beat job below announces it again.
            logger.exception("announcement %s of an answer failed; the sweep will announce it", announcement_id)


@shared_task
def announce_pending_responses() -> dict[str, int]:
    return response_announcements_sweep()


@shared_task
def expire_invitations() -> int:
    return invitations_expire()
