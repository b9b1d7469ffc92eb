from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One configuration change: who made it, to what, and each changed field before → after."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        DELETED = "deleted", _("Deleted")
        DUPLICATED = "duplicated", _("Duplicated")
        REVOKED = "revoked", _("Revoked")
        INVITED = "invited", _("Invited")
        PURGED = "purged", _("Purged")  # the retention purge (workspace.services.retention)
        # A person's data (GDPR art. 17 and 15): `changes` holds row counts per kind, never the data itself.
        ERASED = "erased", _("Erased")
        EXPORTED = "exported", _("Exported")
        # A webhook's signing secret replaced; `changes` says until when the old one still signs, never a secret.
        ROTATED = "rotated", _("Rotated")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, help_text="The person's email or the API key, kept if they go.")
    action = models.CharField(max_length=12, choices=Action.choices)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=50)
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(
        default=dict,
        help_text="{field: [before, after]}; never a secret. Erasures and exports: {kind of rows: [null, count]}.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type} {self.object_repr}"
