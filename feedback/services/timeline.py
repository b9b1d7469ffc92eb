"""A case's timeline: the entries every write of the loop leaves, and whether a person has worked the case.

Owns FollowUpEntry writes; must not notify anyone or change the case itself.
"""

from feedback.history_lines import history_line_fields
from feedback.models import FollowUp, FollowUpEntry, User


def entry_add(follow_up: FollowUp, kind: str, author: User | None = None, body: str = "", **fields) -> FollowUpEntry:
    return FollowUpEntry.objects.create(follow_up=follow_up, kind=kind, author=author, body=body, **fields)


def entry_add_line(
    follow_up: FollowUp, kind: str, wording: str, *, author: User | None = None, **values
) -> FollowUpEntry:
    """A line Closeloop writes itself (feedback/history_lines.py): English in its body, the reader's on the page."""
    return entry_add(follow_up, kind, author=author, **history_line_fields(wording, **values))


def follow_up_was_worked(follow_up: FollowUp) -> bool:
    return follow_up.status != FollowUp.Status.NEW or follow_up.entries.filter(author__isnull=False).exists()
