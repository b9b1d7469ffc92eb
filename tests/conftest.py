import os
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from notifications.transports import locmem
from surveys.services.api_keys import api_key_create
from tests.factories import ManagerFactory, TeamFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    """Tests marked `integration` need PostgreSQL, Redis and live workers; run them only where configured.

    Tests marked `chaos` stop and restart the database and the broker: only `make chaos` runs them, on
    servers it starts for them alone (`CHAOS=1`)."""
    chaos = pytest.mark.skip(reason="chaos: run by `make chaos`, on a PostgreSQL and a Redis of its own")
    for item in items:
        if item.get_closest_marker("chaos") and not os.environ.get("CHAOS"):
            item.add_marker(chaos)
    if os.environ.get("DATABASE_URL") and os.environ.get("CELERY_BROKER_URL"):
        return
    skip = pytest.mark.skip(reason="integration: set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis)")
    for item in items:
        if item.get_closest_marker("integration"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counts and scanner bursts live in the cache; no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in LANGUAGE_CODE, as a worker or a command does: a French-speaking person's request in an
    earlier test left French active in the thread (the middleware activates it and nothing deactivates it)."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def outbox():
    """What crossed the channel seam in this test (the locmem transport's outbox)."""
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


@pytest.fixture
def api_key(db):
    """An API key with every scope: `(ApiKey, raw key)`."""
    return api_key_create(name="test key")


@pytest.fixture
def api_client(api_key):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key[1]}")
    return client


# The permission cast: every protected surface is tried by each of these.
@pytest.fixture
def team(db):
    return TeamFactory(name="Care")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Billing")


@pytest.fixture
def agent(team):
    return UserFactory(email="agent@closeloop.test", team=team)


@pytest.fixture
def other_agent(other_team):
    return UserFactory(email="other.agent@closeloop.test", team=other_team)


@pytest.fixture
def manager(db):
    return ManagerFactory(email="manager@closeloop.test")


BROWSER_USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def client():
    """Django's test client sending a phone browser's user agent, as people's browsers do (a request
    without one is judged a machine's on the respondent page: `surveys.scanners`)."""
    from django.test import Client

    return Client(HTTP_USER_AGENT=BROWSER_USER_AGENT)


@contextmanager
def _connections_taken(client):
    sent = []
    original = client.connection_pool.get_connection

    def counted(*args, **kwargs):
        sent.append(1)
        return original(*args, **kwargs)

    client.connection_pool.get_connection = counted
    try:
        yield sent
    finally:
        client.connection_pool.get_connection = original


@pytest.fixture
def broker_refusing(monkeypatch):
    """`with broker_refusing(task, ...):` each task's `delay` raises meanwhile, as it does with Redis down."""

    @contextmanager
    def refusing(*tasks):
        def refuse(*args, **kwargs):
            raise ConnectionRefusedError("Redis is down")

        with monkeypatch.context() as broker:
            for task in tasks:
                broker.setattr(task, "delay", refuse)
            yield

    return refusing


@pytest.fixture
def redis_round_trips():
    """`with redis_round_trips(client) as sent:` lists the connections a redis-py client takes from its pool
    meanwhile: one per round trip to Redis."""
    return _connections_taken
