import os
import uuid

import pytest
from kombu import Connection, Queue

REDIS_URL = os.environ.get("CELERY_BROKER_URL", "")


@pytest.mark.skipif(not REDIS_URL.startswith("redis://"), reason="needs a Redis (CELERY_BROKER_URL), as in CI")
def test_every_message_is_published_through_one_redis_client():
    queue = Queue(f"test-broker-{uuid.uuid4().hex}")
    with Connection(REDIS_URL, transport="config.broker:Transport") as connection:
        channel = connection.default_channel
        made = []
        original = channel._create_client

        def counted(*args, **kwargs):
            made.append(1)
            return original(*args, **kwargs)

        channel._create_client = counted
        producer = connection.Producer(channel)
        for n in range(3):
            producer.publish({"n": n}, routing_key=queue.name, declare=[queue])

        assert made == [1]
        assert channel.client.llen(queue.name) == 3
        with connection.SimpleQueue(queue.name) as simple:
            assert [simple.get(timeout=1).payload["n"] for _ in range(3)] == [0, 1, 2]
        channel.client.delete(queue.name)
