"""Invitation tokens: 256-bit HMACs of the invitation's public id; only their hash is stored.

Deriving the token from the secret key means a reminder can re-render the same link
without the raw token ever being kept; rotating `DJANGO_SECRET_KEY` invalidates old links.
"""

import hashlib
import uuid

from django.utils.crypto import salted_hmac


def invitation_token(public_id: uuid.UUID) -> str:
    return salted_hmac("closeloop.invitation", str(public_id), algorithm="sha256").hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
