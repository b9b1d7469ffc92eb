"""Signals `integrations` sends so that the apps above it (`console`) can react without being imported.

Each is listed in docs/architecture.md with its listeners and what they must not do.
"""

from django.dispatch import Signal

# A subscription's signing secret was rotated; sent inside the rotation's transaction, so a listener's writes
# (the console's audit entry) commit with it or not at all. Never carries a secret.
# Arguments: subscription (WebhookSubscription, as rotated), previous_secret_expires_at (datetime | None, before),
# actor (User | ApiKey | None).
webhook_secret_rotated = Signal()
