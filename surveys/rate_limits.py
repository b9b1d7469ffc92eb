"""Per-address request counts for the public pages and endpoints that take no credential (the respondent page,
the web widget): one atomic cache counter per address and minute, shared by every web process."""

from django.core.cache import cache


def address_over_limit(*, scope: str, address: str, per_minute: int) -> bool:
    """Count one request of `address` in `scope`; True once it made more than `per_minute` this minute."""
    key = f"surveys:{scope}-rate:{address}"
    cache.add(key, 0, timeout=60)
    try:
        return cache.incr(key) > per_minute
    except ValueError:  # expired between add and incr
        return False
