"""Heartbeats of the scheduler and the workers, kept in the broker's Redis for `/readyz` and `/metrics`.

The scheduler writes one on each tick of its loop (config/beat.py), each worker every
`HEARTBEAT_INTERVAL` seconds from its own timer (config/celery_app.py) and removes it on a clean
stop. Without a broker there is neither: the in-process scheduler of the web process stands in.
"""

import time
from functools import cache

from django.conf import settings

HEARTBEAT_INTERVAL = 10
# A heartbeat older than this means the process is gone or stuck (`/readyz` says so after a minute).
HEARTBEAT_MAX_AGE = 60
BEAT_KEY = "closeloop:heartbeat:beat"
WORKER_KEY_PREFIX = "closeloop:heartbeat:worker:"


@cache
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def redis_client():
    """A client of the broker's Redis, or None when the broker is not Redis (or not configured)."""
    url = settings.CELERY_BROKER_URL
    if not settings.BROKER_CONFIGURED or not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    return _redis(url)


def beat_touch() -> None:
    client = redis_client()
    if client is not None:
        client.set(BEAT_KEY, repr(time.time()), ex=HEARTBEAT_MAX_AGE * 10)


def worker_touch(hostname: str) -> None:
    client = redis_client()
    if client is not None:
        client.set(WORKER_KEY_PREFIX + hostname, repr(time.time()), ex=HEARTBEAT_MAX_AGE)


def worker_forget(hostname: str) -> None:
    client = redis_client()
    if client is not None:
        client.delete(WORKER_KEY_PREFIX + hostname)


def beat_age() -> float | None:
    """Seconds since the scheduler's last tick; None when none was ever seen."""
    client = redis_client()
    if client is None:
        from config import inprocess

        beat = inprocess.current
        if beat is None or beat.last_tick is None or not beat.alive():
            return None
        return max(0.0, time.time() - beat.last_tick)
    value = client.get(BEAT_KEY)
    return None if value is None else max(0.0, time.time() - float(value))


def workers_alive() -> int:
    """Workers whose heartbeat is younger than `HEARTBEAT_MAX_AGE` (0 without a broker: tasks run in-process)."""
    client = redis_client()
    if client is None:
        return 0
    keys = list(client.scan_iter(match=WORKER_KEY_PREFIX + "*", count=100))
    if not keys:
        return 0
    now = time.time()
    return sum(1 for value in client.mget(keys) if value is not None and now - float(value) < HEARTBEAT_MAX_AGE)
