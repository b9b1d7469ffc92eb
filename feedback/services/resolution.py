"""Resolving a case and undoing a resolution (an agent's reopen, a customer's "not fixed").

A resolution schedules its "did we fix it?" survey (`fix_checks`); a reopen makes the case due again.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import FollowUp, FollowUpEntry, RootCause, User
from feedback.services.fix_checks import fix_check_send, fix_checks_withdraw
from feedback.services.notices import follow_up_announce
from feedback.services.sla import sla_dates
from feedback.services.timeline import entry_add, entry_add_line


def follow_up_reopen_due(follow_up: FollowUp, *, author: User | None, wording: str = "") -> None:
    """Undo the resolution and make the case due as if it had just arrived: a new due date on the team's
    calendar, and the reminder and escalation fire again (the old due date is long past)."""
    sla_hours = (follow_up.rule.sla_hours if follow_up.rule else None) or follow_up.team.sla_hours
    follow_up.remind_at, follow_up.due_at = sla_dates(timezone.now(), follow_up.team, sla_hours)
    follow_up.reminded_at = follow_up.escalated_at = None
    changed = follow_up_undo_resolution(follow_up)
    follow_up.save(update_fields=[*changed, "due_at", "remind_at", "reminded_at", "escalated_at", "updated_at"])
    if wording:
        entry_add_line(follow_up, FollowUpEntry.Kind.REOPENED, wording, author=author)
    else:
        entry_add(follow_up, FollowUpEntry.Kind.REOPENED, author=author)


def follow_up_undo_resolution(follow_up: FollowUp) -> list[str]:
    """Forget the resolution being undone (unsaved; returns the fields to save), and withdraw its
    "did we fix it?" survey if it has not gone out, so nobody is asked about a resolution that no longer stands."""
    fix_checks_withdraw(follow_up)
    follow_up.status = FollowUp.Status.IN_PROGRESS
    follow_up.outcome = ""
    follow_up.root_cause = None
    follow_up.resolved_at = None
    # The answer judged the resolution just undone; the next resolution gets its own check.
    follow_up.fix_confirmed = None
    return ["status", "outcome", "root_cause", "resolved_at", "fix_confirmed"]


@transaction.atomic
def follow_up_reopen(*, follow_up: FollowUp, actor: User) -> FollowUp:
    if follow_up.status != FollowUp.Status.RESOLVED:
        raise ValidationError({"status": _("Only a resolved case can be reopened.")})
    follow_up_reopen_due(follow_up, author=actor)
    follow_up_announce(follow_up, "follow_up.updated")
    return follow_up


@transaction.atomic
def follow_up_resolve(
    *, follow_up: FollowUp, author: User, root_cause: RootCause | None, outcome: str = "", note: str = ""
) -> FollowUp:
    errors = {}
    if root_cause is None:
        errors["root_cause"] = _("Choose the root cause before resolving.")
    resolvable = [FollowUp.Outcome.RECOVERED, FollowUp.Outcome.NOT_RECOVERED, FollowUp.Outcome.UNREACHABLE]
    if outcome not in resolvable:
        errors["outcome"] = _("Choose the outcome: recovered, not recovered or unreachable.")
    # The row lock makes a double submission wait and then find the case resolved: one resolution, one check.
    follow_up.status = FollowUp.objects.select_for_update().values_list("status", flat=True).get(pk=follow_up.pk)
    if follow_up.status == FollowUp.Status.RESOLVED:
        errors["status"] = _("This case is already resolved.")
    if errors:
        raise ValidationError(errors)
    follow_up.status = FollowUp.Status.RESOLVED
    follow_up.root_cause = root_cause
    follow_up.outcome = outcome
    follow_up.resolution_note = note.strip()
    follow_up.resolved_at = timezone.now()
    follow_up.save(update_fields=["status", "root_cause", "outcome", "resolution_note", "resolved_at", "updated_at"])
    line = {"cause": root_cause.name, "outcome": outcome}
    if follow_up.resolution_note:
        line = {**line, "note": follow_up.resolution_note}
    wording = "resolved_with_note" if follow_up.resolution_note else "resolved"
    entry_add_line(follow_up, FollowUpEntry.Kind.RESOLVED, wording, author=author, **line)
    fix_check_send(follow_up)
    follow_up_announce(follow_up, "follow_up.resolved")
    return follow_up
