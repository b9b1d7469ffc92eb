"""Two live workers on PostgreSQL + Redis send 2,000 due invitations through the real SendGrid SDK
to the fake provider: each exactly once, even when one worker is SIGKILLed mid-run."""

import os
import signal
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Message
from surveys.models import Contact, Invitation
from surveys.tokens import invitation_token, token_hash
from tests.factories import SurveyFactory
from tests.fakes.providers import FakeProviders
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

INVITATIONS = 2000
CONCURRENCY = 2


@pytest.fixture
def fake_provider():
    fake = FakeProviders().start()
    yield fake
    fake.stop()


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [int(child) for child in children.read().split()]


def _due_invitations(count: int) -> None:
    survey = SurveyFactory()
    contacts = Contact.objects.bulk_create([Contact(email=f"itest{i}@example.com") for i in range(count)])
    now = timezone.now()
    invitations = []
    for contact in contacts:
        public_id = uuid.uuid4()
        invitations.append(
            Invitation(
                public_id=public_id,
                token_hash=token_hash(invitation_token(public_id)),
                contact=contact,
                survey=survey,
                channel="email",
                scheduled_at=now,
                expires_at=now + timedelta(days=28),
            )
        )
    Invitation.objects.bulk_create(invitations, batch_size=500)


def test_two_workers_send_each_invitation_once_even_when_one_is_killed(start_celery_worker, fake_provider):
    env = {"DJANGO_SETTINGS_MODULE": "tests.fakes.worker_settings", "FAKE_PROVIDER_URL": fake_provider.url}
    _due_invitations(INVITATIONS)
    steady = start_celery_worker("dispatch-a", beat=True, concurrency=CONCURRENCY, extra_env=env)
    doomed = start_celery_worker("dispatch-b", concurrency=CONCURRENCY, extra_env=env)

    wait_for(lambda: len(fake_provider.sendgrid()) >= INVITATIONS // 4, timeout=120, what="a quarter sent")
    # The whole worker dies at once: its main process and its pool processes, mid-send.
    for pid in [*_children(doomed.pid), doomed.pid]:
        os.kill(pid, signal.SIGKILL)
    doomed.wait(timeout=10)
    assert steady.poll() is None

    settled = (Message.Status.SENT, Message.Status.UNKNOWN)
    wait_for(
        lambda: Message.objects.filter(status__in=settled).count() == INVITATIONS,
        timeout=180,
        what="every message to settle after the kill",
    )
    assert Invitation.objects.filter(status=Invitation.Status.QUEUED, message__isnull=False).count() == INVITATIONS
    received = Counter(request.json()["custom_args"]["closeloop_message_id"] for request in fake_provider.sendgrid())
    assert [public_id for public_id, times in received.items() if times > 1] == []
    sent = set(Message.objects.filter(status=Message.Status.SENT).values_list("public_id", flat=True))
    assert {str(public_id) for public_id in sent} <= set(received)
    # A send cut by the kill between claim and answer is `unknown` (left for the provider's webhook),
    # never resent: at most one per process of the killed worker.
    unknown = Message.objects.filter(status=Message.Status.UNKNOWN).count()
    assert unknown <= CONCURRENCY
    assert len(received) >= INVITATIONS - unknown
