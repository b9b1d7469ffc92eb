import base64

import pytest
import time_machine
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
