"""Workers keep their database connection across tasks, and drop one whose query failed."""

from types import SimpleNamespace

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun
from django.db import connections

from config.celery_app import app


class Task:
    def __init__(self, *, is_eager: bool) -> None:
        self.request = SimpleNamespace(is_eager=is_eager)


class RecordingConnection:
    def __init__(self, *, errors_occurred: bool) -> None:
        self.errors_occurred = errors_occurred
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_workers_keep_their_database_connection_for_many_tasks():
    # Unset, Celery's fixup would close it before and after every task: one connection per send.
    assert DjangoWorkerFixup(app).db_reuse_max == 1000


@pytest.mark.parametrize(("is_eager", "failed_closed"), [(False, True), (True, False)])
def test_after_a_worker_task_a_connection_whose_query_failed_is_closed(monkeypatch, is_eager, failed_closed):
    failed, healthy = RecordingConnection(errors_occurred=True), RecordingConnection(errors_occurred=False)
    monkeypatch.setattr(connections, "all", lambda initialized_only=False: [failed, healthy])
    task = Task(is_eager=is_eager)

    task_postrun.send(sender=task, task_id="t1", task=task, args=(), kwargs={}, retval=None, state="SUCCESS")

    assert (failed.closed, healthy.closed) == (failed_closed, False)
