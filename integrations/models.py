"""Outgoing webhooks: who subscribed to which events, and each delivery of one event to one subscriber.

The tables keep the names they had in `feedback` (state-only move, no data copied).
"""

from django.db import models


class WebhookSubscription(models.Model):
    """An outside URL that receives the events it asked for, each POST signed with its secret."""

    class Event(models.TextChoices):
        SURVEY_RESPONSE_CREATED = "survey_response.created", "Survey response created"
        SURVEY_RESPONSE_UPDATED = "survey_response.updated", "Survey response updated"
        UNSUBSCRIBE_CREATED = "unsubscribe.created", "Unsubscribe created"
        FOLLOW_UP_CREATED = "follow_up.created", "Follow-up created"
        FOLLOW_UP_UPDATED = "follow_up.updated", "Follow-up updated"
        FOLLOW_UP_RESOLVED = "follow_up.resolved", "Follow-up resolved"
        # An answer withdrawn because it was a mail scanner's (surveys.scanners), and the case it had opened.
        SURVEY_RESPONSE_DELETED = "survey_response.deleted", "Survey response deleted (withdrawn)"
        FOLLOW_UP_WITHDRAWN = "follow_up.withdrawn", "Follow-up withdrawn"

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, help_text="Signs each body: X-Delighted-Webhook-Signature.")
    events = models.JSONField(default=list, help_text='Event types to send, e.g. ["survey_response.created"].')
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "feedback_webhooksubscription"

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"


class WebhookDelivery(models.Model):
    """One event for one subscription, and how sending it went; retried with backoff until delivered or failed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

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
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk} to {self.subscription.name}"
