"""What the retention purge removes from closed cases (config/retention.py, docs/retention.md)."""

from datetime import datetime

from django.db.models import Exists, OuterRef, Q

from config.retention import Purgeable
from feedback.models import FollowUp, FollowUpEntry


def _written() -> Q:
    """A case still holding words: its resolution note, or an entry of its thread with a body."""
    return ~Q(resolution_note="") | Exists(FollowUpEntry.objects.filter(follow_up_id=OuterRef("pk")).exclude(body=""))


def _closed_cases_rows():
    return FollowUp.objects.filter(_written(), status=FollowUp.Status.RESOLVED)


def _closed_cases_purge(ids: list[int], now: datetime) -> int:
    # The case and its entries stay (who did what, when): the loop's figures count the case, its first contact
    # (the first entry an agent wrote) and its resolution. The words of the thread and the note go; the
    # messages it sent and received follow their own retention (message bodies, inbound).
    # A line's values go with its words (a resolution note, a customer's reason).
    FollowUpEntry.objects.filter(follow_up_id__in=ids).exclude(body="").update(body="", wording="", wording_values={})
    FollowUp.objects.filter(pk__in=ids).exclude(resolution_note="").update(resolution_note="")
    return len(ids)


PURGEABLES = [
    Purgeable(
        kind="closed_cases",
        label="threads of closed cases",
        setting="RETENTION_CLOSED_CASES_DAYS",
        clock="resolved_at",
        rows=_closed_cases_rows,
        purge=_closed_cases_purge,
        blanks=True,
    ),
]
