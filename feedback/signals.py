"""Signals `feedback` sends so that the apps above it (`insights`, `integrations`) can react without being imported.

Each is listed in docs/architecture.md with its listeners and what they must not do.
"""

from django.dispatch import Signal

# A case was created, updated or resolved; sent inside the transaction of the change, after its timeline
# entry. Arguments: follow_up (FollowUp), event ("follow_up.created", "follow_up.updated", "follow_up.resolved").
follow_up_changed = Signal()

# Agents were told about a case (new, assigned, reminder, escalation, not fixed), even when nobody was
# emailed (a case in the team queue). Arguments: follow_up (FollowUp), headline (str), url (the case page).
agents_notified = Signal()
