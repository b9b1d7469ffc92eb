"""Is a delivery to a connector really from its source? Each source's own scheme, on the raw body, in constant time.

- Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the body with the app's secret. Shopify signs
  no time, so a replay is caught by the delivery id instead (`X-Shopify-Event-Id`).
- Zendesk: `X-Zendesk-Webhook-Signature` is base64(HMAC-SHA256(timestamp + body)) with the webhook's signing
  secret, the timestamp being `X-Zendesk-Webhook-Signature-Timestamp` (e.g. 2021-03-25T05:09:27Z); older or
  newer than 5 minutes is refused.
- Stripe: `Stripe-Signature`, checked by the official library's `stripe.Webhook.construct_event` (5 minutes).
- Generic: `X-Closeloop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, 5 minutes; several
  v1= values may be given (while a secret is rotated), one must match.

Each function raises SignatureRefused with the reason, which the refusal's 401 and the console show.
"""

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

import stripe

TOLERANCE_SECONDS = 300
SHOPIFY_HEADER = "X-Shopify-Hmac-Sha256"
ZENDESK_HEADER = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
STRIPE_HEADER = "Stripe-Signature"
GENERIC_HEADER = "X-Closeloop-Signature"


class SignatureRefused(Exception):
    """The delivery is not provably from the connector's source."""


def _hmac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _require(headers, name: str) -> str:
    value = headers.get(name, "")
    if not value:
        raise SignatureRefused(f"The {name} header is missing.")
    return value


def _fresh(timestamp: float, now: float) -> None:
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureRefused(f"The signature's time is more than {TOLERANCE_SECONDS // 60} minutes from now.")


def shopify_verify(secret: str, headers, body: bytes, *, now: float | None = None) -> None:
    given = _require(headers, SHOPIFY_HEADER)
    expected = base64.b64encode(_hmac(secret, body)).decode()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise SignatureRefused(f"The {SHOPIFY_HEADER} signature does not match the secret.")


def zendesk_verify(secret: str, headers, body: bytes, *, now: float | None = None) -> None:
    given = _require(headers, ZENDESK_HEADER)
    timestamp = _require(headers, ZENDESK_TIMESTAMP_HEADER)
    try:
        signed_at = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SignatureRefused(f"The {ZENDESK_TIMESTAMP_HEADER} header is not a time.") from exc
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=UTC)
    expected = base64.b64encode(_hmac(secret, timestamp.encode() + body)).decode()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise SignatureRefused(f"The {ZENDESK_HEADER} signature does not match the secret.")
    _fresh(signed_at.timestamp(), time.time() if now is None else now)


def stripe_verify(secret: str, headers, body: bytes, *, now: float | None = None) -> None:
    header = _require(headers, STRIPE_HEADER)
    try:
        # The library checks the scheme, the HMAC of "<t>.<body>" in constant time and the 5-minute tolerance;
        # it reads the clock itself, so `now` is not passed on (tests sign with the real time).
        stripe.Webhook.construct_event(body, header, secret, tolerance=TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise SignatureRefused(f"Stripe: {exc.user_message or exc}") from exc
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError):
        # Signed, but not a Stripe event in JSON: the signature held, the body is judged by the mapping.
        pass


def generic_sign(secret: str, body: bytes, timestamp: int) -> str:
    """The X-Closeloop-Signature value for `body` signed at `timestamp` (what a sender computes)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def generic_verify(secret: str, headers, body: bytes, *, now: float | None = None) -> None:
    header = _require(headers, GENERIC_HEADER)
    parts = [item.strip().partition("=") for item in header.split(",")]
    timestamps = [value for key, _, value in parts if key == "t"]
    signatures = [value for key, _, value in parts if key == "v1"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        raise SignatureRefused(f"The {GENERIC_HEADER} header must read t=<unix seconds>,v1=<hex signature>.")
    timestamp = timestamps[0]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    # Every candidate is compared, so the time taken does not tell which one (if any) came close.
    matched = False
    for signature in signatures:
        matched |= hmac.compare_digest(signature.encode(), expected.encode())
    if not matched:
        raise SignatureRefused(f"The {GENERIC_HEADER} signature does not match the secret.")
    _fresh(int(timestamp), time.time() if now is None else now)


VERIFIERS = {
    "shopify": shopify_verify,
    "zendesk": zendesk_verify,
    "stripe": stripe_verify,
    "generic": generic_verify,
}


def signature_verify(kind: str, secret: str, headers, body: bytes, *, now: float | None = None) -> None:
    """Raise SignatureRefused unless `body` and `headers` are signed as `kind` signs them, with `secret`."""
    if not secret:
        raise SignatureRefused("The connector has no secret yet: set it in Closeloop first.")
    VERIFIERS[kind](secret, headers, body, now=now)
