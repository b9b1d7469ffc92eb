"""Reads of messages and consent: who may be contacted, and the suppression list."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from notifications.models import (
    HASHED_PREFIX,
    Channel,
    InboundEmail,
    InboundSms,
    Message,
    Suppression,
    recipient_hashed,
    recipient_normalize,
)

# Every consent check below matches a suppression stored as the address or as its keyed hash (an erased
# person's: `notifications.services.erasure`), in the same statement: one more value for the unique index.


def recipient_is_contactable(*, channel: str, recipient: str) -> bool:
    normalized = recipient_normalize(channel=channel, recipient=recipient)
    if not normalized:
        return False
    forms = [normalized, recipient_hashed(channel=channel, recipient=normalized)]
    return not Suppression.objects.filter(channel=channel, recipient__in=forms).exists()


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
    hashed = recipient_hashed(channel=channel, recipient=normalized)
    return (
        f"EXISTS (SELECT 1 FROM {table} WHERE channel = %s AND recipient IN (%s, %s))",
        [channel, normalized, hashed],
    )


def recipients_suppressed(*, recipients: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which `(channel, address)` pairs, as given, may not be contacted: one query for a whole batch."""
    by_normalized: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for channel, address in recipients:
        normalized = recipient_normalize(channel=channel, recipient=address)
        by_normalized.setdefault((channel, normalized), []).append((channel, address))
    blocked = {key for key in by_normalized if not key[1]}
    hashes = {
        (channel, recipient_hashed(channel=channel, recipient=value)): (channel, value)
        for channel, value in by_normalized
        if value
    }
    lookups = [
        Suppression.objects.filter(channel=channel, recipient__any_of=values).values_list("channel", "recipient")
        for channel in Channel.values
        if (
            values := [value for kind, value in by_normalized if kind == channel and value]
            + [hashed for kind, hashed in hashes if kind == channel]
        )
    ]
    if lookups:
        blocked |= {hashes.get(found, found) for found in lookups[0].union(*lookups[1:])}
    return {pair for key in blocked for pair in by_normalized.get(key, [])}


def suppression_list(
    *, reason: str | None = None, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[Suppression]:
    """Suppressions, newest first, optionally of one reason and within [since, until); erased people's
    (a keyed hash, no address) are not listed."""
    suppressions = Suppression.objects.exclude(recipient__startswith=HASHED_PREFIX).order_by("-created_at", "-id")
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


# --- a person's export (surveys.services.privacy.contact_export) -----------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def person_messages(*, recipients: Iterable[tuple[str, str]], message_ids: Iterable[int] = ()) -> list[dict]:
    """Every message sent to one of `recipients` (`(channel, address)`) or with one of `message_ids`, oldest
    first, as the person's export shows them."""
    matches = Q(pk__in=list(message_ids))
    for channel, address in recipients:
        key = recipient_normalize(channel=channel, recipient=address)
        if key:
            matches |= Q(channel=channel, recipient_key=key)
    return [
        {
            "id": str(message.public_id),
            "channel": message.channel,
            "recipient": message.recipient,
            "subject": message.subject,
            "body": message.body_text,
            "status": message.status,
            "created_at": _iso(message.created_at),
            "sent_at": _iso(message.sent_at),
        }
        for message in Message.objects.filter(matches).order_by("created_at", "pk")
    ]


def person_inbound(*, phones: Iterable[str], emails: Iterable[str]) -> dict[str, list[dict]]:
    """The SMS, WhatsApp texts and emails the person sent us: `{"inbound_sms": [...], "inbound_emails": [...]}`."""
    phones = [phone for phone in phones if phone]
    senders = Q(pk__in=[])
    for email in emails:
        if email:
            senders |= Q(sender__icontains=email)
    return {
        "inbound_sms": [
            {
                "channel": sms.channel,
                "from": sms.phone,
                "body": sms.body,
                "keyword": sms.keyword,
                "received_at": _iso(sms.received_at),
            }
            for sms in InboundSms.objects.filter(phone__in=phones).order_by("received_at", "pk")
        ],
        "inbound_emails": [
            {
                "from": email.sender,
                "subject": email.subject,
                "text": email.text,
                "received_at": _iso(email.received_at),
            }
            for email in InboundEmail.objects.filter(senders).order_by("received_at", "pk")
        ],
    }


def person_suppressions(*, recipients: Iterable[tuple[str, str]]) -> list[dict]:
    """The person's suppressions (opt-outs, bounces): on which channel, why and since when."""
    matches = Q(pk__in=[])
    for channel, address in recipients:
        key = recipient_normalize(channel=channel, recipient=address)
        if key:
            matches |= Q(channel=channel, recipient=key)
    return [
        {"channel": s.channel, "address": s.recipient, "reason": s.reason, "created_at": _iso(s.created_at)}
        for s in Suppression.objects.filter(matches).order_by("created_at", "pk")
    ]
