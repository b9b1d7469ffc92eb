"""Celery's Redis transport, publishing through one `redis.Redis` per channel.

kombu's Redis channel builds a new `redis.Redis` for every message it publishes, and redis-py fills about a
thousand response callbacks into each one: about a fifth of the CPU an answer's task cost to queue
(docs/performance.md). `config.cache.RedisCache` keeps one per pool for the same reason. A `redis.Redis` is safe
to share between threads; the pool it draws connections from is the channel's own, as before.
"""

from contextlib import contextmanager
from functools import cached_property

from kombu.transport import redis


class Channel(redis.Channel):
    @cached_property
    def _shared_client(self):
        return self._create_client()

    @contextmanager
    def conn_or_acquire(self, client=None):
        yield client or self._shared_client


class Transport(redis.Transport):
    Channel = Channel
