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

    # GET, then SET EX only if there was nothing: one round trip (SET NX GET needs Redis 7).
    _ADD_OR_GET = (
        "local going = redis.call('GET', KEYS[1]) "
        "if not going then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end return going"
    )

    @cached_property
    def _add_or_get_script(self):
        return self._cache.get_client(write=True).register_script(self._ADD_OR_GET)

    def add_or_get(self, key: str, value, timeout: int):
        """Store `value` under `key` for `timeout` seconds unless the key holds a value; that value, or None."""
        serializer = self._cache._serializer
        going = self._add_or_get_script(
            keys=[self.make_and_validate_key(key)], args=[serializer.dumps(value), self.get_backend_timeout(timeout)]
        )
        return None if going is None else serializer.loads(going)

    # GET, then the count above: a value read and a counter counted in one round trip.
    _GET_AND_COUNT = (
        "local value = redis.call('GET', KEYS[1])"
        " redis.call('SET', KEYS[2], 0, 'EX', ARGV[1], 'NX')"
        " return {value, redis.call('INCR', KEYS[2])}"
    )

    @cached_property
    def _count_script(self):
        return self._cache.get_client(write=True).register_script(self._COUNT)

    @cached_property
    def _get_and_count_script(self):
        return self._cache.get_client(write=True).register_script(self._GET_AND_COUNT)

    def count(self, key: str, seconds: int) -> int:
        """Add one to the counter `key`, which lives `seconds` from its first count; returns the new count."""
        return self._count_script(keys=[self.make_and_validate_key(key)], args=[seconds])

    def get_and_count(self, key: str, counter: str, seconds: int, default=None) -> tuple:
        """The value of `key` (or `default`) and the new count of `counter`, counted as `count` does."""
        keys = [self.make_and_validate_key(key), self.make_and_validate_key(counter)]
        value, count = self._get_and_count_script(keys=keys, args=[seconds])
        return (default if value is None else self._cache._serializer.loads(value)), count


def cache_get_and_count(cache, key: str, counter: str, seconds: int, default=None) -> tuple:
    """The value of `key` in the cache backend `cache` (or `default`), and `counter` counted as `cache_count`
    counts it: one round trip on Redis (`RedisCache.get_and_count`)."""
    if isinstance(cache, RedisCache):
        return cache.get_and_count(key, counter, seconds, default)
    return cache.get(key, default), cache_count(cache, counter, seconds)


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


def cache_add_or_get(cache, key: str, value, timeout: int):
    """Store `value` (in the cache backend `cache`) under `key` for `timeout` seconds unless the key holds a value;
    returns that value, or None when `value` was stored.

    On Redis that is one round trip (`RedisCache.add_or_get`) instead of a read and a write. Other caches read,
    then write: not atomic, so callers serialise the writers of one key themselves (a row lock).
    """
    if isinstance(cache, RedisCache):
        return cache.add_or_get(key, value, timeout)
    going = cache.get(key)
    if going is None:
        cache.set(key, value, timeout=timeout)
    return going
