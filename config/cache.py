"""Django's Redis cache (`CACHE_URL=redis://…`), keeping one `redis.Redis` per connection pool.

Django's own client builds a new `redis.Redis` for every cache call, and redis-py fills about a thousand
response callbacks into each one: a tenth of the respondent page's CPU went there (docs/performance.md).
A `redis.Redis` is safe to share between threads, and Django keeps one cache object per thread anyway.
"""

from django.core.cache.backends import redis as django_redis
from django.utils.functional import cached_property


class _ClientPerPool(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            # Pools live as long as this object, so their ids name them.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    # SET NX EX then INCR, as one command: atomic, and one round trip.
    _COUNT = "redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX') return redis.call('INCR', KEYS[1])"

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ClientPerPool

    @cached_property
    def _count_script(self):
        return self._cache.get_client(write=True).register_script(self._COUNT)

    def count(self, key: str, seconds: int) -> int:
        """Add one to the counter `key`, which lives `seconds` from its first count; returns the new count."""
        return self._count_script(keys=[self.make_and_validate_key(key)], args=[seconds])


def cache_count(cache, key: str, seconds: int) -> int:
    """Add one (in the cache backend `cache`, e.g. `caches["default"]`) to the counter `key`, which lives
    `seconds` from its first count; returns the new count.

    On Redis that is one round trip (`RedisCache.count`) instead of Django's three (add, then incr's EXISTS
    and INCRBY). Other caches (the in-process one of tests and `make run`) add, then increment.
    """
    if isinstance(cache, RedisCache):
        return cache.count(key, seconds)
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: this count starts the next window
        cache.add(key, 1, timeout=seconds)
        return 1
