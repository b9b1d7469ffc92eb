import base64
import os
import uuid

import pytest
import time_machine
from django.core.cache import caches
from rest_framework.test import APIClient

from surveys.services.api_keys import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of_key():
    """A client of one key, signed as Delighted's client signs (HTTP Basic, the key as user)."""
    client = APIClient()
    credentials = base64.b64encode(f"{api_key_create(name='throttled')[1]}:".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {credentials}")
    return client


def _people(client) -> int:
    return client.get("/v1/people.json").status_code


def test_rate_limit_counts_per_window_and_says_when_it_ends(client_of_key, settings):
    settings.API_RATE_LIMIT = "3/minute"

    with time_machine.travel("2026-11-30 10:00:45Z", tick=False):
        statuses = [_people(client_of_key) for _ in range(4)]
        limited = client_of_key.get("/v1/people.json")
    with time_machine.travel("2026-11-30 10:01:00Z", tick=False):
        next_window = _people(client_of_key)

    assert statuses == [200, 200, 200, 429]
    assert limited["Retry-After"] == "15"
    assert next_window == 200


def test_rate_limit_retry_after_is_at_least_one_second(client_of_key, settings):
    settings.API_RATE_LIMIT = "1/minute"

    with time_machine.travel("2026-11-30 10:00:59.600Z", tick=False):
        _people(client_of_key)
        limited = client_of_key.get("/v1/people.json")

    assert (limited.status_code, limited["Retry-After"]) == (429, "1")


def test_rate_limit_change_applies_without_restart(client_of_key, settings):
    settings.API_RATE_LIMIT = "1/hour"
    with time_machine.travel("2026-11-30 10:00:00Z", tick=False):
        assert [_people(client_of_key) for _ in range(2)] == [200, 429]
        settings.API_RATE_LIMIT = "5/hour"
        assert _people(client_of_key) == 200


@pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"), reason="needs a Redis (CELERY_BROKER_URL)"
)
def test_a_bearer_request_reads_the_keys_version_and_counts_its_rate_in_one_redis_round_trip(
    settings, redis_round_trips
):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": os.environ["CELERY_BROKER_URL"],
            "KEY_PREFIX": f"test-bearer-{uuid.uuid4().hex}",
        }
    }
    settings.API_RATE_LIMIT = "2/minute"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(name='counted')[1]}")
    redis = caches["default"]._cache.get_client(write=True)

    with time_machine.travel("2026-11-30 10:00:45Z", tick=False):
        first = client.get("/api/trigger-rules/").status_code  # the process keeps the key from here on
        with redis_round_trips(redis) as sent:
            statuses = [client.get("/api/trigger-rules/").status_code for _ in range(2)]
        limited = client.get("/api/trigger-rules/")

    assert [first, *statuses] == [200, 200, 429]
    assert len(sent) == 2  # one round trip per request: the version and the count together
    assert limited["Retry-After"] == "15"
