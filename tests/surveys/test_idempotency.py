"""Idempotency claims are leases: a request that died holding one cannot keep its key busy for a day."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from surveys.services.api_keys import api_key_create
from surveys.services.idempotency import (
    IdempotencyConflict,
    IdempotencyInFlight,
    idempotency_claim,
    idempotency_complete,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    return api_key_create(name="idempotency")[0]


def test_a_claim_within_its_lease_answers_in_flight(key, settings):
    settings.IDEMPOTENCY_LEASE_SECONDS = 60
    record, first = idempotency_claim(api_key=key, key="k", request_hash="h")
    assert first is True
    with time_machine.travel(timezone.now() + timedelta(seconds=59)), pytest.raises(IdempotencyInFlight):
        idempotency_claim(api_key=key, key="k", request_hash="h")


def test_a_claim_whose_request_died_is_taken_over_by_the_retry_once(key, settings):
    settings.IDEMPOTENCY_LEASE_SECONDS = 60
    idempotency_claim(api_key=key, key="k", request_hash="h")  # its request is killed: never completed or released
    later = timezone.now() + timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        record, first = idempotency_claim(api_key=key, key="k", request_hash="h")
        assert first is True
        # A second retry at the same moment finds the claim taken over, fresh.
        with pytest.raises(IdempotencyInFlight):
            idempotency_claim(api_key=key, key="k", request_hash="h")
    idempotency_complete(record=record, status_code=201, body={"ok": True})
    with time_machine.travel(later + timedelta(hours=1)):
        replay, first = idempotency_claim(api_key=key, key="k", request_hash="h")
    assert (first, replay.status_code, replay.response_body) == (False, 201, {"ok": True})


def test_a_stale_claim_with_another_body_is_still_a_conflict(key, settings):
    settings.IDEMPOTENCY_LEASE_SECONDS = 60
    idempotency_claim(api_key=key, key="k", request_hash="h")
    with time_machine.travel(timezone.now() + timedelta(seconds=61)), pytest.raises(IdempotencyConflict):
        idempotency_claim(api_key=key, key="k", request_hash="other")
