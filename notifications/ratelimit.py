"""Per-provider send rate, shared by every worker: a token bucket in Redis when a broker is configured.

Without a broker every send runs in one process, so an in-process bucket is the whole truth.
The Redis bucket is one Lua script, so concurrent workers never both take the last token.
"""

import threading
import time

from django.conf import settings

_REDIS_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], 60)
return tostring(wait)
"""


class LocalBucket:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, rate: float, burst: float, now: float) -> float:
        """Take a token if one is there; else how long to wait for one (nothing taken)."""
        with self._lock:
            tokens, at = self._state.get(key, (burst, now))
            tokens = min(burst, tokens + max(0.0, now - at) * rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1 - tokens) / rate


class RedisBucket:
    def __init__(self, url: str) -> None:
        import redis

        self._script = redis.Redis.from_url(url).register_script(_REDIS_BUCKET)

    def take(self, key: str, rate: float, burst: float, now: float) -> float:
        return float(self._script(keys=[f"closeloop:ratelimit:{key}"], args=[rate, burst, now]))


_bucket: LocalBucket | RedisBucket | None = None


def _bucket_get() -> LocalBucket | RedisBucket:
    global _bucket
    if _bucket is None:
        broker = settings.CELERY_BROKER_URL
        _bucket = RedisBucket(broker) if broker.startswith(("redis://", "rediss://")) else LocalBucket()
    return _bucket


def rate_limit_wait(channel: str) -> None:
    """Block until the channel's provider may take one more message (`NOTIFICATIONS_RATE_LIMITS`, per second)."""
    rate = float(settings.NOTIFICATIONS_RATE_LIMITS.get(channel) or 0)
    if rate <= 0:
        return
    while True:
        wait = _bucket_get().take(channel, rate, max(rate, 1.0), time.time())
        if wait <= 0:
            return
        time.sleep(wait)
