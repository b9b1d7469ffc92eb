"""Reads of messages and consent: who may be contacted, and the suppression list."""

from datetime import datetime

from django.db.models import QuerySet

from notifications.models import Channel, Suppression


def recipient_normalize(*, channel: str, recipient: str) -> str:
    """The form suppressions are stored and matched in: emails lower-cased, phones without spaces."""
    recipient = recipient.strip()
    if channel == Channel.EMAIL:
        return recipient.lower()
    return "".join(recipient.split()).replace("-", "")


def recipient_is_contactable(*, channel: str, recipient: str) -> bool:
    normalized = recipient_normalize(channel=channel, recipient=recipient)
    return bool(normalized) and not Suppression.objects.filter(channel=channel, recipient=normalized).exists()


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
