"""An agent's work on a case: notes, assignment, moving teams, status and priority, several at once (the API's PATCH).

Resolving and reopening are `resolution`'s; every change leaves a timeline entry and is announced.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback.models import FollowUp, FollowUpEntry, Priority, Team, User
from feedback.services.notices import agents_notify, follow_up_announce
from feedback.services.resolution import follow_up_reopen
from feedback.services.timeline import entry_add, entry_add_line

# Status moves an agent may make by hand; resolving goes through follow_up_resolve (root cause, outcome).
STATUS_MOVES = {
    FollowUp.Status.NEW: {FollowUp.Status.IN_PROGRESS, FollowUp.Status.WAITING},
    FollowUp.Status.IN_PROGRESS: {FollowUp.Status.WAITING},
    FollowUp.Status.WAITING: {FollowUp.Status.IN_PROGRESS},
}


@transaction.atomic
def follow_up_add_note(*, follow_up: FollowUp, author: User, body: str) -> FollowUpEntry:
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write a note before saving it.")})
    entry = entry_add(follow_up, FollowUpEntry.Kind.NOTE, author=author, body=body)
    if follow_up.status == FollowUp.Status.NEW:
        follow_up.status = FollowUp.Status.IN_PROGRESS
        follow_up.save(update_fields=["status", "updated_at"])
    follow_up_announce(follow_up, "follow_up.updated")
    return entry


@transaction.atomic
def follow_up_assign(*, follow_up: FollowUp, actor: User, assignee: User | None) -> FollowUp:
    """Claim (assignee is the actor), reassign to an agent of the case's team, or put back in the team queue."""
    if assignee is not None and not assignee.is_manager and assignee.team_id != follow_up.team_id:
        raise ValidationError(
            {"assignee": _("%(email)s is not in team %(team)s.") % {"email": assignee.email, "team": follow_up.team}}
        )
    if assignee == follow_up.assignee:
        return follow_up
    follow_up.assignee = assignee
    follow_up.save(update_fields=["assignee", "updated_at"])
    if assignee:
        entry_add_line(follow_up, FollowUpEntry.Kind.ASSIGNED, "assigned", author=actor, email=assignee.email)
    else:
        entry_add_line(follow_up, FollowUpEntry.Kind.ASSIGNED, "unassigned", author=actor)
    if assignee is not None and assignee != actor:
        who = actor.email if actor else gettext_lazy("An integration")
        agents_notify(follow_up, [assignee], format_lazy(gettext_lazy("{who} assigned you a follow-up"), who=who))
    follow_up_announce(follow_up, "follow_up.updated")
    return follow_up


@transaction.atomic
def follow_up_move(*, follow_up: FollowUp, actor: User, team: Team) -> FollowUp:
    """A manager hands the case to another team: it lands in that team's queue, due when it was due."""
    if not actor.is_manager:
        raise ValidationError({"team": _("Only a manager can move a case to another team.")})
    if team.pk == follow_up.team_id:
        raise ValidationError({"team": _("The case is already in team %(team)s.") % {"team": team}})
    old_team = follow_up.team
    follow_up.team = team
    follow_up.assignee = None
    follow_up.save(update_fields=["team", "assignee", "updated_at"])
    entry_add_line(
        follow_up, FollowUpEntry.Kind.ASSIGNED, "moved", author=actor, old_team=str(old_team), team=str(team)
    )
    follow_up_announce(follow_up, "follow_up.updated")
    return follow_up


@transaction.atomic
def follow_up_set_status(*, follow_up: FollowUp, actor: User, status: str) -> FollowUp:
    if status == follow_up.status:
        return follow_up  # choosing the status the case has is not an error, and changes nothing
    if status not in STATUS_MOVES.get(follow_up.status, set()):
        raise ValidationError(
            {
                "status": _("A case that is %(current)s cannot move to %(status)s.")
                % {"current": follow_up.get_status_display().lower(), "status": status}
            }
        )
    old = follow_up.status
    follow_up.status = status
    follow_up.save(update_fields=["status", "updated_at"])
    entry_add_line(follow_up, FollowUpEntry.Kind.STATUS, "status", author=actor, old_status=old, new_status=status)
    follow_up_announce(follow_up, "follow_up.updated")
    return follow_up


@transaction.atomic
def follow_up_set_priority(*, follow_up: FollowUp, actor: User | None, priority: str) -> FollowUp:
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Choose one of %(choices)s.") % {"choices": ", ".join(Priority.values)}})
    if priority == follow_up.priority:
        return follow_up
    old = follow_up.priority
    follow_up.priority = priority
    follow_up.save(update_fields=["priority", "updated_at"])
    entry_add_line(
        follow_up, FollowUpEntry.Kind.UPDATED, "priority", author=actor, old_priority=old, new_priority=priority
    )
    follow_up_announce(follow_up, "follow_up.updated")
    return follow_up


@transaction.atomic
def follow_up_update(*, follow_up: FollowUp, actor: User | None, changes: dict) -> FollowUp:
    """Several changes at once, all or none (the API's PATCH): `assignee`, `priority`, `status`.

    Moving a resolved case back to in progress reopens it; resolving needs `follow_up_resolve`.
    """
    if "assignee" in changes:
        follow_up_assign(follow_up=follow_up, actor=actor, assignee=changes["assignee"])
    if "priority" in changes:
        follow_up_set_priority(follow_up=follow_up, actor=actor, priority=changes["priority"])
    status = changes.get("status")
    if status == FollowUp.Status.IN_PROGRESS and follow_up.status == FollowUp.Status.RESOLVED:
        follow_up_reopen(follow_up=follow_up, actor=actor)
    elif status is not None and status != follow_up.status:
        follow_up_set_status(follow_up=follow_up, actor=actor, status=status)
    return follow_up
