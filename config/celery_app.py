"""Celery wiring: one app, configured from Django settings (`CELERY_*`), tasks autodiscovered.

With no `CELERY_BROKER_URL` the settings make tasks run in-process (eager), and
`manage.py serve` runs the periodic jobs itself, so the product works without Redis.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("closeloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
