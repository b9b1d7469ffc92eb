"""Celery wiring: one app, configured from Django settings (`CELERY_*`), tasks autodiscovered.

With no `CELERY_BROKER_URL` the settings make tasks run in-process (eager), and
`manage.py serve` runs the periodic jobs itself, so the product works without Redis.
"""

import logging
import os
import time

from celery import Celery, bootsteps
from celery.signals import task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

logger = logging.getLogger(__name__)

app = Celery("closeloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_postrun.connect
def database_connections_close_after_errors(sender=None, **kwargs) -> None:
    """In a worker, drop a database connection whose query failed, so that the next task connects afresh.

    Workers keep their connection across tasks (`CELERY_DB_REUSE_MAX`): without this, a restarted
    database would fail every task of a process until the connection is recycled. Eager tasks
    run inside a request or a command, which own their connection.
    """
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.errors_occurred:
            connection.close()


# --- Observability: task metrics, the task id on log lines, worker heartbeats, the worker's /metrics ---
_task_started: dict[str, tuple[float, object]] = {}


@task_prerun.connect
def task_timing_start(sender=None, task_id=None, **kwargs) -> None:
    from config.observability.logging import request_id_var

    eager = getattr(getattr(sender, "request", None), "is_eager", False)
    # A worker's log lines carry the task's id; an eager task keeps the id of the request that ran it.
    token = None if eager else request_id_var.set(task_id or "-")
    _task_started[task_id] = (time.perf_counter(), token)


@task_postrun.connect
def task_timing_observe(sender=None, task_id=None, state=None, **kwargs) -> None:
    from config.observability import metrics
    from config.observability.logging import request_id_var

    started, token = _task_started.pop(task_id, (None, None))
    if started is not None and sender is not None:
        metrics.task_observe(sender.name, state or "UNKNOWN", time.perf_counter() - started)
    if token is not None:
        request_id_var.reset(token)


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Tells `/readyz` this worker is alive, from the worker's own timer; a clean stop removes it."""

    requires = {"celery.worker.components:Timer"}

    def start(self, worker) -> None:
        from config.observability import heartbeat

        def touch() -> None:
            try:
                heartbeat.worker_touch(worker.hostname)
            except Exception:  # the broker is down: the worker reconnects and says so itself
                logger.warning("worker heartbeat not written (broker unreachable)")

        touch()
        self.timer_ref = worker.timer.call_repeatedly(heartbeat.HEARTBEAT_INTERVAL, touch, priority=10)

    def stop(self, worker) -> None:
        from config.observability import heartbeat

        if getattr(self, "timer_ref", None) is not None:
            self.timer_ref.cancel()
        try:
            heartbeat.worker_forget(worker.hostname)
        except Exception:
            logger.warning("worker heartbeat not removed (broker unreachable)")


app.steps["worker"].add(WorkerHeartbeat)


@worker_init.connect
def worker_metrics_serve(**kwargs) -> None:
    """With `WORKER_METRICS_PORT`, the worker's main process serves its pool's task metrics on
    `WORKER_METRICS_BIND:port/metrics` (behind `METRICS_TOKEN`), summed over `PROMETHEUS_MULTIPROC_DIR`."""
    port = os.environ.get("WORKER_METRICS_PORT")
    if not port:
        return
    from config.observability.worker_metrics import worker_metrics_server_start

    worker_metrics_server_start(os.environ.get("WORKER_METRICS_BIND", "127.0.0.1"), int(port))
