"""Per-address request counts for the public pages and endpoints that take no credential (the respondent page,
the web widget, a survey's public link): one atomic cache counter per address and window, shared by every web
process (one Redis round trip per request: `config.cache.cache_count`)."""

from django.core.cache import caches

from config.cache import cache_count, cache_get_and_count


def _counter(scope: str, address: str) -> str:
    return f"surveys:{scope}-rate:{address}"


def _over(scope: str, address: str, limit: int, seconds: int) -> bool:
    return cache_count(caches["default"], _counter(scope, address), seconds) > limit


def address_over_limit(*, scope: str, address: str, per_minute: int) -> bool:
    """Count one request of `address` in `scope`; True once it made more than `per_minute` this minute."""
    return _over(scope, address, per_minute, 60)


def address_over_limit_reading(*, scope: str, address: str, per_minute: int, key: str) -> tuple[bool, object]:
    """`address_over_limit`, and the cache's value of `key` (None when it holds none) read in the same round trip."""
    value, count = cache_get_and_count(caches["default"], key, _counter(scope, address), 60)
    return count > per_minute, value


def address_over_hourly_limit(*, scope: str, address: str, per_hour: int) -> bool:
    """Count one request of `address` in `scope`; True once it made more than `per_hour` this hour (the first
    counted request starts the hour)."""
    return _over(f"{scope}-hour", address, per_hour, 3600)
