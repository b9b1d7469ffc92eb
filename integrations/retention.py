"""What the retention purge removes from integrations' tables (config/retention.py, docs/retention.md).

A new integration with a delivery log of its own adds its kind here: its payloads hold answers, names, emails.
"""

from datetime import datetime

from config.retention import Purgeable
from integrations.models import ConnectorDelivery, WebhookDelivery

# Pending and sending deliveries are still to be made: their payload is what goes out.
FINISHED = [WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED]


def _webhook_deliveries_rows():
    return WebhookDelivery.objects.filter(status__in=FINISHED)


def _webhook_deliveries_purge(ids: list[int], now: datetime) -> int:
    # The whole row goes: it is a log entry whose payload is its substance; nothing counts deliveries.
    return WebhookDelivery.objects.filter(pk__in=ids).delete()[0]


def _connector_payloads_rows():
    # A delivery still waiting for a worker needs its body to become an event.
    return ConnectorDelivery.objects.filter(payload__isnull=False).exclude(status=ConnectorDelivery.Status.RECEIVED)


def _connector_payloads_purge(ids: list[int], now: datetime) -> int:
    # The log line stays (when, which topic, what it became, its event): its delivery id still refuses a replay.
    return ConnectorDelivery.objects.filter(pk__in=ids).update(payload=None, payload_purged_at=now)


PURGEABLES = [
    Purgeable(
        kind="webhook_deliveries",
        label="webhook deliveries",
        setting="RETENTION_WEBHOOK_DELIVERIES_DAYS",
        clock="created_at",
        rows=_webhook_deliveries_rows,
        purge=_webhook_deliveries_purge,
    ),
    Purgeable(
        kind="connector_payloads",
        label="connector delivery payloads",
        setting="RETENTION_CONNECTOR_PAYLOADS_DAYS",
        clock="received_at",
        rows=_connector_payloads_rows,
        purge=_connector_payloads_purge,
        blanks=True,
    ),
]
