"""Writes of the loop: route a response to a follow-up, assign it, work it, remind and escalate, resolve it.

Reads surveys' responses but never changes them; sends anything only through
`notifications.services.message_queue`. What matches comes from the pure `feedback.routing`,
due dates from the pure `feedback.business_hours`.
"""

from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from feedback.business_hours import BusinessCalendar, add_business_hours
from feedback.models import FixCheck, FollowUp, FollowUpEntry, Priority, RootCause, RoutingRule, Team, User
from feedback.routing import ResponseFacts, RuleFacts, choose_rule
from feedback.scoring import is_detractor
from feedback.webhooks import webhooks_emit
from notifications.models import Channel
from notifications.selectors import recipient_is_contactable
from notifications.services import email_render, message_queue
from surveys.models import Response
from surveys.services.fix_checks import invitation_cancel_unsent
from surveys.services.intake import SkipReason, invitation_schedule

OPEN_STATUSES = [FollowUp.Status.NEW, FollowUp.Status.IN_PROGRESS, FollowUp.Status.WAITING]
# Status moves an agent may make by hand; resolving goes through follow_up_resolve (root cause, outcome).
STATUS_MOVES = {
    FollowUp.Status.NEW: {FollowUp.Status.IN_PROGRESS, FollowUp.Status.WAITING},
    FollowUp.Status.IN_PROGRESS: {FollowUp.Status.WAITING},
    FollowUp.Status.WAITING: {FollowUp.Status.IN_PROGRESS},
}
# "Did we fix it?" asks someone we reached; an unreachable customer is not asked.
FIX_CHECK_OUTCOMES = (FollowUp.Outcome.RECOVERED, FollowUp.Outcome.NOT_RECOVERED)
# Why a "did we fix it?" invitation was withdrawn before it went out (Invitation.cancel_reason).
FIX_CHECK_CANCEL_REASON = "case_reopened"


def team_calendar(team: Team) -> BusinessCalendar:
    return BusinessCalendar(
        tz=team.time_zone,
        working_days=frozenset(int(day) for day in team.working_days.split(",") if day.strip()),
        opens=team.opens_at,
        closes=team.closes_at,
        holidays=frozenset(date.fromisoformat(day) for day in team.holidays),
    )


def _response_facts(response: Response) -> ResponseFacts:
    event = response.invitation.event if response.invitation_id else None
    return ResponseFacts(
        survey_id=response.survey_id,
        kind=response.survey.kind,
        score=response.score,
        comment=response.comment,
        contact_properties=response.contact.properties or {},
        event_properties=(event.properties if event else {}) or {},
    )


def _rule_facts(rule: RoutingRule) -> RuleFacts:
    return RuleFacts(
        id=rule.pk,
        survey_id=rule.survey_id,
        kind=rule.kind,
        score_min=rule.score_min,
        score_max=rule.score_max,
        comment_contains=rule.comment_contains,
        comment_is_empty=rule.comment_is_empty,
        contact_properties=rule.contact_properties,
        event_properties=rule.event_properties,
        opens_follow_up=rule.opens_follow_up and rule.team_id is not None,
    )


def _agents(team: Team):
    return User.objects.filter(team=team, role=User.Role.AGENT, is_active=True).order_by("pk")


def _least_open_agent(team: Team) -> User | None:
    return (
        _agents(team)
        .annotate(open_count=Count("assigned_follow_ups", filter=Q(assigned_follow_ups__status__in=OPEN_STATUSES)))
        .order_by("open_count", "pk")
        .first()
    )


def _round_robin_agent(team: Team) -> User | None:
    # The team row lock serialises concurrent openings so two cases never take the same turn.
    locked = Team.objects.select_for_update().get(pk=team.pk)
    agents = list(_agents(team))
    if not agents:
        return None
    agent = agents[locked.round_robin_cursor % len(agents)]
    Team.objects.filter(pk=team.pk).update(round_robin_cursor=locked.round_robin_cursor + 1)
    return agent


def _property_agent(rule: RoutingRule, facts: ResponseFacts) -> User | None:
    email = facts.contact_properties.get(rule.assignee_property) or facts.event_properties.get(rule.assignee_property)
    if not email:
        return None
    return User.objects.filter(email__iexact=str(email).strip(), is_active=True).first()


def _assignee_for(rule: RoutingRule, facts: ResponseFacts) -> User | None:
    """The agent the rule's strategy names, or None for the team queue."""
    strategy = rule.assignment
    if strategy == RoutingRule.Assignment.ROUND_ROBIN:
        return _round_robin_agent(rule.team)
    if strategy == RoutingRule.Assignment.PROPERTY:
        return _property_agent(rule, facts)
    if strategy == RoutingRule.Assignment.LEAST_OPEN:
        return _least_open_agent(rule.team)
    return None


def _sla_dates(start: datetime, team: Team, sla_hours: int) -> tuple[datetime, datetime]:
    calendar = team_calendar(team)
    return add_business_hours(start, sla_hours * 0.75, calendar), add_business_hours(start, sla_hours, calendar)


def _case_url(follow_up: FollowUp) -> str:
    return settings.SITE_URL + reverse("follow-up-detail", args=[follow_up.pk])


def _notify_agents(follow_up: FollowUp, users: list[User], headline: str) -> None:
    subject, text, html = email_render(
        template="feedback/emails/agent_notice",
        context={"follow_up": follow_up, "headline": headline, "url": _case_url(follow_up)},
    )
    for email in sorted({user.email for user in users if user.email and user.is_active}):
        message_queue(channel=Channel.EMAIL, recipient=email, subject=subject, body_text=text, body_html=html)
    if follow_up.team.slack_webhook_url:
        from feedback.tasks import post_to_slack

        text = f"{headline}: case #{follow_up.pk} (score {follow_up.response.score}) {_case_url(follow_up)}"
        transaction.on_commit(lambda: post_to_slack.delay(follow_up.team.slack_webhook_url, text))


def _entry(follow_up: FollowUp, kind: str, author: User | None = None, body: str = "", **fields) -> FollowUpEntry:
    return FollowUpEntry.objects.create(follow_up=follow_up, kind=kind, author=author, body=body, **fields)


def _was_worked(follow_up: FollowUp) -> bool:
    return follow_up.status != FollowUp.Status.NEW or follow_up.entries.filter(author__isnull=False).exists()


def follow_up_open_for_response(
    *, response_id: int, created: bool = True, changed: tuple[str, ...] = ("score",)
) -> FollowUp | None:
    """Open the one follow-up a response calls for; a repeat call changes nothing.

    Rules are evaluated again when the customer changes their answer (`created=False`; `changed`
    names the fields: "score", "comment"), so a rule on the comment can open a case when the
    reason arrives after the score. When nobody has worked the case yet, the case follows the new
    answer: re-routed, or closed as "no longer a detractor". An answer to a
    case's "did we fix it?" survey is recorded on that case instead of being routed. A response
    withdrawn before this runs (a link scanner's) opens nothing.
    """
    response = Response.objects.select_related("survey", "contact", "invitation__event").filter(pk=response_id).first()
    if response is None:
        return None
    fix_check = FixCheck.objects.filter(invitation_id=response.invitation_id).first()
    if fix_check is not None:
        return _fix_check_record_answer(fix_check, response)
    rules = list(RoutingRule.objects.filter(is_active=True).select_related("team"))
    facts = _response_facts(response)
    chosen = choose_rule(facts, [_rule_facts(rule) for rule in rules])
    rule = next((rule for rule in rules if chosen and rule.pk == chosen.id), None)
    existing = FollowUp.objects.filter(response=response).select_related("team").first()
    if existing:
        if not created:
            _follow_up_follow_changed_answer(existing, rule, changed, facts)
        return existing
    if rule is None:
        return None
    try:
        with transaction.atomic():
            now = timezone.now()
            remind_at, due_at = _sla_dates(now, rule.team, rule.sla_hours or rule.team.sla_hours)
            follow_up = FollowUp.objects.create(
                response=response,
                team=rule.team,
                rule=rule,
                priority=rule.priority,
                assignee=_assignee_for(rule, facts),
                due_at=due_at,
                remind_at=remind_at,
            )
            _entry(follow_up, FollowUpEntry.Kind.CREATED, body=f"Routed by rule {rule}")
            _follow_up_announce_arrival(follow_up)
            webhooks_emit("follow_up.created", follow_up)
    except IntegrityError:
        # A concurrent delivery of the same response won the race and its follow-up is the one; or the
        # response was withdrawn meanwhile, and there is nothing to open.
        return FollowUp.objects.filter(response=response).first()
    return follow_up


@transaction.atomic
def _fix_check_record_answer(fix_check: FixCheck, response: Response) -> FollowUp:
    """Keep the customer's "did we fix it?" answer on its check. While the resolution it asks about stands,
    "fixed" confirms it and "not fixed" reopens the case: the loop is not closed. An answer about an
    earlier, already undone resolution only goes on the timeline."""
    follow_up = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("team", "assignee", "rule", "response")
        .get(pk=fix_check.follow_up_id)
    )
    fix_check = FixCheck.objects.select_for_update().get(pk=fix_check.pk)
    fixed = not is_detractor(response.survey.kind, response.score)
    if fix_check.fixed == fixed:
        return follow_up
    fix_check.fixed = fixed
    fix_check.save(update_fields=["fixed"])
    current = follow_up.status == FollowUp.Status.RESOLVED and follow_up.resolved_at == fix_check.resolved_at
    verdict = "fixed" if fixed else "not fixed"
    body = f"The customer answered {response.score}: {verdict}."
    if not current:
        body += f" (about the resolution of {timezone.localtime(fix_check.resolved_at):%Y-%m-%d %H:%M})"
    _entry(follow_up, FollowUpEntry.Kind.FIX_CHECK_ANSWERED, body=body)
    if not current:
        return follow_up
    if fixed:
        follow_up.fix_confirmed = True
        follow_up.save(update_fields=["fix_confirmed", "updated_at"])
    else:
        _follow_up_reopen_not_fixed(follow_up)
    webhooks_emit("follow_up.updated", follow_up)
    return follow_up


def _follow_up_reopen_not_fixed(follow_up: FollowUp) -> None:
    """Reopen a case whose customer says the problem is not fixed; its assignee (or, in the team queue,
    the team's Slack channel) is told the way a new assignment is."""
    _follow_up_reopen(follow_up, author=None, body="The customer says it is not fixed.")
    assignees = [follow_up.assignee] if follow_up.assignee else []
    _notify_agents(follow_up, assignees, "The customer says it is not fixed: follow-up reopened")


def _follow_up_reopen(follow_up: FollowUp, *, author: User | None, body: str = "") -> None:
    """Undo the resolution and make the case due as if it had just arrived: a new due date on the team's
    calendar, and the reminder and escalation fire again (the old due date is long past)."""
    sla_hours = (follow_up.rule.sla_hours if follow_up.rule else None) or follow_up.team.sla_hours
    follow_up.remind_at, follow_up.due_at = _sla_dates(timezone.now(), follow_up.team, sla_hours)
    follow_up.reminded_at = follow_up.escalated_at = None
    changed = _follow_up_undo_resolution(follow_up)
    follow_up.save(update_fields=[*changed, "due_at", "remind_at", "reminded_at", "escalated_at", "updated_at"])
    _entry(follow_up, FollowUpEntry.Kind.REOPENED, author=author, body=body)


def _follow_up_undo_resolution(follow_up: FollowUp) -> list[str]:
    """Forget the resolution being undone (unsaved; returns the fields to save), and withdraw its
    "did we fix it?" survey if it has not gone out, so nobody is asked about a resolution that no longer stands."""
    undone_checks = FixCheck.objects.filter(follow_up=follow_up, resolved_at=follow_up.resolved_at)
    for invitation_id in undone_checks.values_list("invitation_id", flat=True):
        invitation_cancel_unsent(invitation_id=invitation_id, reason=FIX_CHECK_CANCEL_REASON)
    follow_up.status = FollowUp.Status.IN_PROGRESS
    follow_up.outcome = ""
    follow_up.root_cause = None
    follow_up.resolved_at = None
    # The answer judged the resolution just undone; the next resolution gets its own check.
    follow_up.fix_confirmed = None
    return ["status", "outcome", "root_cause", "resolved_at", "fix_confirmed"]


def _follow_up_announce_arrival(follow_up: FollowUp) -> None:
    """Tell whoever must now work a case that arrived in its team: its assignee, or, while it waits in the
    team queue, the team's Slack channel (nobody is emailed about a queued case)."""
    if follow_up.assignee:
        _entry(follow_up, FollowUpEntry.Kind.ASSIGNED, body=f"Assigned to {follow_up.assignee.email}")
        _notify_agents(follow_up, [follow_up.assignee], "New follow-up assigned to you")
    else:
        _notify_agents(follow_up, [], "New follow-up in the team queue")


@transaction.atomic
def _follow_up_follow_changed_answer(
    follow_up: FollowUp, rule: RoutingRule | None, changed: tuple[str, ...], facts: ResponseFacts
) -> None:
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    response = follow_up.response
    if "score" in changed:
        news = f"The customer changed their score to {response.score}."
    else:
        news = (
            f"The customer gave a reason: {response.comment}"
            if response.comment
            else "The customer removed their reason."
        )
    if follow_up.status == FollowUp.Status.RESOLVED or _was_worked(follow_up):
        _entry(follow_up, FollowUpEntry.Kind.UPDATED, body=news)
        return
    if rule is None:
        follow_up.status = FollowUp.Status.RESOLVED
        follow_up.outcome = FollowUp.Outcome.NO_LONGER_DETRACTOR
        follow_up.resolved_at = timezone.now()
        follow_up.save(update_fields=["status", "outcome", "resolved_at", "updated_at"])
        _entry(follow_up, FollowUpEntry.Kind.RESOLVED, body=f"Closed: {follow_up.outcome_label.lower()}.")
        webhooks_emit("follow_up.resolved", follow_up)
        return
    if rule.pk == follow_up.rule_id and "score" not in changed:
        return  # routed as before; the reason is on the case page with the answer
    follow_up.priority = rule.priority
    follow_up.rule = rule
    fields = ["priority", "rule", "updated_at"]
    moved = rule.team_id != follow_up.team_id
    if moved:
        # Nobody has touched the case: it goes to the team the new answer is routed to (a reason that
        # arrives after the score often is what routes it), assigned by that rule's strategy.
        follow_up.team = rule.team
        follow_up.assignee = _assignee_for(rule, facts)
        fields += ["team", "assignee"]
    follow_up.save(update_fields=fields)
    _entry(follow_up, FollowUpEntry.Kind.UPDATED, body=news)
    if moved:
        _entry(follow_up, FollowUpEntry.Kind.UPDATED, body=f"Routed by rule {rule} to team {rule.team}")
        _follow_up_announce_arrival(follow_up)
    webhooks_emit("follow_up.updated", follow_up)


def follow_up_payload(follow_up: FollowUp) -> dict:
    return {
        "id": follow_up.pk,
        "response_id": follow_up.response_id,
        "team": follow_up.team.name,
        "assignee": follow_up.assignee.email if follow_up.assignee else None,
        "status": follow_up.status,
        "priority": follow_up.priority,
        "due_at": follow_up.due_at.isoformat(),
        "outcome": follow_up.outcome or None,
        "root_cause": follow_up.root_cause.name if follow_up.root_cause else None,
        "resolved_at": follow_up.resolved_at.isoformat() if follow_up.resolved_at else None,
    }


@transaction.atomic
def follow_up_add_note(*, follow_up: FollowUp, author: User, body: str) -> FollowUpEntry:
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write a note before saving it."})
    entry = _entry(follow_up, FollowUpEntry.Kind.NOTE, author=author, body=body)
    if follow_up.status == FollowUp.Status.NEW:
        follow_up.status = FollowUp.Status.IN_PROGRESS
        follow_up.save(update_fields=["status", "updated_at"])
    webhooks_emit("follow_up.updated", follow_up)
    return entry


@transaction.atomic
def follow_up_assign(*, follow_up: FollowUp, actor: User, assignee: User | None) -> FollowUp:
    """Claim (assignee is the actor), reassign to an agent of the case's team, or put back in the team queue."""
    if assignee is not None and not assignee.is_manager and assignee.team_id != follow_up.team_id:
        raise ValidationError({"assignee": f"{assignee.email} is not in team {follow_up.team}."})
    if assignee == follow_up.assignee:
        return follow_up
    follow_up.assignee = assignee
    follow_up.save(update_fields=["assignee", "updated_at"])
    body = f"Assigned to {assignee.email}" if assignee else "Put back in the team queue"
    _entry(follow_up, FollowUpEntry.Kind.ASSIGNED, author=actor, body=body)
    if assignee is not None and assignee != actor:
        _notify_agents(follow_up, [assignee], f"{actor.email if actor else 'An integration'} assigned you a follow-up")
    webhooks_emit("follow_up.updated", follow_up)
    return follow_up


@transaction.atomic
def follow_up_move(*, follow_up: FollowUp, actor: User, team: Team) -> FollowUp:
    """A manager hands the case to another team: it lands in that team's queue, due when it was due."""
    if not actor.is_manager:
        raise ValidationError({"team": "Only a manager can move a case to another team."})
    if team.pk == follow_up.team_id:
        raise ValidationError({"team": f"The case is already in team {team}."})
    old_team = follow_up.team
    follow_up.team = team
    follow_up.assignee = None
    follow_up.save(update_fields=["team", "assignee", "updated_at"])
    _entry(follow_up, FollowUpEntry.Kind.ASSIGNED, author=actor, body=f"Moved from team {old_team} to team {team}")
    webhooks_emit("follow_up.updated", follow_up)
    return follow_up


@transaction.atomic
def follow_up_set_status(*, follow_up: FollowUp, actor: User, status: str) -> FollowUp:
    if status not in STATUS_MOVES.get(follow_up.status, set()):
        raise ValidationError(
            {"status": f"A case that is {follow_up.get_status_display().lower()} cannot move to {status}."}
        )
    old = follow_up.get_status_display()
    follow_up.status = status
    follow_up.save(update_fields=["status", "updated_at"])
    _entry(follow_up, FollowUpEntry.Kind.STATUS, author=actor, body=f"{old} → {follow_up.get_status_display()}")
    webhooks_emit("follow_up.updated", follow_up)
    return follow_up


@transaction.atomic
def follow_up_set_priority(*, follow_up: FollowUp, actor: User | None, priority: str) -> FollowUp:
    if priority not in Priority.values:
        raise ValidationError({"priority": f"Choose one of {', '.join(Priority.values)}."})
    if priority == follow_up.priority:
        return follow_up
    old = follow_up.get_priority_display()
    follow_up.priority = priority
    follow_up.save(update_fields=["priority", "updated_at"])
    _entry(
        follow_up, FollowUpEntry.Kind.UPDATED, author=actor, body=f"Priority {old} → {follow_up.get_priority_display()}"
    )
    webhooks_emit("follow_up.updated", follow_up)
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


@transaction.atomic
def follow_up_reopen(*, follow_up: FollowUp, actor: User) -> FollowUp:
    if follow_up.status != FollowUp.Status.RESOLVED:
        raise ValidationError({"status": "Only a resolved case can be reopened."})
    _follow_up_reopen(follow_up, author=actor)
    webhooks_emit("follow_up.updated", follow_up)
    return follow_up


def follow_up_reply_channel(follow_up: FollowUp) -> tuple[str, str]:
    """The channel the customer answered on and their address there."""
    contact = follow_up.response.contact
    channel = follow_up.response.invitation.channel if follow_up.response.invitation_id else Channel.EMAIL
    return channel, contact.phone if channel == Channel.SMS else contact.email


@transaction.atomic
def follow_up_reply(*, follow_up: FollowUp, author: User, body: str) -> FollowUpEntry:
    """Reply to the customer on the channel they answered on, unless they opted out there."""
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write the reply before sending it."})
    channel, recipient = follow_up_reply_channel(follow_up)
    if not recipient or not recipient_is_contactable(channel=channel, recipient=recipient):
        raise ValidationError({"body": f"The customer cannot be contacted by {channel}: no address or opted out."})
    message = message_queue(
        channel=channel,
        recipient=recipient,
        subject=f"About your feedback on {follow_up.response.survey.product_name}" if channel == Channel.EMAIL else "",
        body_text=body,
    )
    entry = _entry(follow_up, FollowUpEntry.Kind.REPLY, author=author, body=body, message=message)
    if follow_up.status in (FollowUp.Status.NEW, FollowUp.Status.IN_PROGRESS):
        follow_up.status = FollowUp.Status.WAITING
        follow_up.save(update_fields=["status", "updated_at"])
    webhooks_emit("follow_up.updated", follow_up)
    return entry


@transaction.atomic
def follow_up_record_customer_sms(*, phone: str, body: str) -> FollowUpEntry | None:
    """Put a customer's SMS on their most recent open SMS case's timeline, if they have one."""
    follow_up = (
        FollowUp.objects.select_for_update()
        .filter(status__in=OPEN_STATUSES, response__contact__phone=phone, response__invitation__channel=Channel.SMS)
        .order_by("-created_at", "-pk")
        .first()
    )
    if follow_up is None:
        return None
    entry = _entry(follow_up, FollowUpEntry.Kind.CUSTOMER_REPLY, body=body)
    if follow_up.status == FollowUp.Status.WAITING:
        follow_up.status = FollowUp.Status.IN_PROGRESS
        follow_up.save(update_fields=["status", "updated_at"])
    webhooks_emit("follow_up.updated", follow_up)
    return entry


@transaction.atomic
def follow_up_resolve(
    *, follow_up: FollowUp, author: User, root_cause: RootCause | None, outcome: str = "", note: str = ""
) -> FollowUp:
    errors = {}
    if root_cause is None:
        errors["root_cause"] = "Choose the root cause before resolving."
    resolvable = [FollowUp.Outcome.RECOVERED, FollowUp.Outcome.NOT_RECOVERED, FollowUp.Outcome.UNREACHABLE]
    if outcome not in resolvable:
        errors["outcome"] = "Choose the outcome: recovered, not recovered or unreachable."
    # The row lock makes a double submission wait and then find the case resolved: one resolution, one check.
    follow_up.status = FollowUp.objects.select_for_update().values_list("status", flat=True).get(pk=follow_up.pk)
    if follow_up.status == FollowUp.Status.RESOLVED:
        errors["status"] = "This case is already resolved."
    if errors:
        raise ValidationError(errors)
    follow_up.status = FollowUp.Status.RESOLVED
    follow_up.root_cause = root_cause
    follow_up.outcome = outcome
    follow_up.resolution_note = note.strip()
    follow_up.resolved_at = timezone.now()
    follow_up.save(update_fields=["status", "root_cause", "outcome", "resolution_note", "resolved_at", "updated_at"])
    summary = f"{root_cause.name} · {follow_up.get_outcome_display()}"
    _entry(
        follow_up,
        FollowUpEntry.Kind.RESOLVED,
        author=author,
        body=f"{summary}: {follow_up.resolution_note}" if follow_up.resolution_note else summary,
    )
    _fix_check_send(follow_up)
    webhooks_emit("follow_up.resolved", follow_up)
    return follow_up


def _fix_check_send(follow_up: FollowUp) -> FixCheck | None:
    """Schedule the rule's "did we fix it?" survey for this resolution, on the channel the customer answered by.

    Consent and the SMS send window apply as to any invitation; the contact-pressure window does
    not, since the customer is waiting to hear whether their problem is solved.
    """
    rule = RoutingRule.objects.filter(pk=follow_up.rule_id).select_related("fix_check_survey").first()
    survey = rule.fix_check_survey if rule else None
    if survey is None or follow_up.outcome not in FIX_CHECK_OUTCOMES:
        return None
    channel, _ = follow_up_reply_channel(follow_up)
    answered = follow_up.response.invitation
    outcome = invitation_schedule(
        contact=follow_up.response.contact,
        survey=survey,
        channel_choice=channel,
        properties={**answered.properties, "locale": answered.locale},
        fatigue_exempt=True,
    )
    if outcome.invitation is None:
        why = "they opted out" if outcome.skipped == SkipReason.OPTED_OUT else "no address"
        _entry(follow_up, FollowUpEntry.Kind.FIX_CHECK_SENT, body=f"Not sent by {channel}: {why}.")
        return None
    fix_check = FixCheck.objects.create(
        follow_up=follow_up, invitation=outcome.invitation, resolved_at=follow_up.resolved_at
    )
    _entry(follow_up, FollowUpEntry.Kind.FIX_CHECK_SENT, body=f"{survey} by {channel}.")
    return fix_check


def follow_ups_escalate(*, now: datetime | None = None) -> dict[str, int]:
    """Remind assignees at 75% of the SLA and escalate breaches to the team lead and managers.

    Each level is claimed with a conditional update, so overlapping scans fire it once.
    """
    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0}
    open_cases = FollowUp.objects.filter(status__in=OPEN_STATUSES).select_related(
        "team__lead", "assignee", "response__survey", "response__contact"
    )
    for follow_up in open_cases.filter(remind_at__lte=now, reminded_at__isnull=True, due_at__gt=now):
        with transaction.atomic():
            if not FollowUp.objects.filter(pk=follow_up.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            _entry(follow_up, FollowUpEntry.Kind.REMINDER, body="75% of the SLA has passed.")
            if follow_up.assignee:
                _notify_agents(follow_up, [follow_up.assignee], "Reminder: due soon")
            counts["reminded"] += 1
    managers = list(User.objects.filter(role=User.Role.MANAGER, is_active=True))
    for follow_up in open_cases.filter(due_at__lte=now, escalated_at__isnull=True):
        with transaction.atomic():
            claimed = FollowUp.objects.filter(pk=follow_up.pk, escalated_at__isnull=True).update(
                escalated_at=now, reminded_at=follow_up.reminded_at or now
            )
            if not claimed:
                continue
            _entry(follow_up, FollowUpEntry.Kind.ESCALATED, body="The SLA is breached.")
            recipients = managers + ([follow_up.team.lead] if follow_up.team.lead else [])
            _notify_agents(follow_up, recipients, "Escalation: SLA breached")
            counts["escalated"] += 1
    return counts


@transaction.atomic
def user_create(*, email: str, role: str, team_name: str = "", password: str | None = None) -> User:
    """Create an agent or manager, creating their team on first mention."""
    if role not in User.Role.values:
        raise ValidationError({"role": f"Choose one of {', '.join(User.Role.values)}."})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": f"A user with email {email} already exists."})
    team = Team.objects.get_or_create(name=team_name)[0] if team_name else None
    return User.objects.create_user(
        email=email, password=password, role=role, team=team, is_staff=role == "manager", is_superuser=role == "manager"
    )
