"""Background work without a broker: the periodic jobs of `CELERY_BEAT_SCHEDULE` in a thread of the web process.

With no `CELERY_BROKER_URL` tasks run in the caller's process (eager), and this thread stands in for
Celery beat. `bin/closeloop web` then runs a single gunicorn worker process (config/gunicorn.conf.py)
and starts it there, after the fork. It must not run in more than one process: every job would run
twice. `/readyz` reads its last tick instead of a beat heartbeat.
"""

import logging
import threading
import time

from celery.schedules import maybe_schedule
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


class InProcessBeat:
    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.last_tick: float | None = None
        self.thread = threading.Thread(target=self.run, daemon=True, name="in-process-beat")

    def start(self) -> "InProcessBeat":
        self.thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the job running now (if any) finishes."""
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=timeout)

    def alive(self) -> bool:
        return self.thread.is_alive()

    def run(self) -> None:
        from config.celery_app import app as celery_app

        celery_app.loader.import_default_modules()  # registers every app's tasks, as a worker would
        entries = {
            name: (entry, maybe_schedule(entry["schedule"])) for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        }
        last_run = dict.fromkeys(entries, timezone.now())
        while not self.stop_event.is_set():
            self.last_tick = time.time()
            for name, (entry, schedule) in entries.items():
                if self.stop_event.is_set():
                    break
                if not schedule.is_due(last_run[name]).is_due:
                    continue
                last_run[name] = timezone.now()
                try:
                    celery_app.tasks[entry["task"]].apply(args=entry.get("args", ()))
                except Exception:
                    logger.exception("periodic job %s failed; it runs again on its next tick", name)
                finally:
                    close_old_connections()
            self.stop_event.wait(0.5)


# The one started in this process, if any (read by /readyz).
current: InProcessBeat | None = None


def in_process_beat_start() -> InProcessBeat:
    global current
    current = InProcessBeat().start()
    return current
