"""The outbox of answers: every response created or changed is announced to the apps above exactly once.

`response_announcement_add` writes an announcement row in the transaction that records the answer, and hands
it to a worker once that commits. Processing sends `response_submitted` inside a transaction that also deletes
the row, so the receivers' writes (the case, the rollup count, the webhook deliveries) commit together with the
announcement being done, or not at all. Nothing is lost between stages: if the broker is down at commit, the
task is lost, or a receiver fails, the row stays, and the beat job `announce-pending-responses` processes it
again. Nothing is doubled: a row is processed under its lock and gone once done, and a response's
announcements go out in the order they were made.

With a broker, the hand-over is `AnnouncementHandOver`: one thread per process sends the announcements
committed within `HAND_OVER_SECONDS` of each other as one task, so the customer's request never waits on the
broker and a busy process sends a task per batch rather than per answer. What a process ends without handing
over is announced by the same beat job.
"""

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from surveys.models import Response, ResponseAnnouncement
from surveys.services.rows import row_insert_linked, rows_insert
from surveys.signals import response_submitted

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500
# How long the hand-over gathers announcements into one task, and at most how many: a tenth of a second adds
# nothing a person waiting for a case would notice, and at 40 answers a second per process makes one task of four.
HAND_OVER_SECONDS = 0.1
HAND_OVER_BATCH = 200


def response_announcement_add(*, response: Response, created: bool, changed: tuple[str, ...] = ()) -> None:
    """Record, in the caller's transaction, that this answer must be announced; a worker does it after commit."""
    [announcement] = rows_insert([ResponseAnnouncement(response=response, created=created, changed=list(changed))])
    _hand_over_on_commit(announcement)


def response_create_announced(*, response: Response) -> None:
    """Insert a new answer with its announcement (as `response_announcement_add` records it) in one statement:
    every first answer of the respondent page writes both, and merging them took the database's CPU per answer
    from 1.9-2.0 to 1.5-1.6 ms behind gunicorn (docs/performance.md)."""
    announcement = ResponseAnnouncement(created=True, changed=[])
    row_insert_linked(response, announcement, link="response")
    _hand_over_on_commit(announcement)


def _hand_over_on_commit(announcement: ResponseAnnouncement) -> None:
    # Robust: with the broker down the answer is still saved and the customer thanked; the beat job announces it.
    transaction.on_commit(lambda: _hand_over(announcement.pk), robust=True)


def _hand_over(announcement_id: int) -> None:
    from surveys.tasks import announce_responses

    if announce_responses.app.conf.task_always_eager:
        # No broker (the embedded default, tests): the task runs here and now, as every task does there.
        announce_responses.delay([announcement_id])
    else:
        hand_over.put(announcement_id)


def _send(announcement_ids: list[int]) -> None:
    from surveys.tasks import announce_responses

    announce_responses.delay(announcement_ids)


class AnnouncementHandOver:
    """Committed announcements on their way to a worker: `put` queues one and returns at once; a thread of this
    process sends those put within `window` seconds of the first as one list to `send` (at most `batch`).

    A send that fails (the broker down) is logged and its announcements are left to the beat job, as is what
    is still queued when the process ends without `stop` (which sends it). A forked child starts with an empty
    queue and a thread of its own."""

    def __init__(self, send: Callable[[list[int]], None], *, window: float, batch: int) -> None:
        self._send, self._window, self._batch = send, window, batch
        self._lock = threading.Lock()
        self._pid = 0
        self._queue: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def put(self, announcement_id: int) -> None:
        if self._pid != os.getpid():
            self._start()
        self._queue.put(announcement_id)

    def stop(self, timeout: float = 5.0) -> None:
        """Send what is queued and end the thread: at the process's exit, and in tests before they take the
        broker away. The next `put` starts another."""
        with self._lock:
            if self._thread is None or self._pid != os.getpid():
                return
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread, self._pid = None, 0

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._run, name="announcement-hand-over", daemon=True)
            self._thread.start()
            self._pid = os.getpid()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            ids, deadline = [first], time.monotonic() + self._window
            while len(ids) < self._batch and (left := deadline - time.monotonic()) > 0:
                try:
                    announcement_id = self._queue.get(timeout=left)
                except queue.Empty:
                    break
                if announcement_id is None:
                    stopping = True
                    break
                ids.append(announcement_id)
            try:
                self._send(ids)
            except Exception:
                logger.warning(
                    "%d announcements of answers were not handed to a worker; the beat job announces them",
                    len(ids),
                    exc_info=True,
                )


hand_over = AnnouncementHandOver(_send, window=HAND_OVER_SECONDS, batch=HAND_OVER_BATCH)
atexit.register(hand_over.stop)


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
