"""What the retention purge removes from integrations' tables (config/retention.py, docs/retention.md).

An integration with a delivery log of its own adds its kind here (its payloads hold answers, names, emails).
"""

from datetime import datetime

from config.retention import Purgeable
from integrations.models import WebhookDelivery

# Pending and sending deliveries are still to be made: their payload is what goes out.
FINISHED = [WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED]


def _webhook_deliveries_rows():
    return WebhookDelivery.objects.filter(status__in=FINISHED)


def _webhook_deliveries_purge(ids: list[int], now: datetime) -> int:
    # The whole row goes: it is a log entry whose payload is its substance; nothing counts deliveries.
    return WebhookDelivery.objects.filter(pk__in=ids).delete()[0]


PURGEABLES = [
    Purgeable(
        kind="webhook_deliveries",
        label="webhook deliveries",
        setting="RETENTION_WEBHOOK_DELIVERIES_DAYS",
        clock="created_at",
        rows=_webhook_deliveries_rows,
        purge=_webhook_deliveries_purge,
    ),
]
