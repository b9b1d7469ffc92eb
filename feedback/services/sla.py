"""Due dates on a team's calendar, and the SLA reminders and escalations that come due.

Due dates come from the pure `feedback.business_hours`; reminders go out through `notices`.
"""

from datetime import date, datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.business_hours import BusinessCalendar, add_business_hours
from feedback.models import OPEN_STATUSES, FollowUp, FollowUpEntry, Team, User
from feedback.services.notices import agents_notify
from feedback.services.timeline import entry_add_line


def team_calendar(team: Team) -> BusinessCalendar:
    return BusinessCalendar(
        tz=team.time_zone,
        working_days=frozenset(int(day) for day in team.working_days.split(",") if day.strip()),
        opens=team.opens_at,
        closes=team.closes_at,
        holidays=frozenset(date.fromisoformat(day) for day in team.holidays),
    )


def sla_dates(start: datetime, team: Team, sla_hours: int) -> tuple[datetime, datetime]:
    calendar = team_calendar(team)
    return add_business_hours(start, sla_hours * 0.75, calendar), add_business_hours(start, sla_hours, calendar)


def _open_cases() -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(status__in=OPEN_STATUSES).select_related(
        "team__lead", "assignee", "response__survey", "response__contact"
    )


def follow_ups_to_remind(now: datetime) -> QuerySet[FollowUp]:
    """Open cases past 75% of their SLA, not yet due, whose reminder has not gone (index follow_up_remind_due_idx)."""
    return _open_cases().filter(remind_at__lte=now, reminded_at__isnull=True, due_at__gt=now)


def follow_ups_to_escalate(now: datetime) -> QuerySet[FollowUp]:
    """Open cases past their due date, not yet escalated (index follow_up_escalate_due_idx)."""
    return _open_cases().filter(due_at__lte=now, escalated_at__isnull=True)


def follow_ups_escalate(*, now: datetime | None = None) -> dict[str, int]:
    """Remind assignees at 75% of the SLA and escalate breaches to the team lead and managers.

    Each level is claimed with a conditional update, so overlapping scans fire it once.
    """
    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0}
    for follow_up in follow_ups_to_remind(now):
        with transaction.atomic():
            if not FollowUp.objects.filter(pk=follow_up.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            entry_add_line(follow_up, FollowUpEntry.Kind.REMINDER, "sla_reminder")
            if follow_up.assignee:
                agents_notify(follow_up, [follow_up.assignee], _("Reminder: due soon"))
            counts["reminded"] += 1
    managers = list(User.objects.filter(role=User.Role.MANAGER, is_active=True))
    for follow_up in follow_ups_to_escalate(now):
        with transaction.atomic():
            claimed = FollowUp.objects.filter(pk=follow_up.pk, escalated_at__isnull=True).update(
                escalated_at=now, reminded_at=follow_up.reminded_at or now
            )
            if not claimed:
                continue
            entry_add_line(follow_up, FollowUpEntry.Kind.ESCALATED, "sla_breached")
            recipients = managers + ([follow_up.team.lead] if follow_up.team.lead else [])
            agents_notify(follow_up, recipients, _("Escalation: SLA breached"))
            counts["escalated"] += 1
    return counts
