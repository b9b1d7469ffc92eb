"""Reads of messages and consent: who may be contacted, and the suppression list."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from notifications.models import Channel, InboundSms, Message, Suppression, recipient_normalize


def recipient_is_contactable(*, channel: str, recipient: str) -> bool:
    normalized = recipient_normalize(channel=channel, recipient=recipient)
    return bool(normalized) and not Suppression.objects.filter(channel=channel, recipient=normalized).exists()


# Suppressions that are the person's own wish (not a bounce or a provider's drop): they speak for every way
# of asking them, the web widget on the company's site included.
OPT_OUT_REASONS = (
    Suppression.Reason.UNSUBSCRIBE,
    Suppression.Reason.SPAMREPORT,
    Suppression.Reason.STOP,
    Suppression.Reason.MANUAL,
)


def recipient_opted_out(*, channel: str, recipient: str) -> bool:
    """Whether the recipient asked not to be surveyed on `channel` (unsubscribe, spam report, STOP, by hand)."""
    normalized = recipient_normalize(channel=channel, recipient=recipient)
    return (
        bool(normalized)
        and Suppression.objects.filter(channel=channel, recipient=normalized, reason__in=OPT_OUT_REASONS).exists()
    )


def recipient_suppressed_sql(*, channel: str, recipient: str) -> tuple[str, list[str]]:
    """A SQL condition, with its parameters, true when the recipient may not be contacted: for a caller
    that folds consent into a statement it runs anyway instead of asking in one more round trip."""
    normalized = recipient_normalize(channel=channel, recipient=recipient)
    if not normalized:
        return "1 = 1", []
    table = connection.ops.quote_name(Suppression._meta.db_table)
    return f"EXISTS (SELECT 1 FROM {table} WHERE channel = %s AND recipient = %s)", [channel, normalized]


def recipients_suppressed(*, recipients: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which `(channel, address)` pairs, as given, may not be contacted: one query for a whole batch."""
    by_normalized: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for channel, address in recipients:
        normalized = recipient_normalize(channel=channel, recipient=address)
        by_normalized.setdefault((channel, normalized), []).append((channel, address))
    blocked = {key for key in by_normalized if not key[1]}
    lookups = [
        Suppression.objects.filter(channel=channel, recipient__any_of=values).values_list("channel", "recipient")
        for channel in Channel.values
        if (values := [value for kind, value in by_normalized if kind == channel and value])
    ]
    if lookups:
        blocked |= set(lookups[0].union(*lookups[1:]))
    return {pair for key in blocked for pair in by_normalized.get(key, [])}


def suppression_list(
    *, reason: str | None = None, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[Suppression]:
    """Suppressions, newest first, optionally of one reason and within [since, until)."""
    suppressions = Suppression.objects.order_by("-created_at", "-id")
    if reason:
        suppressions = suppressions.filter(reason=reason)
    if since:
        suppressions = suppressions.filter(created_at__gte=since)
    if until:
        suppressions = suppressions.filter(created_at__lt=until)
    return suppressions


def messages_unsettled(*, now: datetime | None = None) -> QuerySet[Message]:
    """`unknown` messages no webhook settled within `SEND_UNKNOWN_GRACE_SECONDS` and nobody resent: for an operator."""
    now = now or timezone.now()
    grace = now - timedelta(seconds=settings.SEND_UNKNOWN_GRACE_SECONDS)
    return Message.objects.filter(status=Message.Status.UNKNOWN, updated_at__lt=grace, resent_as__isnull=True)


def sms_thread_of(*, phone: str, channel: str = Channel.SMS) -> str:
    """The conversation the number's next SMS (or WhatsApp message) answers: the `thread` of the latest message
    we queued to it on that channel (an agent's reply carries its case's; a survey's questions carry none)."""
    key = recipient_normalize(channel=channel, recipient=phone)
    if not key:
        return ""
    latest = (
        Message.objects.filter(recipient_key=key, channel=channel)
        .order_by("-created_at", "-pk")
        .values_list("thread", flat=True)
        .first()
    )
    return latest or ""


def whatsapp_session_closes_at(*, phone: str, now: datetime | None = None) -> datetime | None:
    """When the number's WhatsApp session closes: `WHATSAPP_SESSION_HOURS` after its last WhatsApp message to us;
    None when it is closed (or never opened). Inside it we may write freely; outside it only a template goes."""
    key = recipient_normalize(channel=Channel.WHATSAPP, recipient=phone)
    if not key:
        return None
    now = now or timezone.now()
    session = timedelta(hours=settings.WHATSAPP_SESSION_HOURS)
    last = (
        InboundSms.objects.filter(phone=key, channel=Channel.WHATSAPP, received_at__gt=now - session)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    return last + session if last else None
