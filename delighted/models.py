from django.db import models
from django.utils.translation import gettext_lazy as _

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


class DelightedImport(models.Model):
    """One import of a Delighted export (`manage.py import_delighted` or the console's upload): its progress
    while it runs, then its summary: what was imported, what was skipped and why."""

    class Status(models.TextChoices):
        MAPPING = "mapping", _("Waiting for its CSV columns to be mapped")
        WAITING = "waiting", _("Waiting for a worker")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    started_by = models.CharField(max_length=320, blank=True, help_text="Who started it (a user's email).")
    file_names = models.JSONField(default=list)
    default_survey_type = models.CharField(
        max_length=20, default="nps", help_text="The survey type of CSV rows that do not say theirs."
    )
    total = models.PositiveIntegerField(default=0, help_text="Records found in the files.")
    processed = models.PositiveIntegerField(default=0, help_text="Records read so far (imported or skipped).")
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Delighted import {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return min(100, self.processed * 100 // self.total) if self.total else (100 if self.finished_at else 0)


class DelightedImportFile(models.Model):
    """An uploaded export waiting for the worker: its text is deleted once the import has read it."""

    delighted_import = models.ForeignKey(DelightedImport, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    content = models.TextField()
    mapping = models.JSONField(default=dict, blank=True, help_text="A CSV's columns: header → what it holds.")
    # An import left unfinished keeps its upload (names, emails, comments) until the retention purge removes it.
    uploaded_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.name


class DelightedRecord(models.Model):
    """What a Delighted id became here (a response, a person's contact, a question, the survey of a type), so that
    importing the same export again imports nothing twice. Kept when what it points to is deleted: an answer
    erased here (a person's data-deletion request) is not brought back by a later import."""

    class Kind(models.TextChoices):
        RESPONSE = "response", "Survey response"
        PERSON = "person", "Person"
        QUESTION = "question", "Additional question"
        SURVEY = "survey", "Survey of a survey type"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    delighted_id = models.CharField(max_length=200)
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "delighted_id"], name="delighted_record_unique_id")]

    def __str__(self) -> str:
        return f"Delighted {self.kind} {self.delighted_id} → {self.object_id}"
