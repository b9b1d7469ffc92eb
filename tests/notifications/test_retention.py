"""notifications/retention.py: provider events, message bodies and inbound SMS and emails, each at its age boundary."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import InboundEmail, InboundSms, Message, ProviderEvent
from tests.factories import MessageFactory
from workspace.services.retention import purge_expired

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _aged(model, field: str, days: int, seconds: int, **fields):
    """A row whose `field` is `days` days before NOW, plus `seconds` (negative: just older than the boundary)."""
    row = model.objects.create(**fields) if model is not Message else MessageFactory(**fields)
    model.objects.filter(pk=row.pk).update(**{field: NOW - timedelta(days=days) + timedelta(seconds=seconds)})
    return row


def test_provider_events_go_at_their_age_and_opens_stay(settings):
    settings.RETENTION_PROVIDER_EVENTS_DAYS = "30"
    older = _aged(ProviderEvent, "received_at", 30, -1, provider="sendgrid", event_id="a", kind="delivered")
    boundary = _aged(ProviderEvent, "received_at", 30, 0, provider="sendgrid", event_id="b", kind="delivered")
    old_open = _aged(ProviderEvent, "received_at", 400, 0, provider="sendgrid", event_id="c", kind="open")

    [report] = purge_expired(kinds=["provider_events"], now=NOW)

    assert report.removed == 1
    assert set(ProviderEvent.objects.values_list("pk", flat=True)) == {boundary.pk, old_open.pk}
    assert not ProviderEvent.objects.filter(pk=older.pk).exists()


def test_message_bodies_are_blanked_and_the_message_kept(settings):
    settings.RETENTION_MESSAGE_BODIES_DAYS = "90"
    older = _aged(
        Message,
        "created_at",
        90,
        -1,
        status=Message.Status.DELIVERED,
        body_html="<p>Hi Jeanne</p>",
        headers={"List-Unsubscribe": "<https://x/u/token/>"},
        last_error="550 jeanne@example.com",
        sent_at=NOW - timedelta(days=91),
    )
    boundary = _aged(Message, "created_at", 90, 0, status=Message.Status.DELIVERED)
    still_queued = _aged(Message, "created_at", 200, 0, status=Message.Status.QUEUED)

    [report] = purge_expired(kinds=["message_bodies"], now=NOW)

    assert report.removed == 1
    older.refresh_from_db()
    assert (older.subject, older.body_text, older.body_html, older.headers, older.last_error) == ("", "", "", {}, "")
    # What the funnel counts stays: the message, its status and when it left.
    assert (older.status, older.sent_at, older.recipient) == (
        Message.Status.DELIVERED,
        NOW - timedelta(days=91),
        "customer@example.com",
    )
    assert Message.objects.get(pk=boundary.pk).body_text == "How likely are you to recommend us?"
    assert Message.objects.get(pk=still_queued.pk).body_text == "How likely are you to recommend us?"


def test_a_second_purge_of_message_bodies_finds_nothing(settings):
    settings.RETENTION_MESSAGE_BODIES_DAYS = "90"
    _aged(Message, "created_at", 100, 0, status=Message.Status.SENT)

    assert [report.removed for report in purge_expired(kinds=["message_bodies"], now=NOW)] == [1]
    assert [report.removed for report in purge_expired(kinds=["message_bodies"], now=NOW)] == [0]


def test_inbound_sms_and_emails_go_at_their_age(settings):
    settings.RETENTION_INBOUND_DAYS = "90"
    sms_old = _aged(InboundSms, "received_at", 90, -1, provider_message_id="SM1", phone="+33612345678", body="Non")
    sms_kept = _aged(InboundSms, "received_at", 90, 0, provider_message_id="SM2", phone="+33612345678", body="Oui")
    email_old = _aged(InboundEmail, "received_at", 90, -1, sender="a@example.com", text="Merci", outcome="routed")
    email_kept = _aged(InboundEmail, "received_at", 90, 0, sender="b@example.com", text="Bien", outcome="routed")

    reports = purge_expired(kinds=["inbound_sms", "inbound_emails"], now=NOW)

    assert {report.kind: report.removed for report in reports} == {"inbound_sms": 1, "inbound_emails": 1}
    assert list(InboundSms.objects.values_list("pk", flat=True)) == [sms_kept.pk]
    assert list(InboundEmail.objects.values_list("pk", flat=True)) == [email_kept.pk]
    assert not InboundSms.objects.filter(pk=sms_old.pk).exists()
    assert not InboundEmail.objects.filter(pk=email_old.pk).exists()
