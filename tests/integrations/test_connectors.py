"""The connector services beyond one HTTP delivery: erasure, lost tasks, the generic test delivery."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from integrations.connectors import (
    connector_deliveries_sweep,
    connector_delivery_receive,
    connector_save,
    connector_test_delivery,
)
from integrations.models import ConnectorDelivery
from integrations.tasks import process_connector_delivery
from surveys.models import Contact, Event
from surveys.services.privacy import contact_erase
from tests.integrations.signing import as_headers, fixture_body, shopify_headers

pytestmark = pytest.mark.django_db
SECRET = "shpss_0123456789abcdef"


def receive(connector, body, headers, capture):
    with capture(execute=True):
        return connector_delivery_receive(public_id=connector.public_id, headers=as_headers(headers), body=body)


def test_erasing_a_contact_empties_every_delivery_that_names_them(django_capture_on_commit_callbacks):
    connector = connector_save(name="Shop", kind="shopify", secret=SECRET)
    body = fixture_body("shopify_orders_fulfilled.json")
    receive(connector, body, shopify_headers(SECRET, body, event_id="e-1"), django_capture_on_commit_callbacks)
    # An order of the same customer with another topic: ignored, but its body holds their email.
    receive(
        connector,
        body,
        shopify_headers(SECRET, body, event_id="e-2", topic="orders/create"),
        django_capture_on_commit_callbacks,
    )
    other = body.replace(b"jon@doe.ca", b"ana@example.com").replace(b"820982911946154508", b"1")
    receive(connector, other, shopify_headers(SECRET, other, event_id="e-3"), django_capture_on_commit_callbacks)
    contact_erase(contact=Contact.objects.get(email="jon@doe.ca"))
    emptied = dict(ConnectorDelivery.objects.values_list("delivery_id", "payload_purged_at"))
    assert emptied["e-1"] is not None and emptied["e-2"] is not None and emptied["e-3"] is None
    assert set(ConnectorDelivery.objects.filter(payload__isnull=True).values_list("delivery_id", "detail")) == {
        ("e-1", ""),
        ("e-2", ""),
    }
    assert ConnectorDelivery.objects.get(delivery_id="e-3").payload["email"] == "ana@example.com"


def test_a_delivery_whose_task_was_lost_is_handed_over_again(django_capture_on_commit_callbacks):
    connector = connector_save(name="Shop", kind="shopify", secret=SECRET)
    body = fixture_body("shopify_orders_fulfilled.json")
    # The broker was down at commit: the delivery is stored, no task ran.
    delivery = connector_delivery_receive(
        public_id=connector.public_id, headers=as_headers(shopify_headers(SECRET, body)), body=body
    ).delivery
    assert connector_deliveries_sweep() == {"enqueued": 0}  # too recent: its task may still come
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        with django_capture_on_commit_callbacks(execute=True):
            assert connector_deliveries_sweep() == {"enqueued": 1}
    delivery.refresh_from_db()
    assert delivery.status == "event_created"
    assert Event.objects.count() == 1


def test_with_the_broker_down_at_commit_the_delivery_is_accepted_and_the_sweep_hands_it_over(
    broker_refusing, django_capture_on_commit_callbacks
):
    connector = connector_save(name="Shop", kind="shopify", secret=SECRET)
    body = fixture_body("shopify_orders_fulfilled.json")
    after = []

    with broker_refusing(process_connector_delivery):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            received = connector_delivery_receive(
                public_id=connector.public_id, headers=as_headers(shopify_headers(SECRET, body)), body=body
            )
            transaction.on_commit(lambda: after.append("ran"))  # a later hook of the same commit

    # Nothing raised (the source is told it arrived, not asked to send it again) and the later hook ran.
    assert (received.duplicate, after) == (False, ["ran"])
    assert ConnectorDelivery.objects.get().status == "received"
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        with django_capture_on_commit_callbacks(execute=True):
            assert connector_deliveries_sweep() == {"enqueued": 1}
    assert ConnectorDelivery.objects.get().status == "event_created"
    assert Event.objects.count() == 1


def test_a_generic_test_delivery_is_built_from_the_field_map():
    connector = connector_save(
        name="Backend",
        kind="generic",
        event_type="signup",
        field_map={"email": "/data/user/email", "event_id": "/meta/id", "properties": {"plan": "/data/plan"}},
    )
    delivery = connector_test_delivery(connector=connector)
    assert delivery.payload == {
        "meta": {"id": "evt_test_closeloop"},
        "data": {"user": {"email": "test.customer@example.com"}, "plan": "sample plan"},
    }
    assert delivery.detail == (
        "Test: signature verified; the sample becomes signup for test.customer@example.com; "
        "no active trigger rule takes “signup” yet. Nothing was sent."
    )
    assert Event.objects.count() == 0
