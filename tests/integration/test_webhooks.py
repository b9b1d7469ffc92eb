"""Outgoing webhooks through a live worker on PostgreSQL and Redis: delivered once, even when its task is sent twice."""

import time

import pytest
from django.db import transaction

from config.celery_app import app as celery_app
from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.tasks import deliver_webhook
from integrations.webhooks import webhooks_emit
from tests.factories import FollowUpFactory
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SECRET = "whsec-itest"


@pytest.fixture
def receiver():
    receiver = WebhookReceiver(SECRET).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def live_webhook_worker(start_celery_worker):
    start_celery_worker("webhooks-itest", concurrency=2, extra_env={"WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "true"})
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


def test_a_webhook_is_posted_once_by_live_workers_even_when_its_task_is_sent_twice(receiver, live_webhook_worker):
    WebhookSubscription.objects.create(name="CRM", url=receiver.url, secret=SECRET, events=["follow_up.updated"])
    follow_up = FollowUpFactory()

    with transaction.atomic():
        [delivery] = webhooks_emit("follow_up.updated", follow_up)
    deliver_webhook.delay(delivery.pk)
    deliver_webhook.delay(delivery.pk)

    wait_for(
        lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").exists(),
        what="the delivery to be delivered",
    )
    time.sleep(1)  # room for a duplicate post, were there one
    assert len(receiver.received) == 1
    assert receiver.received[0].signature_valid
    assert receiver.received[0].json()["event_id"] == delivery.event_id
