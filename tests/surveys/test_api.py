import hashlib
import json
from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from surveys.models import Contact, Event, EventBatch, Invitation
from surveys.services.api_keys import api_key_create
from surveys.services.idempotency import idempotency_claim
from tests.factories import ContactFactory, SurveyFactory, TriggerRuleFactory

pytestmark = pytest.mark.django_db

EVENT = {"type": "purchase", "external_id": "order-1", "contact": {"email": "ana@example.com", "name": "Ana"}}


@pytest.fixture
def rule():
    return TriggerRuleFactory(event_type="purchase", survey=SurveyFactory(name="Post-purchase NPS"))


@time_machine.travel("2026-03-02 10:00:00+00:00", tick=False)
def test_event_create_schedules_invitation(api_client, rule):
    response = api_client.post("/api/events/", EVENT, format="json")

    assert response.status_code == 201
    invitation = Invitation.objects.get()
    assert response.json() == {
        "event_id": Event.objects.get().pk,
        "duplicate": False,
        "scheduled": [
            {
                "id": str(invitation.public_id),
                "trigger_rule": rule.pk,
                "survey": "Post-purchase NPS",
                "channel": "email",
                "scheduled_at": "2026-03-02T10:00:00Z",
                "expires_at": "2026-03-30T10:00:00Z",
            }
        ],
        "skipped": [],
        "cancelled": [],
    }
    assert invitation.contact.email == "ana@example.com"
    assert invitation.scheduled_at == timezone.now()


def test_event_create_without_key_is_401(rule):
    response = APIClient().post("/api/events/", EVENT, format="json")

    assert response.status_code == 401
    assert response.json() == {"message": "Authentication credentials were not provided.", "errors": {}}
    assert Event.objects.count() == 0


def test_event_create_with_invalid_key_is_401(rule):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer cl_not_a_key")

    response = client.post("/api/events/", EVENT, format="json")

    assert response.status_code == 401
    assert response.json() == {"message": "Invalid or revoked API key.", "errors": {}}


def test_event_create_with_revoked_key_is_401(api_client, api_key, rule):
    api_key[0].revoked_at = timezone.now()
    api_key[0].save()

    response = api_client.post("/api/events/", EVENT, format="json")

    assert response.status_code == 401


def test_event_create_bad_input_is_400_with_field_errors(api_client, rule):
    body = {"type": "Not A Type!", "contact": {"email": "not-an-email", "phone": "12"}}

    response = api_client.post("/api/events/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid input.",
        "errors": {
            "type": ["This value does not match the required pattern."],
            "contact.email": ["Enter a valid email address."],
            "contact.phone": ["Enter a phone number in E.164 form, e.g. +14155550100."],
        },
    }
    assert Event.objects.count() == 0


def test_event_create_with_a_null_character_in_properties_is_400_and_stores_nothing(api_client, rule):
    # PostgreSQL cannot store U+0000 in text or jsonb: refused up front, never a 500.
    body = {
        "type": "purchase",
        "contact": {"email": "ana@example.com", "properties": {"plan\u0000": "pro"}},
        "properties": {"store": ["Lyon", {"note": "a\u0000b"}]},
    }

    response = api_client.post("/api/events/", body, format="json")

    assert (response.status_code, response.json()["errors"]) == (
        400,
        {
            "contact.properties": ["Null characters are not allowed."],
            "properties": ["Null characters are not allowed."],
        },
    )
    assert (Contact.objects.count(), Event.objects.count()) == (0, 0)


def test_event_create_duplicate_external_id_is_200_without_second_invitation(api_client, rule):
    api_client.post("/api/events/", EVENT, format="json")

    response = api_client.post("/api/events/", EVENT, format="json")

    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert response.json()["skipped"] == [{"trigger_rule": None, "reason": "duplicate"}]
    assert Invitation.objects.count() == 1


def test_event_create_without_events_scope_is_403(rule):
    _, raw = api_key_create(name="reader", scopes=["responses:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post("/api/events/", EVENT, format="json")

    assert response.status_code == 403
    assert response.json() == {"message": "This API key lacks the events:write scope.", "errors": {}}
    assert Event.objects.count() == 0


def test_event_create_without_matching_rule_says_no_rule(api_client):
    response = api_client.post("/api/events/", EVENT, format="json")

    assert response.status_code == 201
    assert response.json()["skipped"] == [{"trigger_rule": None, "reason": "no_rule"}]
    assert Invitation.objects.count() == 0


def test_event_create_with_malformed_json_is_400(api_client):
    response = api_client.post("/api/events/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "message": "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        "errors": {},
    }


# --- batch -----------------------------------------------------------------


def test_event_batch_reports_each_item_and_keeps_good_ones(api_client, rule):
    events = [
        {**EVENT, "external_id": "order-1"},
        {"type": "purchase", "contact": {"email": "broken"}},
        {**EVENT, "external_id": "order-1"},
        {"type": "purchase", "external_id": "order-2", "contact": {"email": "bo@example.com"}},
    ]

    response = api_client.post("/api/events/batch/", {"events": events}, format="json")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(item["index"], item["status"]) for item in results] == [(0, 201), (1, 400), (2, 200), (3, 201)]
    assert results[1]["errors"] == {"contact.email": ["Enter a valid email address."]}
    assert results[2]["result"]["duplicate"] is True
    assert sorted(Invitation.objects.values_list("contact__email", flat=True)) == ["ana@example.com", "bo@example.com"]


def test_event_batch_rejects_more_than_1000_events(api_client):
    response = api_client.post("/api/events/batch/", {"events": [EVENT] * 1001}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"events": ["Ensure this field has no more than 1000 elements."]}
    assert Event.objects.count() == 0


def test_event_batch_empty_or_missing_is_400(api_client):
    assert api_client.post("/api/events/batch/", {"events": []}, format="json").status_code == 400
    assert api_client.post("/api/events/batch/", {}, format="json").json()["errors"] == {
        "events": ["This field is required."]
    }


@pytest.mark.django_db(transaction=True)  # committed for real: what a failure leaves behind is what is seen
def test_event_batch_is_one_transaction_when_the_database_fails(api_client, rule, monkeypatch):
    # The second event names a contact the first created, so it takes the one-by-one path after the first was
    # written: a failure there must not leave the first behind, or a retry without external ids would double it.
    from surveys.services import ingest

    TriggerRuleFactory(event_type="purchase", survey=SurveyFactory(name="Second"))
    ContactFactory(email="known@example.com")
    real = ingest.event_ingest
    calls = []

    def failing_second(**kwargs):
        calls.append(kwargs["event"].contact.email)
        if len(calls) == 2:
            raise DatabaseError("connection lost")
        return real(**kwargs)

    monkeypatch.setattr(ingest, "event_ingest", failing_second)
    events = [
        {"type": "purchase", "contact": {"email": "known@example.com"}},
        {"type": "purchase", "contact": {"email": "known@example.com", "name": "Known"}},
    ]

    with pytest.raises(DatabaseError):
        api_client.post("/api/events/batch/", {"events": events}, format="json")

    assert calls == ["known@example.com", "known@example.com"]
    assert Event.objects.count() == 0
    assert Invitation.objects.count() == 0


# --- staged batches ----------------------------------------------------------


@time_machine.travel("2026-03-02 10:00:00+00:00", tick=False)
def test_staged_batch_is_accepted_at_once_and_expanded_by_a_worker(
    api_client, api_key, rule, django_capture_on_commit_callbacks
):
    events = [
        {**EVENT, "external_id": "order-1"},
        {"type": "purchase", "contact": {"email": "broken"}},
        {"type": "purchase", "external_id": "order-2", "contact": {"email": "bo@example.com"}},
    ]

    with django_capture_on_commit_callbacks() as handed_over:
        response = api_client.post("/api/events/batches/", {"events": events}, format="json")

    assert response.status_code == 202
    batch = EventBatch.objects.get()
    url = f"http://testserver/api/events/batches/{batch.public_id}/"
    assert response["Location"] == url
    refused = {"index": 1, "status": 400, "errors": {"contact.email": ["Enter a valid email address."]}}
    assert response.json() == {
        "id": str(batch.public_id),
        "url": url,
        "status": "accepted",
        "size": 3,
        "refused": 1,
        "accepted_at": "2026-03-02T10:00:00Z",
        "expanded_at": None,
        "error": "",
        "results": [refused],
    }
    assert Event.objects.count() == 0
    assert len(handed_over) == 1

    handed_over[0]()  # the worker's task

    expanded = api_client.get(url)
    assert expanded.status_code == 200
    body = expanded.json()
    assert (body["status"], body["expanded_at"], body["refused"]) == ("expanded", "2026-03-02T10:00:00Z", 1)
    invitations = {invitation.contact.email: invitation for invitation in Invitation.objects.select_related("contact")}
    assert sorted(invitations) == ["ana@example.com", "bo@example.com"]

    def scheduled(index: int, external_id: str, email: str) -> dict:
        invitation = {
            "id": str(invitations[email].public_id),
            "trigger_rule": rule.pk,
            "survey": "Post-purchase NPS",
            "channel": "email",
            "scheduled_at": "2026-03-02T10:00:00Z",
            "expires_at": "2026-03-30T10:00:00Z",
        }
        event_id = Event.objects.get(external_id=external_id).pk
        result = {"event_id": event_id, "duplicate": False, "scheduled": [invitation], "skipped": [], "cancelled": []}
        return {"index": index, "status": 201, "result": result}

    assert body["results"] == [
        scheduled(0, "order-1", "ana@example.com"),
        refused,
        scheduled(2, "order-2", "bo@example.com"),
    ]
    # Once expanded, the events (addresses, names) are no longer kept in the batch.
    assert EventBatch.objects.get().events is None


def test_staged_batch_accept_costs_one_insert(api_client, api_key, rule, django_assert_num_queries):
    api_client.post("/api/events/", EVENT, format="json")  # the key and the rules cached, as in steady use
    events = [{"type": "purchase", "contact": {"email": f"c{n}@example.com"}} for n in range(1000)]

    with django_assert_num_queries(1) as captured:
        response = api_client.post("/api/events/batches/", {"events": events}, format="json")

    assert response.status_code == 202
    assert captured.captured_queries[0]["sql"].startswith('INSERT INTO "surveys_eventbatch"')


def test_staged_batch_stores_what_validation_kept_never_what_postgresql_cannot_hold(api_client, rule):
    # An unknown key is ignored by validation, and a refused item is only answered: neither is stored, so text
    # PostgreSQL's JSON cannot hold (NUL) in either is no 500.
    events = [
        {**EVENT, "note\u0000": "ignored"},
        {"type": "purchase\u0000", "contact": {"email": "bo@example.com"}},
    ]

    response = api_client.post("/api/events/batches/", {"events": events}, format="json")

    assert response.status_code == 202
    assert [(result["index"], result["status"]) for result in response.json()["results"]] == [(1, 400)]
    [(index, stored)] = EventBatch.objects.get().events
    assert index == 0 and "note\u0000" not in stored


def test_staged_batch_refuses_a_malformed_batch_and_stores_nothing(api_client):
    response = api_client.post("/api/events/batches/", {"events": [EVENT] * 1001}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"events": ["Ensure this field has no more than 1000 elements."]}
    assert api_client.post("/api/events/batches/", {}, format="json").json()["errors"] == {
        "events": ["This field is required."]
    }
    assert EventBatch.objects.count() == 0


def test_staged_batch_is_read_only_by_the_key_that_sent_it(api_client, rule):
    batch_url = api_client.post("/api/events/batches/", {"events": [EVENT]}, format="json")["Location"]
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='other')[1]}")

    assert other.get(batch_url).status_code == 404
    assert other.get(batch_url).json() == {"message": "No batch with this id was sent with this API key.", "errors": {}}
    assert APIClient().get(batch_url).status_code == 401
    assert api_client.get(batch_url).status_code == 200


def test_staged_batch_needs_the_events_scope(rule):
    _, raw = api_key_create(name="reader", scopes=["responses:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post("/api/events/batches/", {"events": [EVENT]}, format="json")

    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the events:write scope."
    assert EventBatch.objects.count() == 0


def test_staged_batch_retry_with_the_same_idempotency_key_replays_the_same_batch(api_client, rule):
    first = api_client.post("/api/events/batches/", {"events": [EVENT]}, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    again = api_client.post("/api/events/batches/", {"events": [EVENT]}, format="json", HTTP_IDEMPOTENCY_KEY="b-1")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"] == first.json()["url"]
    assert EventBatch.objects.count() == 1


# --- idempotency -----------------------------------------------------------


def test_idempotency_key_replays_first_answer_for_same_body(api_client, rule):
    first = api_client.post("/api/events/", EVENT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    Invitation.objects.all().delete()

    again = api_client.post("/api/events/", EVENT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Invitation.objects.count() == 0


def test_idempotency_key_with_different_body_is_422(api_client, rule):
    api_client.post("/api/events/", EVENT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    response = api_client.post(
        "/api/events/", {**EVENT, "external_id": "order-2"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert response.status_code == 422
    assert response.json() == {"message": "This Idempotency-Key was used with a different request body.", "errors": {}}
    assert Event.objects.count() == 1


def test_idempotency_key_in_flight_is_409(api_client, api_key, rule):
    body_hash = hashlib.sha256(json.dumps(EVENT, sort_keys=True).encode()).hexdigest()
    # The first request with this key has claimed it and not answered yet.
    idempotency_claim(api_key=api_key[0], key="k-1", request_hash=body_hash)

    response = api_client.post("/api/events/", EVENT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 409
    assert response.json() == {"message": "A request with this Idempotency-Key is still being processed.", "errors": {}}
    assert Event.objects.count() == 0


def test_idempotency_key_expires_after_24_hours(api_client, rule):
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        api_client.post("/api/events/", EVENT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    with time_machine.travel("2026-03-03 10:00:01+00:00", tick=False):
        response = api_client.post(
            "/api/events/", {**EVENT, "external_id": "order-2"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )

    assert response.status_code == 201
    assert Event.objects.count() == 2


def test_idempotency_key_is_released_when_the_request_is_invalid(api_client, rule):
    api_client.post("/api/events/", {"type": "purchase"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    response = api_client.post("/api/events/", EVENT, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 201


# --- rate limit ------------------------------------------------------------


def test_rate_limit_per_key_is_429_with_integer_retry_after(api_client, rule, settings):
    settings.API_RATE_LIMIT = "2/minute"
    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='other')[1]}")

    statuses = [
        api_client.post("/api/events/", {**EVENT, "external_id": f"o-{n}"}, format="json").status_code for n in range(3)
    ]
    limited = api_client.post("/api/events/", EVENT, format="json")

    assert statuses == [201, 201, 429]
    assert limited.status_code == 429
    assert limited["Retry-After"].isdigit()
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["message"].startswith("Request was throttled.")
    assert other_client.post("/api/events/", EVENT, format="json").status_code == 201


# --- trigger rules -----------------------------------------------------------

RULE = {
    "event_type": "support_ticket_solved",
    "channel": "email_then_sms",
    "conditions": [{"property": "priority", "op": "in", "value": ["high", "urgent"]}],
    "delay_seconds": 3600,
    "sample_rate": 0.5,
    "expiry_days": 7,
    "cancel_on_event_types": ["support_ticket_reopened"],
    "match_property": "ticket_id",
}


def test_trigger_rule_crud(api_client):
    survey = SurveyFactory()

    created = api_client.post("/api/trigger-rules/", {**RULE, "survey": survey.pk}, format="json")
    rule_id = created.json()["id"]
    listed = api_client.get("/api/trigger-rules/")
    patched = api_client.patch(
        f"/api/trigger-rules/{rule_id}/", {"delay_seconds": 60, "is_active": False}, format="json"
    )
    deleted = api_client.delete(f"/api/trigger-rules/{rule_id}/")

    assert created.status_code == 201
    body = created.json()
    assert {k: v for k, v in body.items() if k not in ("id", "created_at")} == {
        **RULE,
        "survey": survey.pk,
        "is_active": True,
    }
    assert listed.json()[0]["id"] == rule_id
    assert patched.json()["delay_seconds"] == 60
    assert patched.json()["is_active"] is False
    assert deleted.status_code == 204


def test_trigger_rule_with_a_null_character_in_conditions_is_400(api_client):
    response = api_client.post(
        "/api/trigger-rules/",
        {
            "event_type": "purchase",
            "survey": SurveyFactory().pk,
            "channel": "email",
            "conditions": [{"property": "store", "op": "equals", "value": "Ly\u0000on"}],
        },
        format="json",
    )

    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"conditions": ["Null characters are not allowed."]},
    )


def test_trigger_rule_create_bad_input_is_400_per_field(api_client):
    response = api_client.post(
        "/api/trigger-rules/",
        {
            "event_type": "purchase",
            "survey": 999,
            "channel": "fax",
            "sample_rate": 2,
            "delay_seconds": -1,
            "conditions": [{"property": "amount", "op": "approx", "value": 1}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "survey": ['Invalid pk "999" - object does not exist.'],
        "channel": ['"fax" is not a valid choice.'],
        "sample_rate": ["Ensure this value is less than or equal to 1."],
        "delay_seconds": ["Give a whole number from 0 to 31536000."],
        "conditions": ["Condition 1: op must be one of equals, in, exists, gt, gte, lt, lte."],
    }


def test_trigger_rules_need_admin_scope():
    _, raw = api_key_create(name="writer", scopes=["events:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.get("/api/trigger-rules/")

    assert response.status_code == 403
    assert response.json() == {"message": "This API key lacks the admin scope.", "errors": {}}
    assert APIClient().get("/api/trigger-rules/").status_code == 401


@pytest.mark.parametrize("count", [1, 20])
def test_trigger_rule_list_query_count(api_client, django_assert_num_queries, count):
    TriggerRuleFactory.create_batch(count)

    # The key lookup, its last-used stamp, then the rules; `survey` is shown by id so needs no join.
    with django_assert_num_queries(3):
        response = api_client.get("/api/trigger-rules/")

    assert len(response.json()) == count


def test_event_create_contact_timezone_is_validated(api_client, rule):
    bad = {**EVENT, "contact": {"email": "ana@example.com", "timezone": "Mars/Olympus"}}
    good = {**EVENT, "contact": {"email": "ana@example.com", "timezone": "Europe/Paris"}}

    assert api_client.post("/api/events/", bad, format="json").json()["errors"] == {
        "contact.timezone": ["Unknown time zone; use an IANA name such as Europe/Paris."]
    }
    assert api_client.post("/api/events/", good, format="json").status_code == 201


def test_idempotency_keys_prune_forgets_keys_older_than_24_hours(api_client, rule):
    from surveys.models import IdempotencyKey
    from surveys.tasks import prune_idempotency_keys

    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        api_client.post("/api/events/", EVENT, format="json", HTTP_IDEMPOTENCY_KEY="old")
    with time_machine.travel("2026-03-03 09:00:00+00:00", tick=False):
        api_client.post("/api/events/", {**EVENT, "external_id": "o-2"}, format="json", HTTP_IDEMPOTENCY_KEY="new")
    with time_machine.travel("2026-03-03 10:00:00+00:00", tick=False):
        assert prune_idempotency_keys() == 1

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def _warm(api_client) -> None:
    """Two requests: the first stamps the key's last use, the second caches the stamped key."""
    for _ in range(2):
        api_client.post("/api/events/", {**EVENT, "external_id": ""}, format="json")


def test_event_create_of_a_new_contact_query_count(api_client, rule, django_assert_num_queries):
    _warm(api_client)
    event = {**EVENT, "external_id": "order-2", "contact": {"email": "new@example.com"}}

    # The contact lookup, the contact, the event (its unique constraint is the duplicate check; its
    # RETURNING reads consent), the invitation (plus the transaction's savepoint and release: the
    # test runs inside a transaction).
    with django_assert_num_queries(6):
        response = api_client.post("/api/events/", event, format="json")

    assert response.status_code == 201
    assert Invitation.objects.filter(contact__email="new@example.com").count() == 1


def test_event_create_of_a_known_contact_query_count(api_client, rule, django_assert_num_queries):
    _warm(api_client)
    # The warm-up's invitations lie outside the windows, so the fatigue check runs and lets this one through.
    Invitation.objects.update(scheduled_at=timezone.now() - timedelta(days=400))

    # The lookup, the event, the fatigue check; then, as it lets an invitation through, the contact's row
    # lock and the fatigue check again under it, and the invitation (plus the savepoint and its release).
    with django_assert_num_queries(8) as queries:
        response = api_client.post("/api/events/", {**EVENT, "external_id": "order-2"}, format="json")

    assert response.status_code == 201
    assert len(response.json()["scheduled"]) == 1
    assert Invitation.objects.count() == 2  # the warm-up's second event was within the first's window
    locks = [query["sql"].endswith("FOR NO KEY UPDATE") for query in queries.captured_queries].count(True)
    assert locks == (1 if connection.features.has_select_for_no_key_update else 0)  # SQLite locks the database


def test_event_create_of_a_known_contact_throttled_query_count_takes_no_lock(
    api_client, rule, django_assert_num_queries
):
    _warm(api_client)

    # The lookup, the event and the fatigue check, which throttles: nothing locks the contact's row.
    with django_assert_num_queries(5) as queries:
        response = api_client.post("/api/events/", {**EVENT, "external_id": "order-2"}, format="json")

    assert response.json()["skipped"] == [{"trigger_rule": rule.pk, "reason": "throttled"}]
    assert not any("FOR " in query["sql"] for query in queries.captured_queries)


@pytest.mark.parametrize("count", [1, 20])
@pytest.mark.parametrize("named_by", [["email"], ["email", "phone", "external_id"]])
def test_event_batch_of_new_contacts_query_count(api_client, rule, django_assert_num_queries, count, named_by):
    _warm(api_client)
    identifiers = {"email": "b{n}@example.com", "phone": "+1415555{n:04d}", "external_id": "crm-{n}"}
    events = [
        {
            "type": "purchase",
            "external_id": f"b-{n}",
            "contact": {name: identifiers[name].format(n=n) for name in named_by},
        }
        for n in range(count)
    ]

    # Stored events, known contacts (one query whatever names them), then in bulk: contacts,
    # events, consent, invitations (plus two savepoints and their releases).
    with django_assert_num_queries(10):
        response = api_client.post("/api/events/batch/", {"events": events}, format="json")

    assert [item["status"] for item in response.json()["results"]] == [201] * count
    assert Invitation.objects.filter(contact__email__startswith="b").count() == count


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,hi", "ftp://example.com/x", 7])
def test_event_create_thank_you_link_must_be_http_or_https(api_client, rule, link):
    response = api_client.post("/api/events/", {**EVENT, "properties": {"thank_you_link_url": link}}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"properties.thank_you_link_url": ["Enter an http:// or https:// address."]}
    assert Event.objects.count() == 0


def test_event_create_thank_you_message_is_checked(api_client, rule):
    response = api_client.post("/api/events/", {**EVENT, "properties": {"thank_you_message": "x" * 501}}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"properties.thank_you_message": ["Give a text of at most 500 characters."]}


def test_cached_api_key_is_refused_once_revoked(api_client, api_key, rule):
    from surveys.services.api_keys import api_keys_revoke

    _warm(api_client)
    api_keys_revoke(ids=[api_key[0].pk])

    response = api_client.post("/api/events/", EVENT, format="json")

    assert response.status_code == 401


def test_trigger_rules_are_cached_and_forgotten_on_save(api_client, rule):
    _warm(api_client)
    rule.is_active = False
    rule.save()

    response = api_client.post("/api/events/", EVENT, format="json")

    assert response.json()["skipped"] == [{"trigger_rule": None, "reason": "no_rule"}]


def test_event_result_json_is_what_the_schema_documents(rule):
    from surveys.api import EventResultSerializer, event_result_json
    from surveys.services.contacts import ContactData
    from surveys.services.ingest import EventData, event_ingest

    rule.cancel_on_event_types, rule.match_property = ["refund"], "order"
    rule.save()
    TriggerRuleFactory(event_type="purchase", survey=SurveyFactory(), sample_rate=0)
    TriggerRuleFactory(event_type="purchase", survey=SurveyFactory())  # within the global window: throttled
    bo = ContactData(email="bo@example.com")
    event_ingest(source="test", event=EventData(type="purchase", contact=bo, properties={"order": 7}))
    scheduled = event_ingest(
        source="test", event=EventData(type="purchase", contact=ContactData(email="ana@example.com"))
    )
    cancelling = event_ingest(source="test", event=EventData(type="refund", contact=bo, properties={"order": 7}))

    for result in (scheduled, cancelling):
        assert event_result_json(result) == EventResultSerializer(result).data
    assert [outcome.skipped for outcome in scheduled.outcomes] == ["", "sampled_out", "throttled"]
    assert len(cancelling.cancelled) == 1


def test_event_create_duplicate_changes_nothing_and_costs_one_more_try(api_client, rule, django_assert_num_queries):
    _warm(api_client)
    api_client.post("/api/events/", EVENT, format="json")
    invitations = Invitation.objects.count()
    again = {**EVENT, "contact": {"email": "ana@example.com", "name": "Ana Renamed"}, "properties": {"plan": "pro"}}

    # The first try (contact lookup, the lookup again with the row lock as the event changes the contact,
    # update, the refused event) is undone whole; the second finds the stored event; each in a savepoint,
    # as the test runs inside a transaction.
    with django_assert_num_queries(10):
        response = api_client.post("/api/events/", again, format="json")

    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert Event.objects.filter(external_id="order-1").get().properties == {}
    assert Invitation.objects.count() == invitations
    assert Contact.objects.get(email="ana@example.com").name == "Ana"


# Mostly valid values (so that many items pass), some only after DRF's clean-up (trimming), and invalid ones.
_types = st.sampled_from(["purchase", " purchase ", "order.paid", "Not A Type!", "", "a" * 101, "pur\ud800", 7, None])
_texts = st.sampled_from(["", "order-1", " order-1 ", "  ", "a" * 201, "x\x00y", "x\udfffy", 7, 1.5, True, None, []])
# Domains the validator takes only by its allowlist or as an address literal, and ones it refuses.
_emails = st.sampled_from(
    [
        "ana@example.com",
        " ana@example.com ",
        "",
        "not-an-email",
        "ana@localhost",
        "ana@[127.0.0.1]",
        "ana@[::1]",
        "ana@exa_mple.com",
        "an a@example.com",
        "ana@example.com@example.com",
        "a" * 250 + "@example.com",
        12,
        None,
    ]
)
_phones = st.sampled_from(["", "+14155550100", "+33 6 12 34 56 78", "12", None])
_zones = st.sampled_from(["", "Europe/Paris", "Mars/Olympus", 3])
_dates = st.sampled_from(["2026-03-02T10:00:00Z", "2026-03-02 10:00", "yesterday", None, 5])
_properties = st.sampled_from(
    [{}, {"amount": 3}, {"thank_you_link_url": "javascript:x"}, {"thank_you_message": "x" * 501}, "text", None]
)
_contacts = st.one_of(
    st.fixed_dictionaries(
        {"email": _emails},
        optional={
            "phone": _phones,
            "name": _texts,
            "locale": st.sampled_from(["", "fr", "en-GB", "x" * 11]),
            "timezone": _zones,
            "external_id": _texts,
            "properties": _properties,
        },
    ),
    st.sampled_from([{}, "ana@example.com", None, []]),
)
_events = st.one_of(
    st.fixed_dictionaries(
        {"type": _types, "contact": _contacts},
        optional={"external_id": _texts, "occurred_at": _dates, "properties": _properties, "ignored": _texts},
    ),
    st.sampled_from([{}, None, "event", [1]]),
)


@given(item=_events)
@settings(max_examples=400, deadline=None)
def test_plain_validation_gives_what_the_serializer_gives(item):
    from rest_framework.exceptions import ValidationError

    from surveys.api import EVENT_INPUT, _NotPlain, _plain_validation

    try:
        expected = EVENT_INPUT.run_validation(item)
    except ValidationError:
        expected = "refused"
    try:
        plain = _plain_validation(EVENT_INPUT, item)
    except _NotPlain:
        return  # the serializer answers, with its own messages
    assert plain == expected


def test_plain_validation_takes_a_well_formed_event_without_the_serializer():
    from surveys.api import EVENT_INPUT, _plain_validation

    item = {
        "type": "purchase",
        "external_id": " order-1 ",
        "occurred_at": "2026-03-02T10:00:00Z",
        "contact": {"email": "ana@example.com", "phone": "+33 6 12 34 56 78", "timezone": "Europe/Paris"},
        "properties": {"amount": 3},
    }

    assert _plain_validation(EVENT_INPUT, item) == EVENT_INPUT.run_validation(item)
    assert _plain_validation(EVENT_INPUT, item)["contact"]["phone"] == "+33612345678"


def test_a_whatsapp_trigger_rule_is_refused_until_whatsapp_is_set_up(api_client, settings):
    survey = SurveyFactory()
    settings.TWILIO_WHATSAPP_FROM, settings.TWILIO_WHATSAPP_CONTENT_SID = "+15005550006", ""
    refused = api_client.post(
        "/api/trigger-rules/", {"event_type": "purchase", "survey": survey.pk, "channel": "whatsapp"}, format="json"
    )
    assert (refused.status_code, refused.json()["errors"]) == (
        400,
        {
            "channel": [
                "WhatsApp is not set up on this installation: set TWILIO_WHATSAPP_CONTENT_SID (see the WhatsApp"
                " setup page)."
            ]
        },
    )
    settings.TWILIO_WHATSAPP_CONTENT_SID = "HX" + "1" * 32
    created = api_client.post(
        "/api/trigger-rules/", {"event_type": "purchase", "survey": survey.pk, "channel": "whatsapp"}, format="json"
    )
    assert (created.status_code, created.json()["channel"]) == (201, "whatsapp")


@pytest.mark.parametrize(
    "data",
    [
        {"events": [EVENT]},
        {"events": [EVENT, {}, {"type": 7}], "other": 1},
        {"events": [EVENT] * 1000},
        {"events": [EVENT] * 1001},
        {"events": []},
        {"events": [EVENT, "text"]},
        {"events": [EVENT, None]},
        {"events": "text"},
        {"events": {"type": "purchase"}},
        {},
        [EVENT],
    ],
)
def test_batch_events_are_what_the_batch_serializer_validates(data):
    from rest_framework.exceptions import ValidationError

    from surveys.api import BatchInputSerializer, batch_events

    batch = BatchInputSerializer(data=data)
    if batch.is_valid():
        assert batch_events(data) == batch.validated_data["events"]
    else:
        with pytest.raises(ValidationError) as refused:
            batch_events(data)
        assert refused.value.detail == batch.errors
