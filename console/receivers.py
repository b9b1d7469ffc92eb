"""The console's audit trail hears what happens below it: a person erased or exported (from the console, the
native API, Delighted's API or the command line), a webhook's secret rotated (from the console or the API)."""

from django.dispatch import receiver

from console.services import privacy_request_audit, webhook_secret_rotation_audit
from integrations.signals import webhook_secret_rotated
from surveys.signals import contact_privacy_recorded


@receiver(contact_privacy_recorded)
def audit_privacy_request(
    sender, action: str, contact_id: int, rows: dict, mode: str, actor, actor_label: str, **kwargs
):
    # Inside the erasure's (or export's) transaction: the entry commits with it, or neither does.
    privacy_request_audit(
        action=action, contact_id=contact_id, rows=rows, mode=mode, actor=actor, actor_label=actor_label
    )


@receiver(webhook_secret_rotated)
def audit_webhook_secret_rotation(sender, subscription, previous_secret_expires_at, actor, **kwargs):
    # Inside the rotation's transaction: the entry commits with the new secret, or neither does.
    webhook_secret_rotation_audit(
        actor=actor, subscription=subscription, previous_secret_expires_at=previous_secret_expires_at
    )
