"""`/hooks/<connector>/`: each source's documented delivery, signed as it signs, becomes an event once."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from integrations.connectors import connector_save
from integrations.models import Connector, ConnectorDelivery
from surveys.models import Event, Invitation
from tests.factories import TriggerRuleFactory
from tests.integrations.signing import (
    fixture_body,
    generic_headers,
    shopify_headers,
    stripe_headers,
    zendesk_headers,
)

pytestmark = pytest.mark.django_db
SECRET = "shpss_0123456789abcdef"


def post(client, connector, body: bytes, headers: dict, capture):
    with capture(execute=True):
        return client.post(f"/hooks/{connector.public_id}/", body, content_type="application/json", **headers)


@pytest.fixture
def shopify():
    return connector_save(name="Shop", kind="shopify", secret=SECRET)


@pytest.fixture
def zendesk():
    return connector_save(name="Support", kind="zendesk", secret=SECRET)


@pytest.fixture
def stripe():
    return connector_save(name="Billing", kind="stripe", secret="whsec_test")


def test_shopify_order_fulfilled_becomes_a_purchase_and_an_invitation(
    client, shopify, django_capture_on_commit_callbacks
):
    rule = TriggerRuleFactory(event_type="purchase", delay=timedelta(days=3))
    body = fixture_body("shopify_orders_fulfilled.json")
    answer = post(client, shopify, body, shopify_headers(SECRET, body), django_capture_on_commit_callbacks)
    assert answer.status_code == 200
    delivery = ConnectorDelivery.objects.get()
    assert answer.json() == {"received": True, "duplicate": False, "delivery": delivery.pk}
    assert (delivery.delivery_id, delivery.topic, delivery.status) == (
        "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "orders/fulfilled",
        "event_created",
    )
    event = Event.objects.get()
    assert delivery.event == event
    assert (event.source, event.type, event.external_id) == (
        f"connector:{shopify.pk}",
        "purchase",
        "order:820982911946154508",
    )
    assert (event.contact.email, event.contact.name, event.contact.locale) == ("jon@doe.ca", "John Smith", "en")
    assert event.properties == {
        "order_id": "820982911946154508",
        "order_name": "#9999",
        "order_number": 1234,
        "total": "403.00",
        "currency": "USD",
        "line_items": ["Aviator sunglasses", "Mid-century lounger"],
    }
    invitation = Invitation.objects.get()
    assert (invitation.trigger_rule, invitation.contact) == (rule, event.contact)
    assert delivery.detail == "Event purchase for John Smith. 1 invitation(s) scheduled."


def test_a_replayed_shopify_delivery_is_answered_200_and_stores_nothing(
    client, shopify, django_capture_on_commit_callbacks
):
    body = fixture_body("shopify_orders_fulfilled.json")
    first = post(client, shopify, body, shopify_headers(SECRET, body), django_capture_on_commit_callbacks)
    again = post(client, shopify, body, shopify_headers(SECRET, body), django_capture_on_commit_callbacks)
    assert again.status_code == 200
    assert again.json() == {"received": True, "duplicate": True, "delivery": first.json()["delivery"]}
    assert (ConnectorDelivery.objects.count(), Event.objects.count()) == (1, 1)


def test_the_same_order_fulfilled_twice_is_one_event(client, shopify, django_capture_on_commit_callbacks):
    body = fixture_body("shopify_orders_fulfilled.json")
    post(client, shopify, body, shopify_headers(SECRET, body, event_id="e-1"), django_capture_on_commit_callbacks)
    post(client, shopify, body, shopify_headers(SECRET, body, event_id="e-2"), django_capture_on_commit_callbacks)
    second = ConnectorDelivery.objects.get(delivery_id="e-2")
    assert second.status == "duplicate_event"
    assert Event.objects.count() == 1


def test_a_bad_signature_is_401_and_stores_nothing_but_the_refusal(client, shopify, django_capture_on_commit_callbacks):
    body = fixture_body("shopify_orders_fulfilled.json")
    answer = post(client, shopify, body, shopify_headers("wrong", body), django_capture_on_commit_callbacks)
    assert answer.status_code == 401
    message = "The X-Shopify-Hmac-Sha256 signature does not match the secret."
    assert answer.json() == {"message": message, "errors": {"signature": [message]}}
    assert (ConnectorDelivery.objects.count(), Event.objects.count()) == (0, 0)
    shopify.refresh_from_db()
    assert (shopify.refused_count, shopify.last_refused_reason) == (1, message)
    assert shopify.last_refused_at is not None


def test_another_shopify_topic_is_logged_as_ignored(client, shopify, django_capture_on_commit_callbacks):
    body = fixture_body("shopify_orders_fulfilled.json")
    post(
        client, shopify, body, shopify_headers(SECRET, body, topic="orders/create"), django_capture_on_commit_callbacks
    )
    delivery = ConnectorDelivery.objects.get()
    assert (delivery.status, delivery.detail) == (
        "ignored",
        "Shopify topic “orders/create” starts no survey; subscribe the webhook to orders/fulfilled.",
    )
    assert Event.objects.count() == 0


def test_zendesk_solved_then_reopened_cancels_the_survey(client, zendesk, django_capture_on_commit_callbacks):
    rule = TriggerRuleFactory(
        event_type="support_ticket_solved",
        delay=timedelta(hours=1),
        cancel_on_event_types=["support_ticket_reopened"],
        match_property="ticket_id",
    )
    solved = fixture_body("zendesk_ticket_solved.json")
    post(client, zendesk, solved, zendesk_headers(SECRET, solved), django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get(trigger_rule=rule)
    assert invitation.status == Invitation.Status.SCHEDULED
    event = Event.objects.get()
    assert (event.type, event.contact.email, event.contact.name) == (
        "support_ticket_solved",
        "jdoe@example.com",
        "John Doe",
    )
    assert event.properties == {
        "ticket_id": "35436",
        "ticket_status": "solved",
        "subject": "My printer is on fire!",
        "assignee_email": "agent@example.com",
        "group": "Support",
        "tags": ["enterprise", "printer"],
    }
    reopened = json.dumps({**json.loads(solved), "status": "Open"}).encode()
    post(
        client,
        zendesk,
        reopened,
        zendesk_headers(SECRET, reopened, invocation="8350205583"),
        django_capture_on_commit_callbacks,
    )
    invitation.refresh_from_db()
    assert (invitation.status, invitation.cancel_reason) == (
        Invitation.Status.CANCELLED,
        "event:support_ticket_reopened",
    )
    assert ConnectorDelivery.objects.get(delivery_id="01F1KRFQ6BG29CNWFR60NK5FNY:8350205583").detail == (
        "Event support_ticket_reopened for John Doe. Not invited: no_rule. 1 pending invitation(s) cancelled."
    )


def test_a_stale_zendesk_delivery_is_401(client, zendesk, django_capture_on_commit_callbacks):
    body = fixture_body("zendesk_ticket_solved.json")
    stale = zendesk_headers(SECRET, body, at=datetime.now(UTC) - timedelta(minutes=6))
    answer = post(client, zendesk, body, stale, django_capture_on_commit_callbacks)
    assert answer.status_code == 401
    assert answer.json()["errors"] == {"signature": ["The signature's time is more than 5 minutes from now."]}
    assert ConnectorDelivery.objects.count() == 0


def test_stripe_checkout_then_cancellation(client, stripe, django_capture_on_commit_callbacks):
    checkout = fixture_body("stripe_checkout_session_completed.json")
    answer = post(client, stripe, checkout, stripe_headers("whsec_test", checkout), django_capture_on_commit_callbacks)
    assert answer.status_code == 200
    purchase = Event.objects.get()
    assert (purchase.type, purchase.contact.email, purchase.contact.name, purchase.contact.locale) == (
        "purchase",
        "jenny.rosen@example.com",
        "Jenny Rosen",
        "fr",
    )
    assert purchase.properties == {
        "checkout_session_id": "cs_test_a1Zk7Id18b3FeLh8OQGRS78RxvMukoamHPw9fvTBKuBRVRjJjG0sJVJRBC",
        "customer_id": "cus_SgftDvAVZ8VTZb",
        "subscription_id": "sub_1RlHe1R7UUImIKwkFkLLq5Jf",
        "mode": "subscription",
        "amount_total": 2500,
        "currency": "usd",
        "payment_status": "paid",
    }
    deleted = fixture_body("stripe_customer_subscription_deleted.json")
    post(client, stripe, deleted, stripe_headers("whsec_test", deleted), django_capture_on_commit_callbacks)
    cancelled = Event.objects.get(type="subscription_cancelled")
    assert cancelled.contact == purchase.contact
    assert cancelled.properties == {
        "subscription_id": "sub_1RlHe1R7UUImIKwkFkLLq5Jf",
        "customer_id": "cus_SgftDvAVZ8VTZb",
        "cancellation_reason": "cancellation_requested",
        "cancellation_feedback": "too_expensive",
        "cancellation_comment": "Too expensive for what we use",
    }
    assert list(ConnectorDelivery.objects.order_by("pk").values_list("delivery_id", "topic")) == [
        ("evt_1RlHe3R7UUImIKwkQOxX4eYe", "checkout.session.completed"),
        ("evt_1RnQ4TR7UUImIKwkZ3hYp9s2", "customer.subscription.deleted"),
    ]


def test_a_stripe_cancellation_of_an_unknown_customer_says_why_it_is_ignored(
    client, stripe, django_capture_on_commit_callbacks
):
    deleted = fixture_body("stripe_customer_subscription_deleted.json")
    post(client, stripe, deleted, stripe_headers("whsec_test", deleted), django_capture_on_commit_callbacks)
    delivery = ConnectorDelivery.objects.get()
    assert delivery.status == "ignored"
    assert delivery.detail.startswith("Stripe sends only the customer's id (cus_SgftDvAVZ8VTZb)")
    assert Event.objects.count() == 0


def test_a_stale_stripe_signature_is_401(client, stripe, django_capture_on_commit_callbacks):
    import time

    body = fixture_body("stripe_checkout_session_completed.json")
    answer = post(
        client,
        stripe,
        body,
        stripe_headers("whsec_test", body, at=int(time.time()) - 600),
        django_capture_on_commit_callbacks,
    )
    assert answer.status_code == 401
    assert ConnectorDelivery.objects.count() == 0


def test_generic_connector_reads_its_json_pointers(client, django_capture_on_commit_callbacks):
    connector = connector_save(
        name="Backend",
        kind="generic",
        event_type="onboarding_done",
        field_map={
            "email": "/user/e~1mail",
            "name": "/user/name",
            "properties": {"plan": "/plan/0/name", "seats": "/plan/0/seats"},
        },
    )
    assert connector.secret.startswith("clsec_")
    body = json.dumps(
        {"id": "evt_42", "user": {"e/mail": "ana@example.com", "name": "Ana"}, "plan": [{"name": "Pro", "seats": 5}]}
    ).encode()
    answer = post(client, connector, body, generic_headers(connector.secret, body), django_capture_on_commit_callbacks)
    assert answer.status_code == 200
    event = Event.objects.get()
    assert (event.type, event.external_id, event.contact.email, event.contact.name, event.properties) == (
        "onboarding_done",
        "evt_42",
        "ana@example.com",
        "Ana",
        {"plan": "Pro", "seats": 5},
    )
    again = post(client, connector, body, generic_headers(connector.secret, body), django_capture_on_commit_callbacks)
    assert again.json()["duplicate"] is True


def test_generic_event_that_names_no_one_is_logged_invalid(client, django_capture_on_commit_callbacks):
    connector = connector_save(name="Backend", kind="generic", event_type="signup", field_map={"email": "/email"})
    body = b'{"id": "evt_1", "email": "not an email"}'
    post(client, connector, body, generic_headers(connector.secret, body), django_capture_on_commit_callbacks)
    delivery = ConnectorDelivery.objects.get()
    assert delivery.status == "invalid"
    assert delivery.detail == "Not a valid event: contact: email: Enter a valid email address."
    assert Event.objects.count() == 0


def test_a_signed_body_that_is_not_a_json_object_is_400(client, django_capture_on_commit_callbacks):
    connector = connector_save(name="Backend", kind="generic", event_type="signup", field_map={"email": "/email"})
    for body, message in (
        (b"not json", "The body is not JSON Closeloop can store: Expecting value: line 1 column 1 (char 0)"),
        (b'{"a": 1e400}', "The body is not JSON Closeloop can store: Numbers must be finite."),
        (b"[1, 2]", "The body must be a JSON object."),
        (b'{"email": "a\\u0000b"}', "The body holds a null character (\\u0000), which cannot be stored."),
    ):
        answer = post(
            client, connector, body, generic_headers(connector.secret, body), django_capture_on_commit_callbacks
        )
        assert answer.status_code == 400
        assert answer.json() == {"message": message, "errors": {"body": [message]}}
    assert ConnectorDelivery.objects.count() == 0


def test_an_unknown_or_paused_connector_is_404(client, shopify, django_capture_on_commit_callbacks):
    body = fixture_body("shopify_orders_fulfilled.json")
    Connector.objects.filter(pk=shopify.pk).update(is_active=False)
    answer = post(client, shopify, body, shopify_headers(SECRET, body), django_capture_on_commit_callbacks)
    assert answer.status_code == 404
    answer = client.post("/hooks/00000000-0000-0000-0000-000000000000/", body, content_type="application/json")
    assert answer.status_code == 404
    assert client.get(f"/hooks/{shopify.public_id}/").status_code == 405
