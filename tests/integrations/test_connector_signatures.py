"""Each source's signature, as its documentation describes it, on the documented example bodies."""

from datetime import UTC, datetime, timedelta

import pytest

from integrations.connector_signatures import SignatureRefused, generic_sign, signature_verify
from tests.integrations.signing import (
    as_headers,
    fixture_body,
    generic_headers,
    shopify_headers,
    stripe_headers,
    zendesk_headers,
)

SECRET = "shpss_0123456789abcdef"


def test_shopify_signature_of_the_documented_order_is_accepted():
    body = fixture_body("shopify_orders_fulfilled.json")
    signature_verify("shopify", SECRET, as_headers(shopify_headers(SECRET, body)), body)


def test_shopify_signature_with_another_secret_or_a_changed_body_is_refused():
    body = fixture_body("shopify_orders_fulfilled.json")
    headers = as_headers(shopify_headers("another secret", body))
    with pytest.raises(SignatureRefused, match="X-Shopify-Hmac-Sha256 signature does not match"):
        signature_verify("shopify", SECRET, headers, body)
    headers = as_headers(shopify_headers(SECRET, body))
    with pytest.raises(SignatureRefused, match="does not match"):
        signature_verify("shopify", SECRET, headers, body.replace(b"403.00", b"4.00"))


def test_a_missing_header_or_secret_is_refused():
    body = fixture_body("shopify_orders_fulfilled.json")
    with pytest.raises(SignatureRefused, match="The X-Shopify-Hmac-Sha256 header is missing."):
        signature_verify("shopify", SECRET, {}, body)
    with pytest.raises(SignatureRefused, match="no secret yet"):
        signature_verify("shopify", "", as_headers(shopify_headers("", body)), body)


def test_zendesk_signs_timestamp_then_body():
    body = fixture_body("zendesk_ticket_solved.json")
    signature_verify("zendesk", SECRET, as_headers(zendesk_headers(SECRET, body)), body)


def test_zendesk_signature_older_than_five_minutes_is_refused():
    body = fixture_body("zendesk_ticket_solved.json")
    stale = as_headers(zendesk_headers(SECRET, body, at=datetime.now(UTC) - timedelta(minutes=5, seconds=5)))
    with pytest.raises(SignatureRefused, match="more than 5 minutes from now"):
        signature_verify("zendesk", SECRET, stale, body)
    recent = as_headers(zendesk_headers(SECRET, body, at=datetime.now(UTC) - timedelta(minutes=4, seconds=50)))
    signature_verify("zendesk", SECRET, recent, body)


def test_zendesk_signature_over_the_body_alone_is_refused():
    import base64
    import hashlib
    import hmac

    body = fixture_body("zendesk_ticket_solved.json")
    headers = as_headers(zendesk_headers(SECRET, body))
    headers["X-Zendesk-Webhook-Signature"] = base64.b64encode(
        hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    ).decode()
    with pytest.raises(SignatureRefused, match="X-Zendesk-Webhook-Signature signature does not match"):
        signature_verify("zendesk", SECRET, headers, body)


def test_stripe_signature_is_checked_by_the_stripe_library():
    body = fixture_body("stripe_checkout_session_completed.json")
    signature_verify("stripe", "whsec_test", as_headers(stripe_headers("whsec_test", body)), body)
    with pytest.raises(SignatureRefused, match="^Stripe: "):
        signature_verify("stripe", "whsec_other", as_headers(stripe_headers("whsec_test", body)), body)


def test_stripe_signature_older_than_the_tolerance_is_refused():
    body = fixture_body("stripe_customer_subscription_deleted.json")
    import time

    stale = as_headers(stripe_headers("whsec_test", body, at=int(time.time()) - 301))
    with pytest.raises(SignatureRefused, match="Timestamp outside the tolerance zone"):
        signature_verify("stripe", "whsec_test", stale, body)


def test_generic_signature_is_t_dot_body():
    body = b'{"id":"evt_1","email":"ana@example.com"}'
    assert generic_sign("s3cret", body, 1700000000) == (
        "t=1700000000,v1=" + __import__("hmac").new(b"s3cret", b"1700000000." + body, "sha256").hexdigest()
    )
    signature_verify("generic", "s3cret", as_headers(generic_headers("s3cret", body)), body)


def test_generic_signature_tolerance_and_rotation():
    body = b'{"id":"evt_1"}'
    now = 1_800_000_000
    fresh = {"X-Closeloop-Signature": generic_sign("s3cret", body, now - 299)}
    signature_verify("generic", "s3cret", fresh, body, now=now)
    stale = {"X-Closeloop-Signature": generic_sign("s3cret", body, now - 301)}
    with pytest.raises(SignatureRefused, match="more than 5 minutes"):
        signature_verify("generic", "s3cret", stale, body, now=now)
    # While a secret is rotated the sender may sign with both: one matching v1 is enough.
    old = generic_sign("old", body, now).split("v1=")[1]
    both = {"X-Closeloop-Signature": f"{generic_sign('s3cret', body, now)},v1={old}"}
    signature_verify("generic", "s3cret", both, body, now=now)


@pytest.mark.parametrize("header", ["v1=abc", "t=notanumber,v1=abc", "t=1,t=2,v1=abc", "t=1800000000"])
def test_generic_malformed_header_is_refused(header):
    with pytest.raises(SignatureRefused, match="must read t=<unix seconds>,v1=<hex signature>"):
        signature_verify("generic", "s3cret", {"X-Closeloop-Signature": header}, b"{}", now=1_800_000_000)
