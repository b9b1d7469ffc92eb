"""Celery entry points of integrations: send a webhook delivery, sweep due ones, post to Slack, process a
connector's delivery, write a note on a Zendesk ticket.

Tasks take ids and plain values only; each calls one function of `integrations.webhooks`, `integrations.slack`,
`integrations.connectors` or `integrations.zendesk`.
"""

import requests
from celery import shared_task

from integrations.connectors import connector_deliveries_sweep, connector_delivery_process
from integrations.slack import slack_post, slack_post_to_channel
from integrations.webhooks import webhook_deliveries_sweep, webhook_delivery_attempt
from integrations.zendesk import zendesk_note_write, zendesk_notes_sweep


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


@shared_task(autoretry_for=(OSError, requests.RequestException), retry_backoff=True, max_retries=5)
def post_to_slack_channel(channel_id: str, text: str) -> None:
    slack_post_to_channel(channel_id=channel_id, text=text)


@shared_task
def process_connector_delivery(delivery_id: int) -> None:
    connector_delivery_process(delivery_id=delivery_id)


@shared_task
def process_waiting_connector_deliveries() -> dict[str, int]:
    """Beat job: connector deliveries whose task was lost (the broker was down when they arrived)."""
    return connector_deliveries_sweep()


@shared_task
def write_zendesk_note(note_id: int) -> None:
    zendesk_note_write(note_id=note_id)


@shared_task
def write_due_zendesk_notes() -> dict[str, int]:
    """Beat job: Zendesk notes whose retry came due, and those whose task was lost."""
    return zendesk_notes_sweep()
