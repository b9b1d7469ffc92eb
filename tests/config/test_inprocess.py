import threading
import time

import pytest

from config.inprocess import InProcessBeat
from notifications.models import Message
from surveys.models import Invitation
from tests.factories import InvitationFactory
from tests.integration.conftest import wait_for


@pytest.mark.django_db(transaction=True)
def test_in_process_beat_runs_the_dispatcher_on_its_schedule(settings, outbox):
    settings.CELERY_BEAT_SCHEDULE = {
        "dispatch": {"task": "surveys.tasks.dispatch_due_invitations", "schedule": 0.2},
    }
    invitation = InvitationFactory(status=Invitation.Status.SCHEDULED, contact__email="due@example.com")
    beat = InProcessBeat().start()
    try:
        wait_for(lambda: Message.objects.filter(status=Message.Status.SENT).exists(), timeout=60, what="a send")
    finally:
        beat.stop(timeout=5)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.QUEUED
    assert [entry.recipient for entry in outbox] == ["due@example.com"]
    assert not beat.alive()
    assert beat.last_tick is not None


def test_in_process_beat_stop_lets_the_running_job_finish(settings, monkeypatch):
    from config.celery_app import app

    settings.CELERY_BEAT_SCHEDULE = {"slow": {"task": "surveys.tasks.prune_idempotency_keys", "schedule": 0.1}}
    started, finished = threading.Event(), []

    def slow_apply(*args, **kwargs):
        started.set()
        time.sleep(0.5)
        finished.append(True)

    monkeypatch.setattr(app.tasks["surveys.tasks.prune_idempotency_keys"], "apply", slow_apply)
    beat = InProcessBeat().start()
    assert started.wait(5)

    beat.stop(timeout=5)

    assert finished == [True]
    assert not beat.alive()
