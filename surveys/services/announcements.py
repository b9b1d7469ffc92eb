"""The outbox of answers: every response created or changed is announced to the apps above exactly once.

`response_announcement_add` writes an announcement row in the transaction that records the answer, and hands
it to a worker once that commits. Processing sends `response_submitted` inside a transaction that also deletes
the row, so the receivers' writes (the case, the rollup count, the webhook deliveries) commit together with the
announcement being done, or not at all. Nothing is lost between stages: if the broker is down at commit, the
task is lost, or a receiver fails, the row stays, and the beat job `announce-pending-responses` processes it
again. Nothing is doubled: a row is processed under its lock and gone once done, and a response's
announcements go out in the order they were made.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from surveys.models import Response, ResponseAnnouncement
from surveys.services.rows import rows_insert
from surveys.signals import response_submitted

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500


def response_announcement_add(*, response: Response, created: bool, changed: tuple[str, ...] = ()) -> None:
    """Record, in the caller's transaction, that this answer must be announced; a worker does it after commit."""
    [announcement] = rows_insert([ResponseAnnouncement(response=response, created=created, changed=list(changed))])

    def enqueue() -> None:
        from surveys.tasks import announce_response

        announce_response.delay(announcement.pk)

    # Robust: with the broker down the answer is still saved and the customer thanked; the beat job announces it.
    transaction.on_commit(enqueue, robust=True)


def response_announcement_process(*, announcement_id: int) -> bool:
    """Announce one answer (and any earlier announcement of the same response first); False if already done.

    Receivers run inside this transaction: a failure of any rolls all of them back, and the announcement
    is left for the next sweep, its attempt counted.
    """
    try:
        with transaction.atomic():
            pending = ResponseAnnouncement.objects.filter(announced_at__isnull=True)
            first = pending.select_for_update(skip_locked=True).filter(pk=announcement_id).first()
            if first is None:
                return False
            rows = list(
                pending.select_for_update().filter(response_id=first.response_id, pk__lte=first.pk).order_by("pk")
            )
            for row in rows:
                response_submitted.send(
                    sender=Response, response_id=row.response_id, created=row.created, changed=tuple(row.changed)
                )
            ResponseAnnouncement.objects.filter(pk__in=[row.pk for row in rows]).update(announced_at=timezone.now())
    except Exception as exc:
        ResponseAnnouncement.objects.filter(pk=announcement_id).update(
            attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:1000]
        )
        raise
    return True


def response_announcements_sweep(*, now=None) -> dict[str, int]:
    """Beat job: announce what no task did within `ANNOUNCE_GRACE_SECONDS` (lost task, broker down, a failure)."""
    now = now or timezone.now()
    due = list(
        ResponseAnnouncement.objects.filter(
            announced_at__isnull=True, created_at__lte=now - timedelta(seconds=settings.ANNOUNCE_GRACE_SECONDS)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    announced = failed = 0
    for announcement_id in due:
        try:
            announced += response_announcement_process(announcement_id=announcement_id)
        except Exception:
            failed += 1
            logger.exception(
                "announcement %s of an answer failed; it is tried again at the next sweep", announcement_id
            )
    return {"announced": announced, "failed": failed, "pending": len(due) - announced}
