"""Invitation tokens: 256-bit HMACs of the invitation's public id; only their hash is stored.

Deriving the token from the secret key means a reminder can re-render the same link
without the raw token ever being kept; rotating `DJANGO_SECRET_KEY` invalidates old links.
"""

import functools
import hashlib
import hmac
import uuid

from django.conf import settings

KEY_SALT = "closeloop.invitation"


@functools.lru_cache(maxsize=4)
def _token_key(secret: str) -> bytes:
    # Django's salted_hmac derives this key on every call; a batch of 1,000 events makes 1,000 tokens.
    return hashlib.sha256((KEY_SALT + secret).encode()).digest()


def invitation_token(public_id: uuid.UUID) -> str:
    """The same value as `salted_hmac(KEY_SALT, str(public_id), algorithm="sha256").hexdigest()`."""
    return hmac.digest(_token_key(settings.SECRET_KEY), str(public_id).encode(), "sha256").hex()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
