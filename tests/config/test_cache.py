import os

import pytest
import time_machine
from django.core.cache.backends.locmem import LocMemCache

from config.cache import RedisCache, cache_add_or_get, cache_count, cache_get_and_count

REDIS_URL = os.environ.get("CELERY_BROKER_URL", "")


def test_one_redis_client_serves_every_call():
    cache = RedisCache("redis://127.0.0.1:6379/0", {})

    first = cache._cache.get_client("a", write=True)

    assert cache._cache.get_client("b", write=True) is first
    assert cache._cache.get_client("c") is first  # one server: reads and writes share its pool


def test_each_server_keeps_its_own_client():
    cache = RedisCache("redis://127.0.0.1:6379/0,redis://127.0.0.1:6380/0", {})

    writer = cache._cache.get_client(write=True)
    reader = cache._cache.get_client()  # reads go to the servers after the first

    assert writer.connection_pool.connection_kwargs["port"] == 6379
    assert reader.connection_pool.connection_kwargs["port"] == 6380
    assert cache._cache.get_client() is reader


@pytest.mark.skipif(not REDIS_URL.startswith("redis://"), reason="needs a Redis (CELERY_BROKER_URL), as in CI")
def test_the_shared_client_stores_and_counts_as_django_redis_cache_does():
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": "test-config-cache"})
    cache.delete_many(["word", "count"])

    cache.set("word", {"a": 1}, 30)
    cache.add("count", 0, 30)

    assert cache.get("word") == {"a": 1}
    assert cache.incr("count") == 1
    assert cache.incr("count") == 2
    cache.delete_many(["word", "count"])


@pytest.fixture
def redis_cache():
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": "test-config-cache-count"})
    cache.delete("hits")
    yield cache
    cache.delete("hits")


@pytest.mark.skipif(not REDIS_URL.startswith("redis://"), reason="needs a Redis (CELERY_BROKER_URL), as in CI")
def test_cache_count_on_redis_counts_in_one_command_and_expires_with_the_window(redis_cache, redis_round_trips):
    client = redis_cache._cache.get_client(write=True)
    first = cache_count(redis_cache, "hits", 60)  # loads the script into Redis when it is not there yet
    with redis_round_trips(client) as sent:
        counts = [cache_count(redis_cache, "hits", 60) for _ in range(2)]

    assert [first, *counts] == [1, 2, 3]
    assert len(sent) == 2  # one command, one round trip, per count
    assert 55 < client.ttl(redis_cache.make_key("hits")) <= 60  # the window started at the first count
    assert redis_cache.get("hits") == 3


@pytest.mark.skipif(not REDIS_URL.startswith("redis://"), reason="needs a Redis (CELERY_BROKER_URL), as in CI")
def test_cache_count_on_redis_starts_again_after_the_window(redis_cache, redis_round_trips):
    cache_count(redis_cache, "hits", 1)
    cache_count(redis_cache, "hits", 1)
    redis_cache._cache.get_client(write=True).delete(redis_cache.make_key("hits"))  # the window's expiry

    assert cache_count(redis_cache, "hits", 1) == 1


@pytest.mark.skipif(not REDIS_URL.startswith("redis://"), reason="needs a Redis (CELERY_BROKER_URL), as in CI")
def test_cache_get_and_count_on_redis_reads_and_counts_in_one_command(redis_cache, redis_round_trips):
    redis_cache.delete("word")
    client = redis_cache._cache.get_client(write=True)
    missing = cache_get_and_count(redis_cache, "word", "hits", 60, default="none")  # loads the script
    redis_cache.set("word", "v1", 30)
    with redis_round_trips(client) as sent:
        found = cache_get_and_count(redis_cache, "word", "hits", 60)
    redis_cache.delete("word")

    assert (missing, found) == (("none", 1), ("v1", 2))
    assert len(sent) == 1
    assert 55 < client.ttl(redis_cache.make_key("hits")) <= 60


def test_cache_get_and_count_in_process_reads_and_counts():
    cache = LocMemCache("test-cache-get-and-count", {})
    cache.set("word", "v1")

    assert [cache_get_and_count(cache, "word", "hits", 60) for _ in range(2)] == [("v1", 1), ("v1", 2)]
    assert cache_get_and_count(cache, "other", "hits", 60, default="none") == ("none", 3)


def test_cache_count_in_process_counts_and_starts_again_after_the_window():
    cache = LocMemCache("test-cache-count", {})

    with time_machine.travel("2026-03-02 10:00:00+00:00") as traveller:
        assert [cache_count(cache, "hits", 60) for _ in range(2)] == [1, 2]
        traveller.shift(61)
        assert cache_count(cache, "hits", 60) == 1


@pytest.mark.skipif(not REDIS_URL.startswith("redis://"), reason="needs a Redis (CELERY_BROKER_URL), as in CI")
def test_cache_add_or_get_on_redis_stores_only_when_empty_in_one_round_trip(redis_cache, redis_round_trips):
    client = redis_cache._cache.get_client(write=True)
    cache_add_or_get(redis_cache, "warm-up", 1, 5)  # loads the script into Redis when it is not there yet
    with redis_round_trips(client) as sent:
        stored = cache_add_or_get(redis_cache, "hits", {"scores": [9]}, 20)
        going = cache_add_or_get(redis_cache, "hits", {"scores": [3]}, 20)

    assert (stored, going) == (None, {"scores": [9]})
    assert len(sent) == 2  # one round trip each
    assert redis_cache.get("hits") == {"scores": [9]}  # the value there was kept
    assert 15 < client.ttl(redis_cache.make_key("hits")) <= 20
    redis_cache.delete("warm-up")


def test_cache_add_or_get_in_process_stores_only_when_empty():
    cache = LocMemCache("test-cache-add-or-get", {})

    with time_machine.travel("2026-03-02 10:00:00+00:00") as traveller:
        assert cache_add_or_get(cache, "burst", [9], 20) is None
        assert cache_add_or_get(cache, "burst", [3], 20) == [9]
        traveller.shift(21)
        assert cache_add_or_get(cache, "burst", [3], 20) is None
        assert cache.get("burst") == [3]
