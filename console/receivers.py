"""The console's audit trail hears what happens below it without a console page: a person erased or exported
(from the console, the native API, Delighted's API or the command line)."""

from django.dispatch import receiver

from console.services import privacy_request_audit
from surveys.signals import contact_privacy_recorded


@receiver(contact_privacy_recorded)
def audit_privacy_request(
    sender, action: str, contact_id: int, rows: dict, mode: str, actor, actor_label: str, **kwargs
):
    # Inside the erasure's (or export's) transaction: the entry commits with it, or neither does.
    privacy_request_audit(
        action=action, contact_id=contact_id, rows=rows, mode=mode, actor=actor, actor_label=actor_label
    )
