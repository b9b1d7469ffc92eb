"""integrations/retention.py: finished webhook deliveries go at their age; those still to be made stay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Connector, ConnectorDelivery, WebhookDelivery, WebhookSubscription
from workspace.services.retention import purge_expired

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _delivery(subscription, status: str, days: int, seconds: int = 0, **fields) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event_type="survey_response.created",
        event_id=f"evt-{WebhookDelivery.objects.count()}",
        payload={"person": {"email": "jeanne@example.com"}, "comment": "Late again"},
        status=status,
        next_attempt_at=NOW,
        **fields,
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=NOW - timedelta(days=days, seconds=-seconds))
    return delivery


def test_finished_deliveries_go_at_their_age(settings):
    settings.RETENTION_WEBHOOK_DELIVERIES_DAYS = "30"
    subscription = WebhookSubscription.objects.create(name="CRM", url="https://crm.example/hook", secret="s")
    delivered = _delivery(subscription, "delivered", 30, -1)
    failed = _delivery(subscription, "failed", 31)
    replay = _delivery(subscription, "delivered", 1, replay_of=failed)
    boundary = _delivery(subscription, "delivered", 30)
    pending = _delivery(subscription, "pending", 60)

    [report] = purge_expired(kinds=["webhook_deliveries"], now=NOW)

    assert report.removed == 2
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {replay.pk, boundary.pk, pending.pk}
    assert not WebhookDelivery.objects.filter(pk__in=[delivered.pk, failed.pk]).exists()
    assert WebhookDelivery.objects.get(pk=replay.pk).replay_of_id is None


def test_connector_payloads_are_emptied_at_their_age_and_the_log_line_kept(settings):
    settings.RETENTION_CONNECTOR_PAYLOADS_DAYS = "30"
    connector = Connector.objects.create(name="Shop", kind="shopify", secret="s")
    payload = {"customer": {"email": "jeanne@example.com"}}

    def delivery(status: str, days: int, seconds: int = 0) -> ConnectorDelivery:
        row = ConnectorDelivery.objects.create(
            connector=connector, delivery_id=f"d{ConnectorDelivery.objects.count()}", status=status, payload=payload
        )
        ConnectorDelivery.objects.filter(pk=row.pk).update(received_at=NOW - timedelta(days=days, seconds=-seconds))
        return row

    older = delivery("event_created", 30, -1)
    boundary = delivery("event_created", 30)
    waiting = delivery("received", 60)

    [report] = purge_expired(kinds=["connector_payloads"], now=NOW)

    assert report.removed == 1
    older.refresh_from_db()
    assert (older.payload, older.payload_purged_at, older.status, older.delivery_id) == (
        None,
        NOW,
        "event_created",
        "d0",
    )
    assert ConnectorDelivery.objects.get(pk=boundary.pk).payload == payload
    assert ConnectorDelivery.objects.get(pk=waiting.pk).payload == payload
