"""The sample body of each source that "Send a test delivery" signs and runs through its connector.

Shaped like each source's own documented examples (Shopify's sample order of its "Send test notification",
a Zendesk trigger body with the placeholders filled in, Stripe's checkout.session.completed event), cut to
the fields Closeloop reads. The generic sample is built from the connector's own field map.
"""

from integrations.connector_mapping import pointer_tokens
from integrations.models import Connector

SAMPLE_EMAIL = "test.customer@example.com"

SHOPIFY_ORDER = {
    "id": 820982911946154508,
    "email": SAMPLE_EMAIL,
    "name": "#9999",
    "order_number": 1234,
    "phone": None,
    "customer_locale": "en",
    "total_price": "403.00",
    "currency": "USD",
    "fulfillment_status": "fulfilled",
    "line_items": [
        {"id": 487817672276298554, "title": "Aviator sunglasses", "quantity": 1, "price": "89.99"},
        {"id": 976318377106520349, "title": "Mid-century lounger", "quantity": 1, "price": "159.99"},
    ],
    "customer": {"id": 115310627314723954, "email": "john@example.com", "first_name": "John", "last_name": "Smith"},
}

ZENDESK_TICKET = {
    "ticket_id": "35436",
    "status": "Solved",
    "subject": "My printer is on fire!",
    "requester_email": SAMPLE_EMAIL,
    "requester_name": "Test Customer",
    "requester_language": "English",
    "requester_phone": "",
    "assignee_email": "agent@example.com",
    "group": "Support",
    "tags": "enterprise printer",
}

STRIPE_CHECKOUT = {
    "id": "evt_test_closeloop",
    "object": "event",
    "type": "checkout.session.completed",
    "data": {
        "object": {
            "id": "cs_test_closeloop",
            "object": "checkout.session",
            "amount_total": 2000,
            "currency": "usd",
            "customer": "cus_test_closeloop",
            "customer_details": {"email": SAMPLE_EMAIL, "name": "Test Customer", "phone": None},
            "locale": None,
            "mode": "payment",
            "payment_status": "paid",
        }
    },
}


def _put(document: dict, pointer: str, value) -> None:
    """Set `value` at `pointer` in `document`, creating the objects on the way (a sample, not a patch)."""
    tokens = pointer_tokens(pointer)
    if not tokens:
        return
    target = document
    for token in tokens[:-1]:
        target = target.setdefault(token, {}) if isinstance(target.get(token, {}), dict) else {}
    target[tokens[-1]] = value


def _generic(field_map: dict) -> dict:
    values = {
        "event_id": "evt_test_closeloop",
        "email": SAMPLE_EMAIL,
        "name": "Test Customer",
        "locale": "en",
        "phone": "+14155550100",
        "external_id": "test-customer-1",
    }
    document: dict = {}
    _put(document, field_map.get("event_id", "/id"), values["event_id"])
    for name in ("email", "name", "locale", "phone", "external_id"):
        if name in field_map:
            _put(document, field_map[name], values[name])
    for name, pointer in (field_map.get("properties") or {}).items():
        _put(document, pointer, f"sample {name}")
    return document


def sample(connector: Connector) -> tuple[str, dict]:
    """(topic, body) of a sample delivery for this connector."""
    if connector.kind == Connector.Kind.SHOPIFY:
        return "orders/fulfilled", SHOPIFY_ORDER
    if connector.kind == Connector.Kind.ZENDESK:
        return "ticket solved", ZENDESK_TICKET
    if connector.kind == Connector.Kind.STRIPE:
        return "checkout.session.completed", STRIPE_CHECKOUT
    return "", _generic(connector.field_map or {})
