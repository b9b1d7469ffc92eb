from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from surveys.api import batch_ingest, batch_validate
from surveys.models import Event, EventBatch, Invitation
from surveys.selectors import api_keys_with_batches
from surveys.services import batches
from surveys.services.batches import (
    MAX_ATTEMPTS,
    _event_data,
    event_batch_accept,
    event_batch_expand,
    event_batches_prune,
    event_batches_sweep,
)
from surveys.tasks import expand_event_batch
from tests.factories import SurveyFactory, TriggerRuleFactory

pytestmark = pytest.mark.django_db

ITEMS = [
    {"type": "purchase", "external_id": "order-1", "contact": {"email": "ana@example.com"}},
    {"type": "purchase", "contact": {"email": "bo@example.com"}},
]


@pytest.fixture(autouse=True)
def rule(db):
    return TriggerRuleFactory(event_type="purchase", survey=SurveyFactory())


def _accepted(api_key, items=ITEMS, **fields) -> EventBatch:
    valid, refused = batch_validate(items)
    batch = event_batch_accept(api_key=api_key, size=len(items), valid=valid, refused=refused)
    if fields:
        EventBatch.objects.filter(pk=batch.pk).update(**fields)
    return batch


def test_expanding_twice_ingests_once(api_key):
    batch = _accepted(api_key[0])

    first = event_batch_expand(batch_id=batch.pk, ingest=batch_ingest)
    again = event_batch_expand(batch_id=batch.pk, ingest=batch_ingest)

    assert first.status == EventBatch.Status.EXPANDED
    assert [result["status"] for result in first.results] == [201, 201]
    assert again is None
    assert Event.objects.count() == 2
    assert Invitation.objects.count() == 2
    stored = EventBatch.objects.get()
    assert (stored.attempts, stored.events, stored.results) == (1, None, first.results)


def test_events_are_stored_as_validated_and_ingested_as_they_were(api_key):
    items = [
        {
            "type": "purchase",
            "external_id": "order-9",
            "occurred_at": "2026-03-02T11:00:00+01:00",
            "contact": {"email": "Ana@Example.com", "name": "Ana", "locale": "fr", "properties": {"tier": "gold"}},
            "properties": {"order": {"total": 12.5, "items": [1, 2]}},
        }
    ]
    valid, _ = batch_validate(items)
    batch = _accepted(api_key[0], items)

    [(index, stored)] = EventBatch.objects.get(pk=batch.pk).events

    assert (index, _event_data(stored)) == valid[0]
    assert stored["occurred_at"] == "2026-03-02T10:00:00+00:00"


def test_an_event_is_stored_without_its_empty_fields(api_key):
    items = [{"type": "purchase", "external_id": "", "contact": {"email": "bo@example.com", "name": ""}}]
    valid, _ = batch_validate(items)
    batch = _accepted(api_key[0], items)

    [(_, stored)] = EventBatch.objects.get(pk=batch.pk).events

    assert stored == {"type": "purchase", "contact": {"email": "bo@example.com"}}
    assert _event_data(stored) == valid[0][1]


def test_a_failed_expansion_leaves_nothing_written_and_the_batch_waiting(api_key):
    batch = _accepted(api_key[0])
    events = EventBatch.objects.get().events

    def ingest_then_fail(source, valid, refused):
        batch_ingest(source, valid, refused)
        raise RuntimeError("worker lost its database")

    with pytest.raises(RuntimeError):
        event_batch_expand(batch_id=batch.pk, ingest=ingest_then_fail)

    stored = EventBatch.objects.get()
    assert (stored.status, stored.attempts) == (EventBatch.Status.ACCEPTED, 1)
    assert stored.error == "RuntimeError: worker lost its database"
    assert stored.events == events
    assert Event.objects.count() == 0

    expanded = event_batch_expand(batch_id=batch.pk, ingest=batch_ingest)

    assert (expanded.status, expanded.attempts, expanded.error) == (EventBatch.Status.EXPANDED, 2, "")
    assert Event.objects.count() == 2


def test_a_batch_fails_for_good_after_its_last_attempt(api_key):
    batch = _accepted(api_key[0], attempts=MAX_ATTEMPTS - 1)

    def failing(source, valid, refused):
        raise ValueError("no such rule")

    with pytest.raises(ValueError):
        event_batch_expand(batch_id=batch.pk, ingest=failing)

    stored = EventBatch.objects.get()
    assert (stored.status, stored.attempts) == (EventBatch.Status.FAILED, MAX_ATTEMPTS)
    assert stored.error == "ValueError: no such rule"
    assert [index for index, _ in stored.events] == [0, 1]  # kept for an operator to read, until the prune
    assert event_batch_expand(batch_id=batch.pk, ingest=batch_ingest) is None
    assert Event.objects.count() == 0


def test_a_batch_accepted_with_the_broker_down_is_expanded_by_the_sweep(
    api_key, broker_refusing, django_capture_on_commit_callbacks, caplog
):
    with broker_refusing(expand_event_batch), django_capture_on_commit_callbacks(execute=True):
        batch = _accepted(api_key[0])

    assert EventBatch.objects.get().status == EventBatch.Status.ACCEPTED
    assert "1 event batches not handed to a worker (ConnectionRefusedError: Redis is down)" in caplog.text

    with django_capture_on_commit_callbacks(execute=True):
        assert event_batches_sweep() == {"enqueued": 0}  # not yet: its task may still be on its way
    with time_machine.travel(timezone.now() + batches.REENQUEUE_AFTER + timedelta(seconds=1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert event_batches_sweep() == {"enqueued": 1}

    assert EventBatch.objects.get(pk=batch.pk).status == EventBatch.Status.EXPANDED
    assert Event.objects.count() == 2


def test_the_sweep_hands_over_only_batches_still_waiting(api_key, django_capture_on_commit_callbacks):
    old = timezone.now() - timedelta(minutes=5)
    waiting = _accepted(api_key[0], accepted_at=old)
    _accepted(api_key[0], accepted_at=old, status=EventBatch.Status.EXPANDED)
    _accepted(api_key[0], accepted_at=old, status=EventBatch.Status.FAILED)

    with django_capture_on_commit_callbacks() as handed_over:
        assert event_batches_sweep() == {"enqueued": 1}

    assert len(handed_over) == 1
    handed_over[0]()
    assert EventBatch.objects.get(pk=waiting.pk).status == EventBatch.Status.EXPANDED


def test_prune_forgets_expanded_and_failed_batches_after_a_week_and_keeps_waiting_ones(api_key):
    week_ago = timezone.now() - batches.KEEP_FOR - timedelta(minutes=1)
    waiting = _accepted(api_key[0], accepted_at=week_ago)
    _accepted(api_key[0], accepted_at=week_ago, status=EventBatch.Status.EXPANDED)
    _accepted(api_key[0], accepted_at=week_ago, status=EventBatch.Status.FAILED)
    recent = _accepted(api_key[0], status=EventBatch.Status.EXPANDED)

    assert event_batches_prune() == 2

    assert set(EventBatch.objects.values_list("pk", flat=True)) == {waiting.pk, recent.pk}


def test_api_keys_with_batches_counts_each_keys_waiting_and_failed_batches(api_key):
    from surveys.services.api_keys import api_key_create

    other, _ = api_key_create(name="other")
    oldest = timezone.now() - timedelta(minutes=9)
    _accepted(api_key[0], accepted_at=oldest)
    _accepted(api_key[0])
    _accepted(api_key[0], status=EventBatch.Status.FAILED)
    _accepted(api_key[0], status=EventBatch.Status.EXPANDED)
    _accepted(other, status=EventBatch.Status.EXPANDED)

    keys = api_keys_with_batches().order_by("pk")

    assert [(key.batches_waiting, key.batches_waiting_since, key.batches_failed) for key in keys] == [
        (2, oldest, 1),
        (0, None, 0),
    ]
