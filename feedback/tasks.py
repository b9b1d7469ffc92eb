"""Celery entry points of the loop; each calls one `feedback.services` function, or posts one Slack notice.

Tasks take ids and plain values only; they hold no business rule.
"""

import json
import urllib.request

from celery import shared_task

from feedback.services import follow_up_open_for_response, follow_ups_escalate
from feedback.webhooks import webhook_deliveries_sweep, webhook_delivery_attempt

SLACK_TIMEOUT_SECONDS = 10


@shared_task
def open_follow_up(response_id: int, created: bool = True, changed: list[str] | None = None) -> None:
    # `changed` is absent from tasks queued before comments were announced: those were score changes.
    follow_up_open_for_response(response_id=response_id, created=created, changed=tuple(changed or ("score",)))


@shared_task
def escalate_follow_ups() -> dict[str, int]:
    """Beat job: SLA reminders and escalations that have come due."""
    return follow_ups_escalate()


@shared_task
def deliver_webhook(delivery_id: int) -> None:
    webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task
def deliver_due_webhooks() -> dict[str, int]:
    """Beat job: webhook retries that have come due, and deliveries whose task was lost."""
    return webhook_deliveries_sweep()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def post_to_slack(webhook_url: str, text: str) -> None:
    request = urllib.request.Request(
        webhook_url, data=json.dumps({"text": text}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=SLACK_TIMEOUT_SECONDS):
        pass
