"""Staged batches of events: accepted in one statement, expanded into events and invitations by a worker.

`POST /api/events/batches/` answers once the batch is stored (202), where `POST /api/events/batch/` answers
once every event is ingested: the client does not wait for a thousand contacts, events and invitations to be
written, and reads each event's result later (`GET /api/events/batches/<id>/`).

Nothing accepted is lost and nothing is ingested twice. The batch row commits before the hand-over to a
worker; a batch whose task was lost (the broker down at commit, a worker gone) is handed over again by the beat
job `expand-waiting-event-batches`. A batch is expanded in one transaction that also marks it expanded, under
its row's lock: a repeated task finds it expanded, and a failure leaves it waiting, untouched, for the next try.
The events are stored as validated, so the worker ingests exactly what the request checked.
After `MAX_ATTEMPTS` failed tries it is marked failed with the last error, and its events are kept for
`KEEP_FOR` so that an operator can read why.
"""

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from config.hand_over import hand_over_on_commit
from surveys.models import ApiKey, EventBatch
from surveys.services.contacts import ContactData
from surveys.services.ingest import EventData

MAX_ATTEMPTS = 5
# A batch whose task has not started this long after it was accepted is handed over again: a worker takes a
# batch of 1,000 events in well under a second, so a minute means its task was lost, not slow.
REENQUEUE_AFTER = timedelta(minutes=1)
SWEEP_BATCH = 200
# How long a batch's results stay readable, and a failed batch's events with them.
KEEP_FOR = timedelta(days=7)

# Ingests a batch's valid events (by index) and answers one result per item, the refused ones' included, as
# `POST /api/events/batch/` answers them (`surveys.api.batch_ingest`).
BatchIngest = Callable[[str, list[tuple[int, EventData]], list[dict]], list[dict]]


def event_batch_accept(
    *, api_key: ApiKey, size: int, valid: list[tuple[int, EventData]], refused: list[dict]
) -> EventBatch:
    """Store a batch's validated events, to be ingested by a worker once this commits; `refused` are the results
    of the items validation refused, answered at once. The events are kept as validated, not as sent: what the
    request held beyond them (unknown keys, text PostgreSQL cannot store) is never written."""
    events = [[index, _event_json(event)] for index, event in valid]
    batch = EventBatch.objects.create(
        api_key=api_key, size=size, events=events, results=refused, accepted_at=timezone.now()
    )
    _enqueue([batch.pk])
    return batch


_EVENT_FIELDS = [field.name for field in dataclasses.fields(EventData)]
_CONTACT_FIELDS = [field.name for field in dataclasses.fields(ContactData)]


def _event_json(event: EventData) -> dict:
    """The event with its empty fields left out (each is its field's default), read field by field:
    `dataclasses.asdict` deep-copies every value, which cost more than validating the batch."""
    stored = {name: value for name in _EVENT_FIELDS if (value := getattr(event, name))}
    stored["contact"] = {name: value for name in _CONTACT_FIELDS if (value := getattr(event.contact, name))}
    if event.occurred_at:
        stored["occurred_at"] = event.occurred_at.isoformat()
    return stored


def _event_data(stored: dict) -> EventData:
    occurred_at = stored.get("occurred_at")
    return EventData(
        **{
            **stored,
            "occurred_at": datetime.fromisoformat(occurred_at) if occurred_at else None,
            "contact": ContactData(**stored["contact"]),
        }
    )


def _enqueue(batch_ids: list[int]) -> None:
    """Hand the batches to workers once the transaction commits; with the broker down they stay accepted, and the
    beat job hands them over once they are `REENQUEUE_AFTER` old (the client was told they are accepted)."""
    from surveys.tasks import expand_event_batch  # the task module imports this one

    hand_over_on_commit(expand_event_batch, batch_ids, what="event batches")


def event_batch_expand(*, batch_id: int, ingest: BatchIngest) -> EventBatch | None:
    """Ingest a waiting batch's events and keep their results; None when it is not waiting (a repeated task,
    or another worker has it)."""
    # Counted before trying, in its own statement: a batch that kills its worker still reaches MAX_ATTEMPTS.
    tried = EventBatch.objects.filter(pk=batch_id, status=EventBatch.Status.ACCEPTED).update(attempts=F("attempts") + 1)
    if not tried:
        return None
    try:
        with transaction.atomic():
            batch = (
                EventBatch.objects.select_for_update(skip_locked=True)
                .select_related("api_key")
                .filter(pk=batch_id, status=EventBatch.Status.ACCEPTED)
                .first()
            )
            if batch is None:
                return None
            valid = [(index, _event_data(stored)) for index, stored in batch.events]
            batch.results = ingest(batch.api_key.source, valid, batch.results)
            batch.events = None
            batch.status = EventBatch.Status.EXPANDED
            batch.expanded_at = timezone.now()
            batch.error = ""
            batch.save(update_fields=["results", "events", "status", "expanded_at", "error"])
            return batch
    except Exception as exc:
        # Rolled back: the batch waits for the sweep's next try, or fails for good after its last.
        gives_up = When(attempts__gte=MAX_ATTEMPTS, then=Value(EventBatch.Status.FAILED))
        EventBatch.objects.filter(pk=batch_id, status=EventBatch.Status.ACCEPTED).update(
            status=Case(gives_up, default=F("status")), error=f"{type(exc).__name__}: {exc}"[:300]
        )
        raise


def event_batches_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat job: batches still waiting long after they were accepted (their task was lost or failed)."""
    now = now or timezone.now()
    waiting = list(
        EventBatch.objects.filter(status=EventBatch.Status.ACCEPTED, accepted_at__lt=now - REENQUEUE_AFTER)
        .order_by("accepted_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    with transaction.atomic():
        _enqueue(waiting)
    return {"enqueued": len(waiting)}


def event_batches_prune(*, now: datetime | None = None) -> int:
    """Forget batches accepted more than `KEEP_FOR` ago, expanded or failed; returns how many."""
    now = now or timezone.now()
    deleted, _ = (
        EventBatch.objects.filter(accepted_at__lt=now - KEEP_FOR).exclude(status=EventBatch.Status.ACCEPTED).delete()
    )
    return deleted
