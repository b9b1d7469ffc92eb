from django.db import models

from notifications.models import Channel
from surveys.models import Contact, Survey


class AutopilotMembership(models.Model):
    """A person Delighted's Autopilot surveys again every `AUTOPILOT_FREQUENCY_DAYS` on one channel."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    # Delighted's Autopilot has two platforms, email and sms.
    channel = models.CharField(max_length=10, choices=[(Channel.EMAIL, "Email"), (Channel.SMS, "SMS")])
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="autopilot_memberships")
    properties = models.JSONField(default=dict, blank=True)
    next_survey_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "channel", "contact"], name="autopilot_unique_membership")
        ]

    def __str__(self) -> str:
        return f"{self.contact} on {self.channel} autopilot"


class AuditEntry(models.Model):
    """Who did what irreversible through the API, kept after its subject is gone (a person's erasure)."""

    action = models.CharField(max_length=40)
    api_key_id = models.BigIntegerField(null=True, help_text="The key that asked; kept if the key is deleted.")
    api_key_name = models.CharField(max_length=100, blank=True)
    subject = models.CharField(max_length=100, help_text="What it was done to, e.g. person 42 (never an address).")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.subject} by {self.api_key_name}"
