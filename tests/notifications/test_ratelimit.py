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


def test_retry_countdown_grows_with_jitter_and_is_capped():
    rng = random.Random(7)
    countdowns = [retry_countdown(retries, None, cap=120, rng=rng) for retries in range(10)]
    assert all(1.0 <= countdown <= min(120, 2 ** (retries + 1)) for retries, countdown in enumerate(countdowns))
    assert max(countdowns) <= 120


def test_retry_countdown_honours_the_provider_wait_within_the_cap():
    assert retry_countdown(0, 30.0, cap=120) == 30.0
    assert retry_countdown(0, 900.0, cap=120) == 120
    assert retry_countdown(3, 0.0, cap=120) == 1.0
