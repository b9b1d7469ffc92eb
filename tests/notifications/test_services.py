from datetime import UTC, datetime

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings

from notifications.models import Channel, InboundSms, Message, Suppression
from notifications.selectors import (
    messages_unsettled,
    recipient_is_contactable,
    suppression_list,
    whatsapp_session_closes_at,
)
from notifications.services.emails import unsubscribe_token_new
from notifications.services.queue import message_queue, message_resend, messages_sent_in_batches, messages_sweep
from notifications.services.sending import TransientDeliveryError, message_send, message_status_advance
from notifications.services.suppressions import (
    suppression_add,
    suppression_remove,
    suppressions_add_many,
    unsubscribe_by_token,
)
from notifications.transports import DeliveryError
from tests.factories import MessageFactory
from tests.fakes import transports as scripted

pytestmark = pytest.mark.django_db

SCRIPTED = {"email": "tests.fakes.transports.ScriptedTransport", "sms": "tests.fakes.transports.ScriptedTransport"}


@pytest.fixture
def scripted_provider():
    scripted.script.clear()
    scripted.calls.clear()
    with override_settings(NOTIFICATIONS_TRANSPORTS=SCRIPTED):
        yield scripted
    scripted.script.clear()
    scripted.calls.clear()


def test_message_queue_sends_once_after_commit(outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = message_queue(channel=Channel.EMAIL, recipient="ann@example.com", subject="Hi", body_text="Body")
        assert outbox == []
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.attempts == 1
    assert message.provider_message_id == f"locmem-{message.public_id}"
    assert [(entry.recipient, entry.subject, entry.body_text) for entry in outbox] == [
        ("ann@example.com", "Hi", "Body")
    ]


def test_message_send_twice_calls_provider_once(outbox):
    message = MessageFactory()
    assert message_send(message_id=message.id).status == Message.Status.SENT
    assert message_send(message_id=message.id) is None
    assert len(outbox) == 1
    message.refresh_from_db()
    assert message.attempts == 1


def test_message_send_permanent_error_fails_without_retry(scripted_provider):
    scripted_provider.script.append(DeliveryError("invalid number", permanent=True))
    message = MessageFactory(channel=Channel.SMS, recipient="+33612345678")
    result = message_send(message_id=message.id)
    assert result.status == Message.Status.FAILED
    assert result.last_error == "invalid number"
    assert message_send(message_id=message.id) is None
    assert scripted_provider.calls == ["+33612345678"]


def test_message_send_transient_error_requeues_for_retry(scripted_provider):
    scripted_provider.script.append(DeliveryError("503 from provider", permanent=False, retry_after=7))
    message = MessageFactory()
    with pytest.raises(TransientDeliveryError) as raised:
        message_send(message_id=message.id)
    assert raised.value.retry_after == 7
    message.refresh_from_db()
    assert (message.status, message.last_error, message.attempts) == (Message.Status.QUEUED, "503 from provider", 1)
    assert message_send(message_id=message.id).status == Message.Status.SENT
    assert len(scripted_provider.calls) == 2


def test_message_send_unknown_outcome_is_never_resent(scripted_provider):
    scripted_provider.script.append(DeliveryError("read timeout", permanent=False, unknown=True))
    message = MessageFactory()
    assert message_send(message_id=message.id).status == Message.Status.UNKNOWN
    assert message_send(message_id=message.id) is None
    assert len(scripted_provider.calls) == 1


def test_message_send_opted_out_error_suppresses_the_number(scripted_provider):
    scripted_provider.script.append(DeliveryError("21610 unsubscribed", permanent=True, opted_out=True))
    message = MessageFactory(channel=Channel.SMS, recipient="+33612345678")
    assert message_send(message_id=message.id).status == Message.Status.FAILED
    assert Suppression.objects.get().reason == Suppression.Reason.STOP
    assert recipient_is_contactable(channel=Channel.SMS, recipient="+33612345678") is False


@pytest.fixture
def eager_retries(monkeypatch):
    """Eager retries run inline; with propagation on, Celery would re-raise the second `Retry`."""
    from notifications.tasks import send_message

    monkeypatch.setitem(send_message.app.conf, "task_eager_propagates", False)
    return send_message


def test_send_task_retries_transient_errors_then_sends(scripted_provider, eager_retries):
    send_message = eager_retries

    scripted_provider.script.extend([DeliveryError("500", permanent=False), DeliveryError("502", permanent=False)])
    message = MessageFactory()
    send_message.apply(args=[message.id], throw=False)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.SENT, 3)


@override_settings(SEND_MAX_RETRIES=2)
def test_send_task_fails_after_max_retries(scripted_provider, eager_retries):
    send_message = eager_retries

    scripted_provider.script.extend([DeliveryError("500", permanent=False)] * 3)
    message = MessageFactory()
    send_message.apply(args=[message.id], throw=False)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.last_error == "gave up after 2 retries: 500"
    assert message.attempts == 3


def _recipients(count: int) -> list[Message]:
    return [MessageFactory(recipient=f"r{i}@example.com") for i in range(count)]


def test_send_batch_sends_each_message_once(outbox):
    from notifications.tasks import send_messages

    messages = _recipients(3)
    send_messages.delay([message.id for message in messages])
    assert [entry.recipient for entry in outbox] == ["r0@example.com", "r1@example.com", "r2@example.com"]
    assert {(m.status, m.attempts) for m in Message.objects.all()} == {(Message.Status.SENT, 1)}


def test_send_batch_redelivered_skips_what_it_already_sent(outbox):
    from notifications.tasks import send_messages

    first, second = _recipients(2)
    # The first delivery was cut after one send: the broker hands the whole batch out again.
    message_send(message_id=first.id)
    send_messages.delay([first.id, second.id])
    assert [entry.recipient for entry in outbox] == ["r0@example.com", "r1@example.com"]
    assert Message.objects.get(id=first.id).attempts == 1


def test_send_batch_permanent_failure_fails_that_message_alone(scripted_provider):
    from notifications.tasks import send_messages

    scripted_provider.script.extend([None, DeliveryError("invalid address", permanent=True), None])
    messages = _recipients(3)
    send_messages.delay([message.id for message in messages])
    assert scripted_provider.calls == ["r0@example.com", "r1@example.com", "r2@example.com"]
    assert [(m.status, m.last_error) for m in Message.objects.order_by("id")] == [
        (Message.Status.SENT, ""),
        (Message.Status.FAILED, "invalid address"),
        (Message.Status.SENT, ""),
    ]


def test_send_batch_unexpected_error_of_one_message_does_not_stop_the_others(scripted_provider, caplog):
    from notifications.tasks import send_messages

    scripted_provider.script.extend([None, RuntimeError("bug in a transport"), None])
    messages = _recipients(3)
    send_messages.delay([message.id for message in messages])
    # The broken one may have reached the provider: `unknown` at once, never resent.
    assert [m.status for m in Message.objects.order_by("id")] == [
        Message.Status.SENT,
        Message.Status.UNKNOWN,
        Message.Status.SENT,
    ]
    assert f"message {messages[1].id} of a batch: unexpected error" in caplog.text


def test_send_batch_retries_a_transient_failure_alone_as_its_first_retry(scripted_provider, monkeypatch):
    from notifications.tasks import send_message, send_messages

    retried = []
    monkeypatch.setattr(send_message, "apply_async", lambda **options: retried.append(options))
    scripted_provider.script.extend([None, DeliveryError("429", permanent=False, retry_after=7), None])
    messages = _recipients(3)
    send_messages.delay([message.id for message in messages])
    assert retried == [{"args": [messages[1].id], "countdown": 7, "retries": 1}]
    assert [(m.status, m.last_error) for m in Message.objects.order_by("id")] == [
        (Message.Status.SENT, ""),
        (Message.Status.QUEUED, "429"),
        (Message.Status.SENT, ""),
    ]


def test_send_batch_transient_failure_retries_that_message_until_sent(scripted_provider, eager_retries):
    from notifications.tasks import send_messages

    scripted_provider.script.extend(
        [None, DeliveryError("500", permanent=False), DeliveryError("502", permanent=False), None, None]
    )
    messages = _recipients(3)
    send_messages.delay([message.id for message in messages])
    assert scripted_provider.calls == ["r0@example.com", *["r1@example.com"] * 3, "r2@example.com"]
    assert [(m.status, m.attempts) for m in Message.objects.order_by("id")] == [
        (Message.Status.SENT, 1),
        (Message.Status.SENT, 3),
        (Message.Status.SENT, 1),
    ]


@override_settings(SEND_MAX_RETRIES=2)
def test_send_batch_counts_its_own_try_among_the_retries(scripted_provider, eager_retries):
    from notifications.tasks import send_messages

    scripted_provider.script.extend([DeliveryError("500", permanent=False)] * 3 + [None])
    first, second = _recipients(2)
    send_messages.delay([first.id, second.id])
    first.refresh_from_db()
    # The batch's try and two retries: as many provider calls as a message sent on its own gets.
    assert (first.status, first.attempts, first.last_error) == (
        Message.Status.FAILED,
        3,
        "gave up after 2 retries: 500",
    )
    assert Message.objects.get(id=second.id).status == Message.Status.SENT


@override_settings(SEND_MAX_RETRIES=0)
def test_send_batch_without_retries_fails_a_transient_failure_at_once(scripted_provider):
    from notifications.tasks import send_messages

    scripted_provider.script.append(DeliveryError("503", permanent=False))
    [message] = _recipients(1)
    send_messages.delay([message.id])
    message.refresh_from_db()
    assert (message.status, message.last_error) == (Message.Status.FAILED, "gave up after 0 retries: 503")


def test_send_batch_time_limits_cover_a_batch_and_stay_below_the_visibility_timeout():
    from django.conf import settings

    from notifications.tasks import send_messages

    assert (send_messages.soft_time_limit, send_messages.time_limit) == (
        settings.SEND_BATCH_SOFT_TIME_LIMIT,
        settings.SEND_BATCH_TIME_LIMIT,
    )
    per_send = settings.PROVIDER_DEADLINE_SECONDS
    assert settings.SEND_BATCH_SIZE * per_send < send_messages.soft_time_limit < send_messages.time_limit
    assert send_messages.time_limit < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]


@pytest.fixture
def enqueued(monkeypatch):
    """What was handed to the broker, by task, instead of running it."""
    from notifications.tasks import send_message, send_messages

    tasks = []
    monkeypatch.setattr(send_message, "delay", lambda message_id: tasks.append(("send_message", message_id)))
    monkeypatch.setattr(send_messages, "delay", lambda message_ids: tasks.append(("send_messages", message_ids)))
    return tasks


@override_settings(SEND_BATCH_SIZE=2)
def test_messages_sent_in_batches_enqueues_chunks_on_commit(enqueued, django_capture_on_commit_callbacks):
    suppression_add(channel=Channel.EMAIL, recipient="gone@example.com", reason="bounce", source="sendgrid")
    with django_capture_on_commit_callbacks(execute=True):
        with messages_sent_in_batches():
            queued = [
                message_queue(channel=Channel.EMAIL, recipient=f"r{i}@example.com", body_text="B") for i in range(3)
            ]
            cancelled = message_queue(channel=Channel.EMAIL, recipient="gone@example.com", body_text="B")
        assert enqueued == []
    ids = [message.id for message in queued]
    assert cancelled.status == Message.Status.CANCELLED
    assert enqueued == [("send_messages", ids[:2]), ("send_messages", ids[2:])]


def test_messages_sent_in_batches_enqueues_nothing_when_the_transaction_rolls_back(enqueued):
    with pytest.raises(RuntimeError), transaction.atomic(), messages_sent_in_batches():
        message_queue(channel=Channel.EMAIL, recipient="ann@example.com", body_text="B")
        raise RuntimeError("the caller failed")
    with transaction.atomic(), messages_sent_in_batches():
        pass
    assert enqueued == []


def test_message_queue_outside_a_batch_scope_enqueues_one_task_per_message(
    enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with messages_sent_in_batches():
            pass
        first = message_queue(channel=Channel.EMAIL, recipient="ann@example.com", body_text="B")
        second = message_queue(channel=Channel.EMAIL, recipient="bob@example.com", body_text="B")
    assert enqueued == [("send_message", first.id), ("send_message", second.id)]


def test_suppression_add_cancels_queued_messages_and_blocks_new_ones(outbox):
    queued = MessageFactory(recipient="Ann@Example.com")
    sent = MessageFactory(recipient="ann@example.com", status=Message.Status.SENT)
    other = MessageFactory(recipient="bob@example.com")
    suppression = suppression_add(
        channel=Channel.EMAIL, recipient=" ANN@example.com", reason="bounce", source="sendgrid"
    )
    assert (suppression.recipient, suppression.reason, suppression.source) == ("ann@example.com", "bounce", "sendgrid")
    assert Message.objects.get(id=queued.id).status == Message.Status.CANCELLED
    assert Message.objects.get(id=sent.id).status == Message.Status.SENT
    assert Message.objects.get(id=other.id).status == Message.Status.QUEUED
    later = message_queue(channel=Channel.EMAIL, recipient="ann@example.com", body_text="again")
    assert later.status == Message.Status.CANCELLED
    assert outbox == []


def test_suppression_add_twice_keeps_the_first_reason():
    suppression_add(channel=Channel.SMS, recipient="+33612345678", reason="stop", source="twilio")
    again = suppression_add(channel=Channel.SMS, recipient="+33 6 12 34 56 78", reason="manual", source="admin")
    assert Suppression.objects.count() == 1
    assert again.reason == "stop"


def test_suppressions_add_many_suppresses_new_recipients_keeps_known_ones_and_announces_nothing(
    django_capture_on_commit_callbacks,
):
    suppression_add(channel=Channel.EMAIL, recipient="kept@example.com", reason="stop", source="link")
    queued = MessageFactory(recipient="Ann@Example.com")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        new = suppressions_add_many(
            channel=Channel.EMAIL,
            recipients=[" ANN@example.com", "kept@example.com", "ann@example.com", " "],
            reason="unsubscribe",
            source="delighted_import",
        )

    assert new == ["ann@example.com"]
    assert set(Suppression.objects.values_list("recipient", "reason", "source")) == {
        ("kept@example.com", "stop", "link"),
        ("ann@example.com", "unsubscribe", "delighted_import"),
    }
    assert Message.objects.get(id=queued.id).status == Message.Status.CANCELLED
    assert callbacks == []  # no suppression_created: no unsubscribe.created webhook for imported history


def test_suppression_remove_makes_recipient_contactable_again():
    suppression_add(channel=Channel.SMS, recipient="+33612345678", reason="stop", source="twilio")
    assert recipient_is_contactable(channel=Channel.SMS, recipient="+33612345678") is False
    assert recipient_is_contactable(channel=Channel.EMAIL, recipient="+33612345678") is True
    assert suppression_remove(channel=Channel.SMS, recipient="+33612345678") is True
    assert suppression_remove(channel=Channel.SMS, recipient="+33612345678") is False
    assert recipient_is_contactable(channel=Channel.SMS, recipient="+33612345678") is True


def test_message_send_cancels_when_recipient_was_suppressed_after_queueing(outbox):
    message = MessageFactory(recipient="ann@example.com")
    Suppression.objects.create(channel=Channel.EMAIL, recipient="ann@example.com", reason="manual")
    assert message_send(message_id=message.id).status == Message.Status.CANCELLED
    assert outbox == []


def test_suppression_list_filters_by_reason_and_period():
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        suppression_add(channel=Channel.EMAIL, recipient="a@example.com", reason="bounce", source="sendgrid")
    with time_machine.travel("2026-11-10 10:00Z", tick=False):
        suppression_add(channel=Channel.EMAIL, recipient="b@example.com", reason="unsubscribe", source="link")
        suppression_add(channel=Channel.EMAIL, recipient="c@example.com", reason="bounce", source="sendgrid")
    assert [s.recipient for s in suppression_list()] == ["c@example.com", "b@example.com", "a@example.com"]
    assert [s.recipient for s in suppression_list(reason="bounce")] == ["c@example.com", "a@example.com"]
    assert [s.recipient for s in suppression_list(since="2026-11-05T00:00Z")] == ["c@example.com", "b@example.com"]
    assert [s.recipient for s in suppression_list(until="2026-11-05T00:00Z")] == ["a@example.com"]


def test_message_status_advance_never_moves_backwards():
    message = MessageFactory(status=Message.Status.SENT)

    assert message_status_advance(message=message, status=Message.Status.DELIVERED) is True
    assert message_status_advance(message=message, status=Message.Status.SENT) is False
    assert message_status_advance(message=message, status=Message.Status.DELIVERED) is False

    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED


def test_unsubscribe_by_token_suppresses_the_recipient():
    token, token_hash = unsubscribe_token_new()
    MessageFactory(recipient="ann@example.com", unsubscribe_hash=token_hash, status=Message.Status.SENT)
    assert unsubscribe_by_token(token=token).recipient == "ann@example.com"
    assert Suppression.objects.get().reason == "unsubscribe"
    assert unsubscribe_by_token(token="not-a-token") is None
    assert token_hash != token and len(token_hash) == 64


def test_messages_sweep_marks_stuck_sends_unknown_and_requeues_lost_ones(outbox):
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        stuck = MessageFactory(status=Message.Status.SENDING)
        lost = MessageFactory(recipient="lost@example.com")
    with time_machine.travel("2026-11-01 10:05Z", tick=False):
        fresh = MessageFactory(status=Message.Status.SENDING)
    with time_machine.travel("2026-11-01 10:11Z", tick=False):
        assert messages_sweep() == {"unknown": 1, "requeued": 1, "unsettled": 0, "looked_up": 0, "settled": 0}
    assert Message.objects.get(id=stuck.id).status == Message.Status.UNKNOWN
    assert Message.objects.get(id=fresh.id).status == Message.Status.SENDING
    assert Message.objects.get(id=lost.id).status == Message.Status.SENT
    assert [entry.recipient for entry in outbox] == ["lost@example.com"]


@pytest.mark.parametrize("count", [1, 20])
def test_suppression_list_query_count(django_assert_num_queries, count):
    for i in range(count):
        suppression_add(channel=Channel.EMAIL, recipient=f"r{i}@example.com", reason="bounce", source="sendgrid")
    with django_assert_num_queries(1):
        assert len(list(suppression_list(reason="bounce"))) == count


def test_message_send_query_count_when_sent(outbox, django_assert_num_queries):
    message = MessageFactory()
    # The claim checks consent and reads the row back; then the status write: no transaction round trips.
    with django_assert_num_queries(2):
        sent = message_send(message_id=message.id)
    assert sent.status == Message.Status.SENT
    stored = Message.objects.get(id=message.id)
    assert (stored.status, stored.attempts, stored.provider_message_id) == (
        Message.Status.SENT,
        1,
        f"locmem-{message.public_id}",
    )
    assert stored.sent_at is not None


def test_message_send_query_count_when_already_claimed(outbox, django_assert_num_queries):
    message = MessageFactory(status=Message.Status.SENDING)
    with django_assert_num_queries(1):
        assert message_send(message_id=message.id) is None
    assert outbox == []


@override_settings(SEND_UNKNOWN_GRACE_SECONDS=3600)
def test_messages_sweep_counts_unknown_ones_past_the_grace_period_and_never_resends(outbox, caplog):
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        old = MessageFactory(status=Message.Status.UNKNOWN, recipient="old@example.com")
        resent = MessageFactory(status=Message.Status.UNKNOWN, resent_as=MessageFactory(status=Message.Status.SENT))
    with time_machine.travel("2026-11-01 10:30Z", tick=False):
        MessageFactory(status=Message.Status.UNKNOWN, recipient="recent@example.com")
    with time_machine.travel("2026-11-01 11:01Z", tick=False):
        assert messages_sweep() == {"unknown": 0, "requeued": 0, "unsettled": 1, "looked_up": 0, "settled": 0}
        assert list(messages_unsettled()) == [old]
    assert "1 message(s) in `unknown` past the grace period" in caplog.text
    assert outbox == []
    assert Message.objects.get(id=resent.id).status == Message.Status.UNKNOWN


def test_message_resend_queues_one_copy_and_keeps_the_original(outbox, django_capture_on_commit_callbacks):
    original = MessageFactory(status=Message.Status.UNKNOWN, recipient="ann@example.com", last_error="timed out")
    with django_capture_on_commit_callbacks(execute=True):
        copy = message_resend(message_id=original.id, by="ops@acme.test")
        assert message_resend(message_id=original.id, by="ops@acme.test") is None
    assert [(entry.recipient, entry.body_text) for entry in outbox] == [("ann@example.com", original.body_text)]
    original.refresh_from_db()
    assert (original.status, original.resent_as_id) == (Message.Status.UNKNOWN, copy.id)
    assert original.last_error == "resent by ops@acme.test; was: timed out"
    assert Message.objects.get(id=copy.id).status == Message.Status.SENT


@pytest.mark.parametrize("status", [Message.Status.SENT, Message.Status.QUEUED, Message.Status.FAILED])
def test_message_resend_refuses_messages_whose_outcome_is_known(outbox, status):
    message = MessageFactory(status=status)
    assert message_resend(message_id=message.id, by="ops") is None
    assert Message.objects.count() == 1


def test_message_resend_refuses_a_message_whose_body_was_purged(outbox):
    # The retention purge blanked it (notifications/retention.py): a copy would be an empty email.
    message = MessageFactory(status=Message.Status.UNKNOWN, subject="", body_text="")
    assert message_resend(message_id=message.id, by="ops") is None
    assert Message.objects.count() == 1
    assert outbox == []


def test_message_resend_to_a_suppressed_recipient_is_cancelled(outbox, django_capture_on_commit_callbacks):
    original = MessageFactory(status=Message.Status.UNKNOWN, recipient="ann@example.com")
    suppression_add(channel=Channel.EMAIL, recipient="ann@example.com", reason="unsubscribe", source="link")
    with django_capture_on_commit_callbacks(execute=True):
        copy = message_resend(message_id=original.id, by="ops")
    assert Message.objects.get(id=copy.id).status == Message.Status.CANCELLED
    assert outbox == []


def test_message_send_query_count_when_suppressed(outbox, django_assert_num_queries):
    message = MessageFactory(recipient="Ann@Example.com")
    suppression_add(channel=Channel.EMAIL, recipient="ann@example.com", reason="bounce", source="sendgrid")
    Message.objects.filter(id=message.id).update(status=Message.Status.QUEUED)
    with django_assert_num_queries(2):
        assert message_send(message_id=message.id).status == Message.Status.CANCELLED
    stored = Message.objects.get(id=message.id)
    assert (stored.status, stored.last_error) == (Message.Status.CANCELLED, "recipient is suppressed")
    assert outbox == []


def test_message_send_cancels_a_message_without_recipient_key(outbox):
    # Rows written around `save()` (bulk_create) have no key: the claim refuses rather than skip consent.
    [message] = Message.objects.bulk_create(
        [Message(channel=Channel.EMAIL, recipient="ann@example.com", body_text="x")]
    )
    assert message_send(message_id=message.id).status == Message.Status.CANCELLED
    assert outbox == []


@pytest.mark.parametrize(
    ("channel", "recipient", "key"),
    [(Channel.EMAIL, " Ann@Example.COM ", "ann@example.com"), (Channel.SMS, "+33 6 12-34-56-78", "+33612345678")],
)
def test_message_save_keeps_the_recipient_key_in_the_suppressions_form(channel, recipient, key):
    message = MessageFactory(channel=channel, recipient=recipient)
    assert Message.objects.get(id=message.id).recipient_key == key
    message.recipient = "Zoe@Example.com" if channel == Channel.EMAIL else "+33 7 00 00 00 00"
    message.save(update_fields=["recipient"])
    assert Message.objects.get(id=message.id).recipient_key == ("zoe@example.com" if channel == Channel.EMAIL
                                                                else "+33700000000")  # fmt: skip


def test_a_free_form_whatsapp_message_outside_the_session_is_cancelled_unsent(
    outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = message_queue(channel=Channel.WHATSAPP, recipient="+33612345678", body_text="Hello")
    assert (message.status, message.last_error) == (
        Message.Status.CANCELLED,
        "outside the customer's 24-hour WhatsApp session: only an approved template may be sent",
    )
    assert outbox == []


def test_a_whatsapp_template_goes_outside_the_session_and_free_form_inside_it(
    outbox, django_capture_on_commit_callbacks
):
    template = {"content_sid": "HX1", "variables": {"1": "Q"}}
    with django_capture_on_commit_callbacks(execute=True):
        message_queue(channel=Channel.WHATSAPP, recipient="+33612345678", body_text="Q", template=template)
    InboundSms.objects.create(provider_message_id="SM1", channel=Channel.WHATSAPP, phone="+33612345678", body="hi")
    with django_capture_on_commit_callbacks(execute=True):
        message_queue(channel=Channel.WHATSAPP, recipient="+33 6 12 34 56 78", body_text="Answer")
    assert [(entry.body_text, entry.template) for entry in outbox] == [("Q", template), ("Answer", {})]


def test_whatsapp_session_closes_a_day_after_the_customer_s_last_whatsapp_message():
    with time_machine.travel("2026-12-01 08:00Z", tick=False):
        InboundSms.objects.create(provider_message_id="SM1", channel=Channel.WHATSAPP, phone="+33612345678", body="a")
        # An SMS from the same number opens no WhatsApp session.
        InboundSms.objects.create(provider_message_id="SM2", channel=Channel.SMS, phone="+33612345678", body="b")
    closes = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    with time_machine.travel("2026-12-02 07:59Z", tick=False):
        assert whatsapp_session_closes_at(phone="+33612345678") == closes
    with time_machine.travel("2026-12-02 08:00Z", tick=False):
        assert whatsapp_session_closes_at(phone="+33612345678") is None
