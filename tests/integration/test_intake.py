"""Intake under concurrent requests on PostgreSQL: no double invitation, no duplicate event, no 500."""

import threading

import psycopg
import pytest
from django.db import connection
from rest_framework.test import APIClient

from surveys.models import Contact, Event, EventBatch, Invitation
from surveys.services.api_keys import api_key_create
from surveys.tasks import expand_event_batch
from tests.factories import ContactFactory, SurveyFactory, TriggerRuleFactory
from tests.integration.conftest import _test_database_url, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def post_concurrently(bodies: list[dict], raw_key: str, headers: dict | None = None) -> list[int]:
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(bodies))

    def send(body: dict) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        barrier.wait()
        try:
            status = client.post("/api/events/", body, format="json", **(headers or {})).status_code
        finally:
            connection.close()
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


@pytest.fixture
def raw_key():
    TriggerRuleFactory(event_type="purchase", survey=SurveyFactory())
    return api_key_create(name="concurrent")[1]


def test_concurrent_events_of_one_new_contact_schedule_one_invitation(raw_key):
    bodies = [{"type": "purchase", "external_id": f"o-{n}", "contact": {"email": "ana@example.com"}} for n in range(8)]

    statuses = post_concurrently(bodies, raw_key)

    assert statuses == [201] * 8
    assert Event.objects.count() == 8
    assert Invitation.objects.count() == 1


def test_concurrent_events_of_one_known_contact_schedule_one_invitation_and_keep_every_property(raw_key):
    ContactFactory(email="ana@example.com", properties={})
    bodies = [
        {
            "type": "purchase",
            "external_id": f"o-{n}",
            "contact": {"email": "ana@example.com", "properties": {f"k{n}": n}},
        }
        for n in range(8)
    ]

    statuses = post_concurrently(bodies, raw_key)

    assert statuses == [201] * 8
    assert Invitation.objects.count() == 1
    # Each event merges its properties into the locked, current row, never into a stale copy.
    assert Contact.objects.get().properties == {f"k{n}": n for n in range(8)}


def test_concurrent_events_of_one_known_contact_that_change_nothing_schedule_one_invitation(raw_key):
    # None of them changes the contact, so none locks its row to read it: the invitation's own lock and
    # second fatigue check are what keep the other seven out.
    ContactFactory(email="ana@example.com")
    bodies = [{"type": "purchase", "external_id": f"o-{n}", "contact": {"email": "ana@example.com"}} for n in range(8)]

    statuses = post_concurrently(bodies, raw_key)

    assert statuses == [201] * 8
    assert Event.objects.count() == 8
    assert Invitation.objects.count() == 1


def test_a_throttled_event_of_a_known_contact_does_not_wait_for_the_contacts_row_lock(raw_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    body = {"type": "purchase", "contact": {"email": "ana@example.com"}}
    assert client.post("/api/events/", body, format="json").status_code == 201
    contact_id = Contact.objects.get().pk
    statuses: list[int] = []

    def post() -> None:
        try:
            statuses.append(client.post("/api/events/", body, format="json").status_code)
        finally:
            connection.close()

    # Another request holds the row as an event that changes the contact or schedules for it does.
    with psycopg.connect(_test_database_url()) as other:
        other.execute("SELECT id FROM surveys_contact WHERE id = %s FOR NO KEY UPDATE", [contact_id])
        thread = threading.Thread(target=post)
        thread.start()
        thread.join(timeout=10)
        finished = not thread.is_alive()
    thread.join()

    assert finished, "the throttled event waited for the contact's row lock"
    assert statuses == [201]
    assert (Event.objects.count(), Invitation.objects.count()) == (2, 1)


def test_concurrent_copies_of_one_event_store_it_once(raw_key):
    body = {"type": "purchase", "external_id": "o-1", "contact": {"email": "ana@example.com"}}

    statuses = post_concurrently([body] * 8, raw_key)

    assert statuses == [200] * 7 + [201]
    assert Event.objects.count() == 1
    assert Invitation.objects.count() == 1


def test_concurrent_retries_with_one_idempotency_key_run_once(raw_key):
    body = {"type": "purchase", "external_id": "o-1", "contact": {"email": "ana@example.com"}}

    statuses = post_concurrently([body] * 6, raw_key, {"HTTP_IDEMPOTENCY_KEY": "k-1"})

    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    assert Event.objects.count() == 1


def test_a_staged_batch_is_answered_before_it_is_ingested_and_ingested_once_by_a_live_worker(raw_key, live_tasks):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    events = [{"type": "purchase", "contact": {"email": f"c{n}@example.com"}} for n in range(300)]

    accepted = client.post("/api/events/batches/", {"events": events}, format="json")

    assert accepted.status_code == 202
    batch = EventBatch.objects.get()
    expand_event_batch.delay(batch.pk)  # a second task for the same batch, racing the first
    wait_for(
        lambda: client.get(accepted["Location"]).json()["status"] == "expanded",
        what="the worker to expand the staged batch",
    )
    results = client.get(accepted["Location"]).json()["results"]
    assert [result["status"] for result in results] == [201] * 300
    assert (Event.objects.count(), Invitation.objects.count(), Contact.objects.count()) == (300, 300, 300)
