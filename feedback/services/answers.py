"""What a customer's answer does to the loop: open the one case it calls for, follow a changed answer,
or record the answer to a case's "did we fix it?" survey.

Reads surveys' responses but never changes them. What matches comes from the pure `feedback.routing`.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models import FixCheck, FollowUp, FollowUpEntry, RoutingRule
from feedback.routing import ResponseFacts, RuleFacts, choose_rule
from feedback.services.assignment import assignee_for
from feedback.services.notices import agents_notify, follow_up_announce, follow_up_announce_arrival
from feedback.services.resolution import follow_up_reopen_due
from feedback.services.sla import sla_dates
from feedback.services.timeline import entry_add_line, follow_up_was_worked
from surveys.models import Response
from surveys.scoring import is_detractor


def _response_facts(response: Response) -> ResponseFacts:
    event = response.invitation.event if response.invitation_id else None
    return ResponseFacts(
        survey_id=response.survey_id,
        kind=response.survey.kind,
        score=response.score,
        comment=response.comment,
        contact_properties=response.contact.properties or {},
        event_properties=(event.properties if event else {}) or {},
        themes=tuple(response.themes or ()),
        sentiment=response.sentiment,
    )


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
    chosen = choose_rule(facts, [RuleFacts.of(rule) for rule in rules])
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
            remind_at, due_at = sla_dates(now, rule.team, rule.sla_hours or rule.team.sla_hours)
            follow_up = FollowUp.objects.create(
                response=response,
                team=rule.team,
                rule=rule,
                priority=rule.priority,
                assignee=assignee_for(rule, facts),
                due_at=due_at,
                remind_at=remind_at,
            )
            entry_add_line(follow_up, FollowUpEntry.Kind.CREATED, "routed", rule=str(rule))
            follow_up_announce_arrival(follow_up)
            follow_up_announce(follow_up, "follow_up.created")
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
    wording = "fix_answer_fixed" if fixed else "fix_answer_not_fixed"
    if current:
        entry_add_line(follow_up, FollowUpEntry.Kind.FIX_CHECK_ANSWERED, wording, score=response.score)
    else:
        entry_add_line(
            follow_up,
            FollowUpEntry.Kind.FIX_CHECK_ANSWERED,
            f"{wording}_earlier",
            score=response.score,
            resolved_at=fix_check.resolved_at.isoformat(),
        )
    if not current:
        return follow_up
    if fixed:
        follow_up.fix_confirmed = True
        follow_up.save(update_fields=["fix_confirmed", "updated_at"])
    else:
        _follow_up_reopen_not_fixed(follow_up)
    follow_up_announce(follow_up, "follow_up.updated")
    return follow_up


def _follow_up_reopen_not_fixed(follow_up: FollowUp) -> None:
    """Reopen a case whose customer says the problem is not fixed; its assignee (or, in the team queue,
    the team's Slack channel) is told the way a new assignment is."""
    follow_up_reopen_due(follow_up, author=None, wording="not_fixed_reopened")
    assignees = [follow_up.assignee] if follow_up.assignee else []
    agents_notify(follow_up, assignees, _("The customer says it is not fixed: follow-up reopened"))


@transaction.atomic
def _follow_up_follow_changed_answer(
    follow_up: FollowUp, rule: RoutingRule | None, changed: tuple[str, ...], facts: ResponseFacts
) -> None:
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    response = follow_up.response
    if "analysis" in changed:
        # The comment was read (themes, sentiment): only a rule on them can route the case anew.
        if rule is None or rule.pk == follow_up.rule_id:
            return
        news = {"wording": "comment_read", "themes": list(response.themes), "sentiment": response.sentiment}
    elif "score" in changed:
        news = {"wording": "score_changed", "score": response.score}
    elif response.comment:
        news = {"wording": "reason_given", "comment": response.comment}
    else:
        news = {"wording": "reason_removed"}
    if follow_up.status == FollowUp.Status.RESOLVED or follow_up_was_worked(follow_up):
        entry_add_line(follow_up, FollowUpEntry.Kind.UPDATED, **news)
        return
    if rule is None:
        follow_up.status = FollowUp.Status.RESOLVED
        follow_up.outcome = FollowUp.Outcome.NO_LONGER_DETRACTOR
        follow_up.resolved_at = timezone.now()
        follow_up.save(update_fields=["status", "outcome", "resolved_at", "updated_at"])
        entry_add_line(
            follow_up, FollowUpEntry.Kind.RESOLVED, "closed", no_longer_unhappy=follow_up.response.survey.kind
        )
        follow_up_announce(follow_up, "follow_up.resolved")
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
        follow_up.assignee = assignee_for(rule, facts)
        fields += ["team", "assignee"]
    follow_up.save(update_fields=fields)
    entry_add_line(follow_up, FollowUpEntry.Kind.UPDATED, **news)
    if moved:
        entry_add_line(follow_up, FollowUpEntry.Kind.UPDATED, "rerouted", rule=str(rule), team=str(rule.team))
        follow_up_announce_arrival(follow_up)
    follow_up_announce(follow_up, "follow_up.updated")
