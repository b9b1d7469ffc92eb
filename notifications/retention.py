"""What the retention purge removes from notifications' tables (config/retention.py, docs/retention.md)."""

from datetime import datetime

from config.retention import Purgeable
from notifications.models import InboundEmail, InboundSms, Message, ProviderEvent

# SendGrid's open events are what the dashboard's funnel counts as "opened" when it is recounted
# (insights.rollups): they are kept as long as their message. They hold no personal data.
FUNNEL_EVENT_KINDS = ["open"]
# Still to be sent, or being sent: the body is what goes out.
UNSENT_STATUSES = [Message.Status.QUEUED, Message.Status.SENDING]


def _provider_events_rows():
    return ProviderEvent.objects.exclude(kind__in=FUNNEL_EVENT_KINDS)


def _provider_events_purge(ids: list[int], now: datetime) -> int:
    return ProviderEvent.objects.filter(pk__in=ids).delete()[0]


def _message_bodies_rows():
    return Message.objects.exclude(body_text="").exclude(status__in=UNSENT_STATUSES)


def _message_bodies_purge(ids: list[int], now: datetime) -> int:
    # The row stays: its status, channel and times are the funnel's sent, delivered and bounced figures,
    # and invitations and case threads point at it. What was written to the person goes.
    return Message.objects.filter(pk__in=ids).update(subject="", body_text="", body_html="", headers={}, last_error="")


def _inbound_sms_rows():
    return InboundSms.objects.all()


def _inbound_sms_purge(ids: list[int], now: datetime) -> int:
    return InboundSms.objects.filter(pk__in=ids).delete()[0]


def _inbound_emails_rows():
    return InboundEmail.objects.all()


def _inbound_emails_purge(ids: list[int], now: datetime) -> int:
    return InboundEmail.objects.filter(pk__in=ids).delete()[0]


PURGEABLES = [
    Purgeable(
        kind="provider_events",
        label="provider events",
        setting="RETENTION_PROVIDER_EVENTS_DAYS",
        clock="received_at",
        rows=_provider_events_rows,
        purge=_provider_events_purge,
        minimum_days=3,
        why_minimum="SendGrid retries an event for up to 72 hours; the stored event is what makes a retry a no-op",
    ),
    Purgeable(
        kind="message_bodies",
        label="message bodies",
        setting="RETENTION_MESSAGE_BODIES_DAYS",
        clock="created_at",
        rows=_message_bodies_rows,
        purge=_message_bodies_purge,
        minimum_days=2,
        why_minimum="an operator may resend an `unknown` message (SEND_UNKNOWN_GRACE_SECONDS, a day) from its body",
        blanks=True,
    ),
    Purgeable(
        kind="inbound_sms",
        label="inbound SMS",
        setting="RETENTION_INBOUND_DAYS",
        clock="received_at",
        rows=_inbound_sms_rows,
        purge=_inbound_sms_purge,
    ),
    Purgeable(
        kind="inbound_emails",
        label="inbound emails",
        setting="RETENTION_INBOUND_DAYS",
        clock="received_at",
        rows=_inbound_emails_rows,
        purge=_inbound_emails_purge,
    ),
]
