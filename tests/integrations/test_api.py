import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from console.models import AuditEntry
from integrations.models import WebhookDelivery, WebhookSubscription
from surveys.models import ApiKey
from surveys.services.api_keys import api_key_create

pytestmark = pytest.mark.django_db


def _client(scopes: list[str]) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='ops', scopes=scopes)[1]}")
    return client


@pytest.fixture
def subscription():
    return WebhookSubscription.objects.create(
        name="CRM", url="http://127.0.0.1:9/hook", secret="s" * 64, events=["survey_response.created"]
    )


def _delivery(subscription, event_id: str, **fields) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        subscription=subscription,
        event_type="survey_response.created",
        event_id=event_id,
        payload={"event_id": event_id},
        next_attempt_at=timezone.now(),
        **fields,
    )


def test_the_delivery_log_is_newest_first_and_cursor_paged(subscription):
    first = _delivery(subscription, "evt-1", status="failed", attempts=12, response_code=500, error="HTTP 500")
    second = _delivery(subscription, "evt-2", status="delivered", attempts=1, response_code=200)
    other = WebhookSubscription.objects.create(name="X", url="http://127.0.0.1:9/x", secret="x", events=["x"])
    _delivery(other, "evt-3")
    client = _client(["admin"])

    page = client.get(f"/api/webhook-subscriptions/{subscription.pk}/deliveries/", {"page_size": 1}).json()

    assert [d["id"] for d in page["results"]] == [second.pk]
    rest = client.get(page["next"]).json()
    assert rest["next"] is None
    assert rest["results"] == [
        {
            "id": first.pk,
            "event_type": "survey_response.created",
            "event_id": "evt-1",
            "status": "failed",
            "attempts": 12,
            "response_code": 500,
            "error": "HTTP 500",
            "created_at": rest["results"][0]["created_at"],
            "last_attempt_at": None,
            "delivered_at": None,
            "replay_of": None,
        }
    ]


def test_a_delivery_is_replayed_as_a_new_one_with_the_same_event(subscription):
    failed = _delivery(subscription, "evt-1", status="failed", attempts=12)
    client = _client(["admin"])

    response = client.post(f"/api/webhook-subscriptions/{subscription.pk}/deliveries/{failed.pk}/replay/")

    replay = WebhookDelivery.objects.exclude(pk=failed.pk).get()
    assert response.status_code == 201
    assert (response.json()["id"], response.json()["replay_of"], response.json()["status"]) == (
        replay.pk,
        failed.pk,
        "pending",
    )
    assert (replay.event_id, replay.payload, replay.attempts) == ("evt-1", {"event_id": "evt-1"}, 0)


def test_replay_needs_the_admin_scope_and_the_delivery_s_own_subscription(subscription):
    delivery = _delivery(subscription, "evt-1")
    other = WebhookSubscription.objects.create(name="X", url="http://127.0.0.1:9/x", secret="x", events=["x"])
    path = f"/api/webhook-subscriptions/{other.pk}/deliveries/{delivery.pk}/replay/"

    assert _client(["admin"]).post(path).status_code == 404
    denied = _client(["responses:read"]).post(
        f"/api/webhook-subscriptions/{subscription.pk}/deliveries/{delivery.pk}/replay/"
    )
    assert denied.status_code == 403
    assert (
        _client(["responses:read"]).get(f"/api/webhook-subscriptions/{subscription.pk}/deliveries/").status_code == 403
    )
    assert WebhookDelivery.objects.count() == 1


def test_rotating_the_secret_returns_the_new_one_once_and_audits_the_key(subscription, settings):
    settings.WEBHOOK_SECRET_ROTATION_HOURS = 6
    client = _client(["admin"])

    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        response = client.post(f"/api/webhook-subscriptions/{subscription.pk}/rotate-secret/")

    subscription.refresh_from_db()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert (response.json()["secret"], response.json()["previous_secret_expires_at"]) == (
        subscription.secret,
        "2026-03-02T15:00:00Z",
    )
    assert (subscription.previous_secret, len(subscription.secret)) == ("s" * 64, 64)
    again = client.get(f"/api/webhook-subscriptions/{subscription.pk}/").json()
    assert "secret" not in again
    assert again["previous_secret_expires_at"] == "2026-03-02T15:00:00Z"
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.actor_label, entry.action, entry.object_id) == (
        None,
        f"API key ops ({ApiKey.objects.get().prefix}…)",
        "rotated",
        str(subscription.pk),
    )
    assert entry.changes == {"previous_secret_expires_at": [None, "2026-03-02T15:00:00+00:00"]}
    assert subscription.secret not in json.dumps(entry.changes) and "s" * 64 not in json.dumps(entry.changes)


def test_rotating_the_secret_needs_the_admin_scope_and_a_post(subscription):
    path = f"/api/webhook-subscriptions/{subscription.pk}/rotate-secret/"

    assert _client(["responses:read"]).post(path).status_code == 403
    assert _client(["admin"]).get(path).status_code == 405
    assert _client(["admin"]).post("/api/webhook-subscriptions/999999/rotate-secret/").status_code == 404
    subscription.refresh_from_db()
    assert (subscription.secret, subscription.previous_secret, AuditEntry.objects.count()) == ("s" * 64, "", 0)
