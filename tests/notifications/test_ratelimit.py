import os
import random
import uuid

import pytest

from notifications.ratelimit import LocalBucket, RedisBucket
from notifications.tasks import retry_countdown


def test_local_bucket_allows_a_burst_then_paces():
    bucket = LocalBucket()
    assert [bucket.take("sms", 2.0, 2.0, 100.0) for _ in range(2)] == [0.0, 0.0]
    assert bucket.take("sms", 2.0, 2.0, 100.0) == 0.5
    assert bucket.take("sms", 2.0, 2.0, 100.25) == 0.25
    assert bucket.take("sms", 2.0, 2.0, 100.5) == 0.0
    assert bucket.take("email", 2.0, 2.0, 100.5) == 0.0


@pytest.mark.integration
def test_redis_bucket_is_shared_between_clients():
    url = os.environ["CELERY_BROKER_URL"]
    key = f"test-{uuid.uuid4()}"
    first, second = RedisBucket(url), RedisBucket(url)
    assert first.take(key, 1.0, 1.0, 100.0) == 0.0
    assert second.take(key, 1.0, 1.0, 100.0) == 1.0
    assert second.take(key, 1.0, 1.0, 101.0) == 0.0


class _Highest(random.Random):
    """A draw that always lands at the top of its range: the longest backoff the formula allows."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_retry_countdown_doubles_from_two_seconds_up_to_the_cap():
    countdowns = [retry_countdown(retries, None, cap=120, longest=3000, rng=_Highest()) for retries in range(8)]
    assert countdowns == [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 120, 120]


def test_retry_countdown_draws_with_full_jitter_between_one_second_and_the_ceiling():
    rng = random.Random(7)
    countdowns = [retry_countdown(5, None, cap=120, longest=3000, rng=rng) for _ in range(200)]
    assert min(countdowns) >= 1.0 and max(countdowns) <= 64.0
    # Spread over the range, not pinned to one value: concurrent retries do not stampede together.
    assert max(countdowns) - min(countdowns) > 40


def test_retry_countdown_never_retries_before_the_providers_reset():
    assert retry_countdown(0, 30.0, cap=120, longest=3000) == 30.0
    # The cap bounds our own backoff only: a 15-minute reset is waited in full (it used to be cut to 120 s).
    assert retry_countdown(0, 900.0, cap=120, longest=3000) == 900.0
    assert retry_countdown(3, 0.0, cap=120, longest=3000) == 1.0


def test_retry_countdown_stays_below_the_brokers_visibility_timeout(settings):
    assert retry_countdown(0, 86400.0, cap=120, longest=3000) == 3000
    assert retry_countdown(0, 86400.0, cap=120) == settings.SEND_RETRY_AFTER_MAX_SECONDS
    assert settings.SEND_RETRY_AFTER_MAX_SECONDS < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
