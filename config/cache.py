"""Django's Redis cache (`CACHE_URL=redis://…`), keeping one `redis.Redis` per connection pool.

Django's own client builds a new `redis.Redis` for every cache call, and redis-py fills about a thousand
response callbacks into each one: a tenth of the respondent page's CPU went there (docs/performance.md).
A `redis.Redis` is safe to share between threads, and Django keeps one cache object per thread anyway.
"""

from django.core.cache.backends import redis as django_redis


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
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ClientPerPool
