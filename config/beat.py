"""Celery beat's scheduler, with a heartbeat: each tick of its loop says it is alive (`/readyz`, `/metrics`)."""

import logging
import time

from celery.beat import PersistentScheduler

logger = logging.getLogger(__name__)


class HeartbeatScheduler(PersistentScheduler):
    _last_heartbeat = 0.0

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._last_heartbeat >= 5:
            from config.observability.heartbeat import beat_touch

            try:
                beat_touch()
                self._last_heartbeat = now
            except Exception:  # the broker is down: beat itself will say so; readiness goes red
                logger.warning("beat heartbeat not written (broker unreachable)")
        return super().tick(*args, **kwargs)
