"""Celery wiring: one app, configured from Django settings (`CELERY_*`), tasks autodiscovered.

With no `CELERY_BROKER_URL` the settings make tasks run in-process (eager), and
`manage.py serve` runs the periodic jobs itself, so the product works without Redis.
"""

import os

from celery import Celery
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

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
