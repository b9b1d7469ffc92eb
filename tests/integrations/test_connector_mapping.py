"""JSON pointers (RFC 6901) and the mapping's edge cases, on documented bodies."""

import pytest

from integrations.connector_mapping import (
    _MISSING,
    Ignored,
    Mapped,
    PointerError,
    field_map_errors,
    pointer_resolve,
    shopify_map,
    zendesk_map,
)
from tests.integrations.signing import fixture_json

# RFC 6901, section 5: the example document and what each pointer evaluates to.
RFC_DOCUMENT = {
    "foo": ["bar", "baz"],
    "": 0,
    "a/b": 1,
    "c%d": 2,
    "e^f": 3,
    "g|h": 4,
    "i\\j": 5,
    'k"l': 6,
    " ": 7,
    "m~n": 8,
}


@pytest.mark.parametrize(
    ("pointer", "value"),
    [
        ("", RFC_DOCUMENT),
        ("/foo", ["bar", "baz"]),
        ("/foo/0", "bar"),
        ("/", 0),
        ("/a~1b", 1),
        ("/c%d", 2),
        ("/e^f", 3),
        ("/g|h", 4),
        ("/i\\j", 5),
        ('/k"l', 6),
        ("/ ", 7),
        ("/m~0n", 8),
    ],
)
def test_rfc_6901_examples(pointer, value):
    assert pointer_resolve(RFC_DOCUMENT, pointer) == value


@pytest.mark.parametrize("pointer", ["/foo/2", "/foo/01", "/foo/-", "/nope", "/foo/0/x"])
def test_pointers_to_nothing(pointer):
    assert pointer_resolve(RFC_DOCUMENT, pointer) is _MISSING


@pytest.mark.parametrize("pointer", ["foo", "/a~2b", "/~"])
def test_malformed_pointers_are_refused(pointer):
    with pytest.raises(PointerError):
        pointer_resolve(RFC_DOCUMENT, pointer)


def test_field_map_errors_name_each_field():
    assert field_map_errors({"email": "/e", "properties": {"plan": "plan"}}) == {
        "field_map.properties.plan": ["“plan” is not a JSON pointer: it must start with /, e.g. /customer/email."]
    }
    assert field_map_errors({"name": "/n"}) == {"field_map": ["Point at least one of email, phone or external_id."]}
    assert field_map_errors([]) == {
        "field_map": ['Give an object of JSON pointers, e.g. {"email": "/customer/email"}.']
    }


def test_shopify_falls_back_to_the_customers_email_and_drops_a_phone_that_is_not_one():
    order = fixture_json("shopify_orders_fulfilled.json")
    order.update(email=None, contact_email=None, phone="555-555-SHIP")
    mapped = shopify_map(order, topic="orders/fulfilled", event_type="")
    assert isinstance(mapped, Mapped)
    assert mapped.event["contact"] == {"email": "john@example.com", "name": "John Smith", "locale": "en"}
    assert mapped.notes == (
        "The phone number “555-555-SHIP” was left out: not an international number (+country code).",
    )


def test_shopify_event_type_can_be_renamed():
    mapped = shopify_map(
        fixture_json("shopify_orders_fulfilled.json"), topic="orders/fulfilled", event_type="order_shipped"
    )
    assert mapped.event["type"] == "order_shipped"


def test_zendesk_without_a_ticket_id_is_ignored_and_closed_counts_as_solved():
    body = fixture_json("zendesk_ticket_solved.json")
    assert zendesk_map({**body, "ticket_id": ""}, event_type="") == Ignored(
        "No ticket_id in the body: paste the JSON body Closeloop gives into the trigger's webhook action."
    )
    assert zendesk_map({**body, "status": "Closed"}, event_type="").event["type"] == "support_ticket_solved"
    assert zendesk_map({**body, "status": "Pending"}, event_type="").event["type"] == "support_ticket_reopened"
    assert zendesk_map({**body, "requester_language": "Français"}, event_type="").event["contact"]["locale"] == "fr"
