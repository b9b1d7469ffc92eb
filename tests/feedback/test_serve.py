import threading

import pytest

from feedback.management.commands.serve import _run_beat_in_process
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
    stop = threading.Event()
    beat = threading.Thread(target=_run_beat_in_process, args=(stop,))
    beat.start()
    try:
        wait_for(lambda: Message.objects.filter(status=Message.Status.SENT).exists(), timeout=10, what="a send")
    finally:
        stop.set()
        beat.join(timeout=5)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.QUEUED
    assert [entry.recipient for entry in outbox] == ["due@example.com"]
