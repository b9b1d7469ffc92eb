import os

import pytest

from config.cache import RedisCache

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
