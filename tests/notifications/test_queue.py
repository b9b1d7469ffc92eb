"""Queuing and the sweeper: a broker down at commit loses no message, each stuck message is enqueued again once per
lease (not at every sweep), and `unknown` texts are looked up at Twilio by sid."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from notifications.models import Channel, Message
from notifications.services.queue import message_queue, messages_sent_in_batches, messages_sweep
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    from notifications.tasks import send_message, send_messages

    tasks = []
    monkeypatch.setattr(send_message, "delay", lambda message_id: tasks.append(message_id))
    monkeypatch.setattr(send_messages, "delay", lambda ids: tasks.extend(ids))
    return tasks


@pytest.fixture
def broker_down(broker_refusing):
    from notifications.tasks import send_message, send_messages

    with broker_refusing(send_message, send_messages):
        yield


def test_a_broker_down_at_commit_loses_no_message(broker_down, django_capture_on_commit_callbacks, enqueued_later):
    with django_capture_on_commit_callbacks(execute=True):
        message = message_queue(channel=Channel.EMAIL, recipient="ann@example.com", body_text="b")
    message.refresh_from_db()
    # The queuing request did not fail; the message waits, `queued`, for the sweeper.
    assert message.status == Message.Status.QUEUED
    assert message.sweep_at is not None
    later = message.sweep_at + timedelta(seconds=1)
    assert enqueued_later(later) == [message.id]


@pytest.fixture
def enqueued_later(monkeypatch):
    """Run the sweeper at `when` with a working broker; returns the ids it enqueued."""

    def sweep(when):
        from notifications.tasks import send_message

        tasks = []
        with monkeypatch.context() as broker:  # working for this sweep only
            broker.setattr(send_message, "delay", lambda message_id: tasks.append(message_id))
            messages_sweep(now=when)
        return tasks

    return sweep


def test_a_dispatcher_batch_with_the_broker_down_is_swept_later(broker_down, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), messages_sent_in_batches():
        messages = [
            message_queue(channel=Channel.EMAIL, recipient=f"c{i}@example.com", body_text="b") for i in range(3)
        ]
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.QUEUED}
    assert all(message.sweep_at for message in Message.objects.all())
    assert len(messages) == 3


@override_settings(SEND_LEASE_SECONDS=600)
def test_the_sweeper_enqueues_each_stuck_message_once_per_lease(enqueued):
    now = timezone.now()
    backlog = [MessageFactory(sweep_at=now - timedelta(minutes=20)) for _ in range(3)]
    fresh = MessageFactory(sweep_at=now + timedelta(minutes=30))
    messages_sweep(now=now)
    assert sorted(enqueued) == sorted(message.id for message in backlog)
    # The next sweeps within the lease enqueue nothing again, however long the backlog takes.
    enqueued.clear()
    messages_sweep(now=now + timedelta(minutes=1))
    messages_sweep(now=now + timedelta(minutes=9))
    assert enqueued == []
    # A lease later, still queued: their tasks were lost too, so once more.
    messages_sweep(now=now + timedelta(minutes=10, seconds=1))
    assert sorted(enqueued) == sorted(message.id for message in backlog)
    assert fresh.id not in enqueued


def test_the_sweeper_leaves_a_retry_waiting_out_its_backoff_alone(enqueued, scripted_retry):
    message = MessageFactory()
    scripted_retry(message, countdown=900)
    messages_sweep(now=timezone.now() + timedelta(minutes=11))
    assert enqueued == []
    messages_sweep(now=timezone.now() + timedelta(minutes=26))
    assert enqueued == [message.id]


@pytest.fixture
def scripted_retry():
    from notifications.services.sending import message_retry_at

    def retry(message, *, countdown):
        message_retry_at(message_id=message.id, countdown=countdown)

    return retry


@override_settings(SEND_LEASE_SECONDS=600)
def test_the_sweeper_makes_a_send_that_outlived_its_lease_unknown_and_never_resends_it(enqueued):
    now = timezone.now()
    stuck = MessageFactory(status=Message.Status.SENDING)
    Message.objects.filter(id=stuck.id).update(updated_at=now - timedelta(minutes=11))
    assert messages_sweep(now=now)["unknown"] == 1
    stuck.refresh_from_db()
    assert stuck.status == Message.Status.UNKNOWN
    assert enqueued == []


def test_the_sweeper_looks_an_unknown_text_up_at_twilio_by_sid(fake_providers, enqueued):
    sid = "SM" + "4" * 32
    fake_providers.twilio_statuses[sid] = ("delivered", "")
    message = MessageFactory(
        channel=Channel.SMS, recipient="+33612345678", status=Message.Status.UNKNOWN, provider_message_id=sid,
        sweep_at=timezone.now(),
    )  # fmt: skip
    assert messages_sweep()["settled"] == 1
    assert Message.objects.get(id=message.id).status == Message.Status.DELIVERED


def test_the_sweeper_asks_again_later_about_a_text_twilio_still_has_queued(fake_providers, enqueued):
    sid = "SM" + "5" * 32
    fake_providers.twilio_statuses[sid] = ("queued", "")
    message = MessageFactory(
        channel=Channel.SMS, recipient="+33612345678", status=Message.Status.UNKNOWN, provider_message_id=sid,
        sweep_at=timezone.now(),
    )  # fmt: skip
    result = messages_sweep()
    assert (result["looked_up"], result["settled"]) == (1, 0)
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    assert message.sweep_at > timezone.now() + timedelta(seconds=50)
    assert messages_sweep()["looked_up"] == 0  # not asked again at every sweep


def test_an_unknown_email_is_left_for_its_webhook(enqueued):
    message = MessageFactory(status=Message.Status.UNKNOWN, sweep_at=timezone.now())
    assert messages_sweep()["looked_up"] == 0
    assert Message.objects.get(id=message.id).sweep_at is None


@time_machine.travel("2026-03-10 12:00Z", tick=False)
def test_message_queue_keeps_the_recipients_time_zones_for_quiet_hours(enqueued):
    message = message_queue(channel=Channel.SMS, recipient="+12085550123", body_text="b",
                            time_zones=["America/Boise", "America/Los_Angeles"])  # fmt: skip
    assert message.time_zones == "America/Boise,America/Los_Angeles"


@pytest.mark.parametrize("n", [1, 20])
def test_messages_queue_stores_a_batch_in_one_consent_query_and_one_insert(
    n, enqueued, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.models import Suppression
    from notifications.services.queue import messages_queue

    Suppression.objects.create(channel="sms", recipient="+33600000000", reason="stop")
    contents = [{"channel": "email", "recipient": f"Ann{k}@Example.com", "body_text": f"hello {k}"} for k in range(n)]
    contents.insert(0, {"channel": "sms", "recipient": "+33 6 00 00 00 00", "body_text": "hi", "time_zones": ["UTC"]})
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        messages = messages_queue(contents)
    assert len(queries) == 2  # the suppressions of every recipient, then one INSERT
    assert [m.recipient for m in messages] == [c["recipient"] for c in contents]
    assert (messages[0].status, messages[0].last_error, messages[0].sweep_at) == (
        "cancelled",
        "recipient is suppressed",
        None,
    )
    stored = Message.objects.filter(status="queued").order_by("id")
    assert [(m.recipient_key, m.body_text) for m in stored] == [(f"ann{k}@example.com", f"hello {k}") for k in range(n)]
    assert all(m.sweep_at > timezone.now() for m in messages[1:])
    assert enqueued == [m.id for m in stored]
