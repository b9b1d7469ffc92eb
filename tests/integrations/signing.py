"""How each source signs a delivery, written from its documentation (not from the code under test), and the
documented example bodies in fixtures/."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_body(name: str) -> bytes:
    """The fixture's bytes exactly as a source would send them (signatures are over these bytes)."""
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> dict:
    return json.loads(fixture_body(name))


def shopify_headers(
    secret: str, body: bytes, *, topic="orders/fulfilled", event_id="98880550-7158-44d4-b7cd-2c97c8a091b5"
):
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "HTTP_X_SHOPIFY_HMAC_SHA256": digest,
        "HTTP_X_SHOPIFY_TOPIC": topic,
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": "example.myshopify.com",
        "HTTP_X_SHOPIFY_API_VERSION": "2026-07",
        "HTTP_X_SHOPIFY_WEBHOOK_ID": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "HTTP_X_SHOPIFY_EVENT_ID": event_id,
        "HTTP_X_SHOPIFY_TRIGGERED_AT": "2026-12-02T04:00:00.000000000Z",
    }


def zendesk_headers(secret: str, body: bytes, *, at: datetime | None = None, invocation="8350205582"):
    timestamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()).decode()
    return {
        "HTTP_X_ZENDESK_ACCOUNT_ID": "123456",
        "HTTP_X_ZENDESK_WEBHOOK_ID": "01F1KRFQ6BG29CNWFR60NK5FNY",
        "HTTP_X_ZENDESK_WEBHOOK_INVOCATION_ID": invocation,
        "HTTP_X_ZENDESK_WEBHOOK_SIGNATURE": digest,
        "HTTP_X_ZENDESK_WEBHOOK_SIGNATURE_TIMESTAMP": timestamp,
    }


def stripe_headers(secret: str, body: bytes, *, at: int | None = None):
    """Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>"> (docs.stripe.com/webhooks#verify-manually)."""
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"HTTP_STRIPE_SIGNATURE": f"t={timestamp},v1={digest}"}


def generic_headers(secret: str, body: bytes, *, at: int | None = None):
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"HTTP_X_CLOSELOOP_SIGNATURE": f"t={timestamp},v1={digest}"}


def as_headers(meta: dict) -> dict:
    """Django test-client META keys as the header names a request carries."""
    return {key.removeprefix("HTTP_").replace("_", "-").title(): value for key, value in meta.items()}
