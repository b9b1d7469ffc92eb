"""Sending exactly once: what provably did not leave is retried, what may have been read is `unknown`, statuses
only move forward (compare-and-set), and quiet hours and consent are checked again right before the call."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from notifications import ratelimit
from notifications.models import Channel, Message, Suppression
from notifications.services.provider_events import twilio_status_record
from notifications.services.sending import TransientDeliveryError, message_send, message_status_advance
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


class _BrokenBucket:
    def take(self, *args):
        raise ConnectionError("Redis is down")


def test_a_rate_limiter_that_is_down_retries_the_send_without_claiming_it(scripted_provider, monkeypatch, settings):
    settings.NOTIFICATIONS_RATE_LIMITS = {"email": 5, "sms": 5}
    monkeypatch.setattr(ratelimit, "_bucket", _BrokenBucket())
    message = MessageFactory()
    with pytest.raises(TransientDeliveryError, match="rate limiter unavailable: ConnectionError"):
        message_send(message_id=message.id)
    message.refresh_from_db()
    # Never claimed, never `sending`, so never `unknown`: the retry sends it.
    assert (message.status, message.attempts, scripted_provider.calls) == (Message.Status.QUEUED, 0, [])


def test_the_rate_limit_wait_comes_before_the_claim(scripted_provider, monkeypatch, settings):
    settings.NOTIFICATIONS_RATE_LIMITS = {"email": 5, "sms": 5}
    message = MessageFactory()
    seen = []
    monkeypatch.setattr(
        "notifications.services.sending.rate_limit_wait",
        lambda channel: seen.append((channel, Message.objects.get(id=message.id).status)),
    )
    assert message_send(message_id=message.id).status == Message.Status.SENT
    assert seen == [(Channel.EMAIL, Message.Status.QUEUED)]


def test_a_duplicate_task_takes_no_rate_limit_token(scripted_provider, monkeypatch, settings):
    settings.NOTIFICATIONS_RATE_LIMITS = {"email": 5, "sms": 5}
    waits = []
    monkeypatch.setattr("notifications.services.sending.rate_limit_wait", waits.append)
    message = MessageFactory(status=Message.Status.SENT)
    assert message_send(message_id=message.id) is None
    assert waits == []


def test_a_transport_that_fails_to_build_puts_the_message_back_and_retries(monkeypatch):
    message = MessageFactory()

    def broken(channel):
        raise ValueError("bad TWILIO_API_BASE_URL")

    monkeypatch.setattr("notifications.services.sending.transport_for", broken)
    with pytest.raises(TransientDeliveryError, match="ValueError before the provider call"):
        message_send(message_id=message.id)
    message.refresh_from_db()
    assert (message.status, message.last_error) == (
        Message.Status.QUEUED,
        "not sent: ValueError before the provider call",
    )


def test_an_unclassified_error_during_the_call_is_unknown_not_retried(scripted_provider):
    scripted_provider.script.append(RuntimeError("SDK bug after writing"))
    message = MessageFactory()
    with pytest.raises(RuntimeError):
        message_send(message_id=message.id)
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    assert message_send(message_id=message.id) is None
    assert len(scripted_provider.calls) == 1


def test_a_late_timeout_never_turns_a_delivered_message_unknown(scripted_provider, monkeypatch):
    message = MessageFactory(channel=Channel.SMS, recipient="+33612345678")

    def callback_then_timeout(msg):
        # Twilio's `delivered` callback lands while our request is still waiting for its answer.
        twilio_status_record(message_public_id=str(msg.public_id), sid="SM1", status="delivered")
        raise DeliveryError("Twilio outcome unknown", permanent=False, unknown=True)

    scripted_provider.script.append(None)
    monkeypatch.setattr(scripted.ScriptedTransport, "send", lambda self, msg: callback_then_timeout(msg))
    message_send(message_id=message.id)
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (Message.Status.DELIVERED, "SM1")


def test_a_stale_copy_cannot_move_a_message_backwards():
    message = MessageFactory(status=Message.Status.SENT)
    stale = Message.objects.get(id=message.id)
    # Another process (a concurrent callback) moved it to delivered after `stale` was read.
    assert message_status_advance(message=Message.objects.get(id=message.id), status=Message.Status.DELIVERED)
    assert message_status_advance(message=stale, status=Message.Status.SENT) is False
    assert message_status_advance(message=stale, status=Message.Status.UNKNOWN) is False
    assert Message.objects.get(id=message.id).status == Message.Status.DELIVERED


@pytest.mark.parametrize(
    ("order", "final"),
    [
        (["sent", "delivered"], Message.Status.DELIVERED),
        (["delivered", "sent"], Message.Status.DELIVERED),
        (["delivered", "sent", "undelivered"], Message.Status.UNDELIVERED),
        (["failed", "delivered", "sent"], Message.Status.FAILED),
    ],
)
def test_twilio_callbacks_in_any_order_end_at_the_furthest_status(order, final):
    message = MessageFactory(channel=Channel.SMS, recipient="+33612345678", status=Message.Status.UNKNOWN)
    for status in order:
        twilio_status_record(message_public_id=str(message.public_id), sid="SM1", status=status)
    assert Message.objects.get(id=message.id).status == final


@pytest.mark.parametrize("code", ["21211", "21614", "21635", "30006"])
def test_an_unreachable_number_reported_by_a_callback_is_kept_off(code):
    message = MessageFactory(channel=Channel.SMS, recipient="+33612345678", status=Message.Status.SENT)
    twilio_status_record(message_public_id=str(message.public_id), sid="SM1", status="undelivered", error_code=code)
    assert list(Suppression.objects.values_list("recipient", "reason")) == [("+33612345678", "bounce")]


def test_an_unreachable_number_refused_at_send_fails_and_is_kept_off(scripted_provider):
    scripted_provider.script.append(DeliveryError("Twilio 400 error 21614", permanent=True, unreachable=True))
    message = MessageFactory(channel=Channel.SMS, recipient="+33612345678")
    assert message_send(message_id=message.id).status == Message.Status.FAILED
    assert list(Suppression.objects.values_list("recipient", "reason")) == [("+33612345678", "bounce")]
    # The next text to that number is cancelled by the claim, never handed to Twilio.
    again = MessageFactory(channel=Channel.SMS, recipient="+33612345678")
    assert message_send(message_id=again.id).status == Message.Status.CANCELLED
    assert len(scripted_provider.calls) == 1


# --- quiet hours, right before the call -----------------------------------------------------------------------


@time_machine.travel(datetime(2026, 3, 10, 22, 30, tzinfo=UTC), tick=False)  # 23:30 in Paris
def test_a_text_whose_window_closed_since_it_was_queued_waits_for_it_to_open(scripted_provider, settings):
    settings.SMS_SEND_WINDOW = "09:00-20:00"
    message = MessageFactory(channel=Channel.SMS, recipient="+33612345678", time_zones="Europe/Paris")
    result = message_send(message_id=message.id)
    assert scripted_provider.calls == []
    message.refresh_from_db()
    opens = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    assert (message.status, message.not_before, message.sweep_at) == (Message.Status.QUEUED, opens, opens)
    assert result.status == Message.Status.QUEUED
    # A retry or the sweeper before the window opens sends nothing either.
    assert message_send(message_id=message.id) is None
    with time_machine.travel(opens, tick=False):
        assert message_send(message_id=message.id).status == Message.Status.SENT
    assert scripted_provider.calls == ["+33612345678"]


@time_machine.travel(datetime(2026, 3, 10, 16, 30, tzinfo=UTC), tick=False)  # 10:30 in Boise, 09:30 in Los Angeles
def test_a_text_to_a_number_spanning_zones_waits_for_the_strictest(scripted_provider, settings):
    settings.SMS_SEND_WINDOW = "10:00-20:00"
    message = MessageFactory(
        channel=Channel.SMS, recipient="+12085550123", time_zones="America/Boise,America/Los_Angeles"
    )
    message_send(message_id=message.id)
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    # Open in Boise since 10:00, but Los Angeles waits until 10:00 Pacific.
    assert message.not_before == datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


@time_machine.travel(datetime(2026, 3, 10, 18, 0, tzinfo=UTC), tick=False)  # 19:00 in Paris
def test_a_texts_validity_never_runs_past_the_windows_end(fake_providers, settings):
    settings.SMS_SEND_WINDOW = "09:00-20:00"
    settings.SMS_VALIDITY_PERIOD_SECONDS = 14400
    message = MessageFactory(channel=Channel.SMS, recipient="+33612345678", time_zones="Europe/Paris")
    assert message_send(message_id=message.id).status == Message.Status.SENT
    # Twilio may try for an hour, until 20:00 in Paris, not four.
    assert fake_providers.twilio()[0].form()["ValidityPeriod"] == "3600"


def test_a_text_without_time_zones_has_no_quiet_hours(scripted_provider, settings):
    # Answers to the customer's own texts ("What is the main reason?") go out whenever they write.
    settings.SMS_SEND_WINDOW = "09:00-09:01"
    message = MessageFactory(channel=Channel.SMS, recipient="+33612345678", time_zones="")
    assert message_send(message_id=message.id).status == Message.Status.SENT


def test_a_retry_is_not_claimed_before_its_time(scripted_provider):
    message = MessageFactory(not_before=timezone.now() + timedelta(seconds=30))
    assert message_send(message_id=message.id) is None
    assert scripted_provider.calls == []
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert message_send(message_id=message.id).status == Message.Status.SENT
