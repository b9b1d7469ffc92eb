from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from console.models import AuditEntry
from integrations.models import WebhookDelivery, WebhookSubscription
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db

FORM = {"name": "CRM", "url": "http://127.0.0.1:9/hook", "events": ["survey_response.created"], "is_active": "on"}


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _delivery(subscription, **fields) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        subscription=subscription,
        event_type="survey_response.created",
        event_id="evt-1",
        payload={"event_type": "survey_response.created", "event_id": "evt-1"},
        next_attempt_at=timezone.now(),
        **fields,
    )


def test_a_new_webhook_shows_its_secret_once_and_the_audit_never(manager_client, manager):
    response = manager_client.post("/settings/webhooks/new/", FORM)

    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    assert f'value="{subscription.secret}"' in response.content.decode()
    assert len(subscription.secret) == 64
    assert (subscription.name, subscription.url, subscription.events, subscription.is_active) == (
        "CRM", "http://127.0.0.1:9/hook", ["survey_response.created"], True
    )  # fmt: skip
    assert subscription.secret not in manager_client.get(f"/settings/webhooks/{subscription.pk}/").content.decode()
    assert (
        f'<a href="/settings/webhooks/{subscription.pk}/">CRM</a>'
        in manager_client.get("/settings/webhooks/").content.decode()
    )
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.object_type) == (manager, "created", "webhooksubscription")
    assert entry.changes == {
        "events": [None, ["survey_response.created"]],
        "is_active": [None, True],
        "name": [None, "CRM"],
        "url": [None, "http://127.0.0.1:9/hook"],
    }


def test_a_refused_webhook_is_the_form_again_with_field_errors(manager_client, settings):
    bad = manager_client.post("/settings/webhooks/new/", {"name": "", "url": "not a url"})
    ftp = manager_client.post("/settings/webhooks/new/", {**FORM, "url": "ftp://files.example/hook"})
    assert ftp.context["form"].errors == {"url": ["Use an http:// or https:// URL with a host name."]}
    assert bad.status_code == 400
    assert set(bad.context["form"].errors) == {"name", "url", "events"}

    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    private = manager_client.post("/settings/webhooks/new/", FORM)
    assert private.status_code == 400
    assert private.context["form"].errors == {
        "url": ["127.0.0.1 resolves to 127.0.0.1, a private, loopback or link-local address."]
    }
    assert (WebhookSubscription.objects.count(), AuditEntry.objects.count()) == (0, 0)


def test_a_webhook_is_changed_paused_and_deleted(manager_client):
    manager_client.post("/settings/webhooks/new/", FORM)
    subscription = WebhookSubscription.objects.get()
    secret = subscription.secret

    edited = manager_client.post(
        f"/settings/webhooks/{subscription.pk}/edit/",
        {**FORM, "events": ["follow_up.created", "follow_up.resolved"], "is_active": ""},
    )

    assert edited["Location"] == f"/settings/webhooks/{subscription.pk}/"
    subscription.refresh_from_db()
    assert (subscription.events, subscription.is_active, subscription.secret) == (
        ["follow_up.created", "follow_up.resolved"], False, secret
    )  # fmt: skip
    assert AuditEntry.objects.get(action="updated").changes == {
        "events": [["survey_response.created"], ["follow_up.created", "follow_up.resolved"]],
        "is_active": [True, False],
    }
    assert manager_client.post(f"/settings/webhooks/{subscription.pk}/delete/")["Location"] == "/settings/webhooks/"
    assert not WebhookSubscription.objects.exists()
    assert AuditEntry.objects.filter(action="deleted", object_type="webhooksubscription").count() == 1


def test_the_delivery_log_lists_deliveries_and_replays_one(manager_client):
    manager_client.post("/settings/webhooks/new/", FORM)
    subscription = WebhookSubscription.objects.get()
    failed = _delivery(subscription, status="failed", attempts=12, response_code=500, error="HTTP 500")

    log = manager_client.get(f"/settings/webhooks/{subscription.pk}/").content.decode()
    assert "HTTP 500" in log and "Failed, 12 attempts" in log and "evt-1" in log

    replayed = manager_client.post(f"/settings/webhooks/{subscription.pk}/deliveries/{failed.pk}/replay/")

    replay = WebhookDelivery.objects.exclude(pk=failed.pk).get()
    assert replayed["Location"] == f"/settings/webhooks/{subscription.pk}/?replayed={replay.pk}#log"
    assert (replay.event_id, replay.payload, replay.replay_of, replay.status) == (
        "evt-1", failed.payload, failed, "pending"
    )  # fmt: skip
    page = manager_client.get(f"/settings/webhooks/{subscription.pk}/?replayed={replay.pk}").content.decode()
    assert f"Replayed as delivery #{replay.pk}" in page and f"replay of #{failed.pk}" in page


def test_a_delivery_is_replayed_only_under_its_own_webhook_and_by_post(manager_client):
    manager_client.post("/settings/webhooks/new/", FORM)
    manager_client.post("/settings/webhooks/new/", {**FORM, "name": "Other"})
    mine, other = WebhookSubscription.objects.order_by("pk")
    delivery = _delivery(mine)

    assert manager_client.post(f"/settings/webhooks/{other.pk}/deliveries/{delivery.pk}/replay/").status_code == 404
    assert manager_client.get(f"/settings/webhooks/{mine.pk}/deliveries/{delivery.pk}/replay/").status_code == 405
    assert WebhookDelivery.objects.count() == 1


def test_rotating_the_secret_shows_the_new_one_once_and_audits_when_the_old_one_stops(
    manager_client, manager, settings
):
    settings.WEBHOOK_SECRET_ROTATION_HOURS = 24
    manager_client.post("/settings/webhooks/new/", FORM)
    subscription = WebhookSubscription.objects.get()
    old = subscription.secret

    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        rotated = manager_client.post(f"/settings/webhooks/{subscription.pk}/rotate-secret/")

    subscription.refresh_from_db()
    page = rotated.content.decode()
    assert rotated.status_code == 200
    assert rotated["Cache-Control"] == "no-store"
    assert f'value="{subscription.secret}"' in page and old not in page
    assert "Until 2026-03-03 09:00 UTC each delivery is signed with both the new and the old secret" in page
    assert (subscription.previous_secret, len(subscription.secret)) == (old, 64)
    with time_machine.travel(datetime(2026, 3, 3, 8, 59, tzinfo=UTC), tick=False):
        later = manager_client.get(f"/settings/webhooks/{subscription.pk}/").content.decode()
    assert subscription.secret not in later and old not in later
    assert "until 2026-03-03 09:00 UTC deliveries carry two signatures" in later
    with time_machine.travel(datetime(2026, 3, 3, 9, 0, tzinfo=UTC), tick=False):
        over = manager_client.get(f"/settings/webhooks/{subscription.pk}/").content.decode()
    assert "deliveries carry two signatures" not in over
    entry = AuditEntry.objects.get(action="rotated")
    assert (entry.actor, entry.object_type, entry.object_id) == (manager, "webhooksubscription", str(subscription.pk))
    assert entry.changes == {"previous_secret_expires_at": [None, "2026-03-03T09:00:00+00:00"]}


def test_a_secret_is_rotated_only_by_post_and_only_by_a_manager(manager_client, agent):
    manager_client.post("/settings/webhooks/new/", FORM)
    subscription = WebhookSubscription.objects.get()
    secret = subscription.secret
    agent_client = Client()
    agent_client.force_login(agent)

    assert manager_client.get(f"/settings/webhooks/{subscription.pk}/rotate-secret/").status_code == 405
    assert agent_client.post(f"/settings/webhooks/{subscription.pk}/rotate-secret/").status_code == 403
    assert manager_client.post("/settings/webhooks/999999/rotate-secret/").status_code == 404
    subscription.refresh_from_db()
    assert (subscription.secret, AuditEntry.objects.filter(action="rotated").count()) == (secret, 0)


def test_a_french_speaking_manager_reads_a_webhook_and_its_log_in_french(client):
    client.force_login(ManagerFactory(email="chef@closeloop.test", language="fr"))
    subscription = WebhookSubscription.objects.create(
        name="CRM", url="http://127.0.0.1:9/hook", events=["survey_response.created"], secret="s" * 64, is_active=False
    )
    _delivery(subscription, status="failed", attempts=12, response_code=500, error="HTTP 500")

    page = client.get(f"/settings/webhooks/{subscription.pk}/").content.decode()

    assert "<h1>Webhook « CRM »</h1>" in page
    assert "<dd>En pause : rien n'est envoyé</dd>" in page
    assert '<h2 id="log-title">Journal des envois</h2>' in page
    assert ", 12 tentatives</td>" in page
