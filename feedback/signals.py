"""Signals `feedback` sends so that the apps above it (`insights`, `integrations`) can react without being imported.

Each is listed in docs/architecture.md with its listeners and what they must not do.
"""

from django.dispatch import Signal

# A case was created, updated or resolved; sent after the change commits (one per service call).
# Arguments: follow_up_id (int), event ("follow_up.created", "follow_up.updated", "follow_up.resolved").
follow_up_changed = Signal()

# Agents were told about a case (new, assigned, reminder, escalation, not fixed), even when nobody was
# emailed (a case in the team queue); sent after the change commits.
# Arguments: follow_up (FollowUp, as it was then), headline (str), url (the case page).
agents_notified = Signal()
