"""Celery entry points of integrations: send a webhook delivery, sweep due ones, post to Slack.

Tasks take ids and plain values only; each calls one function of `integrations.webhooks` or `integrations.slack`.
"""

import requests
from celery import shared_task

from integrations.slack import slack_post
from integrations.webhooks import webhook_deliveries_sweep, webhook_delivery_attempt


@shared_task
def deliver_webhook(delivery_id: int) -> None:
    webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task
def deliver_due_webhooks() -> dict[str, int]:
    """Beat job: webhook retries that have come due, and deliveries whose task was lost."""
    return webhook_deliveries_sweep()


@shared_task(autoretry_for=(OSError, requests.RequestException), retry_backoff=True, max_retries=5)
def post_to_slack(webhook_url: str, text: str) -> None:
    slack_post(webhook_url=webhook_url, text=text)
