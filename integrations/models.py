"""What crosses between Closeloop and other systems.

Outgoing webhooks: who subscribed to which events, and each delivery of one event to one subscriber (the
tables keep the names they had in `feedback`: state-only move, no data copied). Connectors: addresses other
systems post their events to, each verified delivery, and the notes written back to Zendesk tickets.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookSubscription(models.Model):
    """An outside URL that receives the events it asked for, each POST signed with its secret."""

    class Event(models.TextChoices):
        SURVEY_RESPONSE_CREATED = "survey_response.created", _("Survey response created")
        SURVEY_RESPONSE_UPDATED = "survey_response.updated", _("Survey response updated")
        UNSUBSCRIBE_CREATED = "unsubscribe.created", _("Unsubscribe created")
        FOLLOW_UP_CREATED = "follow_up.created", _("Follow-up created")
        FOLLOW_UP_UPDATED = "follow_up.updated", _("Follow-up updated")
        FOLLOW_UP_RESOLVED = "follow_up.resolved", _("Follow-up resolved")
        # An answer withdrawn because it was a mail scanner's (surveys.scanners), and the case it had opened.
        SURVEY_RESPONSE_DELETED = "survey_response.deleted", _("Survey response deleted (withdrawn)")
        FOLLOW_UP_WITHDRAWN = "follow_up.withdrawn", _("Follow-up withdrawn")

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, help_text="Signs each body: X-Delighted-Webhook-Signature.")
    # After a rotation the replaced secret signs too, until this time, so a receiver can switch without losing events.
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    events = models.JSONField(default=list, help_text='Event types to send, e.g. ["survey_response.created"].')
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "feedback_webhooksubscription"

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"

    def signing_secrets(self, now) -> list[str]:
        """The secrets that sign a delivery at `now`: the current one, then the replaced one during its grace."""
        if self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at:
            return [self.secret, self.previous_secret]
        return [self.secret]


class WebhookDelivery(models.Model):
    """One event for one subscription, and how sending it went; retried with backoff until delivered or failed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40)
    event_id = models.CharField(max_length=64, help_text="The same on every delivery of one event, replays included.")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="When a send was last handed to a worker.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "feedback_webhookdelivery"
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            # The retention purge walks the finished deliveries, oldest first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status__in=["delivered", "failed"]),
                name="webhook_delivery_done_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk} to {self.subscription.name}"


class Connector(models.Model):
    """An address another system (Shopify, Zendesk, Stripe, anything that signs its webhooks) posts to; each
    signed delivery becomes an intake event (integrations/connectors.py)."""

    class Kind(models.TextChoices):
        SHOPIFY = "shopify", "Shopify"
        ZENDESK = "zendesk", "Zendesk"
        STRIPE = "stripe", "Stripe"
        GENERIC = "generic", _("Any signed webhook")

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # In the URL given to the other system: unguessable, so a connector's address cannot be found by counting.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    secret = models.CharField(
        max_length=200,
        blank=True,
        help_text="Verifies each delivery: Shopify's app secret, Zendesk's signing secret, Stripe's whsec_ secret, "
        "or the generic connector's own. Empty: every delivery is refused until it is set.",
    )
    event_type = models.CharField(
        max_length=100, blank=True, help_text="The event each delivery becomes; empty: the source's usual one."
    )
    field_map = models.JSONField(
        default=dict,
        blank=True,
        help_text='Generic connectors: a JSON pointer per field, e.g. {"email": "/customer/email", '
        '"properties": {"plan": "/plan/name"}}.',
    )
    is_active = models.BooleanField(default=True)
    # Zendesk only: the score and comment of each answer go back to the ticket as an internal note.
    zendesk_writeback = models.BooleanField(default=False)
    zendesk_url = models.URLField(blank=True, help_text="https://yourcompany.zendesk.com")
    zendesk_email = models.EmailField(blank=True, help_text="The agent the API token belongs to.")
    zendesk_api_token = models.CharField(max_length=200, blank=True)
    # A refused delivery stores nothing but these two figures, so a wrong secret can be seen in the console.
    refused_count = models.PositiveIntegerField(default=0)
    last_refused_at = models.DateTimeField(null=True, blank=True)
    last_refused_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def source(self) -> str:
        """Its events' `source`: their external ids are unique per connector."""
        return f"connector:{self.pk}"


class ConnectorDelivery(models.Model):
    """One verified delivery to a connector and what became of it. Refused ones (bad signature) are not kept."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received, waiting for a worker")
        EVENT_CREATED = "event_created", _("Event created")
        DUPLICATE_EVENT = "duplicate_event", _("Event already received")
        IGNORED = "ignored", _("Not an event")
        INVALID = "invalid", _("Could not become an event")
        TEST = "test", _("Test delivery")

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(
        max_length=200, blank=True, help_text="The source's own id of the delivery or event: a replay is refused."
    )
    topic = models.CharField(max_length=100, blank=True, help_text="The source's event name, e.g. orders/fulfilled.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    detail = models.TextField(blank=True, help_text="What the delivery became, or why it became nothing.")
    payload = models.JSONField(null=True, blank=True, help_text="The body as received; emptied by retention.")
    payload_purged_at = models.DateTimeField(null=True, blank=True)
    event = models.ForeignKey(
        "surveys.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="connector_deliveries"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "connector deliveries"
        indexes = [
            # The retention purge walks the payloads not yet emptied, oldest first.
            models.Index(
                fields=["received_at"], condition=models.Q(payload__isnull=False), name="connector_payload_purge_idx"
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "delivery_id"],
                condition=~models.Q(delivery_id=""),
                name="connector_delivery_unique_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic or 'delivery'} #{self.pk} to {self.connector.name}"


class ZendeskNote(models.Model):
    """One internal note to write on a Zendesk ticket for an answer, retried until written or given up."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        WRITTEN = "written", _("Written")
        FAILED = "failed", _("Failed")

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="zendesk_notes")
    response = models.ForeignKey("surveys.Response", on_delete=models.CASCADE, related_name="+")
    ticket_id = models.CharField(max_length=40)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="When an attempt was last handed to a worker.")
    created_at = models.DateTimeField(auto_now_add=True)
    written_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"note on ticket {self.ticket_id} ({self.status})"
