"""A connector's delivery through a live worker on PostgreSQL and Redis: answered before it is processed,
processed once even when its task is sent twice."""

import time

import pytest

from config.celery_app import app as celery_app
from integrations.connectors import connector_save
from integrations.models import ConnectorDelivery
from integrations.tasks import process_connector_delivery
from surveys.models import Event, Invitation
from tests.factories import TriggerRuleFactory
from tests.integration.conftest import wait_for
from tests.integrations.signing import fixture_body, shopify_headers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SECRET = "shpss_itest"


@pytest.fixture
def live_worker(start_celery_worker):
    start_celery_worker("connectors-itest", concurrency=2)
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


def test_a_shopify_delivery_is_answered_at_once_and_becomes_one_event_in_a_worker(client, live_worker):
    TriggerRuleFactory(event_type="purchase")
    connector = connector_save(name="Shop", kind="shopify", secret=SECRET)
    body = fixture_body("shopify_orders_fulfilled.json")

    # A running web process has its URLs loaded and its broker connection open: so does this one, first
    # (a refused delivery, and a task for no delivery, which the worker drops).
    refused = client.post(f"/hooks/{connector.public_id}/", body, content_type="application/json")
    assert refused.status_code == 401
    process_connector_delivery.delay(0)
    started = time.monotonic()
    answer = client.post(
        f"/hooks/{connector.public_id}/", body, content_type="application/json", **shopify_headers(SECRET, body)
    )
    answered_in = time.monotonic() - started

    assert answer.status_code == 200
    assert answered_in < 1.0  # Shopify waits 5 s; the work is the worker's
    delivery_id = answer.json()["delivery"]
    process_connector_delivery.delay(delivery_id)  # a second task for the same delivery
    wait_for(
        lambda: ConnectorDelivery.objects.filter(pk=delivery_id, status="event_created").exists(),
        what="the worker to turn the delivery into an event",
    )
    time.sleep(1)  # room for a second processing, were there one
    assert (Event.objects.count(), Invitation.objects.count()) == (1, 1)
    assert Event.objects.get().contact.email == "jon@doe.ca"
