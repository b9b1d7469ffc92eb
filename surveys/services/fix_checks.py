"""Writes surveys makes for surveys that follow up a customer's own answer (a case's "did we fix it?" survey).

Owns marking a survey as one (its answers stay out of satisfaction figures) and withdrawing such an
invitation before it goes out; knows nothing of cases, which callers own. Sends nothing.
"""

from surveys.models import Invitation, Survey


def survey_mark_fix_check(*, survey_id: int) -> None:
    """Flag the survey as asking whether a case was fixed; the flag stays when it stops being used as one,
    since its answers so far still are such answers (a manager may clear it in the admin)."""
    Survey.objects.filter(pk=survey_id, is_fix_check=False).update(is_fix_check=True)


def invitation_cancel_unsent(*, invitation_id: int, reason: str) -> bool:
    """Cancel the invitation if it has not gone out yet, keeping `reason`; True when it was cancelled.

    A conditional update, so it loses cleanly to a dispatcher that claimed the row first (the message is
    then on its way and the link stays open), and a dispatcher never claims a row cancelled here.
    """
    pending = Invitation.objects.filter(pk=invitation_id, status=Invitation.Status.SCHEDULED)
    return bool(pending.update(status=Invitation.Status.CANCELLED, cancel_reason=reason))
