import functools
import hashlib
import hmac
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """The channels a message leaves by."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")


# Channels whose address is a phone number (E.164), answered by the customer's texts.
PHONE_CHANNELS = (Channel.SMS, Channel.WHATSAPP)


def recipient_normalize(*, channel: str, recipient: str) -> str:
    """The form suppressions are stored and matched in: emails lower-cased, phones without spaces."""
    recipient = recipient.strip()
    if channel == Channel.EMAIL:
        return recipient.lower()
    return "".join(recipient.split()).replace("-", "")


# A suppression of an erased person is stored under this prefix and a keyed hash of their address, never the
# address itself: it still matches when the address comes back, and cannot be read or reversed without the key.
HASHED_PREFIX = "hmac:"


def recipient_hashed(*, channel: str, recipient: str) -> str:
    """`hmac:` and the hex HMAC-SHA256 of the normalised address under ERASURE_HASH_KEY ("" for no address).

    Keyed so that nobody holding the database alone can test guessed addresses against it; without
    ERASURE_HASH_KEY the key is derived from DJANGO_SECRET_KEY (rotating that one then forgets these)."""
    normalized = recipient_normalize(channel=channel, recipient=recipient)
    if not normalized:
        return ""
    message = f"{channel}:{normalized}".encode()
    key = _erasure_key(settings.ERASURE_HASH_KEY, settings.SECRET_KEY)
    return HASHED_PREFIX + hmac.digest(key, message, "sha256").hex()


@functools.lru_cache(maxsize=4)
def _erasure_key(erasure_hash_key: str, secret_key: str) -> bytes:
    """ERASURE_HASH_KEY, else the key Django's `salted_hmac("closeloop.erasure", ...)` derives from the secret key:
    derived once, not for each of a batch's thousand addresses."""
    if erasure_hash_key:
        return erasure_hash_key.encode()
    return hashlib.sha256(b"closeloop.erasure" + secret_key.encode()).digest()


class Message(models.Model):
    """One outbound email, SMS or WhatsApp message; its status is the only truth about what was sent."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        UNDELIVERED = "undelivered", _("Undelivered")
        BOUNCED = "bounced", _("Bounced")
        CANCELLED = "cancelled", _("Cancelled")
        UNKNOWN = "unknown", _("Unknown")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=320)
    # The recipient as suppressions store it, so that the send's claim checks consent in the same statement.
    recipient_key = models.CharField(max_length=320, blank=True, editable=False)
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # A WhatsApp message that opens a conversation must be an approved template: {"content_sid": "HX...",
    # "variables": {"1": "...", ...}} (Twilio's Content API). Empty: a free-form message of `body_text`, which
    # WhatsApp accepts only within 24 hours of the customer's last message.
    template = models.JSONField(default=dict, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    from_email = models.CharField(
        max_length=320, blank=True, help_text='Sender, e.g. "Acme <care@acme.test>"; empty: DEFAULT_FROM_EMAIL.'
    )
    reply_to = models.EmailField(max_length=320, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    provider_message_id = models.CharField(max_length=100, blank=True)
    # SHA-256 of the message's unsubscribe token; the token itself is only ever in the sent message.
    unsubscribe_hash = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set when an operator resent an `unknown` message: the copy, so that it is never resent twice.
    resent_as = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # When the sweeper should next look at a `queued` message (its task may be lost: enqueue it again,
    # once per lease) or an `unknown` one (ask the provider what became of it); the scans read only those due.
    sweep_at = models.DateTimeField(null=True, blank=True, editable=False)
    # No send before this: a retry waiting out its backoff or a provider's reset, or an SMS held for quiet hours.
    not_before = models.DateTimeField(null=True, blank=True, editable=False)
    # The recipient's time zones for an SMS's quiet hours (comma-separated; several for a number spanning zones,
    # the strictest reading wins); empty: no quiet hours (emails, answers to the customer's own texts).
    time_zones = models.CharField(max_length=300, blank=True, editable=False)
    # A conversation of an app above (e.g. "follow_up:12"), opaque here: the customer's answers to this
    # message (an SMS from the number, an email to its Reply-To) are announced with it.
    thread = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "updated_at"]),
            # The sweeper's two scans, whose cost follows what is due, not how many messages were ever sent.
            models.Index(
                fields=["sweep_at"],
                condition=models.Q(status__in=["queued", "unknown"]),
                name="message_sweep_due_idx",
            ),
            # The latest message to a number says whether its sender's answer belongs to a conversation.
            models.Index(fields=["recipient_key", "created_at"], name="message_recipient_latest"),
            # The retention purge walks the bodies not yet purged, oldest first; purged rows leave the index.
            models.Index(fields=["created_at"], condition=~models.Q(body_text=""), name="message_body_retention_idx"),
            # Looked up whole only (a status callback, an unsubscribe link): a Meta index, unlike `db_index`, has
            # no pattern-matching copy on PostgreSQL to write with every message.
            models.Index(fields=["provider_message_id"], name="message_provider_id_idx"),
            models.Index(fields=["unsubscribe_hash"], name="message_unsubscribe_hash_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} message {self.public_id} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        self.recipient_key = recipient_normalize(channel=self.channel, recipient=self.recipient)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "recipient" in update_fields:
            kwargs["update_fields"] = [*update_fields, "recipient_key"]
        super().save(*args, **kwargs)


class Suppression(models.Model):
    """A recipient we must not contact on a channel: opt-outs, bounces, complaints, manual blocks."""

    class Reason(models.TextChoices):
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribed")
        BOUNCE = "bounce", _("Bounced")
        SPAMREPORT = "spamreport", _("Marked as spam")
        DROPPED = "dropped", _("Dropped by the provider")
        STOP = "stop", _("Replied STOP")
        MANUAL = "manual", _("Added by hand")
        ERASED = "erasure", _("Erased, asked not to be contacted again")

    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=320)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    source = models.CharField(max_length=50, blank=True, help_text="Where it came from, e.g. sendgrid, twilio, /u/.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "recipient"], name="suppression_unique_channel_recipient")
        ]
        indexes = [models.Index(fields=["reason", "created_at"])]

    def __str__(self) -> str:
        return f"{self.channel} suppression ({self.reason})"

    @property
    def is_hashed(self) -> bool:
        """An erased person's: `recipient` is a keyed hash (`recipient_hashed`), not an address."""
        return self.recipient.startswith(HASHED_PREFIX)


class ProviderEvent(models.Model):
    """One provider webhook event, stored once: the unique key makes replays no-ops."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=40)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_unique")]
        # The retention purge walks the events it removes, oldest first (opens stay: notifications/retention.py).
        indexes = [
            models.Index(fields=["received_at"], condition=~models.Q(kind="open"), name="provider_event_retention_idx")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} event"


class InboundSms(models.Model):
    """One SMS or WhatsApp message a customer sent us, stored once per provider id."""

    provider_message_id = models.CharField(max_length=100, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SMS)
    phone = models.CharField(max_length=20, db_index=True)
    body = models.TextField()
    keyword = models.CharField(max_length=10, blank=True, help_text="stop, start or help when it was one.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # WhatsApp's 24-hour session: when did this number last write to us on this channel?
            models.Index(fields=["phone", "channel", "received_at"], name="inbound_sms_latest"),
            models.Index(fields=["received_at"], name="inbound_sms_received_idx"),  # the retention purge's clock
        ]

    def __str__(self) -> str:
        return f"inbound {self.channel} {self.provider_message_id}"


class ReplyAddress(models.Model):
    """The Reply-To address of one conversation: mail sent to it comes back to that conversation.

    The token is random (128 bits), so the address cannot be guessed from the case; it is lowercase
    base32 because mail systems may change the case of an address's local part.
    """

    token = models.CharField(max_length=40, unique=True)
    thread = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(help_text="When a message last went out with it; it expires after that.")

    def __str__(self) -> str:
        return f"reply address of {self.thread}"


class InboundEmail(models.Model):
    """One email a customer sent us through SendGrid Inbound Parse, stored once per Message-ID."""

    class Outcome(models.TextChoices):
        ROUTED = "routed", _("Routed to its conversation")
        UNKNOWN = "unknown", _("Unknown reply address")
        EXPIRED = "expired", _("Expired reply address")

    message_id = models.CharField(max_length=300, blank=True, help_text="The email's Message-ID header.")
    sender = models.CharField(max_length=320)
    recipient = models.CharField(max_length=320, help_text="The reply address it was sent to, or its first recipient.")
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True, help_text="The plain-text body as received.")
    reply = models.TextField(blank=True, help_text="What the customer wrote: quoted history and signature trimmed.")
    thread = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # SendGrid retries a post it thinks failed: the same email is stored and announced once.
            models.UniqueConstraint(
                fields=["message_id"], condition=~models.Q(message_id=""), name="inbound_email_unique_message_id"
            )
        ]
        indexes = [models.Index(fields=["received_at"], name="inbound_email_received_idx")]  # the retention purge's

    def __str__(self) -> str:
        return f"inbound email {self.pk} ({self.outcome})"
