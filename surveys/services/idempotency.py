"""Idempotency keys of the intake API: claim a key for a request, keep its answer to replay, forget old keys.

A claim is a lease: a request that dies holding one (worker timeout, SIGKILL, out of memory, the database
gone mid-request) cannot release it, so once `IDEMPOTENCY_LEASE_SECONDS` (the request time limit plus a
margin) have passed, the client's retry takes the claim over instead of getting 409 for a day.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from surveys.models import ApiKey, IdempotencyKey

IDEMPOTENCY_TTL = timedelta(hours=24)


class IdempotencyConflict(Exception):
    """The key was first used with a different request body."""


class IdempotencyInFlight(Exception):
    """The first request with this key has not finished yet."""


def idempotency_claim(*, api_key: ApiKey, key: str, request_hash: str) -> tuple[IdempotencyKey, bool]:
    """Claim `key` for this request: `(record, True)` to go ahead, `(record, False)` to replay its answer."""
    now = timezone.now()
    IdempotencyKey.objects.filter(api_key=api_key, key=key, created_at__lte=now - IDEMPOTENCY_TTL).delete()
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(api_key=api_key, key=key, request_hash=request_hash, created_at=now)
            return record, True
    except IntegrityError:
        record = IdempotencyKey.objects.get(api_key=api_key, key=key)
    if record.request_hash != request_hash:
        raise IdempotencyConflict
    if record.status_code is None:
        claimed_at = record.created_at
        if claimed_at > now - timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS):
            raise IdempotencyInFlight
        # The first request outlived any request's time limit: it died. Take its claim over, once.
        taken = IdempotencyKey.objects.filter(pk=record.pk, status_code__isnull=True, created_at=claimed_at).update(
            created_at=now
        )
        if not taken:
            raise IdempotencyInFlight  # another retry took it over first
        record.created_at = now
        return record, True
    return record, False


def idempotency_complete(*, record: IdempotencyKey, status_code: int, body: dict) -> None:
    record.status_code = status_code
    record.response_body = body
    record.save(update_fields=["status_code", "response_body"])


def idempotency_keys_prune() -> int:
    """Forget keys older than 24 hours; returns how many were deleted."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=timezone.now() - IDEMPOTENCY_TTL).delete()
    return deleted


def idempotency_release(*, record: IdempotencyKey) -> None:
    """Forget a claim whose request failed, so that the client's retry is processed afresh."""
    record.delete()
